"""Data flows one way: the runner and the stages sit above the libraries, so no library module imports
them (stages, runner, CLI, Python API, studio). Checked on the source, imports inside functions included."""

from __future__ import annotations

import ast
from pathlib import Path

import fswap

ROOT = Path(fswap.__file__).parent
LIBRARIES = ("data", "model", "evaluate", "train", "extract", "convert", "video")
LOW_MODULES = ("context.py", "files.py", "preflight.py", "losses.py", "components.py", "declaration.py",
               "kinds.py", "options.py", "structure.py", "errors.py")
HIGHER = ("fswap.run", "fswap.stages", "fswap.cli", "fswap.api", "fswap.studio")


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_no_library_module_imports_the_runner_or_a_stage() -> None:
    files = [p for lib in LIBRARIES for p in (ROOT / lib).rglob("*.py")] + [ROOT / m for m in LOW_MODULES]
    assert len(files) > 60
    upward = sorted(f"{path.relative_to(ROOT.parent)} imports {name}" for path in files
                    for name in _imports(path) if any(name == h or name.startswith(h + ".") for h in HIGHER))
    assert upward == []
