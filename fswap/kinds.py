"""The one table of component kinds: for each, the Protocol its built object satisfies, its contract check in
`fswap.testing`, the stage that uses it and what its factory must build.

Everything per kind is derived from this table: the catalog accepts exactly these kinds from the
registration hook, `fswap.builder.build` checks every built component against its Protocol, the contract
tests run each kind's check on every built-in, and `docs/plugins/contracts.md` is generated from it.
Adding a kind is a member of :class:`fswap.components.Kind` plus one row here (and its Protocol).
TensorFlow-free.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import attrs

from fswap import components as c
from fswap.components import Kind
from fswap.losses import LossComponent


@attrs.frozen
class KindInfo:
    """One kind: its Protocol, its check ("module:function" in fswap.testing, imported when run), the stage
    that builds it, and one paragraph on what the factory builds (the contract, in words)."""

    kind: Kind
    protocol: type
    check: str
    stage: str
    builds: str

    def load_check(self) -> Callable[..., Any]:
        """The contract check function (importing fswap.testing, which may import numpy-heavy helpers)."""
        module, _, name = self.check.partition(":")
        return getattr(importlib.import_module(module), name)


_T = "fswap.testing"

KINDS: tuple[KindInfo, ...] = (
    KindInfo(Kind.DETECTOR, c.Detector, f"{_T}:check_detector", "extract, convert, evaluate",
             "An object with `detect(frames) -> list[list[Detection]]`: BGR uint8 frames in, per frame its "
             "faces (box, confidence in [0, 1], 5 or 68 landmarks in frame pixels)."),
    KindInfo(Kind.ALIGNER, c.Aligner, f"{_T}:check_aligner", "extract, convert, evaluate",
             "An object with an int `size` and `align(frame, detection) -> AlignedFace` (the size×size crop, "
             "its 2×3 frame→crop matrix and landmarks)."),
    KindInfo(Kind.MASK_GENERATOR, c.MaskGenerator, f"{_T}:check_mask_generator", "extract",
             "An object with `generate(face: AlignedFace) -> np.ndarray` (float32, size×size, in [0, 1])."),
    KindInfo(Kind.EMBEDDER, c.Embedder, f"{_T}:check_embedder", "extract, convert, evaluate",
             "An object with an int `dim`, `embed(faces) -> (N, dim) float32` and `distance(a, b)` "
             "(smaller = same person)."),
    KindInfo(Kind.TRACKER, c.Tracker, f"{_T}:check_tracker", "extract, convert",
             "An object with `update(frame_index, detections | None) -> list[TrackedFace]` (None when "
             "detection was skipped on that frame) and `reset()`."),
    KindInfo(Kind.LOSS, LossComponent, f"{_T}:check_loss", "train",
             "A loss term (fswap.losses): `weight`, `uses_discriminator`, `generator_loss(x: LossInputs)` "
             "(unweighted TF scalar) and `discriminator_loss(x)` (TF scalar, or None)."),
    KindInfo(Kind.NORMALIZATION, c.LayerFactory, f"{_T}:check_block", "model",
             "A block factory called as `norm(channels, *, name, ...) -> keras Layer | None` wherever the "
             "architecture normalises (a conditional one such as SPADE also has `conditional(...)`)."),
    KindInfo(Kind.ATTENTION, c.LayerFactory, f"{_T}:check_block", "model",
             "A block factory called as `attention(channels, *, name, ...) -> keras Layer | None`; the "
             "layer keeps the shape of its input."),
    KindInfo(Kind.UPSAMPLING, c.LayerFactory, f"{_T}:check_block", "model",
             "A block factory called as `upsampling(filters, *, name, normalization, ...) -> list[Layer]` "
             "doubling the spatial size."),
    KindInfo(Kind.BLENDER, c.Blender, f"{_T}:check_blender", "convert",
             "An object with `blend(frame, generated, alpha, matrix) -> np.ndarray` returning a new frame "
             "(the input frame is not modified)."),
    KindInfo(Kind.COLOR_TRANSFER, c.ColorTransfer, f"{_T}:check_color_transfer", "convert",
             "An object with `transfer(generated, reference, mask) -> np.ndarray` (BGR uint8 crops, float "
             "mask)."),
    KindInfo(Kind.WRITER, c.Writer, f"{_T}:check_writer", "convert",
             "An object whose `open(path, *, fps, size, audio_source)` returns a session that writes to a "
             "temporary name and appears under the final name only when `close()` succeeds (`abort()` "
             "removes the partial output)."),
    KindInfo(Kind.RECIPE, c.Recipe, f"{_T}:check_recipe", "train",
             "An object with `table`: a mapping of [train] option names to TOML values, the defaults that "
             "`[train] recipe = \"<name>\"` fills in for the options the [train] table leaves out."),
)

BY_KIND: dict[Kind, KindInfo] = {row.kind: row for row in KINDS}

_missing = [str(k) for k in Kind if k not in BY_KIND]
if _missing or len(BY_KIND) != len(KINDS):  # a kind without a row would be registrable but unchecked
    raise ImportError(f"fswap.kinds: every Kind needs exactly one row; missing: {', '.join(_missing)}")


def info(kind: Kind | str) -> KindInfo:
    """The table row of `kind` (a ValueError listing the kinds for an unknown one)."""
    try:
        return BY_KIND[Kind(kind)]
    except ValueError:
        kinds = ", ".join(k.value for k in Kind)
        raise ValueError(f"unknown component kind {kind!r}; kinds: {kinds}") from None


def protocol_members(protocol: type) -> list[str]:
    """The members a Protocol requires, in the order written: annotated attributes, then methods
    (`__call__` included, other dunders not)."""
    names = list(getattr(protocol, "__annotations__", {}))
    names += [n for n, v in vars(protocol).items()
              if callable(v) and (not n.startswith("_") or n == "__call__") and n not in names]
    return names


def missing_members(kind: Kind | str, obj: Any) -> list[str]:
    """The Protocol members of `kind` that `obj` lacks or holds as None (empty: it satisfies the Protocol)."""
    protocol = info(kind).protocol
    if isinstance(obj, protocol):
        return []
    return sorted(m for m in protocol_members(protocol) if getattr(obj, m, None) is None) \
        or ["(a member of the wrong type)"]
