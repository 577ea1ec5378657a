"""The schedule table (reference §3.4) scaled to the configured iterations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from fswap import api
from fswap.catalog import Catalog
from fswap.config import load_pipeline
from fswap.losses import LossInputs
from fswap.plugins import make_plugin_manager
from fswap.train.schedule import PhaseConfig, Schedule

REFERENCE_PHASES = api.from_dict({"workdir": "w", "train": {"recipe": "reference"}}).stage_config(
    "train").schedule
"""The reference recipe's phase table, as the train stage reads it (fswap_standard.recipes)."""


def test_reference_thresholds_at_40000_and_34000() -> None:
    assert Schedule(REFERENCE_PHASES, 40000, 150).thresholds == (
        0, 7850, 11850, 15850, 19850, 26516, 31850, 35850)
    # the colab run's T = 34000 gives its printed thresholds for the phases both tables share
    t = Schedule(REFERENCE_PHASES, 34000, 150).thresholds
    assert (t[1], t[2], t[3], t[4], t[5]) == (6650, 10050, 13450, 16850, 22516)


def test_phase_contents_follow_the_reference() -> None:
    s = Schedule(REFERENCE_PHASES, 40000, 150)
    names = ["reconstruction", "vggface", "mask_l1", "mask_hinge"]
    assert s.factors(s.index_at(0), names) == {"reconstruction": 1.0, "vggface": 0.0, "mask_l1": 1.0,
                                               "mask_hinge": 0.0}
    assert s.factors(s.index_at(7850), names)["vggface"] == 1.0
    hinge = s.phase_at(11850)
    assert (hinge.mask_margin, s.factors(s.index_at(11850), names)["mask_l1"]) == (0.5, 0.0)
    assert s.phase_at(26516).lr_factor == 0.3
    assert s.phase_at(31850).swap_decoders and s.phase_at(31850).mask_margin == 0.1
    assert s.phase_at(39999).lr_factor == 0.1
    assert [s.index_at(i) for i in (0, 7849, 7850, 35849, 35850)] == [0, 0, 1, 6, 7]


def test_short_runs_scale_and_never_start_a_phase_at_zero() -> None:
    s = Schedule(REFERENCE_PHASES, 20, 150)
    assert s.thresholds[0] == 0 and all(t >= 1 for t in s.thresholds[1:])
    s = Schedule(REFERENCE_PHASES, 1000, 25)
    assert s.thresholds == (0, 175, 275, 375, 475, 641, 775, 875)


def test_custom_table_gets_a_default_first_phase_and_is_sorted() -> None:
    s = Schedule((PhaseConfig(start=0.5, lr_factor=0.5), PhaseConfig(start=0.25, off=("edge",))), 100)
    assert s.thresholds == (0, 25, 50)
    assert s.phases[0].off == () and s.phases[1].off == ("edge",) and s.phases[2].lr_factor == 0.5
    assert s.describe()[1]["from_iteration"] == 25


def test_reference_margins_are_set_in_every_phase() -> None:
    """The default table keeps the reference's margins; only custom rows may leave mask_margin out."""
    assert [p.mask_margin for p in REFERENCE_PHASES] == [0.0, 0.0, 0.5, 0.2, 0.4, 0.0, 0.1, 0.0]
    assert PhaseConfig(start=0.5).mask_margin is None


_CUSTOM = """
[train]
iterations = 100
[[train.schedule]]
start = 0.0
[[train.schedule]]
start = 0.5
mask_margin = 0.2
[[train.schedule]]
start = 0.75
lr_factor = 0.5
[train.losses.reconstruction]
[train.losses.mask_hinge]
margin = 0.35
"""


def test_a_custom_schedule_keeps_the_hinge_margin_option(tmp_path: Path) -> None:
    """Rows without mask_margin train the hinge with its own `margin`; a row with one overrides it for that
    phase only (the option used to be overwritten with 0 by every such row: no hinge at all)."""
    from fswap.stages.train import build_losses
    from fswap.train.step import TrainStep
    from fswap.train.toys import TinyNetworks
    from fswap.train.trainer import LoopSettings, Trainer, TrainFolders

    (tmp_path / "pipeline.toml").write_text(_CUSTOM)
    catalog = Catalog.from_plugin_manager(make_plugin_manager())
    config = load_pipeline(tmp_path / "pipeline.toml", catalog=catalog).stage("train")
    losses = build_losses(config)
    step = TrainStep(TinyNetworks(32, seed=0), losses)
    folders = TrainFolders(tmp_path / "ckpt", tmp_path / "previews", tmp_path / "logs", tmp_path)
    loop = LoopSettings(iterations=100, batch_size=2)
    schedule = Schedule(config.schedule, config.iterations)
    trainer = Trainer(step, schedule, loop, folders, lambda start: iter(()), {}, progress=False)
    margins = []
    for phase in (0, 1, 2, 0):
        trainer.apply_phase(phase, entering=False)
        margins.append(float(losses["mask_hinge"].mask_margin.numpy()))
    assert margins == pytest.approx([0.35, 0.2, 0.35, 0.35])
    x = LossInputs(warped=None, target=None, alpha=np.zeros((1, 4, 4, 1), "f4"), bgr=None, masked=None)
    hinge = float(losses["mask_hinge"].generator_loss(x))
    assert hinge == pytest.approx(0.35)  # an all-input mask is 0.35 below the margin


def test_a_ramp_rises_linearly_over_its_phase_and_off_wins() -> None:
    s = Schedule((PhaseConfig(start=0.0, ramp=("edge", "eyes"), off=("eyes",)), PhaseConfig(start=0.4)), 20)
    assert s.thresholds == (0, 8) and s.ramps(0) and not s.ramps(1)
    names = ["reconstruction", "edge", "eyes"]
    assert [s.factors(0, names, it)["edge"] for it in (0, 2, 4, 7)] == pytest.approx([0, 0.25, 0.5, 0.875])
    assert s.factors(0, names, 4) == {"reconstruction": 1.0, "edge": 0.5, "eyes": 0.0}
    assert s.factors(1, names, 8) == {"reconstruction": 1.0, "edge": 1.0, "eyes": 1.0}
    last = Schedule((PhaseConfig(start=0.0), PhaseConfig(start=0.5, ramp=("edge",))), 20)
    assert last.factors(1, names, 15)["edge"] == pytest.approx(0.5)  # the last phase ramps to the end
    assert s.describe()[0]["ramp"] == ["edge", "eyes"]


@pytest.mark.slow
def test_the_trainer_sets_a_ramped_weight_at_every_iteration(make_trainer: Any, tmp_path: Path) -> None:
    """The weight of a ramped term follows the ramp during training, iteration by iteration, and stays at
    full weight in the next phase."""
    trainer = make_trainer(iterations=12, workdir=tmp_path / "m")
    trainer.schedule = Schedule((PhaseConfig(start=0.0, ramp=("edge",)), PhaseConfig(start=0.5)), 12)
    step = trainer.step
    seen: list[float] = []
    original = step.__call__

    class Recording:
        """The step with the edge term's effective weight recorded at each call."""

        def __getattr__(self, name: str) -> Any:
            return getattr(step, name)

        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            seen.append(float(step.scales["edge"].numpy()))
            return original(*args, **kwargs)

    trainer.step = Recording()
    trainer.run(resume=False)
    weight = step.losses["edge"].weight
    assert seen == pytest.approx([weight * it / 6 for it in range(6)] + [weight] * 6, rel=1e-6)
