"""`[train] recipe`: the fast default and the reference one TOML line away; a table's own keys win."""

from __future__ import annotations

from typing import Any

import pytest

from fswap import api
from fswap.errors import ConfigError
from fswap.train.schedule import Schedule


def train_config(table: dict[str, Any]) -> Any:
    return api.from_dict({"workdir": "work", "train": table}).stage_config("train")


def test_reference_recipe_is_every_option_at_its_reference_default() -> None:
    ref = train_config({"recipe": "reference"})
    assert ref.recipe == "reference"
    # the reference's eight phases at its thresholds (40 000 iterations, checkpoints every 300)
    thresholds = Schedule(ref.schedule, 40000, 150).thresholds
    assert thresholds == (0, 7850, 11850, 15850, 19850, 26516, 31850, 35850)
    assert [p.mask_margin for p in ref.schedule] == [0.0, 0.0, 0.5, 0.2, 0.4, 0.0, 0.1, 0.0]
    assert [p.off for p in ref.schedule][:2] == [("vggface", "mask_hinge"), ("mask_hinge",)]
    assert (ref.lr_generator, ref.lr_discriminator, ref.beta_1) == (1e-4, 2e-4, 0.5)
    assert [p.swap_decoders for p in ref.schedule].count(True) == 1
    assert ref.loss_names() == ["reconstruction", "edge", "eyes", "mixup_lsgan", "mask_l1", "mask_hinge",
                                "mask_tv"]


def test_the_default_recipe_is_applied_when_the_table_names_none() -> None:
    """The default is the recipe a plugin declares default ("fast", fswap_standard), and it is recorded."""
    default = train_config({})
    assert default.recipe == "fast"
    assert default == train_config({"recipe": "fast"})


def test_fast_recipe_fills_in_its_table() -> None:
    fast = train_config({"recipe": "fast"})
    ref = train_config({"recipe": "reference"})
    assert fast.recipe == "fast"
    from fswap_standard.recipes import FAST as preset

    assert (fast.batch_size, fast.lr_generator, fast.beta_1) == (16, 2e-4, 0.9)
    assert fast.loss_names() == list(preset["losses"])
    # no term pushes the mask toward the input and none trains a discriminator
    assert "mask_l1" not in fast.loss_names()
    assert not any("lsgan" in name for name in fast.loss_names())
    assert [p.start for p in fast.schedule] == [row["start"] for row in preset["schedule"]]
    assert not any(p.swap_decoders for p in fast.schedule)
    assert all(p.mask_margin == 0.9 for p in fast.schedule)  # the hinge holds the mask open throughout
    # the same networks; only the mask head's starting bias and the weight decay differ
    assert fast.model.mask_init == 0.95 and fast.model.weight_decay == 0.0
    assert ref.model.mask_init is None and ref.model.weight_decay == 1e-4
    import attrs

    same = attrs.evolve(fast.model, mask_init=None, weight_decay=1e-4)
    assert same == ref.model


def test_the_recipe_fills_in_model_keys_the_model_table_leaves_out() -> None:
    cfg = train_config({"model": {"resolution": 128, "weight_decay": 1e-3}})
    assert cfg.model.resolution == 128 and cfg.model.weight_decay == 1e-3  # the table's own keys win
    assert cfg.model.mask_init == 0.95  # the recipe fills in the rest


def test_a_key_given_in_the_table_wins_over_the_recipe() -> None:
    cfg = train_config({"recipe": "fast", "lr_generator": 3e-4, "augment": {"flip": 0.0}})
    assert cfg.lr_generator == 3e-4
    assert cfg.augment.flip == 0.0
    own = train_config({"schedule": [{"start": 0.0, "lr_factor": 0.5}]})
    assert len(own.schedule) == 1 and own.schedule[0].lr_factor == 0.5  # replaced whole, not merged
    losses = train_config({"losses": {"reconstruction": {}}})
    assert losses.loss_names() == ["reconstruction"]


def test_unknown_recipe_is_one_line_naming_the_choices() -> None:
    expected = r"\[train.recipe\]: no recipe named 'quick'\. Available: fast \(fswap .*\), reference"
    with pytest.raises(ConfigError, match=expected):
        train_config({"recipe": "quick"})
    for wrong in ({}, [], 3):  # not a name at all (a table was a TypeError; found by test_config_fuzz)
        with pytest.raises(ConfigError, match=r"\[train\]: recipe must be a recipe name \(fast, reference\)"):
            train_config({"recipe": wrong})


def test_a_plugin_recipe_is_chosen_like_a_built_in_one() -> None:
    """A third party's recipe (kind `recipe`, declared like any component) fills in [train] the same way;
    with no recipe declared default, a [train] table that names none is a one-line error."""
    import attrs

    from fswap import NoOptions, declare
    from fswap.catalog import Catalog
    from fswap.components import Provider
    from fswap.plugins import make_plugin_manager
    from fswap.train.recipes import apply_recipe

    @declare("recipe", "tiny_l1", factory="builtins:dict")
    class TinyRecipe(NoOptions):
        """Only L1."""

    spec = attrs.evolve(TinyRecipe.__fswap_component__, factory="test_recipes:tiny_table")
    catalog = Catalog.from_plugin_manager(make_plugin_manager())
    catalog.add(spec, Provider("tiny", "fswap-tiny", "1.0"))
    out = apply_recipe({"recipe": "tiny_l1", "iterations": 7}, "[train]", catalog)
    assert out == {"recipe": "tiny_l1", "iterations": 7, "losses": {"reconstruction": {"weight": 2.0}},
                   "batch_size": 4}
    bare = Catalog.from_plugin_manager(make_plugin_manager(environ={"FSWAP_DISABLE_PLUGINS": "standard"}))
    with pytest.raises(ConfigError, match=r"\[train\]: no installed plugin provides a default recipe"):
        apply_recipe({}, "[train]", bare)


def tiny_table(_config: Any) -> Any:
    """The factory of the test's recipe (imported by name, as the builder does)."""
    import types

    return types.SimpleNamespace(table={"losses": {"reconstruction": {"weight": 2.0}}, "batch_size": 4})
