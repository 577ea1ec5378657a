"""What the model builders expect from normalization, attention and upsampling components.

A component's factory (``ComponentSpec.factory``) is called once with its frozen config and returns a
*block factory*; the builders call that object for every place the architecture needs the block:

* normalization: ``norm(channels, *, name, base_channels=None, weight_decay=0.0) -> Layer | None``.
  ``base_channels`` is the block's nominal width ``f`` (inside the PixelShuffle upsampler the tensor has
  ``4f`` channels; the reference's hybrid split uses ``f``). ``None`` means "no layer here".
  A normalization that also has ``conditional(channels, *, name, weight_decay=0.0) -> Layer`` and an int
  ``condition_channels`` is *conditional* (e.g. SPADE): the decoder then takes a condition map input and its
  residual blocks call the conditional layer on ``[x, condition]``.
* attention: ``attention(channels, *, name, weight_decay=0.0) -> Layer | None`` (``None``: attention off).
* upsampling: ``upsampling(filters, *, name, normalization, weight_decay=0.0) -> list[Layer]``: layers
  applied in order that double the spatial size and output ``filters`` channels.

Keyword arguments beyond ``name`` are passed only to factories that accept them, so a third-party factory
written against :class:`fswap.components.LayerFactory` (``(channels, *, name)``) works too.
TensorFlow-free.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class NormalizationFactory(Protocol):
    def __call__(self, channels: int, *, name: str) -> Any: ...


@runtime_checkable
class AttentionFactory(Protocol):
    def __call__(self, channels: int, *, name: str) -> Any: ...


@runtime_checkable
class UpsamplingFactory(Protocol):
    def __call__(self, filters: int, *, name: str) -> Any: ...


@functools.lru_cache(maxsize=256)
def _accepted(func: Any) -> frozenset[str] | None:
    """Keyword names `func` accepts, or None when it takes **kwargs (accepts everything)."""
    try:
        params = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return None
    return frozenset(p.name for p in params)


def call_factory(factory: Any, channels: int, *, name: str, **extras: Any) -> Any:
    """Call a block factory with `channels`, `name` and the `extras` its signature accepts."""
    target = factory if inspect.isfunction(factory) or inspect.ismethod(factory) else type(factory).__call__
    accepted = _accepted(getattr(target, "__func__", target))
    kwargs = extras if accepted is None else {k: v for k, v in extras.items() if k in accepted}
    return factory(channels, name=name, **kwargs)


def call_conditional(factory: Any, channels: int, *, name: str, **extras: Any) -> Any:
    """Call a conditional normalization's `conditional` method the same lenient way."""
    method = factory.conditional
    accepted = _accepted(getattr(method, "__func__", method))
    kwargs = extras if accepted is None else {k: v for k, v in extras.items() if k in accepted}
    return method(channels, name=name, **kwargs)


def is_conditional(norm: Any) -> bool:
    """True when a normalization block factory wants a condition map (it has `conditional`)."""
    return callable(getattr(norm, "conditional", None)) and int(getattr(norm, "condition_channels", 0)) > 0
