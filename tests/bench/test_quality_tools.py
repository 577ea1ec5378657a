"""bench.quality's bookkeeping: configuration tables are real [train] tables, thresholds are read off the
curves correctly, the plot draws from the results JSON, and the harder pair really varies."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import quality  # noqa: E402
from bench.quality_media import Variation, frame_parameters  # noqa: E402


def _point(seconds: float, iteration: int, ab: float, ba: float) -> dict:
    row = {"seconds": seconds, "iteration": iteration}
    for d, v in (("a_to_b", ab), ("b_to_a", ba)):
        row[d] = {"closer_to_target": v, "mean_alpha": 0.9, "reconstruction_ssim": 0.5}
    return row


def test_reached_is_the_first_checkpoint_with_both_directions_at_the_threshold() -> None:
    points = [_point(0, 0, 1.0, 1.0), _point(40, 20, 0.6, 0.4), _point(80, 41, 0.7, 0.5),
              _point(120, 60, 0.95, 0.9), _point(160, 80, 0.8, 1.0)]
    got = quality.reached(points)
    # the untrained model (iteration 0) never counts, even when a random decoder happens to score
    assert got["0.5"] == {"seconds": 80, "iteration": 41}
    assert got["0.9"] == {"seconds": 120, "iteration": 60}
    assert quality.reached(points[:3])["0.9"] is None


def test_every_configuration_is_a_valid_train_table_on_the_demo_networks() -> None:
    from fswap import api

    demo_model = quality.demo_tables()["train"]["model"]
    for name in quality.CONFIGS:
        table = quality.train_table(name, iterations=123)
        cfg = api.from_dict({"workdir": "w", "train": table}).stage_config("train")
        assert cfg.iterations == 123
        assert cfg.model.resolution == demo_model["resolution"]
    base = api.from_dict({"workdir": "w", "train": quality.train_table("baseline", iterations=None)})
    cfg = base.stage_config("train")
    assert cfg.loss_names() == ["reconstruction"] and cfg.model.mask == "none"
    assert len(cfg.schedule) == 1 and not cfg.schedule[0].swap_decoders
    ref = api.from_dict({"workdir": "w", "train": quality.train_table("reference", iterations=None)})
    assert ref.stage_config("train").recipe == "reference"


def test_merge_replaces_loss_tables_whole_and_merges_the_rest() -> None:
    base = {"model": {"resolution": 64, "capacity": "lite"}, "losses": {"edge": {}, "eyes": {}}}
    out = quality.merge(base, {"model": {"mask": "none"}, "losses": {"reconstruction": {}}})
    assert out["model"] == {"resolution": 64, "capacity": "lite", "mask": "none"}
    assert out["losses"] == {"reconstruction": {}}
    assert base["model"] == {"resolution": 64, "capacity": "lite"}  # inputs untouched


def test_plot_and_stills_are_written_from_results(tmp_path: Path) -> None:
    import cv2

    pts = [_point(0, 0, 0.0, 0.0), _point(40, 20, 0.6, 0.4)]
    machine = {"cpus": 2, "load_average_1_5_15": [1]}
    result = {"budget_s": 40, "pairs": {"demo": {}}, "machine_at_start": machine,
              "runs": {"demo/default": {"config": "default", "checkpoints": pts},
                       "demo/baseline": {"config": "baseline", "error": ["failed"]}}}
    out = quality.plot(result, tmp_path / "q.png")
    assert cv2.imread(str(out)) is not None
    cv2.imwrite(str(tmp_path / "demo-default.png"), np.zeros((96, 96 * 12, 3), np.uint8))
    still = quality.stills("demo", ["default", "baseline"], tmp_path, tmp_path / "s.jpg")
    assert still is not None and cv2.imread(str(still)).shape[1] == 96 * 12


def test_varied_pair_parameters_cover_their_ranges_smoothly() -> None:
    var = Variation()
    p = frame_parameters(120, 3, var)
    yaw, pitch, smile, mouth, light = p[:, 0], p[:, 1], p[:, 6], p[:, 7], p[:, 9]
    assert yaw.max() > 0.8 * var.yaw and yaw.min() < -0.8 * var.yaw
    assert pitch.max() > 0.8 * var.pitch and pitch.min() < -0.8 * var.pitch
    assert smile.max() > 0.9 * var.smile and mouth.max() > 0.8 * var.mouth_open
    assert np.abs(light).max() > 0.8 * var.light
    # smooth: a frame differs from the next by a small part of each range (held-out frames lie between
    # trained ones)
    assert np.abs(np.diff(yaw)).max() < 0.25 * 2 * var.yaw
    assert not np.allclose(frame_parameters(120, 4, var), p)  # the seed matters


Point = tuple[float, int, float, float, float, float]
UNTRAINED: Point = (0, 0, 0, 0, 0.1, 0.1)


def _run(config: str, seed: int, points: list[Point]) -> dict:
    """A run's record: per checkpoint (seconds, iteration, identity A→B, B→A, SSIM, following rate)."""
    rows = []
    for seconds, iteration, ab, ba, ssim, follow in points:
        row = {"seconds": seconds, "iteration": iteration, "load_average_1": 1.0}
        for d, v in (("a_to_b", ab), ("b_to_a", ba)):
            row[d] = {"closer_to_target": v, "mean_alpha": 0.9, "reconstruction_ssim": ssim,
                      "distance_to_source": 0.7, "distance_to_target": 0.6,
                      "following": {"following_rate": follow, "pose_error_deg": 10 - 10 * follow,
                                    "expression_error": 0.05}}
        rows.append(row)
    return {"pair": "varied", "config": config, "seed": seed, "checkpoints": rows,
            "iterations": rows[-1]["iteration"], "reached": quality.reached(rows)}


def test_mean_curves_align_checkpoints_by_slot_and_average_every_seed() -> None:
    runs = {"varied/default": _run("default", 0, [UNTRAINED, (50.4, 40, 1.0, 0.5, 0.6, 0.4)]),
            "varied/default/seed1": _run("default", 1, [UNTRAINED, (49.7, 38, 0.5, 0.5, 0.4, 0.2),
                                                        (101.0, 80, 1.0, 1.0, 0.7, 0.5)])}
    mean = quality.mean_curves({"every_s": 50, "runs": runs})["varied/default"]
    assert mean["seeds"] == [0, 1]
    # slot 2 (100 s) was measured by one seed only, so it is left out rather than averaged over fewer runs
    assert [p["slot"] for p in mean["checkpoints"]] == [0, 1]
    one = mean["checkpoints"][1]
    assert one["seconds"] == 50.0 and one["iteration"] == 39.0
    assert one["a_to_b"]["closer_to_target"] == 0.75 and one["a_to_b"]["closer_to_target_range"] == [0.5, 1.0]
    assert one["a_to_b"]["reconstruction_ssim"] == 0.5 and one["b_to_a"]["following_rate"] == 0.3
    assert abs(one["a_to_b"]["margin"] - 0.1) < 1e-9
    assert mean["reached"]["0.5"] == {"seconds": 50.0, "iteration": 39.0} and mean["reached"]["0.9"] is None


def test_mean_curves_under_the_iteration_clock_align_by_iteration_not_seconds() -> None:
    # the same iteration reached at very different seconds (a slower recipe): one slot under the iteration
    # clock; under the seconds clock the second seed's point falls in another slot and is dropped
    runs = {"varied/default": _run("default", 0, [UNTRAINED, (30.0, 20, 1.0, 1.0, 0.6, 0.4)]),
            "varied/default/seed1": _run("default", 1, [UNTRAINED, (61.0, 20, 0.5, 0.5, 0.4, 0.2)])}
    by_iteration = quality.mean_curves({"every_s": 20, "clock": "iterations", "runs": runs})["varied/default"]
    assert [p["slot"] for p in by_iteration["checkpoints"]] == [0, 1]
    assert by_iteration["checkpoints"][1]["a_to_b"]["closer_to_target"] == 0.75
    assert by_iteration["checkpoints"][1]["seconds"] == 45.5
    by_seconds = quality.mean_curves({"every_s": 20, "runs": runs})["varied/default"]
    assert [p["slot"] for p in by_seconds["checkpoints"]] == [0]


def test_verdict_needs_the_default_ahead_at_every_checkpoint_and_as_soon_on_identity() -> None:
    base = _run("baseline", 0, [UNTRAINED, (50, 50, 0.4, 0.4, 0.5, 0.3), (100, 100, 0.9, 0.9, 0.6, 0.4)])
    ahead = _run("default", 0, [UNTRAINED, (50, 45, 0.6, 0.6, 0.55, 0.35), (100, 90, 0.9, 0.9, 0.7, 0.5)])
    result = {"every_s": 50, "runs": {"varied/default": ahead, "varied/baseline": base}}
    got = quality.verdict(quality.mean_curves(result), "varied")
    assert got["ssim_ahead_everywhere"] and got["following_ahead_everywhere"]
    assert got["pose_error_lower_everywhere"]
    assert got["identity_reached_as_soon"] == {"0.5": True, "0.9": True}
    assert [row["seconds"] for row in got["checkpoints"]] == [50, 100]  # the untrained point does not count

    # level on following at one checkpoint is not ahead; a later 0.9 is behind
    level = _run("default", 0, [UNTRAINED, (50, 45, 0.6, 0.6, 0.55, 0.3), (100, 90, 0.8, 0.9, 0.7, 0.5)])
    result["runs"]["varied/default"] = level
    got = quality.verdict(quality.mean_curves(result), "varied")
    assert got["ssim_ahead_everywhere"] and not got["following_ahead_everywhere"]
    assert got["checkpoints"][0]["following_rate"] == [False, False]
    assert got["identity_reached_as_soon"] == {"0.5": True, "0.9": False}
    assert quality.verdict(quality.mean_curves(result), "demo") is None


def test_markdown_and_plot_use_the_mean_curves_of_several_seeds(tmp_path: Path) -> None:
    import cv2

    runs = {"varied/default": _run("default", 0, [UNTRAINED, (50, 45, 0.6, 0.6, 0.55, 0.35)]),
            "varied/default/seed1": _run("default", 1, [UNTRAINED, (50, 47, 0.8, 0.4, 0.45, 0.35)]),
            "varied/baseline": _run("baseline", 0, [UNTRAINED, (50, 50, 0.4, 0.4, 0.5, 0.3)]),
            "varied/baseline/seed1": _run("baseline", 1, [UNTRAINED, (50, 50, 0.4, 0.4, 0.5, 0.3)])}
    result = {"every_s": 50, "budget_s": 50, "seeds": [0, 1], "pairs": {"varied": {}}, "runs": runs,
              "machine_at_start": {"cpus": 2, "load_average_1_5_15": [1]}}
    result["mean"] = quality.mean_curves(result)
    result["verdict"] = {"varied": quality.verdict(result["mean"], "varied")}
    text = quality.markdown(result)
    assert "mean over seeds 0, 1" in text
    assert "| default | 50 | 46 | 0.70 (0.60–0.80) / 0.50 (0.40–0.60) |" in text
    assert "following rate ahead at every checkpoint: yes" in text
    assert cv2.imread(str(quality.plot(result, tmp_path / "q.png"))) is not None
