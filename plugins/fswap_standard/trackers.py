"""Trackers of the standard plugin that need no third-party library."""

from __future__ import annotations

from fswap import Detection, TrackedFace
from fswap_standard.convert_config import NoTrackerConfig


class PassThroughTracker:
    """No smoothing: faces of each frame are returned as detected, numbered in detection order."""

    def __init__(self, config: NoTrackerConfig | None) -> None:
        self.config = config

    def update(self, frame_index: int, detections: list[Detection] | None) -> list[TrackedFace]:
        return [TrackedFace(track_id=i, detection=d) for i, d in enumerate(detections or [])]

    def reset(self) -> None:
        """Nothing to forget."""
