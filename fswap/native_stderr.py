"""What C libraries print straight to file descriptor 2, kept out of the way of fswap's own output.

libpng/libjpeg/FFmpeg complain on stderr before OpenCV returns a failure; `capture()` collects such
output for a block so the caller can put it into its error.

TensorFlow logs from C++ straight to fd 2, at import (absl start-up lines that TF_CPP_MIN_LOG_LEVEL no
longer hides) and later, from whichever thread optimises a graph: Grappler reports a failed optimizer
pass, e.g. `E0000 … meta_optimizer.cc:967] remapper failed: …` for LeakyReLU gradients under oneDNN, when
the first training step is traced, long after the import. For one CLI command, `quiet_native_stderr()`
sends fd 2 through a small filter process from the moment TensorFlow starts importing: it drops
TensorFlow's log lines below TF_CPP_MIN_LOG_LEVEL and Grappler's "<pass> failed" lines (the graph then
simply runs without that pass) and passes everything else on, so real errors still show. It is a
separate process, so what was written just before a crash still comes out. Python's own `sys.stderr`
keeps writing to the terminal directly (bars keep their width), and everything is put back afterwards.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import os
import re
import select
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from types import ModuleType
from typing import Any, TextIO

_ABSL_LINE = re.compile(rb"([IWEF])\d{4} [\d:.]+\s+\d+ ([\w.-]+):\d+\] ([^\n]*)\n?")
_SEVERITY = {b"I": 0, b"W": 1, b"E": 2, b"F": 3}
_GRAPPLER_PASS_FAILED = re.compile(rb"[\w ]+ failed: ")
_BANNERS = (  # TensorFlow's start-up lines that do not carry the absl prefix
    b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    b"To enable the following instructions:",
)


def is_tensorflow_noise(line: bytes, min_level: int = 2) -> bool:
    """Whether `line` (one line, with or without its newline) is TensorFlow log output to drop, given
    TF_CPP_MIN_LOG_LEVEL `min_level` (0 drops nothing; 1 hides INFO, 2 also WARNING, 3 also ERROR; FATAL
    always shows): an absl line below that level, a start-up banner, or, from 1 up, Grappler's report that
    an optimizer pass failed (an ERROR line, but the graph simply runs without that pass)."""
    if min_level < 1:
        return False
    match = _ABSL_LINE.fullmatch(line)
    if match is None:
        return line.startswith(_BANNERS)
    severity, source, message = match.groups()
    rank = _SEVERITY[severity]
    if rank < 3 and rank < min_level:
        return True
    return rank == 2 and source == b"meta_optimizer.cc" and _GRAPPLER_PASS_FAILED.match(message) is not None


def filter_lines(data: bytes, min_level: int = 2) -> bytes:
    """`data` (whole lines) minus TensorFlow's noise lines. A noise line that starts in the middle of a
    line (after a progress bar, say) is cut out together with its newline, leaving the rest as it was."""
    out = []
    for line in data.splitlines(keepends=True):
        if is_tensorflow_noise(line, min_level):
            continue
        match = _ABSL_LINE.search(line, 1)
        if match is not None and match.end() == len(line) and is_tensorflow_noise(match.group(0), min_level):
            line = line[: match.start()]
        out.append(line)
    return b"".join(out)


def _may_become_noise(tail: bytes) -> bool:
    """Whether an unfinished line could still turn into a line `filter_lines` drops."""
    if re.fullmatch(rb"[IWEF]\d{0,4}", tail) or re.match(rb"[IWEF]\d{4} ", tail):
        return True
    return any(banner.startswith(tail) or tail.startswith(banner) for banner in _BANNERS)


def _pump(src: int, dst: int, min_level: int, idle_s: float = 0.05) -> None:
    """Copy `src` to `dst` until end of file, dropping TensorFlow's noise lines. An unfinished line goes
    out at once unless it could become noise; then it waits for its end, or `idle_s` of silence."""
    pending = b""
    alive = True

    def send(data: bytes) -> None:
        nonlocal alive
        while alive and data:
            try:
                data = data[os.write(dst, data):]
            except OSError:  # the reader went away: keep draining so the writer never blocks
                alive = False

    while True:
        ready, _, _ = select.select([src], [], [], idle_s if pending else None)
        if not ready:
            send(filter_lines(pending, min_level))
            pending = b""
            continue
        chunk = os.read(src, 1 << 16)
        if not chunk:
            break
        pending += chunk
        cut = pending.rfind(b"\n") + 1
        send(filter_lines(pending[:cut], min_level))
        pending = pending[cut:]
        last = pending.rfind(b"\r") + 1  # a bar redraws itself after \r: judge what follows
        if not _may_become_noise(pending[last:]):
            send(pending)
            pending = b""
    send(filter_lines(pending, min_level))


def min_log_level(environ: dict[str, str] | None = None) -> int:
    """TF_CPP_MIN_LOG_LEVEL as a number (0 when unset or not a number)."""
    raw = (os.environ if environ is None else environ).get("TF_CPP_MIN_LOG_LEVEL", "0")
    return int(raw) if raw.strip().isdigit() else 0


class StderrFilter:
    """fd 2 through a `_pump` child process until `close()`; `sys.stderr` meanwhile writes to the real
    stderr directly when it is the interpreter's own fd-2 stream."""

    def __init__(self, min_level: int) -> None:
        with contextlib.suppress(Exception):
            sys.stderr.flush()
        self.saved = os.dup(2)
        read_end, write_end = os.pipe()
        try:
            self.child = subprocess.Popen(
                [sys.executable, "-I", "-S", os.path.abspath(__file__), str(min_level)],
                stdin=read_end, stdout=self.saved, stderr=self.saved, close_fds=True,
            )
        except BaseException:
            for fd in (read_end, write_end, self.saved):
                os.close(fd)
            raise
        os.close(read_end)
        os.dup2(write_end, 2)
        os.close(write_end)
        self.replaced: TextIO | None = None
        if sys.stderr is not None and sys.stderr is sys.__stderr__ and _fileno(sys.stderr) == 2:
            self.replaced = sys.stderr
            sys.stderr = open(  # noqa: SIM115 - closed in close()
                os.dup(self.saved), "w", buffering=1, encoding=sys.stderr.encoding,
                errors=sys.stderr.errors, closefd=True,
            )

    def close(self, timeout_s: float = 10.0) -> None:
        """Put fd 2 and sys.stderr back; wait until the child has passed on everything written so far."""
        if self.replaced is not None:
            ours, sys.stderr = sys.stderr, self.replaced
            with contextlib.suppress(Exception):
                ours.close()
        with contextlib.suppress(Exception):
            sys.stderr.flush()
        os.dup2(self.saved, 2)  # closes our write end of the pipe: the child sees end of file
        os.close(self.saved)
        with contextlib.suppress(subprocess.TimeoutExpired):  # a grandchild may still hold the pipe
            self.child.wait(timeout=timeout_s)


def _fileno(stream: Any) -> int | None:
    try:
        return int(stream.fileno())
    except (AttributeError, OSError, ValueError):
        return None


@contextlib.contextmanager
def capture() -> Iterator[Callable[[], str]]:
    """Redirect fd 2 into a temporary file meanwhile; the yielded function returns the text afterwards."""
    try:
        saved = os.dup(2)
    except OSError:  # no usable fd 2: nothing to capture
        yield lambda: ""
        return
    captured: list[str] = []
    with tempfile.TemporaryFile() as sink:
        with contextlib.suppress(Exception):
            sys.stderr.flush()
        os.dup2(sink.fileno(), 2)
        try:
            yield lambda: "".join(captured)
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            captured.append(sink.read().decode("utf-8", "replace"))


class _FilterOnImport(importlib.abc.Loader):
    """Wraps the real loader of the `tensorflow` package: starts the session's filter, then imports."""

    def __init__(self, loader: Any, start: Callable[[], None]) -> None:
        self.loader = loader
        self.start = start

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        self.start()  # before TensorFlow's shared libraries load and print
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self.loader.exec_module(module)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.loader, name)


class _TensorflowFinder(importlib.abc.MetaPathFinder):
    """Finds `tensorflow` with the other finders and gives it the loader that starts the filter."""

    def __init__(self, start: Callable[[], None]) -> None:
        self.start = start

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != "tensorflow":
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _FilterOnImport(spec.loader, self.start)
                return spec
        return None


@contextlib.contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """For one CLI command: TensorFlow's C++ log noise is dropped from fd 2 (see the module docstring).

    The filter starts when TensorFlow starts importing (at once if it already is), so commands that never
    import it cost nothing; on exit fd 2, `sys.stderr` and `sys.meta_path` are as they were.
    """
    active: list[StderrFilter | None] = []

    def start() -> None:
        if not active:
            try:
                active.append(StderrFilter(min_log_level()))
            except OSError:  # no interpreter to start, no file descriptors left: run unfiltered
                active.append(None)

    finder = _TensorflowFinder(start)
    if "tensorflow" in sys.modules:
        start()
    else:
        sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        with contextlib.suppress(ValueError):
            sys.meta_path.remove(finder)
        for running in active:
            if running is not None:
                running.close()


if __name__ == "__main__":  # the filter process: python -I -S native_stderr.py MIN_LEVEL
    for _signal in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):  # it ends when the writer closes fd 2
        signal.signal(_signal, signal.SIG_IGN)
    _pump(0, 1, int(sys.argv[1]))
