"""Shared fixtures for extraction tests: one MTCNN detector per session and the installed plugin catalog."""

from __future__ import annotations

from typing import Any

import pytest

from fswap.catalog import Catalog
from fswap.plugins import make_plugin_manager


@pytest.fixture(scope="session")
def mtcnn_detector() -> Any:
    from fswap_mtcnn.config import MtcnnConfig
    from fswap_mtcnn.detector import MtcnnDetector

    return MtcnnDetector(MtcnnConfig())


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return Catalog.from_plugin_manager(make_plugin_manager())
