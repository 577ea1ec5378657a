"""Options of the face-alignment (2D-FAN) aligner, declared on its config class. Imports neither torch nor
face_alignment."""

from __future__ import annotations

import attrs

from fswap import Kind, declare
from fswap.extract.alignment import BORDERS
from fswap.options import at_least, between, one_of, option


@declare(Kind.ALIGNER, "face_alignment", factory="fswap_face_alignment.aligner:FanAligner")
@attrs.frozen(kw_only=True)
class FaceAlignmentConfig:
    """2D-FAN 68 landmarks (pip install fswap[face-alignment]; weights download on first use).

    2D-FAN landmarks inside the detector's box; the crop is aligned like umeyama5.
    """

    size: int = option(256, help="Side of the aligned square crop in pixels.", validator=at_least(16))
    border: str = option(
        "replicate",
        help="How pixels outside the frame are filled: replicate, constant, reflect.",
        validator=one_of(BORDERS),
    )
    align_on: str = option(
        "detector",
        help="Which 5 points place the crop: detector (same crops as umeyama5) or landmarks (from the 68).",
        validator=one_of(("detector", "landmarks")),
    )
    device: str = option("cpu", help="PyTorch device for FAN: cpu, cuda, cuda:1, mps.")
    flip_input: bool = option(False, help="Also run the mirrored face and average (slower, a bit steadier).")
    box_scale: float = option(
        1.0,
        help="Scale the detector's box about its centre before FAN (FAN was trained on S3FD boxes).",
        validator=between(0.5, 2.0),
    )
