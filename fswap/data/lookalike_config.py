"""Options of look-alike part-swap augmentation (`[train.lookalike]`); attrs only, no TensorFlow or OpenCV.

For each source face the most similar faces of the *other* identity are found by kNN on an averaged feature
map; with probability `probability` a training sample of the source identity gets the chosen part(s) of one
of those look-alikes pasted in (reference §5.1: an experiment that may teach the model blending artefacts,
so it is off by default).
"""

from __future__ import annotations

from typing import Literal

import attrs

from fswap.options import at_least, between, component, option

PARTS = ("eyes", "brows", "nose", "mouth")


def _check_parts(_inst: object, attribute: attrs.Attribute, value: tuple[str, ...]) -> None:
    if not value:
        raise ValueError(f"{attribute.name} must name at least one of {', '.join(PARTS)}")
    bad = [p for p in value if p not in PARTS]
    if bad:
        raise ValueError(f"{attribute.name} may contain {', '.join(PARTS)}, received {bad[0]!r}")
    if len(set(value)) != len(value):
        raise ValueError(f"{attribute.name} lists a part twice: {list(value)}")


@attrs.frozen(kw_only=True)
class LookalikeConfig:
    """Look-alike part-swap augmentation for training."""

    enabled: bool = option(False, help="Turn the augmentation on.")
    probability: float = option(
        0.1, help="Chance that a training sample gets a look-alike's parts pasted in.",
        validator=between(0.0, 1.0),
    )
    parts: tuple[str, ...] = option(
        ("eyes", "nose", "mouth"), help=f"Face parts to take from the look-alike ({', '.join(PARTS)}).",
        validator=_check_parts,
    )
    choose: Literal["all", "one"] = option(
        "one", help="Paste all listed parts at once, or one part picked at random per sample."
    )
    k: int = option(3, help="Neighbours kept per source face; one is picked at random per sample.",
                    validator=at_least(1))
    features: Literal["embedder", "encoder", "thumbnail"] = option(
        "embedder",
        help="Feature map for the kNN: the identity embedder, the trained encoder (model/export, averaged "
        "over space) or a 16×16 grey thumbnail (pose and lighting only).",
    )
    embedder = component(
        "embedder", optional=True,
        help="Embedder used when features = \"embedder\" (absent: the installed default embedder, resolved "
        "when training starts, so a disabled augmentation never needs it).",
    )
    blend: Literal["feather", "poisson"] = option(
        "feather", help="Feathered alpha paste after colour matching, or Poisson (seamless) cloning."
    )
    grow: float = option(0.12, help="Grow each part region by this fraction of the eye distance.",
                         validator=between(0.0, 1.0))
    feather: float = option(0.1, help="Edge softness (Gaussian σ) as a fraction of the eye distance.",
                            validator=between(0.01, 1.0))
