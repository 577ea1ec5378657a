"""The modules a plugin may import from fswap: its stable, documented surface (`fswap docs surface`).

Everything else in fswap is internal and may change between releases. The built-in plugins and the
example plugin use only these (tests/core/test_surface.py reads their imports). Most of the surface is
free of TensorFlow, Keras and OpenCV at import, so a plugin's hook and config modules stay cheap to
discover; the few that are not (`HEAVY`) belong in implementation modules, which fswap imports only when a
pipeline builds the component.
"""

from __future__ import annotations

from collections.abc import Mapping

PLUGIN_SURFACE: Mapping[str, str] = {
    "fswap": "declare, declared, hookimpl, Kind, ComponentSpec, option, NoOptions, the value types "
             "(Detection, AlignedFace, TrackedFace), the error classes",
    "fswap.options": "option() and its validators (at_least, between, one_of, …)",
    "fswap.errors": "FswapError and its subclasses: ConfigError, InputError, WeightsError, PluginError, …",
    "fswap.components": "the Protocol of every kind and the value types (what `fswap docs contracts` shows)",
    "fswap.losses": "LossInputs, LossComponent, the LossTerm base class and the optional members' readers",
    "fswap.testing": "contract checks per kind and public-domain sample inputs, for a plugin's tests",
    "fswap.weights": "model weights: a `weights = path` option, the download cache and checksums",
    "fswap.builder": "build(kind, choice, catalog): a component that composes another (SPADE builds its "
                     "normalisation)",
    "fswap.extract.alignment": "the 5-point template, Umeyama fits, warps and 68→5 landmarks",
    "fswap.extract.masks": "landmark polygons and hulls for mask generators",
    "fswap.convert.geometry": "crop↔frame geometry for blenders (imports OpenCV)",
    "fswap.convert.tracking": "box overlap and matching helpers for trackers",
    "fswap.video.writer": "atomic video writing for writers (imports OpenCV)",
    "fswap.video.audio": "carrying a source's audio over to an output (ffmpeg)",
    "fswap.model.contracts": "what a normalisation, attention or upsampling layer must be to save and reload",
    "fswap.model.attention_kit": "the shared self-attention projection (imports TensorFlow)",
}
"""Module → what a plugin finds there."""

HEAVY: Mapping[str, str] = {
    "fswap.convert.geometry": "cv2",
    "fswap.video.writer": "cv2",
    "fswap.model.attention_kit": "tensorflow",
}
"""Surface modules that import a heavy library at import: use them only from implementation modules."""


def surface_markdown() -> str:
    """The table `fswap docs surface` prints."""
    lines = ["# What a plugin may import from fswap", "",
             "Import only these modules of fswap; the rest is internal. Those marked *heavy* import a",
             "large library when imported: use them in implementation modules (named by a declaration's",
             "`factory`), never in the module your entry point names or in your config module.", "",
             "| module | what it offers | heavy |", "|---|---|---|"]
    for module, offers in PLUGIN_SURFACE.items():
        lines.append(f"| `{module}` | {offers} | {HEAVY.get(module, '')} |")
    return "\n".join(lines) + "\n"
