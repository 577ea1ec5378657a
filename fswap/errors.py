"""Error types. Every user-facing failure is an FswapError subclass; the CLI prints it on one line."""

from __future__ import annotations


class FswapError(Exception):
    """Base of every error fswap reports to a user (exit code 2 from the CLI)."""

    exit_code = 2


class ConfigError(FswapError):
    """pipeline.toml or a component option is wrong (names the file, section and what would be valid)."""


class ComponentNotFoundError(ConfigError):
    """A `use = "…"` names no component of that kind."""


class PluginError(FswapError):
    """A plugin failed to load or register (exit code 2: disable it or install what it needs)."""


class PluginFailure(PluginError):
    """A component raised, or broke its contract, while being built or run.

    The message names the component, its kind, section and distribution, what it was processing and the
    FSWAP_DISABLE_PLUGINS switch. Exit code 1, like a bug, but the line says whose bug it is (never
    "internal error", which is kept for fswap's own)."""

    exit_code = 1


class InputError(FswapError):
    """An input file (image, video, face set, checkpoint) is missing, unreadable or unusable."""


class StageError(FswapError):
    """A stage cannot proceed (e.g. no faces found, nothing to resume)."""


class WeightsError(FswapError):
    """Model weights are missing, unverifiable or cannot be fetched."""


class TrainingError(FswapError):
    """Training cannot continue (e.g. repeated non-finite losses)."""
