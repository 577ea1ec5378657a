"""The standard model blocks (normalizations, upsampling, no attention), declared on their config classes.
No TensorFlow."""

from __future__ import annotations

import attrs

from fswap import Kind, NoOptions, declare
from fswap.options import at_least, between, option

_N = "fswap_standard.norms:"
_U = "fswap_standard.upsampling:"


@declare(Kind.NORMALIZATION, "none", factory=_N + "NoNormalization")
class NoNormalizationConfig(NoOptions):
    """No normalization (the reference's 'none')."""


@declare(Kind.NORMALIZATION, "batch", factory=_N + "BatchNorm", aliases=("batchnorm",))
@attrs.frozen(kw_only=True)
class BatchNormConfig:
    """Batch normalization (the reference's 'batchnorm')."""

    momentum: float = option(0.99, help="Moving-average momentum of the batch statistics.",
                             validator=between(0.0, 1.0))
    epsilon: float = option(1e-3, help="Small constant added to the variance for stability.",
                            validator=between(1e-12, 1.0))


@attrs.frozen(kw_only=True)
class EpsilonConfig:
    """A normalization whose only option is its epsilon (the base of instance, layer and per_sample)."""

    epsilon: float = option(1e-3, help="Small constant added to the variance for stability.",
                            validator=between(1e-12, 1.0))


@declare(Kind.NORMALIZATION, "instance", factory=_N + "InstanceNorm")
@attrs.frozen(kw_only=True)
class InstanceNormConfig(EpsilonConfig):
    """True instance norm: per sample and channel, per-channel γ/β (what the reference's 'layernorm'
    computes)."""


@declare(Kind.NORMALIZATION, "layer", factory=_N + "LayerNorm")
@attrs.frozen(kw_only=True)
class LayerNormConfig(EpsilonConfig):
    """Layer norm over H, W, C with per-channel γ/β."""


@declare(Kind.NORMALIZATION, "group", factory=_N + "GroupNorm", aliases=("groupnorm",))
@attrs.frozen(kw_only=True)
class GroupNormConfig:
    """Group norm, 16 groups by default (the reference's 'groupnorm')."""

    groups: int = option(16, help="Channel groups (reduced to the largest divisor of the channel count).",
                         validator=at_least(1))
    epsilon: float = option(1e-3, help="Small constant added to the variance for stability.",
                            validator=between(1e-12, 1.0))


@declare(Kind.NORMALIZATION, "per_sample", factory=_N + "PerSampleNorm", aliases=("instancenorm",))
@attrs.frozen(kw_only=True)
class PerSampleNormConfig(EpsilonConfig):
    """Per-sample standardisation over H, W, C with scalar γ/β (the reference's 'instancenorm')."""


@declare(Kind.NORMALIZATION, "hybrid", factory=_N + "HybridNorm", default_for=["normalization"])
@attrs.frozen(kw_only=True)
class HybridNormConfig:
    """Half the channels through a 1×1 conv, the rest per-sample normalised."""

    epsilon: float = option(1e-3, help="Epsilon of the per-sample normalised part (added to the std).",
                            validator=between(1e-12, 1.0))


@declare(Kind.UPSAMPLING, "pixel_shuffle", factory=_U + "PixelShuffleUpsampling", aliases=("depth_to_space",),
         default_for=["upsampling"])
@attrs.frozen(kw_only=True)
class PixelShuffleConfig:
    """Conv to 4f + LeakyReLU + norm + depth-to-space, ICNR init (reference standard)."""

    icnr: bool = option(True, help="ICNR-initialise the conv before the shuffle (no checkerboard at start).")
    icnr_stddev: float = option(0.02, help="Std of the normal draw ICNR tiles (reference 0.02).",
                                validator=between(1e-6, 1.0))


@declare(Kind.UPSAMPLING, "nearest", factory=_U + "NearestUpsampling")
@attrs.frozen(kw_only=True)
class NearestConfig:
    """Nearest-neighbour ×2 + reflect-padded 3×3 conv + norm (reference lite)."""

    reflect_pad: bool = option(True, help="Reflect-pad + 'valid' conv (reference); False: zero 'same' conv.")


@declare(Kind.ATTENTION, "none", factory="fswap_standard.no_attention:NoAttention")
class NoAttentionConfig(NoOptions):
    """No attention blocks."""
