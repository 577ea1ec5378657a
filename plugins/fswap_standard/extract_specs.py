"""Specs of the standard extraction components (aligners, mask generators). No heavy imports."""

from __future__ import annotations

from fswap import ComponentSpec, Kind
from fswap_standard.extract_config import Eyes5Config, Parts68Config, Umeyama5Config

ALIGNERS: list[ComponentSpec] = [
    ComponentSpec(
        kind=Kind.ALIGNER,
        name="umeyama5",
        factory="fswap_standard.aligners:Umeyama5Aligner",
        config=Umeyama5Config,
        summary="Umeyama similarity of the 5 landmarks onto the reference template; 256² crop + 2×3 matrix.",
    )
]
MASK_GENERATORS: list[ComponentSpec] = [
    ComponentSpec(
        kind=Kind.MASK_GENERATOR,
        name="eyes5",
        factory="fswap_standard.masks:Eyes5Mask",
        config=Eyes5Config,
        summary="Crude eye mask from the 5 detector points: ±h/15 × ±w/8 rectangles per eye.",
    ),
    ComponentSpec(
        kind=Kind.MASK_GENERATOR,
        name="parts68",
        factory="fswap_standard.masks:Parts68Mask",
        config=Parts68Config,
        summary="Convex hulls of eyes/brows/nose/mouth from 68 landmarks, dilated 13×13 and blurred 7×7.",
    ),
]
