"""The standard loss terms, declared on their config classes (TensorFlow-free). Defaults are the reference
weights."""

from __future__ import annotations

import attrs

from fswap import Kind, declare
from fswap.options import at_least, between, option

_MOD = "fswap_standard.losses"


@declare(Kind.LOSS, "reconstruction", factory=f"{_MOD}:ReconstructionLoss")
@attrs.frozen(kw_only=True)
class ReconstructionConfig:
    """L1 of the raw colour output against the target, multi-scale over side outputs.

    The multi-scale part adds L1 on every lower-resolution side output."""

    weight: float = option(1.0, help="Weight of the L1 reconstruction term.", validator=at_least(0.0))
    multiscale: bool = option(True, help="Also penalise the side outputs (64, 128, … below the resolution).")


@declare(Kind.LOSS, "edge", factory=f"{_MOD}:EdgeLoss")
@attrs.frozen(kw_only=True)
class EdgeConfig:
    """L1 between finite-difference gradient magnitudes of output and target."""

    weight: float = option(0.1, help="Weight of the edge term.", validator=at_least(0.0))


@declare(Kind.LOSS, "eyes", factory=f"{_MOD}:EyesLoss")
@attrs.frozen(kw_only=True)
class EyesConfig:
    """Eye-region weighted L1 and edge terms (needs eye masks from extraction).

    Mask-weighted L1 (and edge L1) inside the eye masks from extraction."""

    weight: float = option(30.0, help="Weight of the eye-region terms.", validator=at_least(0.0))
    edges: bool = option(True, help="Also weight the edge term inside the eye region.")


@declare(Kind.LOSS, "mixup_lsgan", factory=f"{_MOD}:MixupLsganLoss")
@attrs.frozen(kw_only=True)
class MixupLsganConfig:
    """LSGAN with mixup; the discriminator sees the masked and the raw output.

    Least-squares GAN with mixup of real and fake discriminator inputs."""

    weight: float = option(0.1, help="Weight of the adversarial term (w_D).", validator=at_least(0.0))


@declare(Kind.LOSS, "relativistic_avg_lsgan", factory=f"{_MOD}:RelativisticLsganLoss")
@attrs.frozen(kw_only=True)
class RelativisticLsganConfig:
    """Relativistic average LSGAN on masked and raw output."""

    weight: float = option(0.1, help="Weight of the adversarial term (w_D).", validator=at_least(0.0))


@declare(Kind.LOSS, "mask_l1", factory=f"{_MOD}:MaskL1Loss")
@attrs.frozen(kw_only=True)
class MaskL1Config:
    """mean(|alpha|): pushes the mask toward the input.

    An L1 push of the mask toward 0, so the output falls back to the input where unsure."""

    weight: float = option(0.01, help="Weight of mean(|alpha|).", validator=at_least(0.0))


@declare(Kind.LOSS, "mask_hinge", factory=f"{_MOD}:MaskHingeLoss")
@attrs.frozen(kw_only=True)
class MaskHingeConfig:
    """mean(max(0, margin − alpha)); a phase's mask_margin overrides its margin.

    A hinge penalising the mask below a margin (a schedule phase with mask_margin sets it for that
    phase)."""

    weight: float = option(0.1, help="Weight of mean(max(0, margin − alpha)).", validator=at_least(0.0))
    margin: float = option(
        0.5, help="Margin in phases whose mask_margin is not set.", validator=between(0.0, 1.0)
    )


@declare(Kind.LOSS, "cycle", factory=f"{_MOD}:CycleLoss")
@attrs.frozen(kw_only=True)
class CycleConfig:
    """Optional cycle consistency: L1(G_X(G_Y(x)), x) + 0.1·L1 of the two masks.

    X → G_Y → G_X should give X back, and the masks should agree."""

    weight: float = option(10.0, help="Weight of the cycle term (reference 10).", validator=at_least(0.0))
    mask_weight: float = option(0.1, help="Relative weight of the mask L1.", validator=at_least(0.0))


@declare(Kind.LOSS, "mask_tv", factory=f"{_MOD}:MaskTVLoss")
@attrs.frozen(kw_only=True)
class MaskTVConfig:
    """Total variation of the mask.

    Smooth masks without speckles."""

    weight: float = option(0.1, help="Weight of mean|d_y α| + mean|d_x α|.", validator=at_least(0.0))


@declare(Kind.LOSS, "structure", factory="fswap_standard.ssim_loss:SsimLoss")
@attrs.frozen(kw_only=True)
class SsimConfig:
    """Structural dissimilarity (1 − SSIM) / 2 of the raw colour output against the target."""

    weight: float = option(1.0, help="Weight of the structural term.", validator=at_least(0.0))
    window: int = option(7, help="Side of the Gaussian SSIM window in pixels (odd).", validator=at_least(3))
