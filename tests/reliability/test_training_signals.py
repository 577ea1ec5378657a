"""SIGINT during training through the real CLI: a checkpoint is saved at the interrupted iteration and
`fswap run` (resuming by default) continues exactly there."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

# -- SIGINT during training (the CLI) -------------------------------------------------------------------

TRAIN_TOML = """
workdir = "work"
seed = 1
[train]
iterations = {iterations}
batch_size = 2
checkpoint_every = 50
preview_every = 50
log_every = 1
[train.model]
resolution = 64
capacity = "lite"
width_divisor = 16
[train.model.attention]
use = "none"
[train.losses.reconstruction]
"""


@pytest.mark.slow
def test_sigint_saves_a_checkpoint_and_resume_continues_there(tmp_path: Path) -> None:
    from fswap.train.toys import make_toy_faceset

    make_toy_faceset(tmp_path / "work" / "faces" / "a", "astronaut", count=2)
    make_toy_faceset(tmp_path / "work" / "faces" / "b", "grace_hopper", count=2)
    toml = tmp_path / "pipeline.toml"
    toml.write_text(TRAIN_TOML.format(iterations=400))
    history = tmp_path / "work" / "model" / "history.csv"
    cmd = [str(Path(sys.executable).parent / "fswap"), "run", str(toml), "--stage", "train", "--no-progress"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 240
        while not (history.is_file() and len(history.read_text().splitlines()) > 3):
            assert proc.poll() is None, proc.stderr.read()[-2000:]
            assert time.monotonic() < deadline, "training did not start within 240 s"
            time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err[-2000:]
    saved = sorted((tmp_path / "work" / "model" / "checkpoints").glob("ckpt-*"))
    stopped_at = int(saved[-1].name.split("-")[1])
    assert 3 <= stopped_at < 50  # saved at the interruption, not at a regular checkpoint
    summary = json.loads((tmp_path / "work" / "model" / "train_summary.json").read_text())
    assert summary["interrupted"] and summary["iteration"] == stopped_at

    toml.write_text(TRAIN_TOML.format(iterations=stopped_at + 2))
    done = subprocess.run([*cmd], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads((tmp_path / "work" / "model" / "train_summary.json").read_text())
    assert summary["start_iteration"] == stopped_at and summary["iteration"] == stopped_at + 2
