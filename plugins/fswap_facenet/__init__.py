"""FaceNet identity embeddings (Inception-ResNet-v1, 512-d) in Keras as the embedder `facenet`.

No weights ship with fswap or any PyPI package: give `weights = "/path/file"` in [extract.embedder] or fetch
them once with `fswap weights fetch facenet512`. Registration imports no TensorFlow.
"""

from __future__ import annotations

from fswap import ComponentSpec, Kind, hookimpl
from fswap.weights import WeightsSpec
from fswap_facenet.config import WEIGHTS, FacenetConfig


@hookimpl
def fswap_register_embedders() -> list[ComponentSpec]:
    return [
        ComponentSpec(
            kind=Kind.EMBEDDER,
            name="facenet",
            factory="fswap_facenet.embedder:FacenetEmbedder",
            config=FacenetConfig,
            summary="FaceNet Inception-ResNet-v1, 512-d unit vectors (weights: a file or `fswap weights`).",
        )
    ]


@hookimpl
def fswap_register_weights() -> list[WeightsSpec]:
    return [WEIGHTS]
