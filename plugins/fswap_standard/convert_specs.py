"""Specs of the standard conversion components (trackers, blenders, colour transfers, writers)."""

from __future__ import annotations

import attrs

from fswap import ComponentSpec, Kind


@attrs.frozen
class NoTrackerConfig:
    """The `none` tracker has no options."""


TRACKERS: list[ComponentSpec] = [
    ComponentSpec(
        kind=Kind.TRACKER,
        name="none",
        factory="fswap_standard.trackers:PassThroughTracker",
        config=NoTrackerConfig,
        summary="No smoothing: every detection is its own face; frames without detection get none.",
    )
]
BLENDERS: list[ComponentSpec] = []
COLOR_TRANSFERS: list[ComponentSpec] = []
WRITERS: list[ComponentSpec] = []
