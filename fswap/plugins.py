"""Builds the plugin manager for one run from the `fswap.plugins` entry-point group (never global)."""

from __future__ import annotations

import importlib.metadata as md
import os
from collections.abc import Iterable
from typing import Any

import pluggy

from fswap import hookspecs
from fswap.components import Provider
from fswap.errors import PluginError

ENTRY_POINT_GROUP = "fswap.plugins"
DISABLE_ENV = "FSWAP_DISABLE_PLUGINS"


class PluginManager(pluggy.PluginManager):
    """pluggy's manager plus the provider (distribution, version) of every registered plugin."""

    def __init__(self) -> None:
        super().__init__("fswap")
        self.add_hookspecs(hookspecs)
        self.providers: dict[str, Provider] = {}

    def register_plugin(self, plugin: Any, name: str, provider: Provider) -> None:
        self.register(plugin, name=name)
        self.providers[name] = provider

    def provider_of(self, plugin_name: str) -> Provider:
        return self.providers.get(plugin_name, Provider(plugin_name, plugin_name, "unknown"))

    def notify(self, hook_name: str, doing: str, **kwargs: Any) -> list[Any]:
        """Call a lifecycle hook (e.g. fswap_pipeline_built) through pluggy; an implementation that raises
        is one PluginFailure naming its plugin, distribution, what was `doing` and the switch.

        The failing implementation is the innermost traceback frame running one of the hook's functions;
        when none is found (it raised from code it called elsewhere) every implementer is listed."""
        from fswap.errors import FswapError, PluginFailure
        from fswap.frame_guard import exception_line

        caller = getattr(self.hook, hook_name)
        try:
            return list(caller(**kwargs))
        except FswapError:
            raise
        except Exception as exc:  # a plugin's hook implementation failed
            impls = {impl.function.__code__: impl.plugin_name for impl in caller.get_hookimpls()
                     if hasattr(impl.function, "__code__")}
            names = []
            tb = exc.__traceback__
            while tb is not None:
                if tb.tb_frame.f_code in impls:
                    names = [impls[tb.tb_frame.f_code]]
                tb = tb.tb_next
            names = names or sorted(set(impls.values()))
            who = ", ".join(f"plugin '{n}' ({self.provider_of(n)})" for n in names)
            raise PluginFailure(
                f"{hook_name} hook of {who} failed {doing}: {exception_line(exc)}; fix or disable the "
                f"plugin with {DISABLE_ENV}={','.join(names)}"
            ) from exc


def disabled_plugins(environ: dict[str, str] | None = None) -> set[str]:
    """Entry-point names listed in FSWAP_DISABLE_PLUGINS (comma separated)."""
    raw = (environ if environ is not None else os.environ).get(DISABLE_ENV, "")
    return {part.strip() for part in raw.split(",") if part.strip()}


def _entry_points() -> Iterable[md.EntryPoint]:
    return md.entry_points(group=ENTRY_POINT_GROUP)


def make_plugin_manager(
    *, extra_plugins: Iterable[tuple[str, Any]] = (), environ: dict[str, str] | None = None
) -> PluginManager:
    """Load every installed fswap plugin (minus disabled ones) into a fresh manager.

    `extra_plugins` are (name, module-or-object) pairs registered as if they came from an entry point
    (used by tests and by programs embedding fswap). A plugin that fails to import is a PluginError
    naming the entry point, its distribution and the switch that disables it.
    """
    pm = PluginManager()
    disabled = disabled_plugins(environ)
    seen: dict[str, Provider] = {}
    for ep in sorted(_entry_points(), key=lambda e: e.name):
        dist = ep.dist
        provider = Provider(ep.name, dist.name if dist else "unknown", dist.version if dist else "unknown")
        if ep.name in disabled:
            continue
        if ep.name in seen:
            other = seen[ep.name]
            if (other.distribution, other.version) == (provider.distribution, provider.version):
                continue  # the same distribution visible twice on sys.path
            raise PluginError(
                f"plugin name '{ep.name}' is registered by both {other} and {provider}; uninstall one or "
                f"disable it with {DISABLE_ENV}={ep.name}"
            )
        seen[ep.name] = provider
        try:
            plugin = ep.load()
        except Exception as exc:
            raise PluginError(
                f"plugin '{ep.name}' ({provider}) failed to load: {type(exc).__name__}: {exc}. "
                f"Fix or uninstall it, or disable it with {DISABLE_ENV}={ep.name}"
            ) from exc
        try:
            pm.register_plugin(plugin, ep.name, provider)
        except pluggy.PluginValidationError as exc:
            raise PluginError(
                f"plugin '{ep.name}' ({provider}) has an invalid hook: {exc}. "
                f"Disable it with {DISABLE_ENV}={ep.name}"
            ) from exc
    for name, plugin in extra_plugins:
        if name in disabled:
            continue
        pm.register_plugin(plugin, name, Provider(name, name, "local"))
    _check_hook_names(pm)
    return pm


def _check_hook_names(pm: PluginManager) -> None:
    """A hookimpl whose name matches no spec (e.g. a misspelt `fswap_register_detector`) would be ignored
    silently by pluggy; make it an error naming the plugin instead."""
    for hook_name in dir(pm.hook):
        if hook_name.startswith("_"):
            continue
        caller = getattr(pm.hook, hook_name)
        if not isinstance(caller, pluggy.HookCaller) or caller.spec is not None:
            continue
        for impl in caller.get_hookimpls():
            if impl.optionalhook:
                continue
            provider = pm.provider_of(impl.plugin_name)
            if hook_name in hookspecs.RETIRED_HOOKS:
                raise PluginError(
                    f"plugin '{impl.plugin_name}' ({provider}) implements '{hook_name}', a registration hook "
                    f"of fswap 0.1; fswap {_version()} registers every kind through "
                    f"{hookspecs.REGISTRATION_HOOK}: declare each config class with @fswap.declare(kind, "
                    "name, factory=...) and return fswap.declared(module) (`fswap docs declare` shows the "
                    f"migration). Disable it with {DISABLE_ENV}={impl.plugin_name}"
                )
            raise PluginError(
                f"plugin '{impl.plugin_name}' ({provider}) implements '{hook_name}', which is not an fswap "
                f"hook (`fswap docs hooks` lists them). Disable it with {DISABLE_ENV}={impl.plugin_name}"
            )


def _version() -> str:
    from fswap import __version__

    return __version__
