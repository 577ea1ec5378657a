"""Helpers to declare documented, validated options on frozen attrs config classes.

Every component config is a frozen attrs class whose fields are declared with :func:`option`; the help text
travels in the field metadata so `fswap plugins show` and `fswap schema` can print it without importing
TensorFlow.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import attrs

HELP = "fswap_help"
COMPONENT_KIND = "fswap_component_kind"
COMPONENT_LIST = "fswap_component_list"


def option(default: Any = attrs.NOTHING, *, help: str, validator: Any = None, factory: Any = None) -> Any:
    """A config field with a help text (and optional attrs validator)."""
    kwargs: dict[str, Any] = {"metadata": {HELP: help}}
    if factory is not None:
        kwargs["factory"] = factory
    else:
        kwargs["default"] = default
    if validator is not None:
        kwargs["validator"] = validator
    return attrs.field(**kwargs)


def help_of(field: attrs.Attribute) -> str:
    """The help text stored on an option."""
    return str(field.metadata.get(HELP, ""))


# -- validators that produce messages users can act on -------------------------------------------------


def at_least(minimum: float) -> Callable[[Any, attrs.Attribute, Any], None]:
    def check(_inst: Any, attribute: attrs.Attribute, value: Any) -> None:
        if value is not None and value < minimum:
            raise ValueError(f"{attribute.name} must be ≥ {minimum}, received {value!r}")

    return check


def at_most(maximum: float) -> Callable[[Any, attrs.Attribute, Any], None]:
    def check(_inst: Any, attribute: attrs.Attribute, value: Any) -> None:
        if value is not None and value > maximum:
            raise ValueError(f"{attribute.name} must be ≤ {maximum}, received {value!r}")

    return check


def between(minimum: float, maximum: float) -> Callable[[Any, attrs.Attribute, Any], None]:
    def check(_inst: Any, attribute: attrs.Attribute, value: Any) -> None:
        if value is not None and not (minimum <= value <= maximum):
            raise ValueError(f"{attribute.name} must be between {minimum} and {maximum}, received {value!r}")

    return check


def one_of(choices: Sequence[Any]) -> Callable[[Any, attrs.Attribute, Any], None]:
    def check(_inst: Any, attribute: attrs.Attribute, value: Any) -> None:
        if value not in choices:
            valid = ", ".join(repr(c) for c in choices)
            raise ValueError(f"{attribute.name} must be one of {valid}, received {value!r}")

    return check


def length(n: int) -> Callable[[Any, attrs.Attribute, Any], None]:
    def check(_inst: Any, attribute: attrs.Attribute, value: Any) -> None:
        if value is not None and len(value) != n:
            raise ValueError(f"{attribute.name} must have {n} items, received {len(value)}")

    return check


def component(kind: str, default: str | None, *, help: str) -> Any:
    """A field holding a component chosen in TOML with `use = "<name>"` (a table of the same name).

    The structurer fills it with a :class:`fswap.components.ComponentChoice`; `default` is the component
    used when the table is absent (None: the component is optional and the field stays None).
    """
    return attrs.field(default=None, metadata={HELP: help, COMPONENT_KIND: (kind, default)})


def component_list(kind: str, default: Sequence[str], *, help: str) -> Any:
    """A field holding several components of one kind, written as a table of tables in TOML:
    `[train.losses.edge]` (the key is the component name unless `use = "…"` says otherwise).
    Giving the table replaces the default list entirely."""
    return attrs.field(factory=tuple, metadata={HELP: help, COMPONENT_LIST: (kind, tuple(default))})
