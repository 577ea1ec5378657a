"""`none` attention: the builders skip attention (and put the reference's plain conv block where the
decoder would have had it)."""

from __future__ import annotations

from fswap_standard.model_config import NoAttentionConfig


class NoAttention:
    """Returns no layer for every attention site."""

    def __init__(self, config: NoAttentionConfig) -> None:
        self.config = config

    def __call__(self, channels: int, *, name: str) -> None:
        return None
