"""Options of the self-attention blocks, each class declaring its component. No TensorFlow."""

from __future__ import annotations

import attrs

from fswap import declare
from fswap.options import at_least, option

_FACTORY = "fswap_attention.layers:SelfAttentionBlock"


@declare("attention", "self_attention", factory=_FACTORY, aliases=("sagan",), default_for=["attention"])
@attrs.frozen(kw_only=True)
class SelfAttentionConfig:
    """SAGAN self-attention, γ initialised to 0 (queries in blocks automatically at large N; exact)."""

    key_ratio: int = option(8, help="Query/key width is channels / key_ratio (SAGAN uses 8).",
                            validator=at_least(1))
    query_block: int = option(0, help="Queries per block (0: automatic, the full N×N matrix up to 1024 "
                              "positions, else blocks of 256 per sample — same outputs, faster on CPU).",
                              validator=at_least(0))


@declare("attention", "chunked_self_attention", factory=_FACTORY)
@attrs.frozen(kw_only=True)
class ChunkedSelfAttentionConfig:
    """The same attention computed in query blocks (bounded memory, equal outputs)."""

    key_ratio: int = option(8, help="Query/key width is channels / key_ratio (SAGAN uses 8).",
                            validator=at_least(1))
    query_block: int = option(256, help="Queries per block: the attention matrix held at once is "
                              "query_block × N per sample instead of N × N.", validator=at_least(1))
    recompute: bool = option(False, help="Recompute each block's attention weights during backpropagation "
                             "instead of keeping them (bounds training memory too; costs one extra forward).")
