"""`[train] recipe`: the fast default and the reference one TOML line away; a table's own keys win."""

from __future__ import annotations

from typing import Any

import pytest

from fswap import api
from fswap.errors import ConfigError
from fswap.train.recipes import PRESETS, recipe_table
from fswap.train.schedule import REFERENCE_PHASES


def train_config(table: dict[str, Any]) -> Any:
    return api.from_dict({"workdir": "work", "train": table}).stage_config("train")


def test_reference_recipe_is_every_option_at_its_reference_default() -> None:
    ref = train_config({"recipe": "reference"})
    assert ref.recipe == "reference"
    assert ref.schedule == REFERENCE_PHASES
    assert (ref.lr_generator, ref.lr_discriminator, ref.beta_1) == (1e-4, 2e-4, 0.5)
    assert [p.swap_decoders for p in ref.schedule].count(True) == 1
    assert ref.loss_names() == ["reconstruction", "edge", "eyes", "mixup_lsgan", "mask_l1", "mask_hinge",
                                "mask_tv"]


def test_the_default_recipe_is_applied_when_the_table_names_none() -> None:
    from fswap.train.recipes import DEFAULT_RECIPE

    assert train_config({}) == train_config({"recipe": DEFAULT_RECIPE})


def test_fast_recipe_fills_in_its_table() -> None:
    fast = train_config({"recipe": "fast"})
    ref = train_config({"recipe": "reference"})
    assert fast.recipe == "fast"
    preset = recipe_table("fast")
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


def test_presets_only_name_real_options() -> None:
    import attrs

    from fswap.stages.train_config import TrainStageConfig

    fields = {f.name for f in attrs.fields(TrainStageConfig)}
    for name, preset in PRESETS.items():
        assert set(preset) <= fields, name


def test_unknown_recipe_is_one_line_naming_the_choices() -> None:
    expected = r"\[train\]: recipe must be one of 'fast', 'reference', received 'quick'"
    with pytest.raises(ConfigError, match=expected):
        train_config({"recipe": "quick"})
    for wrong in ({}, [], 3):  # not a name at all (a table was a TypeError; found by test_config_fuzz)
        with pytest.raises(ConfigError, match=expected.replace("'quick'", "")):
            train_config({"recipe": wrong})
