"""A synthetic face track with known, smooth motion plus detector noise (shared by tracker tests)."""

from __future__ import annotations

import attrs
import numpy as np

from fswap import Detection

_TEMPLATE = np.array([[0.3, 0.35], [0.7, 0.35], [0.5, 0.55], [0.35, 0.75], [0.65, 0.75]])


@attrs.frozen
class SyntheticTrack:
    """Per frame: true box (x, y, w, h) and a noisy detection of it."""

    boxes: np.ndarray  # (T, 4) true boxes
    detections: list[Detection]

    @property
    def true_centers(self) -> np.ndarray:
        return self.boxes[:, :2] + self.boxes[:, 2:] / 2


def make_track(
    frames: int = 300, noise: float = 2.0, offset: tuple[float, float] = (320, 180), seed: int = 0
) -> SyntheticTrack:
    """A face moving on smooth sinusoids (up to ~5 px/frame) with Gaussian detector noise (σ = `noise`)."""
    rng = np.random.default_rng(seed)
    t = np.arange(frames)
    cx = offset[0] + 120 * np.sin(2 * np.pi * t / 150)
    cy = offset[1] + 40 * np.sin(2 * np.pi * t / 110 + 1)
    side = 100 + 10 * np.sin(2 * np.pi * t / 200)
    boxes = np.stack([cx - side / 2, cy - side / 2, side, side], axis=1)
    dets = []
    for i in range(frames):
        landmarks = boxes[i, :2] + _TEMPLATE * side[i]
        dets.append(
            Detection(
                box=boxes[i] + rng.normal(0, noise, 4),
                confidence=0.99,
                landmarks=landmarks + rng.normal(0, noise, landmarks.shape),
            )
        )
    return SyntheticTrack(boxes=boxes, detections=dets)


def jitter(centers: np.ndarray, skip: int = 20) -> float:
    """Std of the second differences of a (T, 2) centre track (after `skip` warm-up frames)."""
    return float(np.diff(centers[skip:], n=2, axis=0).std())


def best_lag(centers: np.ndarray, truth: np.ndarray, max_lag: int = 10) -> int:
    """The shift k (frames) for which centers[t] best matches truth[t − k]; positive = lagging behind."""
    n = len(truth)
    lo, hi = max_lag + 20, n - max_lag
    errors = {
        k: float(np.abs(centers[lo:hi] - truth[lo - k : hi - k]).mean()) for k in range(-max_lag, max_lag + 1)
    }
    return min(errors, key=errors.__getitem__)
