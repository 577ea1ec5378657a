"""fswap_spade: SPADE (spatially-adaptive) normalization conditioned on a map given to the decoder.

Imports only fswap and the config module; the Keras layer lives in `fswap_spade.layers`.
"""

from __future__ import annotations

from fswap import ComponentSpec, hookimpl
from fswap_spade.config import SpadeConfig

SPECS: list[ComponentSpec] = [
    ComponentSpec(kind="normalization", name="spade", factory="fswap_spade.layers:SpadeNorm",
                  config=SpadeConfig,
                  summary="SPADE in the decoder's residual blocks, conditioned on a map (e.g. the eye mask); "
                          "the fallback normalization everywhere else."),
]


@hookimpl
def fswap_register_normalizations() -> list[ComponentSpec]:
    return list(SPECS)
