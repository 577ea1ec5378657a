"""Tiny networks for train tests (kept for tests that import them from here; see fswap.train.toys)."""

from __future__ import annotations

from fswap.train.toys import TinyNetworks

__all__ = ["TinyNetworks"]
