"""Shared bits of the Python-API examples: the --tiny switch and the synthetic inputs it uses.

`--tiny` (or the environment variable FSWAP_EXAMPLES_TINY=1) makes every example run in seconds on
short synthetic videos of two public-domain portraits (fswap.samples), writing into a temporary folder
unless --out is given. The test suite runs each example this way.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fswap.samples import SyntheticVideo

TINY_ENV = "FSWAP_EXAMPLES_TINY"
TINY_FRAMES = 6
TINY_SIZE = (320, 180)


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """--tiny and --out, shared by every example."""
    parser.add_argument("--tiny", action="store_true",
                        help=f"Run in seconds on synthetic media (also: {TINY_ENV}=1).")
    parser.add_argument("--out", type=Path, default=None,
                        help="Output folder (default with --tiny: a new temporary folder).")


def is_tiny(args: argparse.Namespace) -> bool:
    return bool(args.tiny or os.environ.get(TINY_ENV, "") not in ("", "0"))


def output_folder(args: argparse.Namespace, name: str) -> Path:
    """Where an example writes: --out, else a fresh temporary folder."""
    folder = args.out if args.out is not None else Path(tempfile.mkdtemp(prefix=f"fswap-{name}-"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder.resolve()


def synthetic_video(folder: Path, side: str, frames: int = TINY_FRAMES) -> SyntheticVideo:
    """A short video of side a (the astronaut) or b (Grace Hopper) moving over a background; the returned
    object knows its path and the true landmarks of every frame."""
    from fswap.samples import make_face_video

    face, seed = {"a": ("astronaut", 0), "b": ("grace_hopper", 1)}[side]
    path = folder / "inputs" / f"{side}.mp4"
    return make_face_video(path, face=face, frames=frames, size=TINY_SIZE, seed=seed)


def synthetic_videos(folder: Path, frames: int = TINY_FRAMES) -> tuple[Path, Path]:
    """Paths of two short videos, side a and side b."""
    return synthetic_video(folder, "a", frames).path, synthetic_video(folder, "b", frames).path


def tiny_train_settings() -> dict:
    """[train] for a run of seconds: 2 iterations of a 64×64 lite model with 1/8 of the widths."""
    return {
        "iterations": 2, "batch_size": 2, "checkpoint_every": 2, "preview_every": 2, "log_every": 1,
        "model": {"resolution": 64, "capacity": "lite", "width_divisor": 8},
    }
