"""Pure numpy metrics used by the evaluation report.

Images are uint8 (scaled to [0, 1]) or float arrays already in [0, 1], shaped (H, W) or (H, W, C).
Every function is deterministic and free of I/O so each can be tested on hand-made inputs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import attrs
import numpy as np


def as_unit_float(image: np.ndarray) -> np.ndarray:
    """uint8 → float64 in [0, 1]; float input is taken as already in [0, 1]."""
    arr = np.asarray(image)
    if arr.dtype == np.uint8:
        return arr.astype(np.float64) / 255.0
    return arr.astype(np.float64)


def _pair(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = as_unit_float(a), as_unit_float(b)
    if x.shape != y.shape:
        raise ValueError(f"images must have the same shape, received {x.shape} and {y.shape}")
    return x, y


def l1(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference in [0, 1] units."""
    x, y = _pair(a, b)
    return float(np.mean(np.abs(x - y)))


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB for a data range of 1; +inf for identical images."""
    x, y = _pair(a, b)
    mse = float(np.mean((x - y) ** 2))
    if mse == 0.0:
        return math.inf
    return 10.0 * math.log10(1.0 / mse)


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Structural similarity (scikit-image, 7×7 window, data range 1, channels averaged); 1 = identical."""
    from skimage.metrics import structural_similarity

    x, y = _pair(a, b)
    channel_axis = -1 if x.ndim == 3 else None
    return float(structural_similarity(x, y, data_range=1.0, channel_axis=channel_axis))


def _power_of_two_scaled(x: np.ndarray) -> np.ndarray:
    """Rows scaled exactly (by a power of two) so that their largest entry lies in [0.5, 1): squares of very
    small or large entries would otherwise underflow or overflow, and the cosine would depend on scale."""
    _, exponent = np.frexp(np.max(np.abs(x), axis=-1, keepdims=True))
    return np.ldexp(x, -exponent)


def cosine_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """1 − cosine similarity of matching rows (broadcast): 0 same direction, 1 orthogonal, 2 opposite."""
    x = _power_of_two_scaled(np.atleast_2d(np.asarray(a, dtype=np.float64)))
    y = _power_of_two_scaled(np.atleast_2d(np.asarray(b, dtype=np.float64)))
    denom = np.linalg.norm(x, axis=-1) * np.linalg.norm(y, axis=-1)
    safe = np.where(denom > 0, denom, 1.0)
    # A zero vector has no direction: count it as orthogonal (1) rather than clamping the norm, which
    # would make tiny vectors depend on their scale.
    similarity = np.where(denom > 0, np.sum(x * y, axis=-1) / safe, 0.0)
    return 1.0 - np.clip(similarity, -1.0, 1.0)


def unit_rows(features: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero)."""
    x = np.asarray(features, dtype=np.float64)
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.maximum(norms, 1e-12)


def centroid(embeddings: np.ndarray) -> np.ndarray:
    """The identity's reference embedding: the mean of its faces' embeddings."""
    x = np.asarray(embeddings, dtype=np.float64)
    if x.ndim != 2 or len(x) == 0:
        raise ValueError(f"need a non-empty (N, D) array of embeddings, received shape {x.shape}")
    return x.mean(axis=0)


def second_difference_jitter(track: np.ndarray) -> float:
    """Jitter of a trajectory: the std of its second differences over time, averaged over coordinates.

    `track` is (T, ...) with time first (e.g. (T, 4) boxes or (T, 5, 2) landmarks). Rows containing NaN
    (frames without the face) split the track; second differences are taken only over three consecutive
    valid frames. Smooth motion (constant velocity) scores 0; frame-to-frame shake scores high.
    Returns NaN when no three consecutive valid frames exist.
    """
    x = np.asarray(track, dtype=np.float64)
    flat = x.reshape(len(x), -1)
    valid = ~np.isnan(flat).any(axis=1)
    d2 = flat[2:] - 2.0 * flat[1:-1] + flat[:-2]
    ok = valid[2:] & valid[1:-1] & valid[:-2]
    if ok.sum() == 0:
        return math.nan
    diffs = d2[ok]
    return float(np.mean(np.sqrt(np.mean(diffs**2, axis=0))))


def relative_jitter(track: np.ndarray, scale: np.ndarray | float) -> float:
    """`second_difference_jitter` of a track divided by the mean face size (NaN sizes ignored), so it is
    comparable across resolutions. (Dividing each frame by its own size would turn size noise times the
    absolute position into fake jitter.)"""
    size = float(np.nanmean(np.asarray(scale, dtype=np.float64)))
    if not size > 0:
        return math.nan
    return second_difference_jitter(track) / size


def colour_flicker(mean_colours: np.ndarray) -> float:
    """Mean absolute frame-to-frame change of the mean face colour, averaged over channels.

    `mean_colours` is (T, C) in the units given (use [0, 255] for 8-bit frames). NaN rows (no face) are
    skipped together with their neighbours' differences. NaN when fewer than two consecutive valid frames.
    """
    x = np.asarray(mean_colours, dtype=np.float64)
    x = x.reshape(len(x), -1)
    d1 = np.abs(np.diff(x, axis=0))
    ok = ~np.isnan(d1).any(axis=1)
    if ok.sum() == 0:
        return math.nan
    return float(np.mean(d1[ok]))


def mean_colour(image: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Mean colour per channel inside `mask` (weights in [0, 1]); NaN per channel when the mask is empty."""
    img = np.asarray(image, dtype=np.float64)
    if img.ndim == 2:
        img = img[..., None]
    if mask is None:
        return img.reshape(-1, img.shape[-1]).mean(axis=0)
    w = np.asarray(mask, dtype=np.float64)
    total = float(w.sum())
    if total <= 0:
        return np.full(img.shape[-1], np.nan)
    return (img * w[..., None]).reshape(-1, img.shape[-1]).sum(axis=0) / total


@attrs.frozen
class MaskStats:
    """Summary of a batch of masks: mean α over all pixels, and the share of empty and full masks."""

    count: int
    mean_alpha: float
    empty_fraction: float
    full_fraction: float
    per_face_mean: tuple[float, ...]

    def to_json(self) -> dict[str, float | int]:
        return {
            "count": self.count,
            "mean_alpha": round(self.mean_alpha, 6),
            "empty_fraction": round(self.empty_fraction, 6),
            "full_fraction": round(self.full_fraction, 6),
        }


def mask_stats(alphas: np.ndarray | Sequence[np.ndarray], *, empty_below: float = 0.02,
               full_above: float = 0.98) -> MaskStats:
    """Statistics of masks (N, H, W) in [0, 1]: a mask whose mean α is below `empty_below` counts as empty
    (the model pastes nothing), above `full_above` as full (it pastes the whole square crop)."""
    arr = np.asarray(alphas, dtype=np.float64)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3 or len(arr) == 0:
        raise ValueError(f"need masks shaped (N, H, W) with N ≥ 1, received {arr.shape}")
    per_face = arr.reshape(len(arr), -1).mean(axis=1)
    return MaskStats(
        count=len(arr),
        mean_alpha=float(per_face.mean()),
        empty_fraction=float(np.mean(per_face < empty_below)),
        full_fraction=float(np.mean(per_face > full_above)),
        per_face_mean=tuple(float(v) for v in per_face),
    )
