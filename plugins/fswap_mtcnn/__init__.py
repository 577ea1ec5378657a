"""The MTCNN face detector (boxes, confidences and 5 landmarks) from the `mtcnn` package, which ships its
own weights.

The detector is declared on its config class in `fswap_mtcnn.config`; registration imports only that
module."""

from __future__ import annotations

from fswap import ComponentSpec, declared, hookimpl
from fswap_mtcnn import config


@hookimpl
def fswap_register_components() -> list[ComponentSpec]:
    return declared(config)
