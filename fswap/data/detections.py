"""detections.json: every face the detector found in every frame extract processed, for convert to reuse.

Extract writes it next to a face set's alignments.json (so `--fresh` removes both). Unlike alignments.json,
which holds only the faces kept for training, it records each processed frame, also those with no face or
with faces the gates left out, so convert can take a frame's faces from here instead of detecting again.

Layout::

    {"format": "fswap-detections", "version": 1,
     "input": "/abs/clip.mp4", "fingerprint": {...}, "detector": {"use": "mtcnn", ...},
     "frames": {"0": {"size": [w, h], "faces": [{"box": [...], "confidence": .., "landmarks": [...]}]}, ...}}

`fingerprint` (file size and modification time of the video, or of every image of a folder) tells whether
the input is still the one extract read. Numbers are stored at full precision, so converting from the record
gives the same output as detecting again. Independent of TensorFlow and OpenCV.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from fswap.components import Detection
from fswap.errors import InputError

FORMAT = "fswap-detections"
VERSION = 1
DETECTIONS = "detections.json"


def input_fingerprint(path: Path, is_video: bool, files: Sequence[Path] = ()) -> dict[str, Any]:
    """What identifies the content of an input without reading it: size and mtime of the video file, or a
    digest of every image's name, size and mtime (in frame order) for a folder or glob."""
    try:
        if is_video:
            stat = path.stat()
            return {"kind": "video", "bytes": stat.st_size, "mtime_ns": stat.st_mtime_ns}
        digest = hashlib.sha256()
        for file in files:
            stat = file.stat()
            digest.update(f"{file.name}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    except OSError as exc:
        raise InputError(f"{path}: cannot read its size and time ({exc.strerror or exc})") from exc
    return {"kind": "images", "images": len(files), "sha256": digest.hexdigest()}


@attrs.frozen(eq=False)
class FrameFaces:
    """The faces found in one frame, and that frame's size (w, h) when they were found."""

    size: tuple[int, int]
    faces: tuple[Detection, ...]

    def to_json(self) -> dict[str, Any]:
        """Full precision (unlike alignments.json): a convert from the record makes the very output that
        detecting again would."""
        return {"size": list(self.size), "faces": [
            {"box": [float(v) for v in d.box], "confidence": float(d.confidence),
             "landmarks": np.asarray(d.landmarks, np.float64).tolist()} for d in self.faces]}


@attrs.define(eq=False)
class DetectionLog:
    """The detections of one input, keyed by source frame index."""

    input: str
    fingerprint: dict[str, Any]
    detector: dict[str, Any]
    frames: dict[int, FrameFaces] = attrs.field(factory=dict)
    path: Path | None = None

    def record(self, index: int, size: tuple[int, int], faces: Sequence[Detection]) -> None:
        """Remember what the detector found in frame `index` (an empty list is a result too)."""
        self.frames[int(index)] = FrameFaces(size=(int(size[0]), int(size[1])), faces=tuple(faces))

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "input": self.input,
            "fingerprint": self.fingerprint,
            "detector": self.detector,
            "frames": {str(i): self.frames[i].to_json() for i in sorted(self.frames)},
        }

    def save(self, path: Path) -> None:
        """Write the log atomically (temp file + rename)."""
        from fswap.files import write_json_atomic

        write_json_atomic(path, self.to_json())
        self.path = path

    @classmethod
    def open(cls, path: Path) -> DetectionLog:
        """Read a log; any problem is an InputError naming the file and what is expected."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError(f"{path}: unreadable detections file ({exc})") from exc
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise InputError(f"{path}: not an fswap detections file (format must be '{FORMAT}')")
        if data.get("version") != VERSION:
            version = data.get("version")
            raise InputError(f"{path}: detections version {version!r}; this fswap reads {VERSION}")
        try:
            frames = {
                int(k): FrameFaces(
                    size=(int(v["size"][0]), int(v["size"][1])),
                    faces=tuple(Detection.from_json(d) for d in v["faces"]),
                )
                for k, v in data["frames"].items()
            }
            return cls(input=str(data["input"]), fingerprint=dict(data["fingerprint"]),
                       detector=dict(data["detector"]), frames=frames, path=path)
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise InputError(f"{path}: malformed detections file ({type(exc).__name__}: {exc})") from exc
