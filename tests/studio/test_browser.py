"""The studio page driven in headless Chromium against a real `fswap studio` server on a tiny pipeline.

One tiny pipeline runs to the end once per module through the CLI (extract, train, convert, evaluate: one
process, to save time); the finished-run test reviews it in the page, and the training test starts, stops and
resumes training from the page in a second workdir that has only its face sets. Screenshots of each step
are kept (see browser_support.artifacts). Without Chromium these tests skip with the reason
(FSWAP_REQUIRE_BROWSER=1 makes that a failure).
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import sys
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from browser_support import (
    DOC_PANELS,
    Studio,
    artifacts,
    attr_of,
    by_testid,
    capture_docs,
    chromium,
    page_summary,
    require_browser,
    screenshot,
    text_of,
    wait_for,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# 64×64 at width 1/8 without attention, batch 2, the reconstruction loss only: on 2 cores most of a run is
# starting TensorFlow and the first step. Training runs until stopped (the iteration count is out of reach),
# with a preview and a history row every iteration; the finished run trains 3 iterations.
PIPELINE = """\
workdir = "{workdir}"
seed = 0

[extract]
every_n_frames = 1
policy = "single"

[extract.a]
input = "a.mp4"

[extract.b]
input = "b.mp4"

[extract.detector]
use = "mtcnn"

[extract.aligner]
use = "umeyama5"

[extract.masks.eyes5]

[extract.embedder]
use = "dlib_resnet"

[train]
iterations = {iterations}
batch_size = 2
checkpoint_every = {iterations}
preview_every = 1
log_every = 1
backup_every = 0

[train.losses.reconstruction]

[train.model]
resolution = 64
width_divisor = 8

[train.model.attention]
use = "none"

[convert]
input = "a.mp4"
direction = "a_to_b"
layout = "side_by_side"

[evaluate]
"""


def fswap_cli(*args: str, cwd: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "fswap.cli", *args], capture_output=True, text=True,
                          timeout=900, cwd=cwd)
    assert proc.returncode == 0, f"fswap {' '.join(args)} failed: {proc.stderr[-3000:]}"


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return artifacts(tmp_path_factory, "studio-browser")


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny pipeline run to the end in one process: extract two 8-frame clips, 3 iterations of training,
    convert, evaluate (workdir finished/)."""
    require_browser()
    from fswap.samples import make_face_video

    folder = tmp_path_factory.mktemp("studio")
    make_face_video(folder / "a.mp4", face="astronaut", frames=8, size=(320, 180), seed=0)
    make_face_video(folder / "b.mp4", face="grace_hopper", frames=8, size=(320, 180), seed=1)
    pipeline = folder / "finished.toml"
    pipeline.write_text(PIPELINE.format(workdir="finished", iterations=3), encoding="utf-8")
    fswap_cli("run", str(pipeline), "--no-progress", cwd=folder)
    return pipeline


@pytest.fixture(scope="module")
def extracted(finished: Path) -> Path:
    """The same pipeline in a workdir of its own (train/) holding only the finished run's face sets: extract
    is done (same inputs), nothing else is."""
    folder = finished.parent
    pipeline = folder / "train.toml"
    pipeline.write_text(PIPELINE.format(workdir="train", iterations=100000), encoding="utf-8")
    shutil.copytree(folder / "finished" / "faces", folder / "train" / "faces")
    return pipeline


@pytest.fixture()
def browser(tmp_path: Path) -> Iterator[Any]:
    require_browser()
    with chromium(tmp_path / "chromium-profile") as driver:
        yield driver



@contextmanager
def serve(pipeline: Path | None, cwd: Path) -> Iterator[Studio]:
    """`fswap studio` for one test, stopped with Ctrl-C at the end (the page still open)."""
    studio = Studio(pipeline, cwd=cwd)
    try:
        yield studio
    finally:
        studio.stop()


def api_state(studio: Studio) -> dict[str, Any]:
    with urllib.request.urlopen(studio.url + "api/state", timeout=10) as answer:
        return json.loads(answer.read())


def open_page(browser: Any, studio: Studio) -> None:
    browser.get(studio.url)
    wait_for(browser, lambda: browser.execute_script("return document.body.dataset.loaded === '1'"),
             "the page to render the studio's state")


def click(browser: Any, testid: str) -> None:
    by_testid(browser, testid).click()


def state_is(browser: Any, testid: str, *states: str) -> bool:
    return attr_of(browser, testid, "data-state") in states


def image_loaded(browser: Any, testid: str) -> bool:
    return bool(browser.execute_script(
        "const n = document.querySelector(`[data-testid=\"${arguments[0]}\"]`);"
        " return n && !n.hidden && n.complete && n.naturalWidth > 0;", testid))


def page_iteration(browser: Any) -> int:
    """The iteration the training panel shows ("120 / 100000" → 120; 0 before any)."""
    match = re.match(r"\d+", text_of(browser, "iteration") or "")
    return int(match.group()) if match else 0


def latest_checkpoint(workdir: Path) -> int:
    names = [p.name for p in (workdir / "model" / "checkpoints").glob("ckpt-*")]
    return max((int(n.split("-")[1]) for n in names), default=0)


def history_iterations(workdir: Path) -> list[int]:
    with (workdir / "model" / "history.csv").open(newline="", encoding="utf-8") as handle:
        return [int(row["iteration"]) for row in csv.DictReader(handle)]


def message(browser: Any) -> str | None:
    """The text of the page's message area (role=alert), None while it is hidden."""
    return browser.execute_script(
        "const box = document.querySelector('[data-testid=message]');"
        " return box && !box.hidden ? box.querySelector('#message-text').textContent : null;")


def one_line_message(browser: Any) -> str:
    text = wait_for(browser, lambda: message(browser), "a message in the message area")
    assert text.strip() and "\n" not in text.strip(), f"not one line: {text!r}"
    return text


def test_train_starts_stops_and_resumes_from_the_page(extracted: Path, browser: Any, shots: Path) -> None:
    workdir = extracted.parent / "train"
    with serve(extracted, cwd=extracted.parent) as studio:
        open_page(browser, studio)
        assert state_is(browser, "stage-extract", "done")
        assert state_is(browser, "stage-train", "not_started")
        assert state_is(browser, "job-status", "none")
        screenshot(browser, shots, "01-stages")

        click(browser, "start-train")
        wait_for(browser, lambda: state_is(browser, "job-status", "running"), "the train job to run")
        wait_for(browser, lambda: image_loaded(browser, "preview-img"), "a training preview", timeout=180)
        wait_for(browser, lambda: page_iteration(browser) > 0, "the iteration to count up")
        wait_for(browser, lambda: int(attr_of(browser, "loss-chart", "data-rows") or 0) > 0,
                 "loss curves from history.csv")
        assert int(attr_of(browser, "job-progress", "data-n") or 0) > 0
        assert text_of(browser, "images-per-s") not in (None, "–")
        screenshot(browser, shots, "02-training")

        # another tab cannot start a second job on this workdir: the 409 answer shows as one line
        job_id = api_state(studio)["job"]["id"]
        assert not by_testid(browser, "start-train").is_enabled()  # the running stage's own Start is off
        first_tab = browser.current_window_handle
        browser.switch_to.new_window("tab")
        open_page(browser, studio)
        click(browser, "start-extract")
        refused = one_line_message(browser)
        assert api_state(studio)["job"]["id"] == job_id, "the second start replaced the running job"
        assert state_is(browser, "job-status", "running"), refused
        screenshot(browser, shots, "03-second-start-refused")
        browser.close()
        browser.switch_to.window(first_tab)

        click(browser, "stop-job")
        wait_for(browser, lambda: state_is(browser, "job-status", "stopped"), "the job to stop", timeout=120)
        wait_for(browser, lambda: state_is(browser, "stage-train", "resumable"), "train to be resumable")
        stopped_at = latest_checkpoint(workdir)
        assert stopped_at > 0, "stopping from the page saved no checkpoint"
        screenshot(browser, shots, "04-stopped")

        click(browser, "start-train")  # the button now reads Resume
        seen: list[int] = []

        def resumed_past_checkpoint() -> bool:
            n = attr_of(browser, "job-progress", "data-n")
            if state_is(browser, "job-status", "running") and n:
                seen.append(int(n))
            return bool(seen) and seen[-1] > stopped_at

        wait_for(browser, resumed_past_checkpoint, f"training to continue past iteration {stopped_at}",
                 timeout=180)
        assert min(seen) >= stopped_at, f"resumed from {min(seen)}, not from the checkpoint at {stopped_at}"
        wait_for(browser, lambda: page_iteration(browser) > stopped_at, "the page's iteration to pass it")
        screenshot(browser, shots, "05-resumed")

        click(browser, "stop-job")
        wait_for(browser, lambda: state_is(browser, "job-status", "stopped"), "the resumed job to stop",
                 timeout=120)
        assert latest_checkpoint(workdir) > stopped_at
        iterations = history_iterations(workdir)
        assert iterations == sorted(set(iterations)), f"history restarted: {iterations}"


def test_a_bad_pipeline_path_gets_a_one_line_message(tmp_path: Path, browser: Any, shots: Path) -> None:
    require_browser()
    not_a_pipeline = tmp_path / "notes.toml"
    not_a_pipeline.write_text("[train]\niterations = 'many'\n", encoding="utf-8")
    with serve(None, cwd=tmp_path) as studio:
        open_page(browser, studio)
        assert text_of(browser, "pipeline-path") == "none opened"
        for path, names in ((tmp_path / "missing.toml", "missing.toml"), (not_a_pipeline, "iterations")):
            field = by_testid(browser, "pipeline-input")
            field.clear()
            field.send_keys(str(path))
            click(browser, "pipeline-open")
            wait_for(browser, lambda names=names: names in (message(browser) or ""),
                     f"a message naming {names}")
            one_line_message(browser)
            assert text_of(browser, "pipeline-path") == "none opened", page_summary(browser)
        screenshot(browser, shots, "06-bad-pipeline")


def test_ctrl_c_stops_the_studio_while_a_page_is_open(tmp_path: Path, browser: Any) -> None:
    with serve(None, cwd=tmp_path) as studio:
        open_page(browser, studio)  # the page holds its event stream open from here on
        assert studio.stop(timeout=10), f"fswap studio outlived Ctrl-C with a page open: {studio.output()}"


def test_a_finished_run_shows_tracks_video_and_swap_preview(finished: Path, browser: Any,
                                                             shots: Path) -> None:
    workdir = finished.parent / "finished"
    with serve(finished, cwd=finished.parent) as studio:
        open_page(browser, studio)
        for stage in ("extract", "train", "convert", "evaluate"):
            assert state_is(browser, f"stage-{stage}", "done"), page_summary(browser)
        wait_for(browser, lambda: image_loaded(browser, "preview-img"), "the last training preview")
        rows = len(history_iterations(workdir))
        wait_for(browser, lambda: attr_of(browser, "loss-chart", "data-rows") == str(rows),
                 f"{rows} history rows in the loss chart")
        for side in ("a", "b"):  # 8 faces a side: all shown (the API shows at most 48), each with its mask
            faces = len(list((workdir / "faces" / side / "faces").glob("*.png")))
            wait_for(browser, lambda side=side, faces=faces: browser.execute_script(
                "return [...document.querySelectorAll(`[data-testid=faceset-${arguments[0]}] img`)]"
                ".filter((i) => i.complete && i.naturalWidth > 0).map((i) => i.dataset.testid)", side)
                == ["face-thumb", "face-mask"] * faces, f"{faces} loaded faces and masks of side {side}")
        metrics = by_testid(browser, "holdout-metrics").text
        report = json.loads((workdir / "evaluate" / "report.json").read_text(encoding="utf-8"))
        assert report and "no evaluation yet" not in metrics

        tracks = json.loads((workdir / "convert" / "tracks.json").read_text(encoding="utf-8"))["tracks"]
        assert tracks, "the tiny convert found no track"
        for track in tracks:
            tid = track["track_id"]
            row = wait_for(browser, lambda tid=tid: text_of(browser, f"track-{tid}"), f"track {tid}")
            assert track["decision"] in row
            pick = by_testid(browser, f"track-pick-{tid}")
            assert pick.is_selected() == (track["decision"] == "swap")

        video = by_testid(browser, "video-player")
        src = video.get_attribute("src")
        assert src and urllib.parse.urlparse(src).path.endswith(".mp4"), src
        duration = wait_for(browser, lambda: browser.execute_script(
            "const v = document.querySelector('[data-testid=video-player]');"
            " return v.error ? `error ${v.error.code}` : v.readyState >= 1 ? v.duration : 0;"),
            "Chromium to read the video's metadata")
        assert duration == pytest.approx(8 / 25, abs=0.05), duration  # 8 frames at 25 fps, not an error
        assert by_testid(browser, "video-download").get_attribute("href") == src
        assert by_testid(browser, "video-download").get_attribute("download") is not None
        with urllib.request.urlopen(src, timeout=10) as answer:
            assert answer.read() == Path(report["inputs"]["video"]).read_bytes()
        report_href = by_testid(browser, "report-link").get_attribute("href")
        with urllib.request.urlopen(report_href, timeout=10) as answer:
            assert b"<html" in answer.read(2000).lower()
        screenshot(browser, shots, "07-finished")

        field = by_testid(browser, "swap-frame")
        field.clear()
        field.send_keys("2")
        click(browser, "swap-preview")
        wait_for(browser, lambda: image_loaded(browser, "swap-preview-img"), "the swap preview image",
                 timeout=180)
        assert attr_of(browser, "swap-preview-img", "data-frame") == "2"
        screenshot(browser, shots, "08-swap-preview")
        # the docs' screenshots come from this code (on the demo): it keeps working on this run
        docs = capture_docs(browser, studio.url, shots / "docs")
        assert [p.name for p in docs] == [f"{name}.png" for name in DOC_PANELS]
        assert all(p.stat().st_size > 1000 for p in docs)

        # convert only the picked tracks: the job runs convert with select = "tracks" and the checked ids
        if len(tracks) > 1:  # leave the last track out, so the pick is seen to matter
            by_testid(browser, f"track-pick-{tracks[-1]['track_id']}").click()
        ids = [t["track_id"] for t in tracks]
        picked = [tid for tid in ids if by_testid(browser, f"track-pick-{tid}").is_selected()]
        assert picked, "no track is picked"
        assert attr_of(browser, "convert-picked", "data-ids") == ",".join(map(str, picked))
        click(browser, "convert-picked")
        wait_for(browser, lambda: text_of(browser, "job-status") == "convert: finished",
                 "the convert-picked job to finish", timeout=180)
        redone = json.loads((workdir / "convert" / "tracks.json").read_text(encoding="utf-8"))
        assert redone["select"] == "tracks"
        swapped = [t["track_id"] for t in redone["tracks"] if t["decision"] == "swap"]
        assert swapped == picked, redone["tracks"]
        screenshot(browser, shots, "09-converted-picked")
