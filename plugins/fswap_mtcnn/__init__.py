"""The MTCNN face detector (boxes, confidences and 5 landmarks) from the `mtcnn` package, which ships its
own weights. Registration imports only the config module."""

from __future__ import annotations

from fswap import ComponentSpec, Kind, hookimpl
from fswap_mtcnn.config import MtcnnConfig


@hookimpl
def fswap_register_detectors() -> list[ComponentSpec]:
    return [
        ComponentSpec(
            kind=Kind.DETECTOR,
            name="mtcnn",
            factory="fswap_mtcnn.detector:MtcnnDetector",
            config=MtcnnConfig,
            summary="MTCNN cascade: box, confidence, 5 landmarks per face (weights ship in mtcnn).",
        )
    ]
