"""The studio's web app (Starlette): the page, the JSON API of docs/studio.md, server-sent events, files.

Server-sent events are a plain StreamingResponse of `event: state` / `data: <json>` blocks: the format is
three lines of text, so no extra package is needed, and one-way updates are all the page needs (its
commands go through ordinary POSTs). TensorFlow is never imported in this process; the swap preview runs
in a subprocess (fswap.studio.swap).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from fswap.errors import FswapError
from fswap.lock import is_locked, read_holder
from fswap.studio import media
from fswap.studio.jobs import STAGES, JobConflict, JobManager
from fswap.studio.state import file_url, read_history, workdir_state

STATIC = Path(__file__).parent / "static"
EVENT_POLL_S = 0.5  # how often the event stream looks for a change
EVENT_KEEPALIVE_S = 2.0  # a state event at least this often while a job runs (a comment line otherwise)


def one_line(exc: BaseException) -> str:
    """An error as one line, as the CLI prints it."""
    return " ".join(str(exc).split()) or type(exc).__name__


def error(message: str, status: int) -> JSONResponse:
    return JSONResponse({"error": " ".join(message.split())}, status_code=status)


class Studio:
    """The state behind the app: the open pipeline (validated with fswap.api) and the job manager."""

    def __init__(self, pipeline: Path | None = None, jobs: JobManager | None = None) -> None:
        self.jobs = jobs or JobManager()
        self.pipeline_path: Path | None = None
        self.config: Any = None
        self.job_config: Any = None  # the config with the running job's overrides, when it has any
        self.message: str | None = None
        self._mtime: int | None = None
        self._lock = threading.Lock()
        if pipeline is not None:
            try:
                self.open(pipeline)
            except FswapError as exc:
                self.message = one_line(exc)

    def open(self, path: Path) -> None:
        """Validate and open a pipeline.toml (raises FswapError with one line when it is not valid)."""
        from fswap import api

        path = Path(path).expanduser()
        pipe = api.load(path)
        with self._lock:
            self.pipeline_path = path.resolve()
            self.config = pipe.config
            self._mtime = self._stamp()
            self.message = None

    def _stamp(self) -> int | None:
        try:
            return self.pipeline_path.stat().st_mtime_ns if self.pipeline_path else None
        except OSError:
            return None

    def refresh(self) -> None:
        """Re-read the pipeline when its file changed (a bad edit shows as the message, the last good
        config stays)."""
        if self.pipeline_path is None or self._stamp() == self._mtime:
            return
        try:
            self.open(self.pipeline_path)
        except FswapError as exc:
            self._mtime = self._stamp()
            self.message = one_line(exc)

    @property
    def workdir(self) -> Path | None:
        return None if self.config is None else self.config.workdir.root

    def state(self) -> dict[str, Any]:
        """The JSON of /api/state."""
        self.refresh()
        job = self.jobs.job
        message = self.message
        if message is None and self.workdir is not None and self.jobs.running_stage() is None \
                and is_locked(self.workdir):  # e.g. `fswap run` in a terminal
            pid = (read_holder(self.workdir) or {}).get("pid", "unknown")
            message = f"workdir {self.workdir} is in use by another fswap run (pid {pid}); jobs cannot start"
        base: dict[str, Any] = {
            "pipeline": None if self.pipeline_path is None else str(self.pipeline_path),
            "workdir": None if self.workdir is None else str(self.workdir),
            "message": message,
            "job": None if job is None else job.as_dict(),
        }
        if self.config is None:
            return {**base, "stages": [], "train": None, "evaluation": None,
                    "outputs": {"video": None, "report": None, "comparison": None}}
        running = self.jobs.running_stage()
        # while a job runs with --set overrides (e.g. more iterations), the numbers are those it runs with
        config = self.job_config if running is not None and self.job_config is not None else self.config
        return {**base, **workdir_state(config, running)}


PREVIEW_TIMEOUT_S = 600.0


async def run_preview(pipeline: Path, frame: int, direction: str, out: Path) -> tuple[bool, str]:
    """Run `python -m fswap.studio.swap` (TensorFlow lives in that process only): (ok, error line)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "fswap.studio.swap", str(pipeline), str(frame), direction, str(out),
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        _, err = await asyncio.wait_for(proc.communicate(), PREVIEW_TIMEOUT_S)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return False, f"the swap preview took longer than {PREVIEW_TIMEOUT_S:.0f} s and was stopped"
    if proc.returncode == 0 and out.is_file():
        return True, ""
    lines = [line for line in err.decode("utf-8", errors="replace").splitlines() if line.strip()]
    said = next((line for line in reversed(lines) if line.startswith("fswap: ")), None)
    if said is not None:
        return False, said.removeprefix("fswap: error: ").removeprefix("fswap: ")
    last = lines[-1] if lines else "no message"
    return False, f"the swap preview failed (exit code {proc.returncode}): {last}"


async def _body(request: Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except ValueError:
        raise ValueError("the request body is not JSON") from None
    if not isinstance(data, dict):
        raise ValueError("the request body must be a JSON object")
    return data


def create_app(pipeline: Path | None = None, jobs: JobManager | None = None,
               stopping: threading.Event | None = None) -> Starlette:
    """The studio app for `pipeline` (or none yet: the page asks for one). When `stopping` is set (the
    server was asked to exit), open event streams end, so shutting down never waits for a page."""
    studio = Studio(pipeline, jobs)
    stopping = stopping or threading.Event()

    async def index(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    async def get_state(request: Request) -> Response:
        return JSONResponse(studio.state())

    async def events(request: Request) -> Response:
        async def stream() -> AsyncIterator[str]:
            last, sent_at = None, 0.0
            loop = asyncio.get_running_loop()
            while True:
                text = json.dumps(studio.state())
                now = loop.time()
                running = studio.jobs.running_stage() is not None
                if text != last or (running and now - sent_at >= EVENT_KEEPALIVE_S):
                    yield f"event: state\ndata: {text}\n\n"
                    last, sent_at = text, now
                elif now - sent_at >= 15.0:
                    yield ": keep-alive\n\n"
                    sent_at = now
                if stopping.is_set() or await request.is_disconnected():
                    return
                await asyncio.sleep(EVENT_POLL_S)

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    async def post_pipeline(request: Request) -> Response:
        try:
            data = await _body(request)
            path = data.get("path")
            if not isinstance(path, str) or not path.strip():
                return error("give the path of a pipeline .toml file as {\"path\": \"...\"}", 400)
            if studio.jobs.running_stage() is not None:
                return error("a job is running; stop it before opening another pipeline", 409)
            studio.open(Path(path.strip()))
        except (FswapError, ValueError) as exc:
            return error(one_line(exc), 400)
        return JSONResponse(studio.state())

    async def start_job(request: Request) -> Response:
        try:
            data = await _body(request)
        except ValueError as exc:
            return error(one_line(exc), 400)
        if studio.config is None:
            return error("no pipeline is open; open a pipeline.toml first", 400)
        stage = data.get("stage")
        if stage not in STAGES:
            return error(f"unknown stage {stage!r}; valid: {', '.join(STAGES)}", 400)
        if stage not in studio.config.stages:
            return error(f"{studio.pipeline_path.name} has no [{stage}] section", 400)
        sets = data.get("set") or {}
        if not isinstance(sets, dict) or not all(isinstance(k, str) and k for k in sets):
            return error("\"set\" must be an object of \"section.key\": value", 400)
        job_config = None
        if sets:  # validate the overrides here, so a bad one is a 400 and not a failed job
            from fswap.config import apply_overrides, parse_pipeline, read_toml

            try:
                from fswap import api

                text = [f"{k}={json.dumps(v)}" for k, v in sets.items()]
                table = apply_overrides(read_toml(studio.pipeline_path), text, studio.pipeline_path.name)
                job_config = parse_pipeline(table, source=studio.pipeline_path, catalog=api.catalog())
            except FswapError as exc:
                return error(one_line(exc), 400)
        try:
            fresh = bool(data.get("fresh"))
            job = studio.jobs.start(studio.pipeline_path, studio.workdir, stage, fresh, sets)
        except JobConflict as exc:
            return error(one_line(exc), 409)
        studio.job_config = job_config
        return JSONResponse({"job": job.as_dict()}, status_code=202)

    async def stop_job(request: Request) -> Response:
        try:
            job = studio.jobs.stop()
        except JobConflict as exc:
            return error(one_line(exc), 409)
        return JSONResponse({"job": job.as_dict()})

    def need_pipeline() -> Response | None:
        if studio.config is None:
            return error("no pipeline is open; open a pipeline.toml first", 400)
        return None

    async def history(request: Request) -> Response:
        return need_pipeline() or JSONResponse(read_history(studio.config))

    async def get_faceset(request: Request) -> Response:
        side = request.path_params["side"]
        if side not in ("a", "b"):
            return error(f"face set {side!r}; valid: a, b", 404)
        return need_pipeline() or JSONResponse(media.faceset(studio.config, side))

    async def get_tracks(request: Request) -> Response:
        missing = need_pipeline()
        if missing is not None:
            return missing
        return JSONResponse(await asyncio.to_thread(media.tracks, studio.config))

    preview_lock = asyncio.Lock()

    async def swap_preview(request: Request) -> Response:
        missing = need_pipeline()
        if missing is not None:
            return missing
        try:
            data = await _body(request)
        except ValueError as exc:
            return error(one_line(exc), 400)
        frame, direction = data.get("frame", 0), data.get("direction") or "a_to_b"
        if isinstance(frame, bool) or not isinstance(frame, int) or frame < 0:
            return error(f"frame must be a whole number ≥ 0, received {frame!r}", 400)
        if direction not in ("a_to_b", "b_to_a"):
            return error(f"direction {direction!r}; valid: a_to_b, b_to_a", 400)
        if "convert" not in studio.config.stages:
            return error(f"{studio.pipeline_path.name} has no [convert] section; the preview converts a "
                         "frame of its input", 400)
        out = studio.workdir / "studio" / "swap" / f"frame-{frame}-{direction}.png"
        async with preview_lock:  # one preview at a time (each loads the model)
            done, text = await run_preview(studio.pipeline_path, frame, direction, out)
        if not done:
            return error(text, 400)
        return JSONResponse({"image": file_url(studio.workdir, out)})

    async def files(request: Request) -> Response:
        root = studio.workdir
        if root is None:
            return error("no pipeline is open", 404)
        rel = request.path_params["path"]
        try:
            path = (root / rel).resolve()
            path.relative_to(root.resolve())
        except (ValueError, OSError):
            return error("not found", 404)
        if not path.is_file():
            return error("not found", 404)
        return FileResponse(path)

    routes = [
        Route("/", index),
        Route("/api/history", history),
        Route("/api/facesets/{side}", get_faceset),
        Route("/api/tracks", get_tracks),
        Route("/api/swap-preview", swap_preview, methods=["POST"]),
        Route("/files/{path:path}", files),
        Route("/api/state", get_state),
        Route("/api/events", events),
        Route("/api/pipeline", post_pipeline, methods=["POST"]),
        Route("/api/jobs", start_job, methods=["POST"]),
        Route("/api/jobs/stop", stop_job, methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await asyncio.to_thread(studio.jobs.shutdown)  # a running job is stopped cleanly, not orphaned

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.studio = studio
    return app
