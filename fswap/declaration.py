"""Declaring a component once: `@fswap.declare(...)` on its config class, `fswap.declared(...)` in the hook.

A component is its config class (a frozen attrs class, TensorFlow-free) plus an implementation named by a
lazy "module:attr" factory string. The decorator turns the pair into the :class:`ComponentSpec` the
catalog holds, with the class docstring's first paragraph as its summary; the plugin's one registration
hook returns `fswap.declared(module, ...)`, every component declared in those modules. So a component is
written in one place, and adding one is one class (plus its implementation)::

    @fswap.declare("blender", "paste", factory="my_pkg.blend:PasteBlender")
    class PasteOptions(fswap.NoOptions):
        \"\"\"Pastes the generated face into the frame without feathering.\"\"\"

Nothing here imports TensorFlow, Keras or OpenCV.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import TypeVar

import attrs

from fswap.components import ComponentSpec, Kind
from fswap.errors import PluginError

SPEC_ATTRIBUTE = "__fswap_component__"
"""The class attribute holding a declared config class's ComponentSpec."""

C = TypeVar("C", bound=type)


@attrs.frozen
class NoOptions:
    """The config of a component that has no options: subclass it, with the component's docstring."""


def summary_of(cls: type) -> str:
    """The first paragraph of a class's own docstring, on one line ('' when it has none)."""
    doc = cls.__dict__.get("__doc__") or ""
    first = inspect.cleandoc(doc).split("\n\n", 1)[0]
    return " ".join(first.split())


def declare(kind: Kind | str, name: str, *, factory: str, aliases: Sequence[str] = (),
            summary: str | None = None, default_for: Sequence[str] = ()) -> Callable[[C], C]:
    """Declare the decorated config class as component `name` of `kind`, built by `factory(config)`.

    `summary` defaults to the class docstring's first paragraph. `default_for` lists the slot roles the
    component fills when a pipeline names none (usually `[kind]`; see ComponentSpec). The class must be a
    frozen attrs class (subclass :class:`NoOptions` when the component has no options). A mistake is a
    ValueError at import time, naming the class, so a broken declaration fails where it is written.
    """

    def decorate(cls: C) -> C:
        where = f"{cls.__module__}.{cls.__qualname__}"
        if not attrs.has(cls):
            raise ValueError(f"@fswap.declare on {where}: the config class must be an attrs class "
                             "(@attrs.frozen, or a subclass of fswap.NoOptions)")
        if SPEC_ATTRIBUTE in cls.__dict__:
            raise ValueError(f"@fswap.declare on {where}: the class is already declared as "
                             f"{cls.__dict__[SPEC_ATTRIBUTE].kind} '{cls.__dict__[SPEC_ATTRIBUTE].name}'; "
                             "give each component its own config class (a subclass is enough)")
        text = summary if summary is not None else summary_of(cls)
        try:
            spec = ComponentSpec(kind=kind, name=name, factory=factory, config=cls, summary=text,
                                 aliases=tuple(aliases), default_for=tuple(default_for))
        except ValueError as exc:
            raise ValueError(f"@fswap.declare on {where}: {exc}") from exc
        setattr(cls, SPEC_ATTRIBUTE, spec)
        return cls

    return decorate


def spec_of(cls: type) -> ComponentSpec | None:
    """The spec declared on `cls` itself (a subclass of a declared class is not that component)."""
    spec = cls.__dict__.get(SPEC_ATTRIBUTE) if isinstance(cls, type) else None
    return spec if isinstance(spec, ComponentSpec) else None


def declared(*modules: ModuleType) -> list[ComponentSpec]:
    """Every component declared in `modules`, in module order and then in the order of definition.

    Only classes defined in a module count (an imported declared class is its own module's), so a module
    may import another's configs without registering them twice. A module declaring nothing is a
    PluginError: the hook would otherwise register silently less than its author meant.
    """
    specs: list[ComponentSpec] = []
    for module in modules:
        if not isinstance(module, ModuleType):
            raise PluginError(f"fswap.declared() takes modules, received {type(module).__name__} {module!r}")
        found = [spec for value in vars(module).values()
                 if (spec := spec_of(value)) is not None and value.__module__ == module.__name__]
        if not found:
            raise PluginError(f"module {module.__name__} declares no component (decorate its config "
                              "classes with @fswap.declare)")
        specs.extend(found)
    return specs
