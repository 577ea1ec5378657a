"""fswap_kalman: a constant-velocity Kalman tracker (filterpy) that smooths face boxes and landmarks.

Registered through the `fswap.plugins` entry point. This module imports only fswap and the config module.
"""

from __future__ import annotations

from fswap import ComponentSpec, Kind, hookimpl
from fswap_kalman.config import KalmanConfig


@hookimpl
def fswap_register_trackers() -> list[ComponentSpec]:
    return [
        ComponentSpec(
            kind=Kind.TRACKER,
            name="kalman",
            factory="fswap_kalman.tracker:KalmanTracker",
            config=KalmanConfig,
            summary="Constant-velocity Kalman smoothing of boxes and landmarks, multi-face, stable ids.",
        )
    ]
