"""Hook specifications of the `fswap` project.

Registration hooks take no arguments and return a list of :class:`fswap.ComponentSpec`; they are called
once per run when the catalog is built. Lifecycle hooks are few and never called per frame.
Every spec here is documented in docs/plugins/hooks.md (a test enforces it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from pathlib import Path

    import click

    from fswap.components import ComponentSpec
    from fswap.weights import WeightsSpec

hookspec = pluggy.HookspecMarker("fswap")


@hookspec
def fswap_register_detectors() -> list[ComponentSpec]:
    """Register face detectors (kind ``detector``).

    Called once when the catalog is built. Return specs whose factory builds an object with
    ``detect(frames) -> list[list[Detection]]``. Example: ``ComponentSpec(kind="detector", name="mtcnn",
    factory="fswap_mtcnn.detector:MtcnnDetector", config=MtcnnConfig)``.
    """


@hookspec
def fswap_register_aligners() -> list[ComponentSpec]:
    """Register aligners (kind ``aligner``): detection → aligned crop with its 2×3 matrix and landmarks."""


@hookspec
def fswap_register_mask_generators() -> list[ComponentSpec]:
    """Register mask generators (kind ``mask_generator``): aligned face → float mask in [0, 1]."""


@hookspec
def fswap_register_embedders() -> list[ComponentSpec]:
    """Register identity embedders (kind ``embedder``): aligned crops → (N, dim) embeddings."""


@hookspec
def fswap_register_trackers() -> list[ComponentSpec]:
    """Register trackers (kind ``tracker``) that follow and smooth faces across video frames."""


@hookspec
def fswap_register_losses() -> list[ComponentSpec]:
    """Register training loss terms (kind ``loss``); each config carries its weight."""


@hookspec
def fswap_register_normalizations() -> list[ComponentSpec]:
    """Register normalization layers (kind ``normalization``) used by the model builders."""


@hookspec
def fswap_register_layers() -> list[ComponentSpec]:
    """Register network blocks: attention blocks (kind ``attention``) and upsampling blocks
    (kind ``upsampling``) the model builders insert where the architecture calls for them."""


@hookspec
def fswap_register_blenders() -> list[ComponentSpec]:
    """Register blenders (kind ``blender``) that composite a generated face back into the frame."""


@hookspec
def fswap_register_color_transfers() -> list[ComponentSpec]:
    """Register colour transfers (kind ``color_transfer``) applied to generated faces before blending."""


@hookspec
def fswap_register_writers() -> list[ComponentSpec]:
    """Register output writers (kind ``writer``): video files, image sequences, …"""


@hookspec
def fswap_register_weights() -> list[WeightsSpec]:
    """Register downloadable model weights (name, URL, sha256, licence) for ``fswap weights``.

    Example: ``WeightsSpec(name="vggface-resnet50", url=..., sha256=..., filename=..., licence=...)``.
    """


@hookspec(firstresult=True)
def fswap_resolve_weights(name: str) -> Path | None:
    """Return a local path for the weights called ``name``, or None to let other plugins (then the
    user cache) answer. The first non-None result wins and must be an existing file.

    Called when a component asks for weights (``fswap.weights.find_weights``) whose option the user left
    unset, while a pipeline runs (``fswap run``, ``fswap.api``) or an ``fswap.api`` build happens, and by
    ``fswap weights path``. A ``weights = "…"`` option in the component's table is used without asking.
    """


@hookspec
def fswap_add_cli_commands(cli: click.Group) -> None:
    """Add commands to the ``fswap`` CLI group. Called once when the CLI starts; keep imports lazy."""


@hookspec
def fswap_pipeline_built(pipeline: Any) -> None:
    """Called once after the builder made a stage's components (``pipeline`` is the built stage object).

    Use it to inspect or log what will run; do not mutate components. An implementation that raises
    fails the stage with one line naming its plugin and distribution (exit 1).
    """


REGISTRATION_HOOKS: dict[str, tuple[str, ...]] = {
    "fswap_register_detectors": ("detector",),
    "fswap_register_aligners": ("aligner",),
    "fswap_register_mask_generators": ("mask_generator",),
    "fswap_register_embedders": ("embedder",),
    "fswap_register_trackers": ("tracker",),
    "fswap_register_losses": ("loss",),
    "fswap_register_normalizations": ("normalization",),
    "fswap_register_layers": ("attention", "upsampling"),
    "fswap_register_blenders": ("blender",),
    "fswap_register_color_transfers": ("color_transfer",),
    "fswap_register_writers": ("writer",),
}
"""Which kinds each registration hook may return (a spec of another kind is a plugin error)."""
