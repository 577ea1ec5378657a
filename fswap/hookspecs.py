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
def fswap_register_components() -> list[ComponentSpec]:
    """Register components of any kind (detectors, aligners, losses, blenders, …; see fswap.kinds).

    Called once when the catalog is built. Return the specs of the plugin's components, normally
    ``fswap.declared(config_module, ...)``: every config class those modules declare with
    ``@fswap.declare(kind, name, factory=...)``. The factory named in a spec is imported only when a
    pipeline uses the component, so this hook must not import TensorFlow, Keras, PyTorch or OpenCV.
    """


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


REGISTRATION_HOOK = "fswap_register_components"
"""The hook every component is registered through."""

RETIRED_HOOKS: tuple[str, ...] = (
    "fswap_register_detectors", "fswap_register_aligners", "fswap_register_mask_generators",
    "fswap_register_embedders", "fswap_register_trackers", "fswap_register_losses",
    "fswap_register_normalizations", "fswap_register_layers", "fswap_register_blenders",
    "fswap_register_color_transfers", "fswap_register_writers",
)
"""The per-kind registration hooks of fswap 0.1, replaced by fswap_register_components (one hook for
every kind: eleven hooks of one shape said nothing the spec's own `kind` does not)."""
