"""Background jobs of the studio: one `fswap run --stage S` subprocess at a time.

The subprocess is the ordinary command line (`python -m fswap.cli run PIPELINE --stage S`), so it takes
the workdir lock like any run and a CLI run and the studio exclude each other. Its output goes to a ring
of recent lines and to <workdir>/studio/job-<id>.log; its progress bars report to
<workdir>/studio/job-<id>.progress.jsonl (FSWAP_PROGRESS_FILE). Stopping sends SIGINT, the same clean
stop as Ctrl-C (training saves a checkpoint); SIGTERM follows only if it has not ended after a grace period.
"""

from __future__ import annotations

import collections
import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from fswap.errors import FswapError
from fswap.lock import is_locked, read_holder
from fswap.progress import PROGRESS_ENV

LOG_LINES = 200  # lines kept in memory per job (the state shows the last 30)
STOP_GRACE_S = 60.0  # after SIGINT, how long a job may take to save and exit before SIGTERM
STAGES = ("extract", "train", "convert", "evaluate")


class JobConflict(FswapError):
    """A job cannot start or stop now (one is running, the workdir is locked, or none is running)."""


def _override_args(sets: Mapping[str, Any]) -> list[str]:
    """{"convert.tracks": [0, 2], "convert.select": "tracks"} → --set arguments (values as TOML)."""
    args = []
    for key, value in sets.items():
        if isinstance(value, str):
            text = json.dumps(value)  # a JSON string is a TOML basic string
        elif isinstance(value, bool):
            text = "true" if value else "false"
        else:
            text = json.dumps(value)  # numbers and lists of them read the same in TOML
        args += ["--set", f"{key}={text}"]
    return args


def last_progress(path: Path) -> dict[str, Any] | None:
    """The newest line of a progress file (read from its end), or None."""
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 4096))
            tail = fh.read().decode("utf-8", errors="replace")
    except OSError:
        return None
    for line in reversed(tail.splitlines()):
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            return {k: record.get(k) for k in ("desc", "n", "total", "unit", "rate")}
    return None


def _next_id(folder: Path, at_least: int) -> int:
    """A job id above those of the job logs already in `folder` (ids go on across studio restarts)."""
    used = []
    for path in folder.glob("job-*.log"):
        try:
            used.append(int(path.stem.removeprefix("job-")))
        except ValueError:
            continue
    return max([at_least - 1, *used]) + 1


class Job:
    """One run of one stage in a subprocess."""

    def __init__(self, job_id: int, stage: str, argv: Sequence[str], folder: Path,
                 env: Mapping[str, str]) -> None:
        self.id = job_id
        self.stage = stage
        self.argv = list(argv)
        folder.mkdir(parents=True, exist_ok=True)
        self.log_path = folder / f"job-{job_id}.log"
        self.progress_path = folder / f"job-{job_id}.progress.jsonl"
        self.progress_path.unlink(missing_ok=True)  # never show an earlier job's progress
        self.lines: collections.deque[str] = collections.deque(maxlen=LOG_LINES)
        self.stop_requested = False
        self._lock = threading.Lock()
        self._log = self.log_path.open("w", encoding="utf-8")
        self.proc = subprocess.Popen(
            self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            env={**env, PROGRESS_ENV: str(self.progress_path), "PYTHONUNBUFFERED": "1"},
            start_new_session=True,  # Ctrl-C on the studio's terminal does not hit the job; stop() does
        )
        self._reader = threading.Thread(target=self._read, name=f"fswap-job-{job_id}", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        pending = b""
        for chunk in iter(lambda: self.proc.stdout.read1(65536), b""):  # type: ignore[union-attr]
            pending += chunk
            *done, pending = pending.replace(b"\r", b"\n").split(b"\n")
            self._add([d.decode("utf-8", errors="replace") for d in done])
        if pending:
            self._add([pending.decode("utf-8", errors="replace")])
        self._log.close()

    def _add(self, lines: list[str]) -> None:
        lines = [line.rstrip() for line in lines if line.strip()]
        with self._lock:
            self.lines.extend(lines)
        for line in lines:
            self._log.write(line + "\n")
        self._log.flush()

    @property
    def returncode(self) -> int | None:
        return self.proc.poll()

    @property
    def state(self) -> str:
        rc = self.returncode
        if rc is None:
            return "stopping" if self.stop_requested else "running"
        if self.stop_requested:
            return "stopped"
        return "finished" if rc == 0 else "failed"

    @property
    def running(self) -> bool:
        return self.returncode is None

    def message(self) -> str | None:
        """The run's one-line error (`fswap: error: …`), or a word on how it ended."""
        with self._lock:
            lines = list(self.lines)
        for line in reversed(lines):
            if line.startswith("fswap: "):
                return line
        rc = self.returncode
        if rc not in (None, 0) and not self.stop_requested:
            return f"{self.stage} ended with exit code {rc}"
        return None

    def stop(self, grace_s: float = STOP_GRACE_S) -> None:
        """SIGINT now; SIGTERM later (in a thread) only if the job has not ended within `grace_s`."""
        if not self.running:
            return
        self.stop_requested = True
        try:
            self.proc.send_signal(signal.SIGINT)
        except ProcessLookupError:
            return

        def escalate() -> None:
            try:
                self.proc.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                self.proc.terminate()

        threading.Thread(target=escalate, name=f"fswap-job-{self.id}-stop", daemon=True).start()

    def wait(self, timeout: float | None = None) -> int:
        rc = self.proc.wait(timeout=timeout)
        self._reader.join(timeout=5)
        return rc

    def as_dict(self) -> dict[str, Any]:
        with self._lock:
            log = list(self.lines)[-30:]
        return {
            "id": self.id,
            "stage": self.stage,
            "state": self.state,
            "progress": last_progress(self.progress_path),
            "log": log,
            "returncode": self.returncode,
            "message": self.message(),
        }


class JobManager:
    """Starts and stops the one job of a studio; refuses a second one (and a locked workdir)."""

    def __init__(self, python: str = sys.executable, env: Mapping[str, str] | None = None) -> None:
        self.python = python
        self.env = dict(os.environ if env is None else env)
        self.job: Job | None = None
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def start(self, pipeline: Path, workdir: Path, stage: str, fresh: bool = False,
              sets: Mapping[str, Any] | None = None) -> Job:
        """Start `fswap run PIPELINE --stage STAGE` unless a job runs or another run holds the workdir."""
        if stage not in STAGES:
            raise ValueError(f"unknown stage '{stage}'; valid: {', '.join(STAGES)}")
        with self._lock:
            if self.job is not None and self.job.running:
                raise JobConflict(f"a job is already running: {self.job.stage} (job {self.job.id}); "
                                  "stop it first")
            if is_locked(workdir):
                pid = (read_holder(workdir) or {}).get("pid", "unknown")
                raise JobConflict(f"workdir {workdir} is in use by another fswap run (pid {pid})")
            argv = [self.python, "-m", "fswap.cli", "run", str(pipeline), "--stage", stage, "--no-progress"]
            if fresh:
                argv.append("--fresh")
            argv += _override_args(sets or {})
            folder = workdir / "studio"
            self.job = Job(_next_id(folder, next(self._ids)), stage, argv, folder, self.env)
            return self.job

    def stop(self) -> Job:
        """Stop the running job (SIGINT); JobConflict when none runs."""
        with self._lock:
            job = self.job
            if job is None or not job.running:
                raise JobConflict("no job is running")
            job.stop()
            return job

    def running_stage(self) -> str | None:
        job = self.job
        return job.stage if job is not None and job.running else None

    def shutdown(self, timeout: float = STOP_GRACE_S) -> None:
        """Stop a running job cleanly when the studio exits (it would otherwise outlive it)."""
        job = self.job
        if job is not None and job.running:
            job.stop()
            deadline = time.monotonic() + timeout
            while job.running and time.monotonic() < deadline:
                time.sleep(0.1)
            if job.running:
                job.proc.terminate()
