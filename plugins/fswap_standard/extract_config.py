"""The standard aligner and mask generators, declared on their option classes. No heavy imports."""

from __future__ import annotations

from typing import Any

import attrs

from fswap import Kind, declare
from fswap.extract.alignment import BORDERS, PARTS_68
from fswap.options import at_least, between, one_of, option


def odd_or_zero(_inst: Any, attribute: attrs.Attribute, value: int) -> None:
    if value < 0 or (value > 0 and value % 2 == 0):
        raise ValueError(f"{attribute.name} must be 0 (off) or an odd number of pixels, received {value!r}")


def _parts(_inst: Any, attribute: attrs.Attribute, value: tuple[str, ...]) -> None:
    if not value:
        raise ValueError(f"{attribute.name} must name at least one of {', '.join(PARTS_68)}")
    for part in value:
        if part not in PARTS_68:
            raise ValueError(
                f"{attribute.name} must hold names from {', '.join(PARTS_68)}, received {part!r}"
            )


@declare(Kind.ALIGNER, "umeyama5", factory="fswap_standard.aligners:Umeyama5Aligner", default_for=["aligner"])
@attrs.frozen(kw_only=True)
class Umeyama5Config:
    """Umeyama similarity of the 5 landmarks onto the reference template; 256² crop + 2×3 matrix.

    The similarity alignment of the reference (§4.4); the crop side is the `size` option."""

    size: int = option(256, help="Side of the aligned square crop in pixels.", validator=at_least(16))
    border: str = option(
        "replicate",
        help="How pixels outside the frame are filled: replicate, constant, reflect.",
        validator=one_of(BORDERS),
    )


@declare(Kind.MASK_GENERATOR, "eyes5", factory="fswap_standard.masks:Eyes5Mask",
         default_for=["mask_generator", "eye_mask"])
@attrs.frozen(kw_only=True)
class Eyes5Config:
    """Crude eye mask from the 5 detector points: ±h/15 × ±w/8 rectangles per eye.

    The reference's mask from the 5 MTCNN points (§6.1): a rectangle around each eye."""

    half_height: float = option(
        1.0 / 15.0,
        help="Half-height of each eye rectangle as a fraction of the face box side (reference ±h/15).",
        validator=between(0.005, 0.5),
    )
    half_width: float = option(
        1.0 / 8.0,
        help="Half-width of each eye rectangle as a fraction of the face box side (reference ±w/8).",
        validator=between(0.005, 0.5),
    )
    blur: int = option(
        0, help="Gaussian blur kernel applied afterwards (odd pixels; 0: hard edges).", validator=odd_or_zero
    )


@declare(Kind.MASK_GENERATOR, "parts68", factory="fswap_standard.masks:Parts68Mask")
@attrs.frozen(kw_only=True)
class Parts68Config:
    """Convex hulls of eyes/brows/nose/mouth from 68 landmarks, dilated 13×13 and blurred 7×7.

    Convex hulls of face parts, dilated and blurred (reference §6.2, §5.2)."""

    parts: tuple[str, ...] = option(
        ("eyes",), help="Parts to include: eyes, brows, nose, mouth.", validator=_parts
    )
    dilate: int = option(
        13, help="Side of the square dilation kernel in pixels (0: none).", validator=at_least(0)
    )
    iterations: int = option(1, help="Dilation iterations.", validator=at_least(0))
    blur: int = option(7, help="Gaussian blur kernel (odd pixels; 0: none).", validator=odd_or_zero)
