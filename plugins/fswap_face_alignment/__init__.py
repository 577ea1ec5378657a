"""68-point landmarks from the `face-alignment` package (2D-FAN, PyTorch) as the aligner `face_alignment`.

An optional extra: `pip install "fswap[face-alignment]"`. That package downloads its FAN weights on first use
(into torch's hub cache), so the first run needs network. Registration imports neither torch nor the package.
"""

from __future__ import annotations

from fswap import ComponentSpec, Kind, hookimpl
from fswap_face_alignment.config import FaceAlignmentConfig


@hookimpl
def fswap_register_aligners() -> list[ComponentSpec]:
    return [
        ComponentSpec(
            kind=Kind.ALIGNER,
            name="face_alignment",
            factory="fswap_face_alignment.aligner:FanAligner",
            config=FaceAlignmentConfig,
            summary="2D-FAN 68 landmarks (pip install fswap[face-alignment]; weights download on first use).",
        )
    ]
