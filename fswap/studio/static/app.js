// fswap studio page: renders /api/state (pushed by /api/events, polled when the stream is down) and sends
// the user's actions to the API. Plain DOM code, no framework, nothing fetched from outside this server.
"use strict";

const POLL_MS = 2000;
const HISTORY_MIN_MS = 1500;

const $ = (id) => document.getElementById(id);

const ui = {
  state: null,
  error: null, // the last failed action's one-line message (shown until the next successful action)
  polling: null,
  lastEvent: 0,
  keys: {}, // what each lazily fetched panel was last fetched for
  historyAt: 0,
  historyTimer: null,
  history: null,
  picks: new Map(), // track id -> checked, kept across re-renders
};

// ---------------------------------------------------------------------------------------------- helpers

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "text") node.textContent = String(value);
    else if (key === "className") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

function svg(tag, attrs = {}, text = null) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (text !== null) node.textContent = text;
  return node;
}

function fmt(value, digits = 3) {
  if (value === null || value === undefined || value === "") return "–";
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (typeof value !== "number") return String(value);
  if (Number.isInteger(value)) return String(value);
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 1e-3 || abs >= 1e5)) return value.toExponential(2);
  return value.toFixed(digits);
}

function duration(seconds) {
  if (typeof seconds !== "number") return "–";
  const s = Math.round(seconds);
  const m = Math.floor(s / 60);
  return m ? `${m} min ${s % 60} s` : `${s} s`;
}

function setSrc(img, url) {
  if (!url) {
    img.hidden = true;
    img.removeAttribute("src");
    return;
  }
  if (img.getAttribute("src") !== url) img.setAttribute("src", url);
  img.hidden = img.dataset.failed === url; // a URL that failed to load stays hidden until it changes
}

function setHref(link, url) {
  if (!url) {
    link.hidden = true;
    link.removeAttribute("href");
    return;
  }
  if (link.getAttribute("href") !== url) link.setAttribute("href", url);
  link.hidden = false;
}

async function api(method, url, body) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch (err) {
    throw new Error(`the studio server did not answer ${method} ${url} (${err.message})`);
  }
  let data = null;
  try {
    data = await response.json();
  } catch (err) {
    data = null;
  }
  if (!response.ok) {
    const line = data && data.error ? data.error : `${method} ${url} answered ${response.status}`;
    const error = new Error(line);
    error.status = response.status;
    throw error;
  }
  return data;
}

// One message area: a failed action's error, else the server's message about the pipeline.
function showError(message) {
  ui.error = message;
  renderMessage();
}

function clearError() {
  ui.error = null;
  renderMessage();
}

function renderMessage() {
  const box = $("message");
  const serverMessage = ui.state && ui.state.message;
  const text = ui.error || serverMessage;
  box.hidden = !text;
  box.classList.toggle("info", !ui.error);
  $("message-text").textContent = text || "";
}

// An action: run it, show its error in the message area, refresh the state afterwards.
async function act(fn) {
  try {
    const result = await fn();
    clearError();
    return result;
  } catch (err) {
    showError(err.message);
    return null;
  } finally {
    refresh();
  }
}

// ---------------------------------------------------------------------------------------------- state feed

async function refresh() {
  try {
    render(await api("GET", "/api/state"));
  } catch (err) {
    // the stream or the next poll will retry; keep the last state on screen
  }
}

function startPolling() {
  if (ui.polling === null) ui.polling = setInterval(refresh, POLL_MS);
}

function stopPolling() {
  if (ui.polling !== null) {
    clearInterval(ui.polling);
    ui.polling = null;
  }
}

function connect() {
  if (typeof EventSource === "undefined") {
    startPolling();
    return;
  }
  const source = new EventSource("/api/events");
  source.addEventListener("state", (event) => {
    ui.lastEvent = Date.now();
    stopPolling();
    try {
      render(JSON.parse(event.data));
    } catch (err) {
      showError(`the studio sent a state the page could not read (${err.message})`);
    }
  });
  source.addEventListener("error", () => startPolling()); // EventSource reconnects by itself meanwhile
  // a stream that is open but silent (a proxy buffering it) falls back to polling too
  setInterval(() => {
    if (Date.now() - ui.lastEvent > 3 * POLL_MS) startPolling();
  }, POLL_MS);
}

// ---------------------------------------------------------------------------------------------- render

function render(state) {
  if (!state) return;
  ui.state = state;
  renderPipeline(state);
  renderStages(state);
  renderJob(state);
  renderTrain(state);
  renderEvaluation(state);
  renderOutputs(state);
  renderMessage();
  fetchPanels(state);
  document.body.dataset.loaded = "1";
}

function renderPipeline(state) {
  $("pipeline-path").textContent = state.pipeline || "none opened";
  $("workdir").textContent = state.workdir ? `workdir ${state.workdir}` : "";
  const input = $("pipeline-input");
  if (!input.value && state.pipeline && document.activeElement !== input) input.value = state.pipeline;
}

function stageDetail(stage) {
  const detail = stage.detail;
  if (detail === null || detail === undefined) return "";
  if (typeof detail === "string") return detail;
  return Object.entries(detail).map(([k, v]) => `${k} ${fmt(v)}`).join(" · ");
}

function renderStages(state) {
  const list = $("stages");
  const running = Boolean(state.job && ["running", "stopping"].includes(state.job.state));
  const names = state.stages.map((s) => s.name);
  // rebuild only when the set of stages changes, so a ticked "fresh" box survives updates
  if (list.dataset.names !== names.join(",")) {
    list.replaceChildren(
      ...state.stages.map((stage) =>
        el("li", { "data-testid": `stage-${stage.name}`, id: `stage-${stage.name}` },
          el("span", { className: "name", text: stage.name }),
          el("span", { className: "badge state" }),
          el("span", { className: "detail" }),
          el("label", {}, el("input", { type: "checkbox", "data-testid": `fresh-${stage.name}`,
            id: `fresh-${stage.name}` }), " fresh"),
          el("button", { type: "button", "data-testid": `start-${stage.name}`, id: `start-${stage.name}`,
            text: "Start", onclick: () => startStage(stage.name) }),
        ),
      ),
    );
    list.dataset.names = names.join(",");
    if (!names.length) list.append(el("li", { className: "muted", text: "open a pipeline to see its stages" }));
  }
  for (const stage of state.stages) {
    const item = $(`stage-${stage.name}`);
    item.dataset.state = stage.state;
    const badge = item.querySelector(".state");
    badge.dataset.state = stage.state;
    badge.textContent = stage.state.replace("_", " ");
    const detail = stageDetail(stage);
    const detailNode = item.querySelector(".detail");
    detailNode.textContent = detail;
    detailNode.title = detail;
    const button = $(`start-${stage.name}`);
    const labels = { resumable: "Resume", done: "Rerun", running: "Running" };
    button.textContent = labels[stage.state] || "Start";
    button.classList.toggle("secondary", stage.state === "done");
    // only the running stage's own button is off: the server judges every other start (a 409 while a job
    // runs in this workdir, from this tab, another tab or a terminal), and its answer shows in the message
    button.disabled = stage.state === "running";
    button.dataset.busy = running ? "1" : "0";
  }
}

function renderJob(state) {
  const job = state.job;
  const status = $("job-status");
  const active = Boolean(job && ["running", "stopping"].includes(job.state));
  status.dataset.state = job ? job.state : "none";
  status.textContent = job ? `${job.stage}: ${job.state}` : "no job";
  $("stop-job").disabled = !active || job.state === "stopping";
  const bar = $("job-progress");
  const progress = job && job.progress;
  bar.dataset.n = progress ? String(progress.n) : ""; // the raw count, for tests and tooltips
  bar.title = progress ? `${progress.n}${progress.total ? ` of ${progress.total}` : ""}` : "";
  if (progress && progress.total) {
    bar.max = progress.total;
    bar.value = Math.min(progress.n, progress.total);
  } else if (job && job.state === "finished") {
    bar.max = 1;
    bar.value = 1;
  } else if (progress) {
    bar.removeAttribute("value"); // indeterminate: no total known
  } else {
    bar.max = 1;
    bar.value = 0;
  }
  let text = "";
  if (progress) {
    const total = progress.total ? ` / ${progress.total}` : "";
    const rate = progress.rate ? ` · ${fmt(progress.rate, 1)} ${progress.unit || "it"}/s` : "";
    text = `${progress.desc || ""} ${progress.n}${total} ${progress.unit || ""}${rate}`.trim();
  }
  $("job-progress-text").textContent = text;
  const lines = [];
  if (job && job.message) lines.push(job.message);
  if (job && job.returncode !== null && job.returncode !== undefined && !active) {
    lines.push(`exit status ${job.returncode}`);
  }
  $("job-message").textContent = lines.join(" · ");
  const log = $("job-log");
  const logText = job && job.log && job.log.length ? job.log.join("\n")
    : active ? "(no output from the job yet)" : "";
  if (log.textContent !== logText) {
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 20;
    log.textContent = logText;
    if (atBottom) log.scrollTop = log.scrollHeight;
  }
}

function renderTrain(state) {
  const train = state.train;
  setSrc($("preview-img"), train && train.preview);
  const failed = train && train.preview && $("preview-img").dataset.failed === train.preview;
  $("preview-caption").textContent = !train || !train.preview ? "no preview yet"
    : failed ? "the latest preview could not be loaded"
      : `preview at iteration ${fmt(train.iteration)}: each row a face, its reconstruction and the swap`;
  const iterations = train && train.iterations ? ` / ${train.iterations}` : "";
  $("iteration").textContent = train ? `${fmt(train.iteration)}${iterations}` : "–";
  $("phase").textContent = train ? fmt(train.phase) : "–";
  $("images-per-s").textContent = train ? fmt(train.images_per_s, 1) : "–";
  $("elapsed").textContent = train ? duration(train.elapsed_s) : "–";
  const key = train ? `${state.workdir}|${train.iteration}` : `${state.workdir}|none`;
  if (key === ui.keys.history) return;
  const wait = ui.historyAt + HISTORY_MIN_MS - Date.now();
  if (wait > 0) { // fetched a moment ago: fetch again once the pause is over
    if (!ui.historyTimer) {
      ui.historyTimer = setTimeout(() => {
        ui.historyTimer = null;
        if (ui.state) renderTrain(ui.state);
      }, wait);
    }
    return;
  }
  ui.keys.history = key;
  ui.historyAt = Date.now();
  fetchHistory();
}

// The flat evaluation numbers as two small grids: per direction (a_to_b_* / b_to_a_*: the held-out swaps'
// identity numbers) and per side (*_a / *_b: reconstruction); anything else as key / value.
function evaluationGroups(evaluation) {
  const groups = [
    { title: "identity of held-out swaps", columns: ["a → b", "b → a"], keys: ["a_to_b_", "b_to_a_"],
      prefix: true, rows: new Map() },
    { title: "reconstruction of held-out faces", columns: ["side a", "side b"], keys: ["_a", "_b"],
      prefix: false, rows: new Map() },
    { title: "other", columns: [""], keys: [""], prefix: true, rows: new Map() },
  ];
  for (const [key, value] of Object.entries(evaluation || {})) {
    if (value !== null && typeof value === "object") continue;
    let placed = false;
    for (const group of groups.slice(0, 2)) {
      group.keys.forEach((part, column) => {
        if (placed) return;
        const hit = group.prefix ? key.startsWith(part) : key.endsWith(part);
        if (!hit) return;
        const name = group.prefix ? key.slice(part.length) : key.slice(0, -part.length);
        if (!group.rows.has(name)) group.rows.set(name, new Array(group.columns.length).fill(null));
        group.rows.get(name)[column] = value;
        placed = true;
      });
    }
    if (!placed) groups[2].rows.set(key, [value]);
  }
  return groups.filter((g) => g.rows.size);
}

function renderEvaluation(state) {
  const table = $("holdout-metrics");
  const groups = evaluationGroups(state.evaluation);
  const body = el("tbody");
  for (const group of groups) {
    body.append(el("tr", { className: "group" },
      el("th", { text: group.title }),
      ...group.columns.map((c) => el("th", { className: "value", text: c }))));
    for (const [name, values] of group.rows) {
      body.append(el("tr", { "data-key": name },
        el("td", { className: "key", text: name.replaceAll("_", " ") }),
        ...values.map((v) => el("td", { className: "value", text: fmt(v) }))));
    }
  }
  if (!groups.length) body.append(el("tr", {}, el("td", { className: "muted", text: "no evaluation yet" })));
  table.replaceChildren(body);
}

function renderOutputs(state) {
  const outputs = state.outputs || {};
  const video = $("video-player");
  if (outputs.video) {
    if (video.getAttribute("src") !== outputs.video) video.setAttribute("src", outputs.video);
    video.hidden = false;
  } else {
    video.hidden = true;
    video.removeAttribute("src");
  }
  setHref($("video-download"), outputs.video);
  setHref($("report-link"), outputs.report);
  $("no-output").hidden = Boolean(outputs.video || outputs.report);
}

// ---------------------------------------------------------------------------------------------- panels fetched on change

function stageKey(state, name) {
  const stage = state.stages.find((s) => s.name === name);
  return `${state.workdir}|${stage ? stage.state : "none"}|${stage ? JSON.stringify(stage.detail) : ""}`;
}

function fetchPanels(state) {
  if (!state.workdir) return;
  const facesKey = stageKey(state, "extract");
  if (facesKey !== ui.keys.faces) {
    ui.keys.faces = facesKey;
    fetchFaceset("a");
    fetchFaceset("b");
  }
  const tracksKey = stageKey(state, "convert");
  if (tracksKey !== ui.keys.tracks) {
    ui.keys.tracks = tracksKey;
    fetchTracks();
  }
}

async function fetchHistory() {
  try {
    ui.history = await api("GET", "/api/history");
  } catch (err) {
    ui.history = null;
  }
  drawChart();
}

async function fetchFaceset(side) {
  const box = $(`faceset-${side}`);
  let data;
  try {
    data = await api("GET", `/api/facesets/${side}`);
  } catch (err) {
    box.replaceChildren(el("span", { className: "muted", text: err.message }));
    $(`faceset-${side}-count`).textContent = "";
    return;
  }
  const faces = data.faces || [];
  box.replaceChildren(...faces.map((face) =>
    el("figure", { className: "face", title: face.name },
      el("img", { "data-testid": "face-thumb", src: face.image, alt: face.name, loading: "lazy" }),
      face.mask ? el("img", { className: "mask", "data-testid": "face-mask", src: face.mask,
        alt: `mask of ${face.name}`, loading: "lazy" }) : null)));
  if (!faces.length) box.append(el("span", { className: "muted", text: "no faces extracted yet" }));
  const shown = faces.length < data.count ? ` (${faces.length} shown)` : "";
  $(`faceset-${side}-count`).textContent = data.count ? `${data.count} faces${shown}` : "";
}

async function fetchTracks() {
  let data;
  try {
    data = await api("GET", "/api/tracks");
  } catch (err) {
    data = { tracks: [], error: err.message };
  }
  renderTracks(data);
}

function trackId(track) {
  return track.track_id !== undefined ? track.track_id : track.id;
}

function renderTracks(data) {
  const tracks = data.tracks || [];
  const body = el("tbody");
  for (const track of tracks) {
    const id = trackId(track);
    if (!ui.picks.has(id)) ui.picks.set(id, track.decision === "swap");
    const box = el("input", { type: "checkbox", "data-testid": `track-pick-${id}`, id: `track-pick-${id}`,
      "aria-label": `pick track ${id}`, onchange: (event) => {
        ui.picks.set(id, event.target.checked);
        updateConvertPicked(tracks);
      } });
    box.checked = ui.picks.get(id);
    const frames = `${fmt(track.first_frame)}–${fmt(track.last_frame)} (${fmt(track.frames)})`;
    body.append(el("tr", { "data-testid": `track-${id}`, id: `track-${id}` },
      el("td", {}, box),
      el("td", {}, track.thumbnail ? el("img", { src: track.thumbnail, alt: `track ${id}` }) : null),
      el("td", { text: `#${id}${track.shot !== undefined ? ` · shot ${track.shot}` : ""}` }),
      el("td", { text: frames }),
      el("td", { text: fmt(track.mean_distance) }),
      el("td", {},
        el("span", { className: `decision decision-${track.decision}`, text: track.decision || "–" }),
        track.reason ? el("div", { className: "reason", text: track.reason }) : null)));
  }
  if (!tracks.length) {
    body.append(el("tr", {}, el("td", { colspan: 6, className: "muted",
      text: data.error || "no tracks yet (convert writes them)" })));
  }
  $("tracks").querySelector("tbody").replaceWith(body);
  updateConvertPicked(tracks);
  const last = Math.max(-1, ...tracks.map((t) => (typeof t.last_frame === "number" ? t.last_frame : -1)));
  if (last >= 0) $("swap-frame").max = last;
}

function pickedIds(tracks) {
  return tracks.map(trackId).filter((id) => ui.picks.get(id));
}

function updateConvertPicked(tracks) {
  const button = $("convert-picked");
  const picked = pickedIds(tracks);
  button.disabled = !picked.length;
  button.textContent = picked.length ? `Convert picked (${picked.length})` : "Convert picked";
  button.dataset.ids = picked.join(",");
}

// ---------------------------------------------------------------------------------------------- loss chart

const LOSS_SKIP = new Set(["iteration", "elapsed_s", "phase", "images_per_s"]);

function lossTerms(columns) {
  const terms = [];
  for (const column of columns) {
    const match = /^([ab])\/(.+)$/.exec(column);
    if (match && !LOSS_SKIP.has(match[2]) && !terms.includes(match[2])) terms.push(match[2]);
  }
  return terms;
}

function drawChart() {
  const chart = $("loss-chart");
  const select = $("loss-term");
  const history = ui.history;
  const columns = history ? history.columns || [] : [];
  const rows = history ? history.rows || [] : [];
  const terms = lossTerms(columns);
  if (select.dataset.terms !== terms.join(",")) {
    const keep = select.value;
    select.replaceChildren(...terms.map((t) => el("option", { value: t, text: t })));
    select.value = terms.includes(keep) ? keep : terms.includes("g_total") ? "g_total" : terms[0] || "";
    select.dataset.terms = terms.join(",");
  }
  const W = 560;
  const H = 220;
  const pad = { left: 52, right: 12, top: 10, bottom: 26 };
  chart.replaceChildren();
  const term = select.value;
  const x = columns.indexOf("iteration");
  const series = ["a", "b"].map((side) => ({ side, index: columns.indexOf(`${side}/${term}`) }))
    .filter((s) => s.index >= 0);
  const points = (index) => rows
    .map((row) => [Number(row[x]), Number(row[index])])
    .filter(([px, py]) => Number.isFinite(px) && Number.isFinite(py));
  const all = series.flatMap((s) => points(s.index));
  if (x < 0 || !all.length) {
    chart.dataset.rows = "0";
    chart.append(svg("text", { x: W / 2, y: H / 2, "text-anchor": "middle" }, "no losses logged yet"));
    return;
  }
  let [x0, x1] = [Math.min(...all.map((p) => p[0])), Math.max(...all.map((p) => p[0]))];
  let [y0, y1] = [Math.min(...all.map((p) => p[1])), Math.max(...all.map((p) => p[1]))];
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) [y0, y1] = [y0 - 0.5, y1 + 0.5];
  const sx = (v) => pad.left + ((v - x0) / (x1 - x0)) * (W - pad.left - pad.right);
  const sy = (v) => H - pad.bottom - ((v - y0) / (y1 - y0)) * (H - pad.top - pad.bottom);
  for (let i = 0; i <= 4; i += 1) {
    const v = y0 + ((y1 - y0) * i) / 4;
    chart.append(svg("line", { class: "grid-line", x1: pad.left, x2: W - pad.right, y1: sy(v), y2: sy(v) }));
    chart.append(svg("text", { x: pad.left - 6, y: sy(v) + 3, "text-anchor": "end" }, fmt(v)));
  }
  chart.append(svg("line", { class: "axis", x1: pad.left, x2: pad.left, y1: pad.top, y2: H - pad.bottom }));
  chart.append(svg("line", { class: "axis", x1: pad.left, x2: W - pad.right, y1: H - pad.bottom,
    y2: H - pad.bottom }));
  for (const v of [x0, (x0 + x1) / 2, x1]) {
    chart.append(svg("text", { x: sx(v), y: H - 8, "text-anchor": "middle" }, fmt(Math.round(v))));
  }
  for (const s of series) {
    const path = points(s.index).map(([px, py], i) => `${i ? "L" : "M"}${sx(px).toFixed(1)},${sy(py).toFixed(1)}`);
    chart.append(svg("path", { class: `line-${s.side}`, d: path.join(" "), "data-side": s.side }));
  }
  chart.dataset.rows = String(rows.length);
}

// ---------------------------------------------------------------------------------------------- actions

function startStage(name, extra = {}) {
  const fresh = $(`fresh-${name}`) ? $(`fresh-${name}`).checked : false;
  return act(async () => {
    const answer = await api("POST", "/api/jobs", { stage: name, fresh, ...extra });
    const box = $(`fresh-${name}`);
    if (box) box.checked = false;
    return answer;
  });
}

function stopJob() {
  return act(() => api("POST", "/api/jobs/stop"));
}

function openPipeline(event) {
  event.preventDefault();
  const path = $("pipeline-input").value.trim();
  if (!path) {
    showError("type the path of a pipeline.toml first");
    return;
  }
  act(async () => {
    const state = await api("POST", "/api/pipeline", { path });
    ui.keys = {};
    ui.picks.clear();
    render(state);
    return state;
  });
}

function convertPicked() {
  const ids = $("convert-picked").dataset.ids;
  const tracks = ids ? ids.split(",").map(Number) : [];
  return startStage("convert", { set: { "convert.select": "tracks", "convert.tracks": tracks } });
}

function swapPreview(event) {
  event.preventDefault();
  const frame = Number.parseInt($("swap-frame").value, 10);
  if (!Number.isInteger(frame) || frame < 0) {
    showError("the swap preview needs a frame number ≥ 0");
    return;
  }
  const button = $("swap-preview");
  button.disabled = true;
  button.textContent = "Rendering…";
  act(async () => {
    const answer = await api("POST", "/api/swap-preview", { frame, direction: $("swap-direction").value });
    setSrc($("swap-preview-img"), answer.image);
    $("swap-preview-img").dataset.frame = String(frame);
    return answer;
  }).finally(() => {
    button.disabled = false;
    button.textContent = "Preview swap";
  });
}

function init() {
  $("pipeline-form").addEventListener("submit", openPipeline);
  $("stop-job").addEventListener("click", stopJob);
  $("convert-picked").addEventListener("click", convertPicked);
  $("swap-form").addEventListener("submit", swapPreview);
  $("loss-term").addEventListener("change", drawChart);
  for (const id of ["preview-img", "swap-preview-img"]) {
    $(id).addEventListener("error", () => {
      $(id).dataset.failed = $(id).getAttribute("src");
      $(id).hidden = true;
      if (id === "swap-preview-img") showError("the swap preview image could not be loaded");
      else renderTrain(ui.state || {});
    });
  }
  $("message-close").addEventListener("click", () => {
    ui.error = null;
    if (ui.state) ui.state.message = null;
    renderMessage();
  });
  drawChart();
  refresh();
  connect();
}

document.addEventListener("DOMContentLoaded", init);
