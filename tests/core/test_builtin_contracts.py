"""Every installed component (fswap's built-ins and the example plugin) passes the plugin-author kit's
behavioural contract check for its kind — the same checks third-party authors run."""

from __future__ import annotations

from typing import Any

import pytest

from fswap import testing
from fswap.catalog import Catalog
from fswap.errors import PluginError, WeightsError
from fswap.plugins import make_plugin_manager

CATALOG = Catalog.from_plugin_manager(make_plugin_manager())

CHECKS: dict[str, Any] = {
    "detector": testing.check_detector,
    "aligner": testing.check_aligner,
    "mask_generator": testing.check_mask_generator,
    "embedder": testing.check_embedder,
    "tracker": testing.check_tracker,
    "loss": testing.check_loss,
    "normalization": testing.check_block,
    "attention": testing.check_block,
    "upsampling": testing.check_block,
    "blender": testing.check_blender,
    "color_transfer": testing.check_color_transfer,
    "writer": testing.check_writer,
}
NEEDS_68_POINTS = {("mask_generator", "parts68")}


@pytest.mark.slow
@pytest.mark.parametrize(("kind", "name"), [(str(e.spec.kind), e.spec.name) for e in CATALOG])
def test_installed_component_passes_its_contract_check(kind: str, name: str) -> None:
    spec = CATALOG.get(kind, name).spec
    kwargs: dict[str, Any] = {"points": 68} if (kind, name) in NEEDS_68_POINTS else {}
    try:
        testing.check_spec(spec)
        built = spec.config()
        CHECKS[kind](spec, config=built, **kwargs)
    except WeightsError as exc:  # weights that must be fetched first (never downloaded in tests)
        pytest.skip(f"{kind} '{name}': {exc}")
    except PluginError as exc:
        if not isinstance(exc.__cause__, ImportError):
            raise
        pytest.skip(f"{kind} '{name}' needs an optional dependency that is not installed: {exc}")
