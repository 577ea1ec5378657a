"""Helpers of the reliability suite: the CLI result type, pipeline files and test pictures."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import attrs
import cv2
import numpy as np

HERE = Path(__file__).parent
FSWAP = Path(sys.executable).parent / "fswap"


@attrs.frozen
class Done:
    """A finished CLI run."""

    returncode: int
    stdout: str
    stderr: str

    @property
    def error_lines(self) -> list[str]:
        """Non-empty stderr lines (a user error must be exactly one)."""
        return [line for line in self.stderr.splitlines() if line.strip()]


def write_toml(folder: Path, body: str) -> Path:
    """pipeline.toml in `folder` with workdir = "work" and the given tables."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "pipeline.toml"
    path.write_text('workdir = "work"\n' + textwrap.dedent(body), encoding="utf-8")
    return path


def extract_toml(folder: Path, side_a: str, *, detector: str = "faulty", mode: str = "ok",
                 extra: str = "") -> Path:
    """An extract-only pipeline with the faulty detector (no TensorFlow) on side a."""
    return write_toml(folder, f"""
        [extract]
        {extra}
        [extract.a]
        input = "{side_a}"
        [extract.detector]
        use = "{detector}"
        {'mode = "' + mode + '"' if detector == "faulty" else ""}
    """)


def face_image(size: tuple[int, int] = (160, 160), seed: int = 0) -> np.ndarray:
    """A BGR test picture: the astronaut photo resized (content does not matter to the faulty detector)."""
    from fswap.samples import public_domain_face

    image = cv2.resize(public_domain_face("astronaut"), size, interpolation=cv2.INTER_AREA)
    rng = np.random.default_rng(seed)
    return np.clip(image.astype(np.int16) + rng.integers(-3, 4, image.shape), 0, 255).astype(np.uint8)


def image_folder(folder: Path, count: int, *, marked: tuple[int, ...] = ()) -> Path:
    """PNG frames 0..count-1; frames in `marked` carry the faulty detector's failure mark."""
    from fswap_rel_faulty import MARK

    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        image = face_image(seed=i)
        if i in marked:
            image[0, 0] = MARK
        cv2.imwrite(str(folder / f"frame_{i:03d}.png"), image)
    return folder
