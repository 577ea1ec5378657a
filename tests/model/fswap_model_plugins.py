"""Plugin managers for the model tests: only the model plugins, registered directly."""

from __future__ import annotations

import importlib.metadata as md
from typing import Any

import fswap_attention
import fswap_spade
import fswap_standard

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
