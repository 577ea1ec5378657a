"""The Kalman tracker: one constant-velocity filter per face over box corners and landmarks.

Every coordinate follows the same model (state [position, velocity], F = [[1, 1], [0, 1]], H = [1, 0],
Q = noise·I₂, R = measurement_noise) and is measured on the same frames, so all coordinates of a face
share one 2×2 covariance and one gain. filterpy's KalmanFilter runs that covariance/gain recursion once
per face; the gain is then applied to every coordinate's state at once. This is exactly equivalent to one
independent filter per coordinate (a test checks it against per-coordinate filterpy filters) and costs
O(coordinates) instead of O(coordinates³).
"""

from __future__ import annotations

import numpy as np
from filterpy.kalman import KalmanFilter

from fswap import Detection, TrackedFace
from fswap.convert.tracking import MultiFaceTracker
from fswap_kalman.config import KalmanConfig

_F = np.array([[1.0, 1.0], [0.0, 1.0]])
_H = np.array([[1.0, 0.0]])


class KalmanSmoother:
    """Constant-velocity Kalman smoothing of one face's measurement vector."""

    def __init__(self, z0: np.ndarray, config: KalmanConfig) -> None:
        self.config = config
        self.state = np.vstack([np.asarray(z0, np.float64), np.zeros(len(z0))])  # (2, n): rows pos, vel
        kf = KalmanFilter(dim_x=2, dim_z=1)
        kf.F = _F.copy()
        kf.H = _H.copy()
        kf.Q = config.noise * np.eye(2)
        kf.R = np.array([[config.measurement_noise]])
        kf.P = np.zeros((2, 2))
        kf.x = np.zeros((2, 1))  # unused: the states live in self.state; kf keeps P and K
        self.kf = kf
        for _ in range(config.warmup_steps):  # reference warm-up: inflate P from zero by predicting
            self._predict()

    def _predict(self) -> None:
        self.kf.predict()
        self.state = _F @ self.state

    def _correct(self, z: np.ndarray) -> None:
        self.kf.update(np.zeros(1))  # covariance and gain do not depend on the measured value
        residual = np.asarray(z, np.float64) - (_H @ self.state)[0]
        self.state = self.state + self.kf.K @ residual[None, :]

    def update(self, z: np.ndarray) -> np.ndarray:
        if self.config.output == "predicted":
            self._correct(z)
            self._predict()
        else:
            self._predict()
            self._correct(z)
        return self.state[0].copy()

    def predict(self) -> np.ndarray:
        self._predict()
        return self.state[0].copy()


class KalmanTracker:
    """Tracker component `kalman`: several faces with stable ids, each smoothed by a KalmanSmoother.

    In 'predicted' mode the state after each frame already refers to the next frame (the reference
    design), so a new track's first update corrects the warmed-up state with the new measurement."""

    def __init__(self, config: KalmanConfig) -> None:
        self.config = config
        self._tracker = MultiFaceTracker(
            self._smoother,
            iou_threshold=config.iou_threshold,
            max_missed=config.max_missed,
            max_faces=config.max_faces,
        )

    def _smoother(self, z0: np.ndarray) -> KalmanSmoother:
        return KalmanSmoother(z0, self.config)

    def update(self, frame_index: int, detections: list[Detection] | None) -> list[TrackedFace]:
        return self._tracker.update(frame_index, detections)

    def reset(self) -> None:
        self._tracker.reset()
