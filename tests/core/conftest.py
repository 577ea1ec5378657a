"""Fixtures for the core tests: fake installed distributions with real entry points, and a test catalog."""

from __future__ import annotations

import importlib.metadata as md
import itertools
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import attrs
import pytest

sys.path.insert(0, str(Path(__file__).parent))  # helper modules, also under --import-mode=importlib

from fswap_core_toys import toy_catalog as _toy_catalog

from fswap.catalog import Catalog

_COUNTER = itertools.count()


@attrs.frozen
class FakeDist:
    """A distribution written to disk: its real importlib.metadata entry points and module names."""

    name: str
    version: str
    entry_points: list[md.EntryPoint]


class FakeSite:
    """A folder on sys.path holding fake plugin modules and .dist-info folders (as `pip install` would)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.modules: list[str] = []

    def module(self, source: str, *, prefix: str = "fakeplugin") -> str:
        """Write a module with a unique name; returns the name."""
        name = f"{prefix}_{next(_COUNTER)}"
        (self.root / f"{name}.py").write_text(textwrap.dedent(source))
        self.modules.append(name)
        return name

    def dist(self, name: str, version: str, entry_points: dict[str, str]) -> FakeDist:
        """Write `<name>-<version>.dist-info` with the given `fswap.plugins` entry points."""
        info = self.root / f"{name.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        lines = "".join(f"{k} = {v}\n" for k, v in entry_points.items())
        (info / "entry_points.txt").write_text(f"[fswap.plugins]\n{lines}")
        eps = list(md.PathDistribution(info).entry_points.select(group="fswap.plugins"))
        return FakeDist(name, version, eps)


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSite]:
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    fake = FakeSite(root)
    yield fake
    for name in fake.modules:
        sys.modules.pop(name, None)


@pytest.fixture
def use_entry_points(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Make fswap.plugins see exactly the given distributions' entry points (and no installed ones)."""

    def install(*dists: FakeDist) -> None:
        eps = [ep for d in dists for ep in d.entry_points]
        monkeypatch.setattr("fswap.plugins._entry_points", lambda: eps)

    return install


@pytest.fixture
def toy_catalog() -> Catalog:
    return _toy_catalog()
