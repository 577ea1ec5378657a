"""fswap_spade: SPADE (spatially-adaptive) normalization conditioned on a map given to the decoder.

The map is the face set's eye mask ([train] eye_mask): training feeds the stored masks, and the exported
model.json records how they were made so convert and evaluate remake them from each aligned face
(`fswap.model.condition`, docs/model.md "Where the map comes from").

The normalization is declared on its config class in `fswap_spade.config`; the one registration hook
returns it. Imports only fswap and the config module; the Keras layer lives in `fswap_spade.layers`.
"""

from __future__ import annotations

from fswap import ComponentSpec, declared, hookimpl
from fswap_spade import config


@hookimpl
def fswap_register_components() -> list[ComponentSpec]:
    return declared(config)
