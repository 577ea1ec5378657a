"""A tiny project for the studio tests: two 6-frame synthetic clips, extracted once per module."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx")

from fswap.samples import make_face_video

PIPELINE = """\
workdir = "work"
seed = 0

[extract]
every_n_frames = 1
policy = "single"
dedupe = "off"

[extract.a]
input = "a.mp4"

[extract.b]
input = "b.mp4"

[extract.masks.eyes5]

[train]
iterations = {iterations}
batch_size = 2
checkpoint_every = 100000
preview_every = 1
log_every = 1
backup_every = 0

[train.model]
resolution = 64
width_divisor = 8

[convert]
input = "a.mp4"
direction = "a_to_b"
select = "all"
"""


def write_project(folder: Path, iterations: int = 100000) -> Path:
    """Clips and a pipeline.toml in `folder` (no stage run yet); returns the pipeline's path."""
    folder.mkdir(parents=True, exist_ok=True)
    make_face_video(folder / "a.mp4", face="astronaut", frames=6, size=(320, 180), seed=0)
    make_face_video(folder / "b.mp4", face="grace_hopper", frames=6, size=(320, 180), seed=1)
    path = folder / "pipeline.toml"
    path.write_text(PIPELINE.format(iterations=iterations))
    return path


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project whose extract stage has run (the real command line); returns the pipeline's path."""
    path = write_project(tmp_path_factory.mktemp("studio"))
    done = subprocess.run([sys.executable, "-m", "fswap.cli", "run", str(path), "--stage", "extract",
                           "--no-progress"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return path
