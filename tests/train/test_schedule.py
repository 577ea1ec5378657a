"""The schedule table (reference §3.4) scaled to the configured iterations."""

from __future__ import annotations

from fswap.train.schedule import REFERENCE_PHASES, PhaseConfig, Schedule


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
