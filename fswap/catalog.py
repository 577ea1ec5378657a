"""The catalog: kind → name → component spec, built once per run from the plugin manager."""

from __future__ import annotations

import difflib
from collections.abc import Iterator

import attrs

from fswap.components import ComponentSpec, Kind, Provider
from fswap.errors import ComponentNotFoundError, ConfigError, PluginError
from fswap.hookspecs import REGISTRATION_HOOK
from fswap.plugins import DISABLE_ENV, PluginManager


@attrs.frozen
class Entry:
    """A registered component and where it came from."""

    spec: ComponentSpec
    provider: Provider


class Catalog:
    """Every component the installed plugins offer, indexed by kind and name (aliases included)."""

    def __init__(self) -> None:
        self._entries: dict[Kind, dict[str, Entry]] = {kind: {} for kind in Kind}
        self._aliases: dict[Kind, dict[str, str]] = {kind: {} for kind in Kind}

    @classmethod
    def from_plugin_manager(cls, pm: PluginManager) -> Catalog:
        """Every spec the plugins' `fswap_register_components` hooks return; a malformed answer is a
        PluginError naming the plugin, its distribution and the switch that disables it."""
        catalog = cls()
        hook = getattr(pm.hook, REGISTRATION_HOOK)
        for impl in hook.get_hookimpls():
            provider = pm.provider_of(impl.plugin_name)
            who = f"plugin '{impl.plugin_name}' ({provider})"
            try:
                specs = impl.function() or []
            except Exception as exc:
                raise PluginError(
                    f"{who} raised in {REGISTRATION_HOOK}: {type(exc).__name__}: {exc}. "
                    f"Disable it with {DISABLE_ENV}={impl.plugin_name}"
                ) from exc
            if not isinstance(specs, list | tuple):
                raise PluginError(f"{who} returned {type(specs).__name__} from {REGISTRATION_HOOK}; "
                                  "expected a list of ComponentSpec (fswap.declared(module, ...))")
            for spec in specs:
                if not isinstance(spec, ComponentSpec):
                    raise PluginError(f"{who} returned {type(spec).__name__} from {REGISTRATION_HOOK}; "
                                      "expected ComponentSpec (fswap.declared(module, ...))")
                catalog.add(spec, provider)
        return catalog

    def add(self, spec: ComponentSpec, provider: Provider) -> None:
        """Add one component; a name (or alias) already taken is an error naming both providers."""
        for name in (spec.name, *spec.aliases):
            existing = self._lookup(spec.kind, name)
            if existing is not None:
                raise PluginError(
                    f"{spec.kind} name '{name}' is registered twice: by {existing.provider} "
                    f"(plugin '{existing.provider.plugin}') and by {provider} (plugin '{provider.plugin}'). "
                    f"Disable one with {DISABLE_ENV}=<plugin>"
                )
        self._entries[spec.kind][spec.name] = Entry(spec, provider)
        for alias in spec.aliases:
            self._aliases[spec.kind][alias] = spec.name

    def _lookup(self, kind: Kind, name: str) -> Entry | None:
        name = self._aliases[kind].get(name, name)
        return self._entries[kind].get(name)

    def get(self, kind: Kind | str, name: str, *, where: str = "") -> Entry:
        """The entry for `name`, or a ComponentNotFoundError listing what exists and the closest match."""
        kind = Kind(kind)
        entry = self._lookup(kind, name)
        if entry is not None:
            return entry
        available = self.names(kind)
        listing = ", ".join(f"{n} ({self._entries[kind][n].provider})" for n in available) or "none installed"
        close = difflib.get_close_matches(name, [*available, *self._aliases[kind]], n=1, cutoff=0.6)
        hint = f" Did you mean '{self._aliases[kind].get(close[0], close[0])}'?" if close else ""
        if not close:
            other = [k for k in Kind if k != kind and self._lookup(k, name) is not None]
            if other:
                article = "an" if str(other[0])[0] in "aeiou" else "a"
                hint = f" '{name}' is {article} {other[0]}, not a {kind}."
        prefix = f"{where}: " if where else ""
        raise ComponentNotFoundError(f"{prefix}no {kind} named '{name}'. Available: {listing}.{hint}")

    def names(self, kind: Kind | str) -> list[str]:
        return sorted(self._entries[Kind(kind)])

    def defaults(self, kind: Kind | str, role: str | None = None) -> list[Entry]:
        """The components of `kind` whose plugins declare them default for `role` (the kind's own name
        when None), by name."""
        kind = Kind(kind)
        role = role or kind.value
        entries = self._entries[kind]
        return [entries[n] for n in self.names(kind) if role in entries[n].spec.default_for]

    def sole_default(self, kind: Kind | str, role: str | None = None) -> str:
        """The name of the one component declared default for `role` of `kind`; '' when none or several
        are (for reports and optional uses, where `default`'s errors would be wrong)."""
        found = self.defaults(kind, role)
        return found[0].spec.name if len(found) == 1 else ""

    def default(self, kind: Kind | str, role: str | None = None, *, where: str = "") -> str:
        """The name of the one component declared default for `role` of `kind`: a ConfigError when none
        is installed (listing what is), a PluginError naming the plugins when several claim it."""
        kind = Kind(kind)
        found = self.defaults(kind, role)
        if len(found) == 1:
            return found[0].spec.name
        prefix = f"{where}: " if where else ""
        what = f"{kind}" if role in (None, kind.value) else f"{kind} for {role}"
        if not found:
            listing = ", ".join(self.names(kind)) or "none installed"
            raise ConfigError(f"{prefix}no installed plugin provides a default {what}; choose one with "
                              f"use = \"<name>\" (available: {listing})")
        claims = ", ".join(f"'{e.spec.name}' (plugin '{e.provider.plugin}', {e.provider})" for e in found)
        raise PluginError(f"{prefix}several plugins declare the default {what}: {claims}. Name one with "
                          f"use = \"<name>\", or disable a plugin with {DISABLE_ENV}=<plugin>")

    def __iter__(self) -> Iterator[Entry]:
        for kind in Kind:
            for name in sorted(self._entries[kind]):
                yield self._entries[kind][name]

    def __contains__(self, item: tuple[Kind | str, str]) -> bool:
        kind, name = item
        return self._lookup(Kind(kind), name) is not None
