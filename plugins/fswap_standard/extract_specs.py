"""Specs of the standard extraction components (aligners, mask generators). No heavy imports."""

from __future__ import annotations

from fswap import ComponentSpec

ALIGNERS: list[ComponentSpec] = []
MASK_GENERATORS: list[ComponentSpec] = []
