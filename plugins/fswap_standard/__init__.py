"""fswap's standard components, registered through the `fswap.plugins` entry point like any plugin.

This module imports only fswap and the spec lists (which import only config classes): no TensorFlow.
"""

from __future__ import annotations

from fswap import ComponentSpec, hookimpl
from fswap_standard import convert_specs, extract_specs, model_specs, train_specs


@hookimpl
def fswap_register_aligners() -> list[ComponentSpec]:
    return list(extract_specs.ALIGNERS)


@hookimpl
def fswap_register_mask_generators() -> list[ComponentSpec]:
    return list(extract_specs.MASK_GENERATORS)


@hookimpl
def fswap_register_normalizations() -> list[ComponentSpec]:
    return list(model_specs.NORMALIZATIONS)


@hookimpl
def fswap_register_layers() -> list[ComponentSpec]:
    return list(model_specs.LAYERS)


@hookimpl
def fswap_register_losses() -> list[ComponentSpec]:
    return list(train_specs.LOSSES)


@hookimpl
def fswap_register_trackers() -> list[ComponentSpec]:
    return list(convert_specs.TRACKERS)


@hookimpl
def fswap_register_blenders() -> list[ComponentSpec]:
    return list(convert_specs.BLENDERS)


@hookimpl
def fswap_register_color_transfers() -> list[ComponentSpec]:
    return list(convert_specs.COLOR_TRANSFERS)


@hookimpl
def fswap_register_writers() -> list[ComponentSpec]:
    return list(convert_specs.WRITERS)
