"""Fixtures for the model tests: a catalog holding only the model plugins, and tiny model configs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import keras
import pytest
from fswap_model_plugins import model_plugin_manager

from fswap.catalog import Catalog
from fswap.model.config import ModelConfig, parse_model_config


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
