"""How many frames the converter handles together when `[convert] batch_frames` is left to fswap.

A batch costs one detector call for its detected frames and one generator call for its faces. Detection
dominates conversion on a CPU, and a detector call has a fixed cost (MTCNN runs one network call per
pyramid level whatever the number of frames), so what matters is how many *detected* frames share a call:
with `detect_every_n = 5`, a batch of 16 frames detects only 3–4 of them. The automatic size gives the
detector `DETECTED_PER_BATCH` frames per call, bounded by the memory the batch's frames take.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from math import prod
from typing import Any

DETECTED_PER_BATCH = 8
"""Detected frames per batch: MTCNN's own frames-per-call default (`[convert.detector] batch_size`)."""
MIN_FRAMES = 16
"""The least frames per batch, so that the generator gets a batch of faces when every frame is detected."""
FACES_PER_CALL = 32
"""Faces per generator call when batch_frames is automatic (a batch's faces go in calls of this many)."""
FRAME_BYTES = 512 * 2**20
"""The most bytes of decoded frames per batch (1080p: 86 frames; 4K: 21)."""


def frames_per_batch(batch_frames: int | None, detect_every_n: int, frame_shape: tuple[int, ...]) -> int:
    """`batch_frames` when given; else enough frames for DETECTED_PER_BATCH detected ones (at least
    MIN_FRAMES), as far as FRAME_BYTES of frames of `frame_shape` allow (at least one frame)."""
    if batch_frames is not None:
        return int(batch_frames)
    wanted = max(MIN_FRAMES, DETECTED_PER_BATCH * max(1, int(detect_every_n)))
    return max(1, min(wanted, FRAME_BYTES // max(1, prod(frame_shape))))


def frame_batches(frames: Iterable[tuple[int, Any]], batch_frames: int | None,
                  detect_every_n: int) -> Iterator[list[tuple[int, Any]]]:
    """`frames` ((index, image) pairs) in lists of `frames_per_batch` frames (sized by the first frame),
    the last one shorter when the frames run out."""
    batch: list[tuple[int, Any]] = []
    size = 0
    for item in frames:
        if not size:
            size = frames_per_batch(batch_frames, detect_every_n, item[1].shape)
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
