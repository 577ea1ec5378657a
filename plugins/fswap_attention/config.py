"""Options of the self-attention blocks. No TensorFlow."""

from __future__ import annotations

import attrs

from fswap.options import at_least, option


@attrs.frozen(kw_only=True)
class SelfAttentionConfig:
    key_ratio: int = option(8, help="Query/key width is channels / key_ratio (SAGAN uses 8).",
                            validator=at_least(1))
    query_block: int = option(0, help="Queries per block (0: automatic, the full N×N matrix up to 1024 "
                              "positions, else blocks of 256 per sample — same outputs, faster on CPU).",
                              validator=at_least(0))


@attrs.frozen(kw_only=True)
class ChunkedSelfAttentionConfig:
    key_ratio: int = option(8, help="Query/key width is channels / key_ratio (SAGAN uses 8).",
                            validator=at_least(1))
    query_block: int = option(256, help="Queries per block: the attention matrix held at once is "
                              "query_block × N per sample instead of N × N.", validator=at_least(1))
    recompute: bool = option(False, help="Recompute each block's attention weights during backpropagation "
                             "instead of keeping them (bounds training memory too; costs one extra forward).")
