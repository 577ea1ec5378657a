"""fswap's standard components, registered through the `fswap.plugins` entry point like any plugin.

Each component is declared on its config class (`@fswap.declare`) in the config modules below, which
import only fswap and attrs: no TensorFlow, no OpenCV.
"""

from __future__ import annotations

from fswap import ComponentSpec, declared, hookimpl
from fswap_standard import convert_config, extract_config, loss_config, model_config, recipes


@hookimpl
def fswap_register_components() -> list[ComponentSpec]:
    return declared(extract_config, model_config, loss_config, convert_config, recipes)
