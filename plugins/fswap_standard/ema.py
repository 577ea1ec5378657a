"""The exponential-moving-average tracker: smoothed = weight·previous + (1 − weight)·new, per coordinate."""

from __future__ import annotations

import numpy as np

from fswap import Detection, TrackedFace
from fswap.convert.tracking import MultiFaceTracker
from fswap_standard.convert_config import EmaTrackerConfig


class EmaSmoother:
    """EMA of one face's measurement vector; without a measurement the last value is held."""

    def __init__(self, z0: np.ndarray, weight: float) -> None:
        self.weight = weight
        self.value = np.asarray(z0, np.float64).copy()

    def update(self, z: np.ndarray) -> np.ndarray:
        self.value = self.weight * self.value + (1.0 - self.weight) * np.asarray(z, np.float64)
        return self.value.copy()

    def predict(self) -> np.ndarray:
        return self.value.copy()


class EmaTracker:
    """Tracker component `ema` (the reference's fallback when the Kalman filter is off), multi-face."""

    def __init__(self, config: EmaTrackerConfig) -> None:
        self.config = config
        self._tracker = MultiFaceTracker(
            lambda z0: EmaSmoother(z0, config.weight),
            iou_threshold=config.iou_threshold,
            max_missed=config.max_missed,
            max_faces=config.max_faces,
        )

    def update(self, frame_index: int, detections: list[Detection] | None) -> list[TrackedFace]:
        return self._tracker.update(frame_index, detections)

    def reset(self) -> None:
        self._tracker.reset()
