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
from fswap.studio.jobs import STAGES, JobConflict, JobManager
from fswap.studio.state import workdir_state

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
        base: dict[str, Any] = {
            "pipeline": None if self.pipeline_path is None else str(self.pipeline_path),
            "workdir": None if self.workdir is None else str(self.workdir),
            "message": self.message,
            "job": None if job is None else job.as_dict(),
        }
        if self.config is None:
            return {**base, "stages": [], "train": None, "evaluation": None,
                    "outputs": {"video": None, "report": None, "comparison": None}}
        return {**base, **workdir_state(self.config, self.jobs.running_stage())}


async def _body(request: Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except ValueError:
        raise ValueError("the request body is not JSON") from None
    if not isinstance(data, dict):
        raise ValueError("the request body must be a JSON object")
    return data


def create_app(pipeline: Path | None = None, jobs: JobManager | None = None) -> Starlette:
    """The studio app for `pipeline` (or none yet: the page asks for one)."""
    studio = Studio(pipeline, jobs)

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
                if await request.is_disconnected():
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
        if sets:  # validate the overrides here, so a bad one is a 400 and not a failed job
            from fswap.config import apply_overrides, parse_pipeline, read_toml

            try:
                from fswap import api

                text = [f"{k}={json.dumps(v)}" for k, v in sets.items()]
                table = apply_overrides(read_toml(studio.pipeline_path), text, studio.pipeline_path.name)
                parse_pipeline(table, source=studio.pipeline_path, catalog=api.catalog())
            except FswapError as exc:
                return error(one_line(exc), 400)
        try:
            fresh = bool(data.get("fresh"))
            job = studio.jobs.start(studio.pipeline_path, studio.workdir, stage, fresh, sets)
        except JobConflict as exc:
            return error(one_line(exc), 409)
        return JSONResponse({"job": job.as_dict()}, status_code=202)

    async def stop_job(request: Request) -> Response:
        try:
            job = studio.jobs.stop()
        except JobConflict as exc:
            return error(one_line(exc), 409)
        return JSONResponse({"job": job.as_dict()})

    routes = [
        Route("/", index),
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
