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
COMPONENT_NAME = "fswap_component_name"
ABSENT = "fswap_absent"


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


def _no_named_default(call: str, kind: str, legacy: tuple[Any, ...]) -> None:
    if legacy:  # the spelling before defaults moved to the plugins
        raise TypeError(
            f"fswap.{call}({kind!r}, {legacy[0]!r}, …): a slot no longer names its default; the component "
            f"declares it (@fswap.declare(..., default_for=[{str(kind)!r}])), and a slot without a default "
            "is component(kind, optional=True, help=…) (`fswap docs declare`)")


def component(kind: str, *legacy: Any, help: str, role: str | None = None, optional: bool = False) -> Any:
    """A field holding a component chosen in TOML with `use = "<name>"` (a table of the same name).

    The structurer fills it with a :class:`fswap.components.ComponentChoice`. When the table is absent
    (or gives options without `use`), the component is the one an installed plugin declares default for
    `role` (the kind's own name unless given; `@fswap.declare(..., default_for=[role])`), so no config
    class names a concrete component. `optional`: no default, the field stays None when absent.
    """
    _no_named_default("component", kind, legacy)
    slot_role = None if optional else (role or str(kind))
    return attrs.field(default=None, metadata={HELP: help, COMPONENT_KIND: (str(kind), slot_role)})


def component_list(kind: str, *legacy: Any, help: str, role: str | None = None, absent: str = "") -> Any:
    """A field holding several components of one kind, written as a table of tables in TOML:
    `[train.losses.edge]` (the key is the component name unless `use = "…"` says otherwise).
    Absent, it holds every component declared default for `role` (the kind's name unless given);
    giving the table replaces that list entirely. `absent`: what the reference shows as the default
    when something else fills the list in (e.g. "the recipe's")."""
    _no_named_default("component_list", kind, legacy)
    return attrs.field(factory=tuple, metadata={HELP: help, COMPONENT_LIST: (str(kind), role or str(kind)),
                                                ABSENT: absent})


def component_name(kind: str, *, help: str) -> Any:
    """A field holding the name of a component of `kind` used as a whole (e.g. `[train] recipe = "fast"`);
    None when absent, for the config to resolve to the installed default of the kind."""
    return attrs.field(default=None, metadata={HELP: help, COMPONENT_NAME: str(kind)})
