"""A face set on disk: aligned crops, masks and a versioned alignments.json describing each face.

Layout of a face set folder::

    alignments.json           {"format": "fswap-faceset", "version": 1, "size": 256,
                               "masks": [...], "faces": [...]}
    faces/<stem>.png          aligned BGR crops (size × size)
    masks/<mask name>/<stem>.png   8-bit masks, same file name as the face
    raw/<stem>.png            optional unaligned crops

Each face entry records its source file, frame index, face index, detection (box, confidence, landmarks),
the landmarks used for alignment (frame pixels), the 2×3 frame→crop matrix and optionally an embedding.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from fswap.components import Detection
from fswap.errors import InputError

FORMAT = "fswap-faceset"
VERSION = 1
ALIGNMENTS = "alignments.json"


def _matrix(value: Any) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64).reshape(2, 3)
    arr.setflags(write=False)
    return arr


def _points(value: Any) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64).reshape(-1, 2)
    arr.setflags(write=False)
    return arr


def _embedding(value: Any) -> np.ndarray | None:
    return None if value is None else np.asarray(value, dtype=np.float32).reshape(-1)


@attrs.frozen(eq=False)
class FaceRecord:
    """One aligned face of a face set and where it came from."""

    file: str
    source: str
    frame: int
    face_index: int
    detection: Detection
    landmarks: np.ndarray = attrs.field(converter=_points)
    matrix: np.ndarray = attrs.field(converter=_matrix)
    embedding: np.ndarray | None = attrs.field(default=None, converter=_embedding)

    @property
    def stem(self) -> str:
        return Path(self.file).stem

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "source": self.source,
            "frame": self.frame,
            "face_index": self.face_index,
            "detection": self.detection.to_json(),
            "landmarks": np.round(self.landmarks, 3).tolist(),
            # full float64 precision (JSON round-trips it exactly): the stored matrix re-warps the source into
            # the very crop; rounded, it moved a few pixels across warpAffine's 1/32-pixel grid by one level
            "matrix": np.asarray(self.matrix, dtype=np.float64).tolist(),
            "embedding": None if self.embedding is None else np.round(self.embedding, 6).tolist(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FaceRecord:
        """A record from its JSON entry; ValueError for values that would be unsafe or unusable."""
        file = str(data["file"])
        if not file or Path(file).name != file or file in (".", ".."):
            raise ValueError(f"file must be a plain file name inside the face set, received {file!r}")
        record = cls(
            file=file,
            source=str(data["source"]),
            frame=_index(data["frame"], "frame"),
            face_index=_index(data["face_index"], "face_index"),
            detection=Detection.from_json(data["detection"]),
            landmarks=data["landmarks"],
            matrix=data["matrix"],
            embedding=data.get("embedding"),
        )
        for name in ("landmarks", "matrix"):
            if not np.isfinite(getattr(record, name)).all():
                raise ValueError(f"{name} must be finite numbers")
        return record


def _index(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value or value < 0:
        raise ValueError(f"{name} must be a whole number ≥ 0, received {value!r}")
    if isinstance(value, float) and (not np.isfinite(value) or not value.is_integer()):
        raise ValueError(f"{name} must be a whole number ≥ 0, received {value!r}")
    return int(value)


@attrs.define
class FaceSet:
    """A face set folder and its records (mutable while extraction adds faces)."""

    path: Path
    size: int
    masks: list[str] = attrs.field(factory=list)
    records: list[FaceRecord] = attrs.field(factory=list)
    meta: dict[str, Any] = attrs.field(factory=dict)

    @property
    def alignments_path(self) -> Path:
        return self.path / ALIGNMENTS

    @property
    def faces_dir(self) -> Path:
        return self.path / "faces"

    def mask_dir(self, mask: str) -> Path:
        return self.path / "masks" / mask

    def image_path(self, record: FaceRecord) -> Path:
        return self.faces_dir / record.file

    def mask_path(self, record: FaceRecord, mask: str) -> Path:
        return self.mask_dir(mask) / f"{record.stem}.png"

    def __len__(self) -> int:
        return len(self.records)

    def load_image(self, record: FaceRecord) -> np.ndarray:
        """The aligned BGR uint8 crop."""
        return _read_image(self.image_path(record), grayscale=False)

    def load_mask(self, record: FaceRecord, mask: str) -> np.ndarray:
        """The mask as float32 (size, size) in [0, 1]."""
        if mask not in self.masks:
            have = ", ".join(self.masks) or "none"
            raise InputError(f"{self.path}: face set has no mask '{mask}'; it has: {have}")
        return _read_image(self.mask_path(record, mask), grayscale=True).astype(np.float32) / 255.0

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "size": self.size,
            "masks": list(self.masks),
            "meta": self.meta,
            "faces": [r.to_json() for r in self.records],
        }

    def save(self) -> None:
        """Write alignments.json atomically (temp file + rename)."""
        from fswap.files import write_json_atomic

        write_json_atomic(self.alignments_path, self.to_json())

    @classmethod
    def open(cls, path: Path) -> FaceSet:
        """Read a face set; any problem is an InputError naming the file and what is expected."""
        file = path / ALIGNMENTS
        if not file.is_file():
            raise InputError(f"{path}: not a face set (no {ALIGNMENTS}); run the extract stage first")
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError(f"{file}: unreadable alignments file ({exc})") from exc
        return cls.from_json(path, data)

    @classmethod
    def from_json(cls, path: Path, data: Any) -> FaceSet:
        file = path / ALIGNMENTS
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise InputError(f"{file}: not an fswap alignments file (format must be '{FORMAT}')")
        if data.get("version") != VERSION:
            raise InputError(
                f"{file}: alignments version {data.get('version')!r} is not supported; expected {VERSION}"
            )
        try:
            size = int(data["size"])
            masks = [str(m) for m in data.get("masks", [])]
            records = [FaceRecord.from_json(face) for face in data["faces"]]
            meta = dict(data.get("meta") or {})
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            detail = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
            raise InputError(f"{file}: malformed face entry ({detail})") from exc
        if size <= 0:
            raise InputError(f"{file}: size must be positive, received {size}")
        return cls(path=path, size=size, masks=masks, records=records, meta=meta)


def _read_image(path: Path, *, grayscale: bool) -> np.ndarray:
    import cv2

    flag = cv2.IMREAD_GRAYSCALE if grayscale else cv2.IMREAD_COLOR
    image = cv2.imread(str(path), flag)
    if image is None:
        raise InputError(f"{path}: missing or unreadable image")
    return image
