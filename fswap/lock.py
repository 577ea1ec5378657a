"""One run per workdir: an exclusive, non-blocking lock on <workdir>/.fswap.lock held for a whole run.

The lock is an `fcntl.flock` on the file, so the kernel releases it when the process exits, crashes or
is interrupted; a stale file left behind locks nothing. The file's text (one JSON line: the holder's pid
and command) is only there so the error can say who holds the workdir.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fswap.errors import FswapError

LOCK_NAME = ".fswap.lock"


class WorkdirBusyError(FswapError):
    """Another process holds the workdir's lock (a run is going on there)."""


def lock_path(root: Path) -> Path:
    """The lock file of the workdir `root`."""
    return Path(root) / LOCK_NAME


def read_holder(root: Path) -> dict[str, Any] | None:
    """What the lock file says about its holder ({"pid", "command"}), or None when absent/unreadable."""
    try:
        data = json.loads(lock_path(root).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def is_locked(root: Path) -> bool:
    """Whether some process holds the workdir's lock right now (probes without keeping it)."""
    path = lock_path(root)
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing drops the probe's lock, if it got one
    return False


def _write_holder(fd: int, command: str) -> None:
    """Put the holder's pid and command into the locked file (one write of a short line).

    The text cannot be renamed into place: that would swap the inode the lock is on. Readers only look
    at it after failing to take the lock, and `_holder_of_busy` retries briefly if it is still empty."""
    text = (json.dumps({"pid": os.getpid(), "command": command}) + "\n").encode("utf-8")
    os.ftruncate(fd, 0)
    os.pwrite(fd, text, 0)


def _holder_of_busy(root: Path) -> dict[str, Any]:
    """The holder of a lock we just failed to take (waits up to ~0.5 s for it to write its line)."""
    for _ in range(10):
        holder = read_holder(root)
        if holder:
            return holder
        time.sleep(0.05)
    return {}


@contextlib.contextmanager
def workdir_lock(root: Path, command: str | None = None) -> Iterator[None]:
    """Hold the workdir's lock for the block; raise WorkdirBusyError at once when another run holds it."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    path = lock_path(root)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as exc:
        raise FswapError(f"{path}: cannot create the workdir lock ({exc.strerror or exc})") from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder_of_busy(root)
            pid = holder.get("pid", "unknown")
            raise WorkdirBusyError(
                f"workdir {root} is in use by another fswap run (pid {pid}); wait for it to finish or "
                f"stop it first"
            ) from None
        _write_holder(fd, command if command is not None else " ".join(sys.argv))
        yield
    finally:
        os.close(fd)
