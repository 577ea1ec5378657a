"""Options of the Kalman tracker, declaring the component (attrs only, no filterpy import)."""

from __future__ import annotations

from typing import Literal

import attrs

from fswap import Kind, declare, option
from fswap.options import at_least, between, one_of


@declare(Kind.TRACKER, "kalman", factory="fswap_kalman.tracker:KalmanTracker", default_for=["tracker"])
@attrs.frozen(kw_only=True)
class KalmanConfig:
    """Constant-velocity Kalman smoothing of boxes and landmarks, multi-face, stable ids.

    Constant-velocity model per coordinate: Q = noise·I, R = measurement_noise·I.
    """

    noise: float = option(
        3e-3,
        help="Process-noise coefficient (Q = noise·I). Reference 3e-3; ×10 if the face box lags behind "
        "fast motion, ÷10 if it still jitters.",
        validator=between(1e-8, 1e3),
    )
    measurement_noise: float = option(
        1.0,
        help="Measurement-noise variance in pixels² (R = measurement_noise·I).",
        validator=between(1e-6, 1e6),
    )
    warmup_steps: int = option(
        200,
        help="Predictions run on a new track (from zero covariance) so the filter locks onto the next "
        "measurements instead of trusting the first one forever.",
        validator=at_least(0),
    )
    output: Literal["filtered", "predicted"] = option(
        "filtered",
        help="'filtered': use the corrected estimate for the frame (no lag on smooth motion); 'predicted' "
        "(the reference): correct, then use the one-step prediction, which leads the motion by a frame.",
        validator=one_of(("filtered", "predicted")),
    )
    iou_threshold: float = option(
        0.2,
        help="Minimum IoU between a track's last box and a detection to continue that track.",
        validator=between(0.0, 1.0),
    )
    max_missed: int = option(
        5,
        help="Detection frames a track survives without a matching detection (hidden meanwhile).",
        validator=at_least(0),
    )
    max_faces: int = option(
        0, help="Keep at most this many most confident faces per frame (0: all).", validator=at_least(0)
    )
