"""The plugin guide's worked example (a loss term added to fswap_standard in one file) runs as written:
its module declares the term without importing TensorFlow, `fswap.declared` registers it, the contract
check passes, and the term does what its docstring says."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "plugins" / "guide.md"
MODULE = "guide_worked_example_loss"


def _example_source() -> str:
    blocks = re.findall(r"```python\n(# worked example:.*?)```", GUIDE.read_text(encoding="utf-8"), re.S)
    assert len(blocks) == 1, "the guide has one worked-example block"
    return blocks[0]


def _load(folder: Path, monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """The example as an importable module (check_spec imports it again in a fresh process)."""
    import importlib

    (folder / f"{MODULE}.py").write_text(_example_source(), encoding="utf-8")
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(folder), os.environ.get("PYTHONPATH", "")]))
    return importlib.import_module(MODULE)


def test_the_worked_example_declares_without_tensorflow(tmp_path: Path) -> None:
    (tmp_path / f"{MODULE}.py").write_text(_example_source(), encoding="utf-8")
    code = (f"import sys; import fswap, {MODULE} as m; "
            f"print([s.name for s in fswap.declared(m)], 'tensorflow' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "['output_tv'] False"


def test_the_worked_example_passes_the_contract_and_damps_noise(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    import tensorflow as tf

    from fswap import declared
    from fswap.losses import LossInputs
    from fswap.testing import check_loss

    module = _load(tmp_path, monkeypatch)
    (spec,) = declared(module)
    assert (spec.kind, spec.name, spec.factory) == ("loss", "output_tv", f"{MODULE}:OutputTotalVariation")
    check_loss(spec)
    term = spec.load_factory()(spec.config())
    flat = np.full((2, 16, 16, 3), 0.3, np.float32)
    noisy = flat + np.random.default_rng(0).normal(0, 0.1, flat.shape).astype(np.float32)

    def value(bgr: np.ndarray) -> float:
        return float(term.generator_loss(LossInputs(warped=None, target=None, alpha=None,
                                                    bgr=tf.constant(bgr), masked=None)))

    assert value(flat) == 0.0
    # mean |a − b| of two independent N(0, 0.1²) pixels is 0.1·2/√π ≈ 0.113, twice (down and right)
    assert abs(value(noisy) - 2 * 0.1 * 2 / np.sqrt(np.pi)) < 0.01
