"""Training recipes: named sets of `[train]` defaults, chosen with one line (`recipe = "…"`).

`reference` is the faceswap-GAN v2.2 behaviour: every option at its own default (the reference's losses and
weights, its eight-phase schedule with the late decoder swap, Adam 1e-4/2e-4 with β1 0.5). `fast` (the
default) changes only what keeps short runs from learning a swap, each change measured with
`python -m bench.quality` (docs/training.md, "Recipes"):

* the mask is held up from the first iteration (hinge with margin `FAST_MARGIN` on, the L1 push of α toward
  0 off): during training the warped input is the same person, nearly aligned with the target, so the L1
  push and the adversarial term on the masked composite both reward copying the input, and α collapses;
  at convert time that pastes the source back;
* the adversarial terms wait for the first `FAST_GAN_START` of the run, until the decoders paint a face;
* no decoder swap and no learning-rate drops in the middle of the run (the reference swaps at 4/5 of a
  40 000-iteration run; scaled to a short run the swapped decoders have no time to re-learn), one drop to
  0.3 for the last tenth;
* the generators' learning rate is 2e-4 (the discriminators' already is).

A recipe only fills in what the `[train]` table leaves out: an option given in the table wins, and a given
`[train.losses]` table or `[[train.schedule]]` list replaces the recipe's whole list.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from fswap.errors import ConfigError

RECIPES: tuple[str, ...] = ("fast", "reference")
DEFAULT_RECIPE = "reference"  # "fast" once its curves are in docs/training.md
REPLACED_WHOLE = ("losses", "schedule")
"""Keys whose table/list in [train] replaces the recipe's entirely (not merged key by key)."""

FAST_MARGIN = 0.8
FAST_GAN_START = 0.15
_ADVERSARIAL = ["mixup_lsgan", "relativistic_avg_lsgan"]

PRESETS: dict[str, dict[str, Any]] = {
    "reference": {},
    "fast": {
        "lr_generator": 2e-4,
        "schedule": [
            {"start": 0.0, "off": ["vggface", "mask_l1", *_ADVERSARIAL], "mask_margin": FAST_MARGIN},
            {"start": FAST_GAN_START, "off": ["mask_l1"], "mask_margin": FAST_MARGIN},
            {"start": 0.9, "off": ["mask_l1"], "mask_margin": FAST_MARGIN, "lr_factor": 0.3},
        ],
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
