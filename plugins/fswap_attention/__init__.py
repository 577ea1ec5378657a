"""fswap_attention: SAGAN self-attention blocks (plain and query-chunked) for the model builders.

Imports only fswap and the config module; the Keras layer lives in `fswap_attention.layers`.
"""

from __future__ import annotations

from fswap import ComponentSpec, hookimpl
from fswap_attention.config import ChunkedSelfAttentionConfig, SelfAttentionConfig

_FACTORY = "fswap_attention.layers:SelfAttentionBlock"

SPECS: list[ComponentSpec] = [
    ComponentSpec(kind="attention", name="self_attention", factory=_FACTORY,
                  config=SelfAttentionConfig, aliases=("sagan",),
                  summary="SAGAN self-attention, γ initialised to 0 (queries in blocks automatically at "
                          "large N; exact)."),
    ComponentSpec(kind="attention", name="chunked_self_attention",
                  factory=_FACTORY, config=ChunkedSelfAttentionConfig,
                  summary="The same attention computed in query blocks (bounded memory, equal outputs)."),
]


@hookimpl
def fswap_register_layers() -> list[ComponentSpec]:
    return list(SPECS)
