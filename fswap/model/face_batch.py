"""The input checks shared by every generator runtime (Keras, ONNX Runtime). Numpy only."""

from __future__ import annotations

import numpy as np

from fswap.errors import InputError


def face_batch(faces: np.ndarray, resolution: int, condition_channels: int,
               condition: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
    """`faces` as (N, R, R, 3) (one face may come as (R, R, 3)) and the condition maps as float32
    (N, R, R, C) for a conditioned decoder (None otherwise); an InputError says what this model takes."""
    faces = np.asarray(faces)
    r = resolution
    if faces.ndim == 3:
        faces = faces[None]
    if faces.ndim != 4 or faces.shape[1:] != (r, r, 3):
        raise InputError(f"faces must be (N, {r}, {r}, 3) BGR uint8 for this model, received {faces.shape}")
    if not condition_channels:
        return faces, None
    if condition is None:
        raise InputError(
            f"this model's decoder is conditioned on a {condition_channels}-channel map "
            "(SPADE normalization); pass condition=(N, R, R, C) float maps in [0, 1]"
        )
    return faces, np.asarray(condition, dtype=np.float32).reshape(len(faces), r, r, -1)
