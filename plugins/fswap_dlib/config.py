"""Options of the dlib aligner and embedder, each class declaring its component. No dlib import here."""

from __future__ import annotations

from pathlib import Path

import attrs

from fswap import Kind, declare
from fswap.extract.alignment import BORDERS
from fswap.options import at_least, one_of, option


@declare(Kind.ALIGNER, "dlib68", factory="fswap_dlib.aligner:Dlib68Aligner", default_for=["landmarks"])
@attrs.frozen(kw_only=True)
class Dlib68Config:
    """dlib's 68-point shape predictor inside the detector's box, then the 5-point alignment.

    68 landmarks from dlib's shape predictor; the crop is aligned like umeyama5.
    """

    size: int = option(256, help="Side of the aligned square crop in pixels.", validator=at_least(16))
    border: str = option(
        "replicate",
        help="How pixels outside the frame are filled: replicate, constant, reflect.",
        validator=one_of(BORDERS),
    )
    align_on: str = option(
        "detector",
        help="Which 5 points place the crop: detector = the detector's own (same crops as umeyama5), "
        "landmarks = the 5 derived from the 68 (eye centres, nose tip, mouth corners).",
        validator=one_of(("detector", "landmarks")),
    )
    predictor: Path | None = option(
        None, help="A dlib 68-point .dat model; default: the one shipped in face-recognition-models."
    )


@declare(Kind.EMBEDDER, "dlib_resnet", factory="fswap_dlib.embedder:DlibResnetEmbedder",
         default_for=["embedder"])
@attrs.frozen(kw_only=True)
class DlibResnetConfig:
    """dlib's ResNet face descriptor (128-d, Euclidean distance; same person below ~0.6).

    dlib's ResNet-34 face descriptor on the aligned crops (5-point dlib chip alignment inside).
    """

    num_jitters: int = option(
        0,
        help="Average over this many jittered copies (slower, slightly more stable).",
        validator=at_least(0),
    )
    model: Path | None = option(
        None, help="The dlib_face_recognition_resnet_model_v1.dat file; default: shipped."
    )
    shape_model: Path | None = option(None, help="dlib's 5-point predictor .dat; default: shipped.")
