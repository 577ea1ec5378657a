"""Writing a face set during extraction, with the bookkeeping that makes a re-run resume where it stopped.

`meta["extract"]` of alignments.json holds the settings the set was made with and the frame indices already
processed (as [start, stop) ranges of frame // every_n, so sampled runs stay compact), so a second run skips
them; --fresh removes the set first.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from fswap.components import AlignedFace
from fswap.data.faceset import FaceRecord, FaceSet
from fswap.errors import InputError, StageError


def to_ranges(indices: Iterable[int]) -> list[list[int]]:
    """Sorted unique indices → [[start, stop), …] with consecutive runs merged."""
    out: list[list[int]] = []
    for i in sorted(set(indices)):
        if out and out[-1][1] == i:
            out[-1][1] = i + 1
        else:
            out.append([i, i + 1])
    return out


def from_ranges(ranges: Iterable[Iterable[int]]) -> set[int]:
    return {i for start, stop in ranges for i in range(int(start), int(stop))}


def write_png(path: Path, image: np.ndarray) -> None:
    """Write a PNG, creating its folder; StageError when it cannot be written."""
    import cv2

    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), image):
        raise StageError(f"{path}: cannot write the image (disk full or no permission?)")


class FaceSetWriter:
    """Adds aligned faces, masks and raw crops to a face set folder and records which frames are done."""

    def __init__(
        self,
        path: Path,
        *,
        size: int,
        masks: list[str],
        settings: dict[str, Any],
        resume: bool,
        step: int = 1,
    ) -> None:
        self.settings = settings
        self.step = step
        if not resume and path.exists():
            shutil.rmtree(path)
        self.quality: dict[str, dict[str, float]] = {}  # per kept file: yaw, pitch, sharpness
        if (path / "alignments.json").is_file():
            faceset = FaceSet.open(path)
            previous = faceset.meta.get("extract", {}).get("settings")
            if previous != settings:
                changed = sorted(
                    k
                    for k in set(settings) | set(previous or {})
                    if (previous or {}).get(k) != settings.get(k)
                )
                raise StageError(
                    f"{path}: this face set was extracted with other settings "
                    f"(changed: {', '.join(changed)}); "
                    "run again with --fresh to redo it"
                )
            self.done = {k * step for k in from_ranges(faceset.meta["extract"].get("done", []))}
            self.quality = dict(faceset.meta["extract"].get("faces", {}))
        else:
            faceset = FaceSet(path=path, size=size, masks=list(masks))
            self.done = set()
        self.faceset = faceset
        path.mkdir(parents=True, exist_ok=True)

    @property
    def path(self) -> Path:
        return self.faceset.path

    def add(
        self,
        face: AlignedFace,
        *,
        source: str,
        frame: int,
        face_index: int,
        masks: dict[str, np.ndarray],
        raw: np.ndarray | None = None,
        embedding: np.ndarray | None = None,
        quality: dict[str, float] | None = None,
    ) -> FaceRecord:
        """Write the crop (and masks / raw crop) as <frame>_<face>.png and add its record; `quality` (pose,
        sharpness) is kept in meta.extract.faces under the file name."""
        if face.size != self.faceset.size:
            raise StageError(
                f"{self.path}: aligner made {face.size}² crops but the set holds {self.faceset.size}²"
            )
        record = FaceRecord(
            file=f"{frame:06d}_{face_index}.png",
            source=source,
            frame=frame,
            face_index=face_index,
            detection=face.detection,
            landmarks=face.landmarks,
            matrix=face.matrix,
            embedding=embedding,
        )
        write_png(self.faceset.image_path(record), face.image)
        for name, mask in masks.items():
            write_png(
                self.faceset.mask_path(record, name), (np.clip(mask, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
            )
        if raw is not None:
            write_png(self.path / "raw" / record.file, raw)
        self.faceset.records = [r for r in self.faceset.records if r.file != record.file]
        self.faceset.records.append(record)
        if quality is not None:
            self.quality[record.file] = {k: round(float(v), 4) for k, v in quality.items()}
        return record

    def mark_done(self, frames: Iterable[int]) -> None:
        self.done.update(frames)

    def save(self, summary: dict[str, Any] | None = None) -> None:
        """Write alignments.json atomically with the settings and done frames (a resume point)."""
        self.faceset.records.sort(key=lambda r: (r.frame, r.face_index))
        meta = dict(self.faceset.meta.get("extract", {}))
        meta.update({"settings": self.settings, "done": to_ranges(i // self.step for i in self.done)})
        files = {r.file for r in self.faceset.records}
        meta["faces"] = {f: q for f, q in sorted(self.quality.items()) if f in files}
        if summary is not None:
            meta["summary"] = summary
        self.faceset.meta["extract"] = meta
        try:
            self.faceset.save()
        except OSError as exc:
            raise InputError(f"{self.faceset.alignments_path}: cannot write ({exc})") from exc
