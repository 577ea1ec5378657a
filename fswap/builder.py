"""Makes components from the choices in a validated pipeline: the first place heavy libraries load."""

from __future__ import annotations

from typing import Any

from fswap.components import ComponentChoice
from fswap.errors import FswapError, PluginError, PluginFailure
from fswap.kinds import info, missing_members
from fswap.plugins import DISABLE_ENV


def build(choice: ComponentChoice) -> Any:
    """Import the component's factory and call it with its own frozen config (and nothing else).

    A factory that cannot be imported is a PluginError (the plugin does not load: exit 2); one that raises
    is a PluginFailure (exit 1); one that builds an object lacking a member of its kind's Protocol
    (fswap.kinds) is a PluginError. All name the section, the component, its distribution and the switch."""
    try:
        factory = choice.spec.load_factory()
    except PluginError as exc:
        raise PluginError(
            f"[{choice.section}] {exc} (from {choice.provider}); install what it needs, choose another "
            f"component or disable the plugin with {DISABLE_ENV}={choice.provider.plugin}"
        ) from exc
    try:
        built = factory(choice.config)
    except FswapError:
        raise
    except Exception as exc:
        raise PluginFailure(
            f"[{choice.section}] {choice.spec.kind} '{choice.spec.name}' ({choice.provider}) "
            f"failed to build: {type(exc).__name__}: {exc}. Choose another component or disable the "
            f"plugin with {DISABLE_ENV}={choice.provider.plugin}"
        ) from exc
    missing = missing_members(choice.spec.kind, built)
    if missing:
        row = info(choice.spec.kind)
        raise PluginError(
            f"[{choice.section}] {choice.spec.kind} '{choice.spec.name}' ({choice.provider}): its factory "
            f"{choice.spec.factory} built a {type(built).__name__} without {', '.join(missing)}, which every "
            f"{choice.spec.kind} must have ({row.protocol.__module__}.{row.protocol.__name__}; `fswap docs "
            f"contracts`). Choose another component or disable the plugin with "
            f"{DISABLE_ENV}={choice.provider.plugin}"
        )
    return built
