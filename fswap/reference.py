"""An identity reference ("this person"): a stored embedding (.npy) or the most confident face of an image.

Used by extract's `policy = "identity"` and convert's `select = "identity"`, so both read a reference the same
way. The components are passed in already built (and wrapped so that their errors name them).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from fswap.errors import InputError


def reference_embedding(path: Path, detector: Any, aligner: Any, embedder: Any, *, where: str) -> np.ndarray:
    """The embedding of the person in `path` (an image or a .npy vector); `where` names the option in errors,
    e.g. "[convert] reference"."""
    from fswap.video.reader import read_image

    if not path.is_file():
        raise InputError(f"{where} {path} does not exist; give an image of the person or a .npy embedding")
    if path.suffix.lower() == ".npy":
        try:
            return np.asarray(np.load(path), dtype=np.float32).reshape(-1)
        except (OSError, ValueError) as exc:
            raise InputError(f"{where} {path}: not a readable .npy embedding ({exc})") from exc
    image = read_image(path)
    detections = detector.detect([image])[0]
    if not detections:
        raise InputError(f"{where} {path}: no face found in the image")
    best = max(detections, key=lambda d: d.confidence)
    face = aligner.align(image, best)
    return np.asarray(embedder.embed([face.image])[0], dtype=np.float32)
