"""Makes components from the choices in a validated pipeline: the first place heavy libraries load."""

from __future__ import annotations

from typing import Any

from fswap.components import ComponentChoice
from fswap.errors import FswapError, PluginError, PluginFailure
from fswap.plugins import DISABLE_ENV


def build(choice: ComponentChoice) -> Any:
    """Import the component's factory and call it with its own frozen config (and nothing else).

    A factory that cannot be imported is a PluginError (the plugin does not load: exit 2); one that raises
    is a PluginFailure (exit 1). Both name the section, the component, its distribution and the switch."""
    try:
        factory = choice.spec.load_factory()
    except PluginError as exc:
        raise PluginError(
            f"[{choice.section}] {exc} (from {choice.provider}); install what it needs, choose another "
            f"component or disable the plugin with {DISABLE_ENV}={choice.provider.plugin}"
        ) from exc
    try:
        return factory(choice.config)
    except FswapError:
        raise
    except Exception as exc:
        raise PluginFailure(
            f"[{choice.section}] {choice.spec.kind} '{choice.spec.name}' ({choice.provider}) "
            f"failed to build: {type(exc).__name__}: {exc}. Choose another component or disable the "
            f"plugin with {DISABLE_ENV}={choice.provider.plugin}"
        ) from exc
