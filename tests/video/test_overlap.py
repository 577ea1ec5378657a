"""Frame I/O in threads: order, bounds, errors and early stops of read_ahead and WriteBehind."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from fswap.video.overlap import WriteBehind, read_ahead

WAIT_S = 30  # only a broken implementation waits this long


def test_read_ahead_keeps_order_and_runs_ahead_within_its_depth() -> None:
    produced, consumed = [0], [0]
    ahead = threading.Event()

    def items() -> Iterator[int]:
        for i in range(50):
            assert produced[0] - consumed[0] <= 3 + 2  # the queue's depth, the item in hand, one being put
            produced[0] += 1
            if i == 2:
                ahead.set()  # the consumer has not taken item 0 yet: this runs in another thread
            yield i

    stream = read_ahead(items(), depth=3)
    first = next(stream)
    assert ahead.wait(WAIT_S)
    out = [first]
    consumed[0] += 1
    for item in stream:
        out.append(item)
        consumed[0] += 1
    assert out == list(range(50))
    assert list(read_ahead(iter(range(5)), depth=0)) == list(range(5))


def test_read_ahead_raises_the_producers_error_where_the_item_would_be() -> None:
    def items() -> Iterator[int]:
        yield 0
        yield 1
        raise ValueError("frame 2 unreadable")

    stream = read_ahead(items(), depth=4)
    assert [next(stream), next(stream)] == [0, 1]
    with pytest.raises(ValueError, match="frame 2 unreadable"):
        next(stream)


def test_stopping_early_stops_the_thread_and_closes_the_source() -> None:
    closed = threading.Event()

    def items() -> Iterator[int]:
        try:
            yield from range(10_000)
        finally:
            closed.set()

    stream = read_ahead(items(), depth=2)
    assert [next(stream) for _ in range(3)] == [0, 1, 2]
    stream.close()
    assert closed.is_set()
    assert not any(t.name == "fswap-read-ahead" for t in threading.enumerate())


class Session:
    def __init__(self, fail_at: int | None = None) -> None:
        self.frames: list[int] = []
        self.closed = self.aborted = False
        self.fail_at = fail_at
        self.has_audio = True

    def write(self, frame: int) -> None:
        if frame == self.fail_at:
            raise OSError(f"encoder gone at {frame}")
        self.frames.append(frame)

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True


def test_write_behind_writes_in_order_counting_each_frame_first() -> None:
    session, counted = Session(), []
    behind = WriteBehind(session, depth=2, on_write=lambda: counted.append(len(session.frames)))
    for frame in range(20):
        behind.write(frame)
    assert behind.has_audio  # the session's attributes pass through
    behind.close()
    assert session.frames == list(range(20)) and session.closed and not session.aborted
    assert counted == list(range(20))  # on_write runs just before the frame's write


def test_a_write_error_is_raised_at_a_later_write_or_at_drain() -> None:
    session = Session(fail_at=3)
    behind = WriteBehind(session, depth=1)
    with pytest.raises(OSError, match="encoder gone at 3"):
        for frame in range(1000):
            behind.write(frame)
    assert session.frames == [0, 1, 2]
    behind.abort()
    assert session.aborted and not session.closed

    late = WriteBehind(Session(fail_at=4), depth=8)
    for frame in range(5):
        late.write(frame)
    with pytest.raises(OSError, match="encoder gone at 4"):
        late.drain()


def test_abort_drops_waiting_frames() -> None:
    release, writing = threading.Event(), threading.Event()

    class Slow(Session):
        def write(self, frame: int) -> None:
            writing.set()
            assert release.wait(WAIT_S)
            super().write(frame)

    session = Slow()
    behind = WriteBehind(session, depth=8)
    for frame in range(6):
        behind.write(frame)
    # the writer thread must be inside frame 0's write before abort starts: without this wait it could still
    # be taking frame 0 off the queue, see the stop, and rightly drop it too (a fresh clone's run did)
    assert writing.wait(WAIT_S)
    stopper = threading.Thread(target=behind.abort)
    stopper.start()
    assert behind._stop.wait(WAIT_S)  # abort has begun while frame 0 is being written
    release.set()
    stopper.join(WAIT_S)
    assert session.aborted and session.frames == [0]  # frames 1–5 were dropped
