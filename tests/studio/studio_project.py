"""The tiny project the studio tests run: two 6-frame synthetic clips and a pipeline.toml."""

from __future__ import annotations

from pathlib import Path

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

[train.model.attention]
use = "none"  # the step compiles in about 2/3 of the time

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
