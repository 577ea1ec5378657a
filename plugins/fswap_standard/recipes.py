"""The training recipes `fast` (the default) and `reference`: named sets of `[train]` defaults.

`[train] recipe = "…"` fills in every option the [train] table leaves out from the recipe's table; a given
`[train.losses]` table or `[[train.schedule]]` list replaces the recipe's whole list. Each change of `fast`
against `reference` was measured with `python -m bench.quality` (docs/training.md, "Recipes"). TensorFlow-
free: `fswap validate` reads these tables.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import attrs

from fswap import NoOptions, declare

FAST_MARGIN = 0.9
FAST_MASK_INIT = 0.95
FAST_EYES = 3.0

REFERENCE_LOSSES = ("reconstruction", "edge", "eyes", "mixup_lsgan", "mask_l1", "mask_hinge", "mask_tv")
"""The v2.2 notebook's loss terms, each at its own default weight."""


def _phase(start: float, off: list[str], margin: float = 0.0, lr: float = 1.0, swap: bool = False
           ) -> dict[str, Any]:
    return {"start": start, "off": off, "mask_margin": margin, "lr_factor": lr, "swap_decoders": swap}


REFERENCE_SCHEDULE: tuple[dict[str, Any], ...] = (
    _phase(0.0, ["vggface", "mask_hinge"]),
    _phase(1 / 5, ["mask_hinge"]),
    _phase(1 / 5 + 1 / 10, ["mask_l1"], 0.5),
    _phase(2 / 5, ["mask_l1"], 0.2),
    _phase(1 / 2, ["mask_l1"], 0.4),
    _phase(2 / 3, ["mask_hinge"], 0.0, 0.3),
    _phase(8 / 10, ["mask_l1"], 0.1, 0.3, True),
    _phase(9 / 10, ["mask_hinge"], 0.0, 0.1),
)
"""The v2.2 notebook's phase table: perceptual loss from T/5, hinge/L1 mask phases, LR drops, late decoder
swap (reference §3.4)."""

REFERENCE: dict[str, Any] = {
    "losses": {name: {} for name in REFERENCE_LOSSES},
    "schedule": list(REFERENCE_SCHEDULE),
}

FAST: dict[str, Any] = {
    "batch_size": 16,
    "lr_generator": 2e-4,
    "beta_1": 0.9,
    "losses": {"reconstruction": {}, "structure": {}, "edge": {}, "eyes": {"weight": FAST_EYES},
               "mask_hinge": {}, "mask_tv": {}},
    "schedule": [
        {"start": 0.0, "mask_margin": FAST_MARGIN},
        {"start": 0.9, "mask_margin": FAST_MARGIN, "lr_factor": 0.3},
    ],
    "model": {"mask_init": FAST_MASK_INIT, "weight_decay": 0.0},
}


@attrs.frozen
class RecipeTable:
    """A recipe as the train stage reads it: its [train] defaults."""

    table: Mapping[str, Any]


@declare("recipe", "fast", factory="fswap_standard.recipes:fast", default_for=["recipe"])
class FastRecipe(NoOptions):
    """Learns a visible swap in short CPU runs: batch 16, Adam 2e-4 β1 0.9, reconstruction + structure +
    edge + eyes (weight 3) + mask hinge + mask TV, the mask opened at α 0.95 and held ≥ 0.9, no adversarial
    term, no decoder swap, no weight decay, learning rate × 0.3 for the last tenth.

    What it changes against `reference`, and why (each measured with bench.quality): the mask starts open
    and stays open (the hinge at margin 0.9 from the first iteration, no L1 push of α toward 0: in training
    the warped input is the same person nearly aligned with the target, so that push and the adversarial
    term on the masked composite both reward copying the input, α collapsed and convert pasted the source
    back); no adversarial term (early it paints colour noise over the face, late it costs SSIM at once);
    the structure term (1 − SSIM)/2 and the eye regions at weight 3 instead of 30 (at 30 they were 80 % of
    the generator's loss); one phase, no decoder swap (a short run leaves swapped decoders no time to
    re-learn); the plain autoencoder's optimiser settings, which learn faster per image on CPUs.
    """


@declare("recipe", "reference", factory="fswap_standard.recipes:reference")
class ReferenceRecipe(NoOptions):
    """faceswap-GAN v2.2: its loss terms at their own weights (reconstruction, edge, eyes, mixup LSGAN,
    mask L1, mask hinge, mask TV), its eight-phase schedule with the late decoder swap, and every other
    [train] option at its default (Adam 1e-4/2e-4 with β1 0.5, batch 8)."""


def fast(_config: FastRecipe) -> RecipeTable:
    return RecipeTable(copy.deepcopy(FAST))


def reference(_config: ReferenceRecipe) -> RecipeTable:
    return RecipeTable(copy.deepcopy(REFERENCE))
