"""An example third-party fswap plugin.

fswap finds it through the `fswap.plugins` entry point in pyproject.toml. This module registers two
components and imports only fswap and the config module: the dlib and TensorFlow code lives in
`detector.py` and `ssim.py`, which fswap imports only when a pipeline uses the component.
"""

from __future__ import annotations

from fswap import ComponentSpec, Kind, hookimpl
from fswap_plugin_example.config import DlibHogConfig, SsimLossConfig

__version__ = "0.1.0"

DETECTORS = [
    ComponentSpec(
        kind=Kind.DETECTOR,
        name="dlib_hog",
        factory="fswap_plugin_example.detector:DlibHogDetector",
        config=DlibHogConfig,
        summary="dlib HOG frontal face detector (CPU) with 5 landmarks from dlib's 5-point model.",
    )
]

LOSSES = [
    ComponentSpec(
        kind=Kind.LOSS,
        name="ssim",
        factory="fswap_plugin_example.ssim:SsimLoss",
        config=SsimLossConfig,
        summary="Structural dissimilarity (1 − SSIM) / 2, single- or multi-scale, via tf.image.",
        aliases=("dssim",),
    )
]


@hookimpl
def fswap_register_detectors() -> list[ComponentSpec]:
    return list(DETECTORS)


@hookimpl
def fswap_register_losses() -> list[ComponentSpec]:
    return list(LOSSES)
