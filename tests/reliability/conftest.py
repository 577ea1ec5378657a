"""Fixtures of the reliability suite: the real `fswap` CLI in a subprocess, with a misbehaving plugin
installed as a real distribution (a .dist-info with an `fswap.plugins` entry point on PYTHONPATH)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import attrs
import cv2
import numpy as np
import pytest

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))  # fswap_rel_faulty, also under --import-mode=importlib

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


@pytest.fixture(scope="session")
def plugin_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A site folder holding the `fswap-rel-faulty` distribution whose entry point is fswap_rel_faulty."""
    root = tmp_path_factory.mktemp("site")
    info = root / "fswap_rel_faulty-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fswap-rel-faulty\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[fswap.plugins]\nrelfaulty = fswap_rel_faulty\n")
    return root


@pytest.fixture(scope="session")
def fswap_cli(plugin_site: Path) -> Callable[..., Done]:
    """Run `.venv/bin/fswap ARGS` with the faulty plugin installed; returns exit code and output."""

    def run(
        *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: int = 300
    ) -> Done:
        path = os.pathsep.join([str(plugin_site), str(HERE), os.environ.get("PYTHONPATH", "")])
        full_env = {k: v for k, v in os.environ.items() if k != "FSWAP_DISABLE_PLUGINS"}
        full_env.update({"PYTHONPATH": path, **(env or {})})
        done = subprocess.run([str(FSWAP), *args], capture_output=True, text=True, env=full_env, cwd=cwd,
                              timeout=timeout)
        return Done(done.returncode, done.stdout, done.stderr)

    return run


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
