"""Specs of the standard loss terms. No heavy imports."""

from __future__ import annotations

from fswap import ComponentSpec

LOSSES: list[ComponentSpec] = []
