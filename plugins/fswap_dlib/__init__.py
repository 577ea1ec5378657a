"""dlib components that work offline with the models shipped in `face-recognition-models`: the 68-point
aligner `dlib68` and the 128-d ResNet identity embedder `dlib_resnet`.

Both are declared on their config classes in `fswap_dlib.config`; the one registration hook returns them.
Registration imports no dlib."""

from __future__ import annotations

from fswap import ComponentSpec, declared, hookimpl
from fswap_dlib import config


@hookimpl
def fswap_register_components() -> list[ComponentSpec]:
    return declared(config)
