"""FaceNet identity embeddings (Inception-ResNet-v1, 512-d) in Keras as the embedder `facenet`.

No weights ship with fswap or any PyPI package: give `weights = "/path/file"` in [extract.embedder] or fetch
them once with `fswap weights fetch facenet512`. The embedder is declared on its config class in
`fswap_facenet.config`, next to its weights record; registration imports no TensorFlow.
"""

from __future__ import annotations

from fswap import ComponentSpec, declared, hookimpl
from fswap.weights import WeightsSpec
from fswap_facenet import config


@hookimpl
def fswap_register_components() -> list[ComponentSpec]:
    return declared(config)


@hookimpl
def fswap_register_weights() -> list[WeightsSpec]:
    return [config.WEIGHTS]
