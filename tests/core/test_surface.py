"""The plugin surface (fswap.surface): the built-in plugins and the example plugin import only its modules,
and those not marked heavy import no TensorFlow, Keras, OpenCV or torch."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from fswap.surface import HEAVY, PLUGIN_SURFACE

REPO = Path(__file__).resolve().parents[2]
PLUGIN_SOURCES = sorted((REPO / "plugins").rglob("*.py")) + sorted((REPO / "examples").rglob("src/**/*.py"))


def _fswap_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                 else [node.module] if isinstance(node, ast.ImportFrom) and node.module and node.level == 0
                 else [])
        found.update(n for n in names if n == "fswap" or n.startswith("fswap."))
    return found


def test_built_in_and_example_plugins_import_only_the_surface() -> None:
    assert len(PLUGIN_SOURCES) > 40
    outside = sorted(f"{path.relative_to(REPO)}: {name}" for path in PLUGIN_SOURCES
                     for name in _fswap_imports(path) if name not in PLUGIN_SURFACE)
    assert outside == [], "import these through the surface, or add the module to fswap.surface with a reason"


@pytest.mark.parametrize("module", [m for m in PLUGIN_SURFACE if m not in HEAVY])
def test_a_light_surface_module_imports_no_heavy_library(module: str) -> None:
    code = (f"import importlib, json, sys; importlib.import_module({module!r}); "
            "print(json.dumps([m for m in ('tensorflow', 'keras', 'cv2', 'torch') if m in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_heavy_marks_are_true() -> None:  # a module marked heavy that no longer is should lose the mark
    assert set(HEAVY) <= set(PLUGIN_SURFACE)
    for module, library in HEAVY.items():
        code = (f"import importlib, sys; importlib.import_module({module!r}); "
                f"print({library!r} in sys.modules)")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        assert out.stdout.strip().splitlines()[-1] == "True", module
