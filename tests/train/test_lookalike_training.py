"""Look-alike part-swap augmentation wired into the train stage: switched on from TOML only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fswap.cli import main
from fswap.train.toys import make_toy_faceset

pytestmark = pytest.mark.slow

PIPELINE = """
workdir = "work"
seed = 5
[train]
iterations = 2
batch_size = 2
checkpoint_every = 2
preview_every = 2
log_every = 1
[train.model]
resolution = 64
capacity = "lite"
width_divisor = 16
[train.model.attention]
use = "none"
[train.losses.reconstruction]
[train.lookalike]
enabled = true
probability = 1.0
features = "thumbnail"
parts = ["eyes", "mouth"]
choose = "all"
k = 2
"""


def test_lookalike_augmentation_runs_in_training_and_reports_neighbours(tmp_path: Path) -> None:
    make_toy_faceset(tmp_path / "work" / "faces" / "a", "astronaut", count=3)
    make_toy_faceset(tmp_path / "work" / "faces" / "b", "grace_hopper", count=3)
    (tmp_path / "pipeline.toml").write_text(PIPELINE, encoding="utf-8")
    assert main(["run", str(tmp_path / "pipeline.toml"), "--stage", "train", "--no-progress"]) == 0
    logs = tmp_path / "work" / "model" / "logs"
    for side, other in (("a", "b"), ("b", "a")):
        report = json.loads((logs / f"lookalike_{side}.json").read_text())
        # probability 1: every sample drawn (2 iterations × batch 2, plus any the input pipeline read ahead)
        # got parts pasted, and the count is the sum of the per-neighbour counts
        used = [n["used"] for face in report["faces"] for n in face["neighbours"]]
        assert report["samples_augmented"] == sum(used) >= 2 * 2
        assert report["target_set"].endswith(str(Path("faces") / other))
        target_files = {p.name for p in (tmp_path / "work" / "faces" / other / "faces").iterdir()}
        assert len(report["faces"]) == 3 and all(len(face["neighbours"]) == 2 for face in report["faces"])
        assert {n["file"] for face in report["faces"] for n in face["neighbours"]} <= target_files
        neighbour_files = {n["file"] for face in report["faces"] for n in face["neighbours"]}
        assert neighbour_files and all(isinstance(f, str) for f in neighbour_files)
        assert all(len(face["neighbours"]) == 2 for face in report["faces"])
