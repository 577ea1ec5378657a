"""Training recipes: named sets of `[train]` defaults, chosen with one line (`recipe = "…"`).

`reference` is the faceswap-GAN v2.2 behaviour: every option at its own default (the reference's losses and
weights, its eight-phase schedule with the late decoder swap, Adam 1e-4/2e-4 with β1 0.5, batch 8). `fast`
(the default) keeps the same networks and changes what keeps short runs from learning a swap, each change
measured with `python -m bench.quality` (docs/training.md, "Recipes"):

* the mask starts open and stays open: the mask head's bias starts at α = 0.95 and the hinge (margin 0.9)
  is on from the first iteration, while the L1 push of α toward 0 is not used. In training the warped input
  is the same person, nearly aligned with the target, so that push and the adversarial term on the masked
  composite both reward copying the input: α collapsed, and convert pasted the source back;
* no adversarial term: switched on early it paints colour noise over the face, switched on late it costs
  SSIM at once (Adam's second moments were fitted to the small reconstruction gradients); add
  `[train.losses.mixup_lsgan]` and a schedule row to use it;
* reconstruction L1 plus the `structure` term ((1 − SSIM)/2), edge 0.1 and the eye regions at weight 3
  instead of 30 (at 30 the eye rectangles were 80 % of the generator's loss and everything else learned
  slowly; without them the decoders reproduced the source's eyes and B→A kept its identity);
* one phase, no decoder swap (the reference swaps at 4/5 of a 40 000-iteration run; in a short run the
  swapped decoders have no time to re-learn), the learning rate × 0.3 for the last tenth;
* Adam 2e-4 with β1 0.9, batch 16, no L2 weight decay: the settings of the plain autoencoder baseline,
  which learns faster per image on CPUs than batch 8 with β1 0.5.

A recipe only fills in what the `[train]` table leaves out: an option given in the table wins, and a given
`[train.losses]` table or `[[train.schedule]]` list replaces the recipe's whole list.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from fswap.errors import ConfigError

RECIPES: tuple[str, ...] = ("fast", "reference")
DEFAULT_RECIPE = "fast"
REPLACED_WHOLE = ("losses", "schedule")
"""Keys whose table/list in [train] replaces the recipe's entirely (not merged key by key)."""

FAST_MARGIN = 0.9
FAST_MASK_INIT = 0.95
FAST_EYES = 3.0

PRESETS: dict[str, dict[str, Any]] = {
    "reference": {},
    "fast": {
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
    },
}
"""What each recipe writes into a [train] table that leaves the key out (TOML tables as dicts)."""


def recipe_table(name: str) -> dict[str, Any]:
    """A copy of recipe `name`'s [train] defaults."""
    return copy.deepcopy(PRESETS[name])


def apply_recipe(table: Mapping[str, Any], where: str) -> dict[str, Any]:
    """The [train] table with its recipe's defaults filled in (`recipe` is kept, so it is recorded)."""
    name = table.get("recipe", DEFAULT_RECIPE)
    if not isinstance(name, str) or name not in PRESETS:  # a TOML table or array is unhashable
        raise ConfigError(f"{where}: recipe must be one of {', '.join(repr(r) for r in RECIPES)}, "
                          f"received {name!r}")
    out = dict(table)
    for key, value in recipe_table(name).items():
        if key not in out:
            out[key] = value
        elif isinstance(value, Mapping) and isinstance(out[key], Mapping) and key not in REPLACED_WHOLE:
            out[key] = {**value, **out[key]}
    return out
