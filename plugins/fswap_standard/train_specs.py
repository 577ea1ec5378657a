"""Specs of the standard loss terms. No heavy imports."""

from __future__ import annotations

from fswap import ComponentSpec, Kind
from fswap_standard import loss_config as lc

_MOD = "fswap_standard.losses"

LOSSES: list[ComponentSpec] = [
    ComponentSpec(Kind.LOSS, "reconstruction", f"{_MOD}:ReconstructionLoss", lc.ReconstructionConfig,
                  "L1 of the raw colour output against the target, multi-scale over side outputs."),
    ComponentSpec(Kind.LOSS, "edge", f"{_MOD}:EdgeLoss", lc.EdgeConfig,
                  "L1 between finite-difference gradient magnitudes of output and target."),
    ComponentSpec(Kind.LOSS, "eyes", f"{_MOD}:EyesLoss", lc.EyesConfig,
                  "Eye-region weighted L1 and edge terms (needs eye masks from extraction)."),
    ComponentSpec(Kind.LOSS, "mixup_lsgan", f"{_MOD}:MixupLsganLoss", lc.MixupLsganConfig,
                  "LSGAN with mixup; the discriminator sees the masked and the raw output."),
    ComponentSpec(Kind.LOSS, "relativistic_avg_lsgan", f"{_MOD}:RelativisticLsganLoss",
                  lc.RelativisticLsganConfig, "Relativistic average LSGAN on masked and raw output."),
    ComponentSpec(Kind.LOSS, "mask_l1", f"{_MOD}:MaskL1Loss", lc.MaskL1Config,
                  "mean(|alpha|): pushes the mask toward the input."),
    ComponentSpec(Kind.LOSS, "mask_hinge", f"{_MOD}:MaskHingeLoss", lc.MaskHingeConfig,
                  "mean(max(0, margin − alpha)); a phase's mask_margin overrides its margin."),
    ComponentSpec(Kind.LOSS, "cycle", f"{_MOD}:CycleLoss", lc.CycleConfig,
                  "Optional cycle consistency: L1(G_X(G_Y(x)), x) + 0.1·L1 of the two masks."),
    ComponentSpec(Kind.LOSS, "mask_tv", f"{_MOD}:MaskTVLoss", lc.MaskTVConfig,
                  "Total variation of the mask."),
    ComponentSpec(Kind.LOSS, "structure", "fswap_standard.ssim_loss:SsimLoss", lc.SsimConfig,
                  "Structural dissimilarity (1 − SSIM) / 2 of the raw colour output against the target."),
]
