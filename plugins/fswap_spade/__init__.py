"""fswap_spade: SPADE (spatially-adaptive) normalization conditioned on a map given to the decoder.

The map is the face set's eye mask ([train] eye_mask): training feeds the stored masks, and the exported
model.json records how they were made so convert and evaluate remake them from each aligned face
(`fswap.model.condition`, docs/model.md "Where the map comes from").

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
