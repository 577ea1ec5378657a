"""Turns TOML tables into frozen attrs configs, with errors that name the file, section and valid values.

Used for the pipeline skeleton, each stage's config and every component's own config class. Unknown keys
are rejected, types are checked (ints are accepted where floats are expected), relative paths are resolved
against the TOML file's folder, and attrs validators' messages are passed on with the section path.
"""

from __future__ import annotations

import difflib
import enum
import math
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, Union

import attrs

from fswap.components import ComponentChoice, Kind
from fswap.errors import ConfigError
from fswap.options import COMPONENT_KIND, COMPONENT_LIST, help_of

if typing.TYPE_CHECKING:
    from fswap.catalog import Catalog


@attrs.frozen
class Context:
    """Where values come from: the source name for messages, the folder for relative paths, the catalog."""

    source: str = "pipeline.toml"
    base_dir: Path = attrs.field(factory=Path.cwd)
    catalog: Catalog | None = None


def where(ctx: Context, section: str, component: str | None = None) -> str:
    text = f"{ctx.source} [{section}]" if section else ctx.source
    return f"{text} ({component})" if component else text


def field_types(cls: type) -> dict[str, Any]:
    """Resolved type hints of an attrs class (string annotations included)."""
    return typing.get_type_hints(cls)


def describe_type(tp: Any) -> str:
    """A short human description of a type for messages and generated docs."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return "any value"
    if origin in (Union, types.UnionType):
        inner = [describe_type(a) for a in args if a is not type(None)]
        return " or ".join(inner) + (" (optional)" if type(None) in args else "")
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if tp is bool:
        return "a boolean"
    if tp is int:
        return "an integer"
    if tp is float:
        return "a number"
    if tp is str:
        return "a string"
    if tp is Path:
        return "a path"
    if origin in (tuple, list):
        if origin is tuple and args and args[-1] is not Ellipsis:
            return f"a list of {len(args)} items (" + ", ".join(describe_type(a) for a in args) + ")"
        item = args[0] if args else Any
        return f"a list of ({describe_type(item)})"
    if origin is dict:
        return f"a table of ({describe_type(args[1]) if len(args) > 1 else 'values'})"
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return "one of " + ", ".join(repr(m.value) for m in tp)
    if isinstance(tp, type) and attrs.has(tp):
        return "a table"
    return getattr(tp, "__name__", str(tp))


class _Mismatch(Exception):
    """A value does not fit a type (turned into a ConfigError with the location by the caller)."""


def convert_value(value: Any, tp: Any, ctx: Context, section: str) -> Any:
    """Convert one TOML value to `tp`, raising _Mismatch when it does not fit."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return value
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        for arg in args:
            if arg is type(None):
                continue
            try:
                return convert_value(value, arg, ctx, section)
            except _Mismatch:
                continue
        raise _Mismatch
    if origin is Literal:
        if value in args and type(value) is type(next(a for a in args if a == value)):
            return value
        raise _Mismatch
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise _Mismatch
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise _Mismatch
    if tp is float:
        if isinstance(value, int | float) and not isinstance(value, bool) and not math.isnan(value):
            return float(value)  # TOML's nan is never a meaningful setting
        raise _Mismatch
    if tp is str:
        if isinstance(value, str):
            return value
        raise _Mismatch
    if tp is Path:
        if isinstance(value, str) and value:
            try:  # "~nobody" or an embedded NUL byte cannot become a path
                path = Path(value).expanduser()
                return path if path.is_absolute() else (ctx.base_dir / path).resolve()
            except (RuntimeError, ValueError, OSError):
                raise _Mismatch from None
        if isinstance(value, Path):
            return value
        raise _Mismatch
    if origin in (tuple, list):
        if not isinstance(value, list | tuple):
            raise _Mismatch
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(value) != len(args):
                raise _Mismatch
            return tuple(convert_value(v, a, ctx, section) for v, a in zip(value, args, strict=True))
        item = args[0] if args else Any
        items = [convert_value(v, item, ctx, section) for v in value]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        if not isinstance(value, Mapping):
            raise _Mismatch
        vt = args[1] if len(args) > 1 else Any
        return {str(k): convert_value(v, vt, ctx, section) for k, v in value.items()}
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        try:
            return tp(value)
        except ValueError:
            raise _Mismatch from None
    if isinstance(tp, type) and attrs.has(tp):
        if isinstance(value, tp):
            return value
        if not isinstance(value, Mapping):
            raise _Mismatch
        return structure(tp, value, ctx=ctx, section=section)
    if isinstance(tp, type) and isinstance(value, tp):
        return value
    raise _Mismatch


def structure(
    cls: type, data: Mapping[str, Any], *, ctx: Context, section: str, component: str | None = None
) -> Any:
    """Build `cls` from `data`; every problem is a ConfigError naming `ctx.source [section]`."""
    loc = where(ctx, section, component)
    if not isinstance(data, Mapping):
        raise ConfigError(f"{loc}: expected a table, received {data!r}")
    prepare = getattr(cls, "prepare_table", None)  # a class may fill in defaults that depend on the table
    if callable(prepare):
        data = prepare(data, loc, ctx.catalog)
    fields = {f.name: f for f in attrs.fields(cls) if f.init}
    hints = field_types(cls)
    unknown = [key for key in data if key not in fields]
    if unknown:
        valid = ", ".join(fields) or "none"
        plural = "s" if len(unknown) > 1 else ""
        names = ", ".join(repr(k) for k in unknown)
        close = difflib.get_close_matches(str(unknown[0]), list(fields), n=1, cutoff=0.6)
        hint = f". Did you mean '{close[0]}'?" if len(unknown) == 1 and close else ""
        raise ConfigError(f"{loc}: unknown option{plural} {names}; valid: {valid}{hint}")
    kwargs: dict[str, Any] = {}
    for name, field in fields.items():
        sub = f"{section}.{name}" if section else name
        if COMPONENT_KIND in field.metadata:
            kind, role = field.metadata[COMPONENT_KIND]
            table = data.get(name)
            if table is None and role is None:
                continue
            if table is None or (isinstance(table, Mapping) and "use" not in table and role is not None):
                # the plugins' default for the slot's role; a table without `use` gives its options
                table = {"use": default_name(ctx, Kind(kind), role, where(ctx, sub)), **(table or {})}
            kwargs[name] = structure_component(Kind(kind), table, ctx=ctx, section=sub)
            continue
        if COMPONENT_LIST in field.metadata:
            kind, role = field.metadata[COMPONENT_LIST]
            tables = data.get(name)
            if tables is None:
                tables = {n: {} for n in default_names(ctx, Kind(kind), role, where(ctx, sub))}
            if not isinstance(tables, Mapping):
                raise ConfigError(
                    f"{where(ctx, sub)}: expected tables like [{sub}.<name>], received {tables!r}"
                )
            choices = []
            for key, table in tables.items():
                if not isinstance(table, Mapping):
                    raise ConfigError(
                        f"{where(ctx, f'{sub}.{key}')}: expected a table [{sub}.{key}] of options, "
                        f"received {table!r}"
                    )
                choices.append(
                    structure_component(Kind(kind), {"use": key, **table}, ctx=ctx, section=f"{sub}.{key}")
                )
            kwargs[name] = tuple(choices)
            continue
        tp = hints.get(name, Any)
        if name not in data:
            if isinstance(tp, type) and attrs.has(tp) and field.default is attrs.NOTHING:
                kwargs[name] = structure(tp, {}, ctx=ctx, section=sub)  # nested table with its defaults
            continue
        try:
            kwargs[name] = convert_value(data[name], tp, ctx, sub)
        except _Mismatch:
            raise ConfigError(
                f"{loc}: {name} must be {describe_type(tp)}, received {data[name]!r}"
            ) from None
    missing = [n for n, f in fields.items() if f.default is attrs.NOTHING and n not in kwargs]
    if missing:
        field = fields[missing[0]]
        hint = f" ({help_of(field)})" if help_of(field) else ""
        raise ConfigError(
            f"{loc}: missing required option '{field.name}' ({describe_type(hints.get(field.name, Any))})"
            f"{hint}"
        )
    try:
        return cls(**kwargs)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{loc}: {exc}") from exc


def default_name(ctx: Context, kind: Kind, role: str, where_text: str) -> str:
    """The component an installed plugin declares default for `role` of `kind` (fswap.catalog)."""
    if ctx.catalog is None:
        raise ConfigError(f"{where_text}: no plugin catalog available to resolve components")
    return ctx.catalog.default(kind, role, where=where_text)


def default_names(ctx: Context, kind: Kind, role: str, where_text: str) -> list[str]:
    """Every component declared default for `role` of `kind`: the default list of a component list."""
    if ctx.catalog is None:
        raise ConfigError(f"{where_text}: no plugin catalog available to resolve components")
    return [entry.spec.name for entry in ctx.catalog.defaults(kind, role)]


def structure_component(
    kind: Kind, table: Mapping[str, Any], *, ctx: Context, section: str
) -> ComponentChoice:
    """Look up `use` in the catalog and structure the remaining keys into that component's config."""
    if ctx.catalog is None:
        raise ConfigError(f"{where(ctx, section)}: no plugin catalog available to resolve components")
    if not isinstance(table, Mapping):
        raise ConfigError(
            f"{where(ctx, section)}: expected a table with use = \"<{kind}>\", received {table!r}"
        )
    use = table.get("use")
    if not isinstance(use, str):
        valid = ", ".join(ctx.catalog.names(kind)) or "none installed"
        raise ConfigError(f"{where(ctx, section)}: missing use = \"<{kind} name>\"; available: {valid}")
    entry = ctx.catalog.get(kind, use, where=where(ctx, section))
    options = {k: v for k, v in table.items() if k != "use"}
    config = structure(entry.spec.config, options, ctx=ctx, section=section, component=entry.spec.name)
    return ComponentChoice(spec=entry.spec, config=config, provider=entry.provider, section=section)


def unstructure(value: Any) -> Any:
    """The inverse direction, for writing the resolved config (JSON-friendly)."""
    if isinstance(value, ComponentChoice):
        return {"use": value.spec.name, **unstructure(value.config)}
    if attrs.has(type(value)):
        return {f.name: unstructure(getattr(value, f.name)) for f in attrs.fields(type(value))}
    if isinstance(value, tuple | list):
        return [unstructure(v) for v in value]
    if isinstance(value, dict):
        return {k: unstructure(v) for k, v in value.items()}
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    return value
