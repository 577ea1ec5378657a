"""Fixtures of the reliability suite: the real `fswap` CLI in a subprocess, with a misbehaving plugin
installed as a real distribution (a .dist-info with an `fswap.plugins` entry point on PYTHONPATH)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # helper modules, also under --import-mode=importlib

from reliability_kit import FSWAP, HERE, Done


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
