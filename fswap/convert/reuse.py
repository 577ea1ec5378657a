"""Faces from detections an earlier extract recorded, instead of running the detector again.

`RecordedDetector` answers `detect_frames` for every frame it has a record of (and whose size is the one the
record was made at); the rest go to the real detector. It counts which frames were answered how, for the
convert summary. Independent of files and TOML, like the engine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from fswap.components import Detection
from fswap.data.detections import FrameFaces
from fswap.frame_guard import IndexedDetector, detect_frames


class RecordedDetector(IndexedDetector):
    """Recorded faces per source frame index, falling back to `detector` for frames without a record."""

    def __init__(self, frames: Mapping[int, FrameFaces], detector: Any) -> None:
        self.frames = frames
        self.detector = detector
        self.reused: set[int] = set()  # source frames answered from the record
        self.detected: set[int] = set()  # source frames the detector was run on

    def detect_frames(self, items: Sequence[tuple[int, np.ndarray]]) -> list[list[Detection]]:
        out: list[list[Detection]] = [[] for _ in items]
        missing: list[int] = []
        for position, (index, frame) in enumerate(items):
            record = self.frames.get(int(index))
            if record is not None and record.size == (frame.shape[1], frame.shape[0]):
                out[position] = list(record.faces)
                self.reused.add(int(index))
            else:
                missing.append(position)
        if missing:
            found = detect_frames(self.detector, [items[p] for p in missing])
            for position, faces in zip(missing, found, strict=True):
                out[position] = faces
                self.detected.add(int(items[position][0]))
        return out

    def detect(self, frames: Sequence[np.ndarray]) -> list[list[Detection]]:
        """Images that are not frames of the input (e.g. a reference photo) always go to the detector."""
        return self.detector.detect(frames)

    def __getattr__(self, name: str) -> Any:  # other attributes of the real detector (e.g. batch hints)
        if name in ("frames", "detector", "reused", "detected"):
            raise AttributeError(name)
        return getattr(self.detector, name)

    def counts(self) -> dict[str, int]:
        """Frames answered from the record, and frames detected (a frame counted once however often asked)."""
        return {"frames_from_alignments": len(self.reused), "frames_detected": len(self.detected)}
