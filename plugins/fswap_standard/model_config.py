"""Config classes of the standard model blocks (normalizations, upsampling, no attention). No TensorFlow."""

from __future__ import annotations

import attrs

from fswap.options import at_least, between, option


@attrs.frozen(kw_only=True)
class NoOptions:
    """A block with nothing to configure (`none` normalization, `none` attention)."""


@attrs.frozen(kw_only=True)
class EpsilonConfig:
    """A normalization whose only option is its epsilon."""

    epsilon: float = option(1e-3, help="Small constant added to the variance for stability.",
                            validator=between(1e-12, 1.0))


@attrs.frozen(kw_only=True)
class BatchNormConfig:
    momentum: float = option(0.99, help="Moving-average momentum of the batch statistics.",
                             validator=between(0.0, 1.0))
    epsilon: float = option(1e-3, help="Small constant added to the variance for stability.",
                            validator=between(1e-12, 1.0))


@attrs.frozen(kw_only=True)
class GroupNormConfig:
    groups: int = option(16, help="Channel groups (reduced to the largest divisor of the channel count).",
                         validator=at_least(1))
    epsilon: float = option(1e-3, help="Small constant added to the variance for stability.",
                            validator=between(1e-12, 1.0))


@attrs.frozen(kw_only=True)
class HybridNormConfig:
    epsilon: float = option(1e-3, help="Epsilon of the per-sample normalised part (added to the std).",
                            validator=between(1e-12, 1.0))


@attrs.frozen(kw_only=True)
class PixelShuffleConfig:
    icnr: bool = option(True, help="ICNR-initialise the conv before the shuffle (no checkerboard at start).")
    icnr_stddev: float = option(0.02, help="Std of the normal draw ICNR tiles (reference 0.02).",
                                validator=between(1e-6, 1.0))


@attrs.frozen(kw_only=True)
class NearestConfig:
    reflect_pad: bool = option(True, help="Reflect-pad + 'valid' conv (reference); False: zero 'same' conv.")
