"""Which model-block component (normalization, attention, upsampling) a failure inside a network came from.

`AttributedBlocks` wraps a built block factory: creating a layer that raises is one PluginFailure naming
the component, and every layer it returns is remembered (a weak map layer → choice). When a layer fails
later — applied while the functional model is built, traced in the train step, or as a TensorFlow op when
the compiled step runs — the error path asks `block_of_exception` (Python errors: the innermost traceback
frame whose `self` is a remembered layer) or `block_of_node` (op errors: the innermost segment of the
failing node's name scope that is a remembered layer's name in the given networks). A saved model's
`model.json` records which layers each block component made (`block_layers`), so `saved_block_failure`
names the component when a loaded generator fails. Only error paths do this work; a step that does not
fail costs nothing extra. TensorFlow-free.
"""

from __future__ import annotations

import contextlib
import re
import weakref
from collections.abc import Iterable, Mapping
from typing import Any

from fswap.components import ComponentChoice
from fswap.errors import FswapError, PluginFailure
from fswap.frame_guard import exception_line, plugin_failure
from fswap.model.contracts import call_conditional, call_factory
from fswap.plugins import DISABLE_ENV

_LAYERS: weakref.WeakKeyDictionary[Any, ComponentChoice] = weakref.WeakKeyDictionary()
_UNIQUE_SUFFIX = re.compile(r"_\d+$")  # a name scope entered again ("conv2_norm_1")


def _remember(made: Any, choice: ComponentChoice) -> Any:
    for layer in made if isinstance(made, list | tuple) else [made]:
        if layer is not None:
            with contextlib.suppress(TypeError):  # not weak-referenceable: it cannot be found later
                _LAYERS.setdefault(layer, choice)
    return made


def choice_of_layer(layer: Any) -> ComponentChoice | None:
    """The block component that made `layer`, if one did."""
    try:
        return _LAYERS.get(layer)
    except TypeError:
        return None


class AttributedBlocks:
    """A block factory (see fswap.model.contracts) whose failures name its component.

    It is called like the factory (the extras are filtered for the wrapped factory's signature), exposes
    `conditional` only when the wrapped factory has it, and passes other attributes through."""

    def __init__(self, factory: Any, choice: ComponentChoice) -> None:
        self._factory = factory
        self._choice = choice

    @property
    def choice(self) -> ComponentChoice:
        return self._choice

    def __call__(self, channels: int, *, name: str, **extras: Any) -> Any:
        return self._make(call_factory, channels, name, extras)

    def _make(self, call: Any, channels: int, name: str, extras: dict[str, Any]) -> Any:
        try:
            made = call(self._factory, channels, name=name, **extras)
        except FswapError:
            raise
        except Exception as exc:  # the plugin failed while creating a layer
            raise plugin_failure(self._choice, f"creating layer '{name}' ({channels} channels)", exc) from exc
        return _remember(made, self._choice)

    def __getattr__(self, attr: str) -> Any:
        if attr in ("_factory", "_choice"):
            raise AttributeError(attr)
        value = getattr(self._factory, attr)
        if attr != "conditional":
            return value

        def conditional(channels: int, *, name: str, **extras: Any) -> Any:
            return self._make(call_conditional, channels, name, extras)

        return conditional

    def __repr__(self) -> str:
        return f"AttributedBlocks({self._factory!r})"


def block_of_exception(exc: BaseException) -> tuple[ComponentChoice, str] | None:
    """(choice, layer name) of the innermost remembered layer whose code is in `exc`'s traceback."""
    found = None
    tb = exc.__traceback__
    while tb is not None:
        owner = tb.tb_frame.f_locals.get("self")
        choice = choice_of_layer(owner) if owner is not None else None
        if choice is not None:
            found = (choice, str(getattr(owner, "name", type(owner).__name__)))
        tb = tb.tb_next
    return found


def _layers(models: Iterable[Any]) -> Iterable[Any]:
    for model in models:
        flatten = getattr(model, "_flatten_layers", None)
        yield from (flatten(include_self=False, recursive=True) if flatten is not None else [])


def block_of_node(models: Iterable[Any], node: str) -> tuple[ComponentChoice, str] | None:
    """(choice, layer name) for the innermost name-scope segment of op `node` that names a remembered layer
    of `models` ("decoder_a_1/upscale2_norm/…" → the normalization that made upscale2_norm)."""
    names: dict[str, ComponentChoice] = {}
    for layer in _layers(models):
        choice = choice_of_layer(layer)
        if choice is not None:
            names.setdefault(str(layer.name), choice)
    for segment in reversed(node.split("/")):
        for candidate in (segment, _UNIQUE_SUFFIX.sub("", segment)):
            if candidate in names:
                return names[candidate], candidate
    return None


def block_failure(choice: ComponentChoice, layer: str, doing: str, exc: BaseException | str) -> PluginFailure:
    """The one-line error for the layer `layer` made by `choice` failing while `doing`."""
    return plugin_failure(choice, f"in its layer '{layer}' {doing}", exc)


_NODE = re.compile(r"\{\{node ([^}]+)\}\}|Detected at node '?([^\s']+)")  # the failing op in an OpError


def _saved_layer(exc: BaseException, names: Mapping[str, str]) -> str | None:
    """The innermost layer named in `names` that `exc` comes from: a traceback frame whose `self` is that
    layer (Python errors) or a name-scope segment of the failing op (TensorFlow op errors)."""
    found = None
    tb = exc.__traceback__
    while tb is not None:
        name = getattr(tb.tb_frame.f_locals.get("self"), "name", None)
        if isinstance(name, str) and name in names:
            found = name
        tb = tb.tb_next
    if found is not None or not hasattr(exc, "node_def"):
        return found
    for a, b in _NODE.findall(str(getattr(exc, "message", exc))):
        for segment in reversed((a or b).split("/")):
            for candidate in (segment, _UNIQUE_SUFFIX.sub("", segment)):
                if candidate in names:
                    return candidate
    return None


def saved_block_failure(metadata: Mapping[str, Any], networks: Iterable[str], exc: BaseException,
                        doing: str) -> PluginFailure | None:
    """For a loaded model (model.json `metadata`): the PluginFailure of the block component whose layer in
    one of `networks` ("encoder", "decoder_b") raised `exc` while `doing`; None when no such layer did."""
    names: dict[str, str] = {}
    for network in networks:
        for layer, path in metadata.get("block_layers", {}).get(network, {}).items():
            names.setdefault(layer, path)
    layer = _saved_layer(exc, names)
    info = metadata.get("components", {}).get(names.get(layer, ""))
    if layer is None or not isinstance(info, Mapping):
        return None
    if hasattr(exc, "node_def"):
        from fswap.train.step import op_error_line

        detail = f"{type(exc).__name__}: {op_error_line(exc)}"
    else:
        detail = exception_line(exc)
    section, kind = f"train.model.{names[layer]}", info.get("kind")
    return PluginFailure(
        f"[{section}] {kind} '{info.get('name')}' ({info.get('distribution')} {info.get('version')}) failed "
        f"in its layer '{layer}' {doing}: {detail}; train a model with another {kind} in [{section}] or "
        f"disable its plugin with {DISABLE_ENV}={info.get('plugin')}"
    )
