"""Options (declaring the embedder) and weights record of the FaceNet embedder. No TensorFlow here."""

from __future__ import annotations

from pathlib import Path

import attrs

from fswap import Kind, declare
from fswap.options import at_least, between, one_of, option
from fswap.weights import WeightsSpec

WEIGHTS = WeightsSpec(
    name="facenet512",
    url="https://github.com/serengil/deepface_models/releases/download/v1.0/facenet512_weights.h5",
    filename="facenet512_weights.h5",
    licence="MIT (deepface's Keras conversion of D. Sandberg's FaceNet 20180402-114759, trained on VGGFace2)",
    sha256=None,
    summary="Inception-ResNet-v1 FaceNet, 512-d, as a legacy Keras .h5 weights file.",
)


@declare(Kind.EMBEDDER, "facenet", factory="fswap_facenet.embedder:FacenetEmbedder")
@attrs.frozen(kw_only=True)
class FacenetConfig:
    """FaceNet Inception-ResNet-v1, 512-d unit vectors (weights: a file or `fswap weights`).

    Inception-ResNet-v1 FaceNet on the aligned crops, resized to `image_size`.
    """

    weights: Path | None = option(
        None,
        help="Weights file (.weights.h5 or legacy .h5 of this architecture); default: the "
        "`fswap weights fetch facenet512` cache.",
    )
    image_size: int = option(
        160, help="Input side the crops are resized to (FaceNet was trained at 160).", validator=at_least(75)
    )
    standardize: str = option(
        "fixed",
        help="Pixel scaling: fixed = (x − 127.5) / 128, per_image = zero mean and unit std per crop.",
        validator=one_of(("fixed", "per_image")),
    )
    metric: str = option(
        "euclidean",
        help="Distance between the unit-length embeddings: euclidean or cosine.",
        validator=one_of(("euclidean", "cosine")),
    )
    dropout: float = option(
        0.2,
        help="Dropout before the bottleneck (inactive at inference; part of the layout).",
        validator=between(0.0, 0.9),
    )
    batch_size: int = option(32, help="Crops per forward pass.", validator=at_least(1))
