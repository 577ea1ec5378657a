"""Fixtures for the model tests: a catalog holding only the model plugins, and tiny model configs."""

from __future__ import annotations

import importlib.metadata as md
from collections.abc import Callable, Iterator
from typing import Any

import fswap_attention
import fswap_spade
import fswap_standard
import keras
import pytest

from fswap.catalog import Catalog
from fswap.model.config import ModelConfig, parse_model_config
from fswap.plugins import DISABLE_ENV, PluginManager, make_plugin_manager

MODEL_PLUGINS: list[tuple[str, Any]] = [
    ("test_standard", fswap_standard),
    ("test_attention", fswap_attention),
    ("test_spade", fswap_spade),
]


def only_model_plugins_env() -> dict[str, str]:
    """An environment that disables every installed entry point (the model plugins are added directly,
    under other names, so work-in-progress plugins of other areas cannot break these tests)."""
    names = sorted({ep.name for ep in md.entry_points(group="fswap.plugins")})
    return {DISABLE_ENV: ",".join(names)}


def model_plugin_manager(extra: list[tuple[str, Any]] | None = None) -> PluginManager:
    plugins = [*MODEL_PLUGINS, *(extra or [])]
    return make_plugin_manager(extra_plugins=plugins, environ=only_model_plugins_env())


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return Catalog.from_plugin_manager(model_plugin_manager())


@pytest.fixture
def make_config(catalog: Catalog) -> Callable[..., ModelConfig]:
    """`make_config(resolution=64, normalization="batch", ...)`: a tiny ModelConfig (width_divisor 16)."""

    def make(**table: Any) -> ModelConfig:
        table.setdefault("width_divisor", 16)
        for key in ("normalization", "attention", "upsampling"):
            if isinstance(table.get(key), str):
                table[key] = {"use": table[key]}
        return parse_model_config(table, catalog=catalog)

    return make


@pytest.fixture(autouse=True)
def _fresh_keras_session() -> Iterator[None]:
    yield
    keras.config.set_dtype_policy("float32")
    keras.backend.clear_session()
