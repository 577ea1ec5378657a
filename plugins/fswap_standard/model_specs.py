"""Specs of the standard model blocks (normalizations, upsampling, attention off). No heavy imports."""

from __future__ import annotations

from fswap import ComponentSpec
from fswap_standard.model_config import (
    BatchNormConfig,
    EpsilonConfig,
    GroupNormConfig,
    HybridNormConfig,
    NearestConfig,
    NoOptions,
    PixelShuffleConfig,
)

_N = "fswap_standard.norms:"
_U = "fswap_standard.upsampling:"

NORMALIZATIONS: list[ComponentSpec] = [
    ComponentSpec(kind="normalization", name="none", factory=_N + "NoNormalization", config=NoOptions,
                  summary="No normalization (the reference's 'none')."),
    ComponentSpec(kind="normalization", name="batch", factory=_N + "BatchNorm", config=BatchNormConfig,
                  summary="Batch normalization (the reference's 'batchnorm').", aliases=("batchnorm",)),
    ComponentSpec(kind="normalization", name="instance", factory=_N + "InstanceNorm", config=EpsilonConfig,
                  summary="True instance norm: per sample and channel, per-channel γ/β "
                          "(what the reference's 'layernorm' computes)."),
    ComponentSpec(kind="normalization", name="layer", factory=_N + "LayerNorm", config=EpsilonConfig,
                  summary="Layer norm over H, W, C with per-channel γ/β."),
    ComponentSpec(kind="normalization", name="group", factory=_N + "GroupNorm", config=GroupNormConfig,
                  summary="Group norm, 16 groups by default (the reference's 'groupnorm').",
                  aliases=("groupnorm",)),
    ComponentSpec(kind="normalization", name="per_sample", factory=_N + "PerSampleNorm", config=EpsilonConfig,
                  summary="Per-sample standardisation over H, W, C with scalar γ/β (the reference's "
                          "'instancenorm').", aliases=("instancenorm",)),
    ComponentSpec(kind="normalization", name="hybrid", factory=_N + "HybridNorm", config=HybridNormConfig,
                  summary="Half the channels through a 1×1 conv, the rest per-sample normalised."),
]

LAYERS: list[ComponentSpec] = [
    ComponentSpec(kind="upsampling", name="pixel_shuffle", factory=_U + "PixelShuffleUpsampling",
                  config=PixelShuffleConfig, aliases=("depth_to_space",),
                  summary="Conv to 4f + LeakyReLU + norm + depth-to-space, ICNR init (reference standard)."),
    ComponentSpec(kind="upsampling", name="nearest", factory=_U + "NearestUpsampling", config=NearestConfig,
                  summary="Nearest-neighbour ×2 + reflect-padded 3×3 conv + norm (reference lite)."),
    ComponentSpec(kind="attention", name="none", factory="fswap_standard.no_attention:NoAttention",
                  config=NoOptions, summary="No attention blocks."),
]
