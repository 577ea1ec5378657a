"""How training holds its face sets in memory, the `auto` rule and the augmentation engines; light (no
OpenCV), so that the train stage's config can name the choices. The stores themselves are in
fswap.data.pipeline."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

FACE_STORES = ("auto", "decoded", "png")
"""decoded: uint8 arrays at 256²; png: lossless PNG bytes decoded when a sample needs one; auto: decided by
size (`choose_store`)."""
AUGMENT_ENGINES = ("numpy", "tensorflow")
"""numpy: fswap.data.augment per face in a numpy_function; tensorflow: fswap.data.augment_tf over the batch
in graph ops."""
WORK_SIZE = 256
"""The side faces are resized to before augmentation, as in the reference."""
AUTO_DECODED_BYTES = 2 * 2**30
"""`auto` keeps the sets decoded up to this many bytes of 256² faces and masks (8 192 faces with eye masks
in all, 4 096 a side), PNG bytes above."""


def decoded_bytes(sets: Sequence[Any], eye_mask: str = "") -> int:
    """What the face sets `sets` take decoded at 256² (faces, plus eye masks where a set has them)."""
    per_face = WORK_SIZE * WORK_SIZE
    return sum(len(f) * per_face * (3 + (1 if eye_mask and eye_mask in f.masks else 0)) for f in sets)


def choose_store(store: str, sets: Sequence[Any], eye_mask: str = "") -> str:
    """`store` itself, or for "auto": "decoded" while `sets` fit AUTO_DECODED_BYTES decoded, else "png"."""
    if store != "auto":
        return store
    return "decoded" if decoded_bytes(sets, eye_mask) <= AUTO_DECODED_BYTES else "png"
