"""Fixtures of the studio tests: the tiny project (studio_project.py), extracted once per module."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx")

sys.path.insert(0, str(Path(__file__).parent))  # helper modules, also under --import-mode=importlib

from studio_project import write_project


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project whose extract stage has run (the real command line); returns the pipeline's path."""
    path = write_project(tmp_path_factory.mktemp("studio"))
    done = subprocess.run([sys.executable, "-m", "fswap.cli", "run", str(path), "--stage", "extract",
                           "--no-progress"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return path
