"""fswap_attention: SAGAN self-attention blocks (plain and query-chunked) for the model builders.

Each component is declared on its config class in `fswap_attention.config` (``@fswap.declare``); the one
registration hook returns them. Imports only fswap and the config module; the Keras layer lives in
`fswap_attention.layers`.
"""

from __future__ import annotations

from fswap import ComponentSpec, declared, hookimpl
from fswap_attention import config


@hookimpl
def fswap_register_components() -> list[ComponentSpec]:
    return declared(config)
