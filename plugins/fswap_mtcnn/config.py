"""Options of the MTCNN detector, declaring the component (reference §4.2 for the defaults). No TensorFlow
here."""

from __future__ import annotations

from typing import Any

import attrs

from fswap import Kind, declare
from fswap.options import at_least, between, length, option


def _thresholds(_inst: Any, attribute: attrs.Attribute, value: tuple[float, ...]) -> None:
    length(3)(_inst, attribute, value)
    for v in value:
        if not 0.0 < v < 1.0:
            raise ValueError(
                f"{attribute.name} must hold 3 numbers between 0 and 1 (exclusive), received {v!r}"
            )


def _max_side(_inst: Any, attribute: attrs.Attribute, value: int) -> None:
    if value != 0 and value < 64:
        raise ValueError(f"{attribute.name} must be 0 (off) or ≥ 64, received {value!r}")


@declare(Kind.DETECTOR, "mtcnn", factory="fswap_mtcnn.detector:MtcnnDetector", default_for=["detector"])
@attrs.frozen(kw_only=True)
class MtcnnConfig:
    """MTCNN cascade: box, confidence, 5 landmarks per face (weights ship in mtcnn).

    MTCNN settings: the image pyramid, the three stage thresholds and optional downscaling.
    """

    min_face_size: int = option(
        20,
        help="Smallest face side (px of the frame after any downscaling) to look for; larger is faster.",
        validator=at_least(8),
    )
    thresholds: tuple[float, float, float] = option(
        (0.6, 0.7, 0.7), help="Confidence thresholds of the P-, R- and O-Net stages.", validator=_thresholds
    )
    scale_factor: float = option(
        0.709,
        help="Image pyramid step (each level is this fraction of the last).",
        validator=between(0.1, 0.95),
    )
    min_confidence: float = option(
        0.0,
        help="Drop faces below this final confidence (after the O-Net stage).",
        validator=between(0.0, 1.0),
    )
    auto_downscale: bool = option(
        False,
        help="Shrink large frames before detection as the reference does: ≥1920×1080 ÷4, ≥1280×720 ÷3, "
        "≥858×480 ÷2 (coordinates are scaled back).",
    )
    max_side: int = option(
        1920,
        help="Shrink frames whose longer side exceeds this before detection (bounds memory on huge "
        "frames); 0: never.",
        validator=_max_side,
    )
    batch_size: int = option(
        8,
        help="Most frames per MTCNN call (frames of one size are stacked, up to 2 Mpixel per call).",
        validator=at_least(1),
    )
    device: str = option("CPU:0", help="TensorFlow device, e.g. CPU:0 or GPU:0.")
