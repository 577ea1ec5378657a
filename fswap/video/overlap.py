"""Frame I/O beside the work between it: one thread decodes frames ahead, another encodes them behind.

OpenCV's decoder and the pipe to ffmpeg release the GIL, as TensorFlow's calls do, so with these the
converter's detector and generator calls no longer wait for a frame to be decoded or written. Order is
kept, memory is bounded by the queue depths, and a failure in either thread is raised in the caller at its
next step (a read error where the frame would have been yielded; a write error at the next write or at
close), so what the error names and what survives are as without them.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")
_POLL_S = 0.1  # how often a thread blocked on a full or empty queue checks whether it should stop


def _put(q: queue.Queue, item: Any, stop: threading.Event) -> bool:
    """Put `item`, waiting while the queue is full; False (not put) once `stop` is set."""
    while not stop.is_set():
        try:
            q.put(item, timeout=_POLL_S)
            return True
        except queue.Full:
            continue
    return False


def read_ahead(items: Iterable[T], depth: int) -> Iterator[T]:
    """`items` in order, produced up to `depth` ahead in a background thread (depth ≤ 0: in this one).
    Stopping early (break, an error downstream) stops the thread and closes `items`."""
    if depth <= 0:
        yield from items
        return
    pending: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        source = iter(items)
        try:
            for item in source:
                if not _put(pending, ("item", item), stop):
                    return
            _put(pending, ("done", None), stop)
        except BaseException as exc:  # handed to the consumer, which raises it
            _put(pending, ("error", exc), stop)
        finally:
            close = getattr(source, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=produce, name="fswap-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = pending.get()
            if kind == "done":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        thread.join()


class WriteBehind:
    """A writer session whose `write` hands the frame to a background thread (up to `depth` waiting) that
    calls `on_write()` then the session's `write`; `drain` waits for every frame, `close` drains then
    closes the session; `abort` drops what waits and aborts it. Other attributes are the session's."""

    def __init__(self, session: Any, depth: int, on_write: Callable[[], None] | None = None) -> None:
        self._session = session
        self._on_write = on_write
        self._pending: queue.Queue = queue.Queue(maxsize=max(1, depth))
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._consume, name="fswap-write-behind", daemon=True)
        self._thread.start()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)

    def _consume(self) -> None:
        while True:
            try:
                frame = self._pending.get(timeout=_POLL_S)
            except queue.Empty:
                if self._stop.is_set():
                    return
                continue
            if frame is None or self._stop.is_set():  # the end, or aborted: what waits is dropped
                return
            try:
                if self._on_write is not None:
                    self._on_write()
                self._session.write(frame)
            except BaseException as exc:  # raised in the caller at its next write or at close
                self._error = exc
                self._stop.set()
                return

    def _raise_error(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def write(self, frame: Any) -> None:
        self._raise_error()
        if not _put(self._pending, frame, self._stop):
            self._raise_error()

    def drain(self) -> None:
        """Wait until every frame handed over is written (raising a write's error); then only `close` or
        `abort` may follow."""
        _put(self._pending, None, self._stop)
        self._thread.join()
        self._raise_error()

    def close(self) -> None:
        self.drain()
        self._session.close()

    def abort(self) -> None:
        self._stop.set()
        self._thread.join()
        self._session.abort()
