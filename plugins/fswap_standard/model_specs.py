"""Specs of the standard model blocks (normalizations, upsampling). No heavy imports."""

from __future__ import annotations

from fswap import ComponentSpec

NORMALIZATIONS: list[ComponentSpec] = []
LAYERS: list[ComponentSpec] = []
