"""The train stage through the CLI: pipeline.toml → checkpoints, previews, history, export; resume; fresh."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from fswap.cli import main
from fswap.train.toys import make_toy_faceset

pytestmark = pytest.mark.slow

PIPELINE = """
workdir = "work"
seed = 3
[train]
iterations = {iterations}
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
[train.losses.edge]
[train.losses.eyes]
[train.losses.mixup_lsgan]
[train.losses.mask_l1]
[train.losses.mask_hinge]
[train.losses.mask_tv]
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    make_toy_faceset(tmp_path / "work" / "faces" / "a", "astronaut", count=3)
    make_toy_faceset(tmp_path / "work" / "faces" / "b", "grace_hopper", count=3)
    return tmp_path


def _run(project: Path, iterations: int, *extra: str) -> int:
    (project / "pipeline.toml").write_text(PIPELINE.format(iterations=iterations), encoding="utf-8")
    return main(["run", str(project / "pipeline.toml"), "--stage", "train", "--no-progress", *extra])


def test_train_stage_writes_state_exports_and_resumes(project: Path) -> None:
    from fswap.model.generator import FaceGenerator

    assert _run(project, 3) == 0
    model = project / "work" / "model"
    assert (model / "checkpoints" / "ckpt-00000003" / "state.json").is_file()
    assert (model / "previews" / "preview_00000002.png").is_file()
    assert (model / "history.csv").read_text().count("\n") == 4
    assert (model / "export" / "model.json").is_file()
    summary = json.loads((model / "train_summary.json").read_text())
    assert summary["iteration"] == 3 and summary["eye_masks"] is True
    assert summary["losses"]["eyes"] == 30.0

    generator = FaceGenerator.load(model / "export", "a_to_b")
    assert generator.resolution == 64
    # the export holds the trained weights: those of the final checkpoint, whose variables.npz lists the
    # encoder's, decoders' and discriminators' weights first, in this order ("<index>:<path>" keys)
    from fswap.model.io import load_network

    exported = [w for name in ("encoder", "decoder_a", "decoder_b", "discriminator_a", "discriminator_b")
                for w in load_network(model / "export", name).get_weights()]
    with np.load(model / "checkpoints" / "ckpt-00000003" / "variables.npz") as saved:
        final = [saved[k] for k in sorted(saved.files, key=lambda k: int(k.split(":", 1)[0]))]
        with np.load(model / "checkpoints" / "ckpt-00000002" / "variables.npz") as earlier:
            before = [earlier[k] for k in sorted(earlier.files, key=lambda k: int(k.split(":", 1)[0]))]
    assert len(final) > len(exported)  # optimizer state follows the networks
    for got, want in zip(exported, final, strict=False):
        np.testing.assert_array_equal(got, want)
    assert not all(np.array_equal(a, b) for a, b in zip(exported, before, strict=False))  # not iteration 2's

    assert _run(project, 4) == 0  # resume: continues from 3 to 4
    summary = json.loads((model / "train_summary.json").read_text())
    assert (summary["start_iteration"], summary["iteration"]) == (3, 4)
    assert (model / "checkpoints" / "ckpt-00000004").is_dir()


def test_fresh_clears_earlier_training_outputs(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from fswap.stages.train import clear_training_outputs
    from fswap.workdir import Workdir

    wd = Workdir(tmp_path)
    for folder in (wd.checkpoints / "ckpt-00000001", wd.previews, wd.logs, wd.model / "export"):
        folder.mkdir(parents=True)
    (wd.model / "history.csv").write_text("iteration\n")
    (wd.faceset("a")).mkdir(parents=True)
    clear_training_outputs(SimpleNamespace(workdir=wd))
    assert sorted(p.name for p in wd.model.iterdir()) == []
    assert wd.faceset("a").is_dir()


def test_missing_face_sets_are_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(tmp_path, 2) == 2
    assert "face set a unusable" in capsys.readouterr().err


def test_killed_process_resumes_from_its_last_checkpoint(project: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    (project / "pipeline.toml").write_text(PIPELINE.format(iterations=12), encoding="utf-8")
    checkpoints = project / "work" / "model" / "checkpoints"
    cmd = [sys.executable, "-m", "fswap.cli", "run", str(project / "pipeline.toml"), "--stage", "train",
           "--no-progress"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=os.environ.copy())
    try:
        deadline = time.monotonic() + 240
        while not (checkpoints / "ckpt-00000004").is_dir():
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "no checkpoint within 240 s"
            time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    saved = sorted(p.name for p in checkpoints.iterdir() if (p / "state.json").is_file())
    last = int(saved[-1].split("-")[1])
    assert last >= 4

    assert _run(project, 12) == 0
    summary = json.loads((project / "work" / "model" / "train_summary.json").read_text())
    assert summary["start_iteration"] == last and summary["iteration"] == 12
    history = (project / "work" / "model" / "history.csv").read_text().splitlines()[1:]
    iterations = [int(row.split(",")[0]) for row in history]
    assert iterations == list(range(1, 13))  # rows after the checkpoint were replaced, none duplicated


def test_the_tensorflow_augmentation_engine_trains_and_resumes(project: Path) -> None:
    def run(iterations: int) -> int:
        text = PIPELINE.format(iterations=iterations) + '[train.augment]\nengine = "tensorflow"\n'
        (project / "pipeline.toml").write_text(text, encoding="utf-8")
        return main(["run", str(project / "pipeline.toml"), "--stage", "train", "--no-progress"])

    assert run(2) == 0 and run(3) == 0
    model = project / "work" / "model"
    summary = json.loads((model / "train_summary.json").read_text())
    assert summary["config"]["augment"]["engine"] == "tensorflow"
    assert (summary["start_iteration"], summary["iteration"]) == (2, 3)
    rows = (model / "history.csv").read_text().strip().splitlines()
    header, values = rows[0].split(","), [row.split(",") for row in rows[1:]]
    column = header.index("a/g_total")
    assert len(values) == 3 and all(np.isfinite(float(v[column])) and float(v[column]) > 0 for v in values)
