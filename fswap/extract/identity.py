"""Per-track identity decisions for extract's `policy = "identity"`: the faces of a track share one verdict.

Each frame's detections go through a tracker (the convert tracker component, `[extract] tracker`), so a face
carries a track id. A shot cut (`fswap.video.cuts.CutDetector`) ends every track: the tracker is reset and
no identity carries across the cut. The faces of a track are held back (not written) with their identity
distance to the side's reference and, when there are negative references ("not this person"), their distance
to the nearest of those. A track's *segment* is decided when the track ends (not seen for `gap` frames, a cut,
or the end of the input) or when it has held `max_faces` faces (a long shot: the next faces start a new
segment of the same track):

* accepted when the mean distance to the reference is at most the threshold, and, with negative references,
  below the mean distance to the nearest negative reference;
* with hysteresis across the segments of one track: a segment that follows an accepted segment may reach
  threshold + margin, one that follows a rejected segment must stay below threshold − margin. A face then does
  not flip between kept and left inside a track, unless the track's faces really changed person.

Accepted segments are written to the face set; rejected ones are counted and shown on the contact sheet.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np
from scipy.optimize import linear_sum_assignment

from fswap.components import Detection, Tracker
from fswap.convert.tracking import iou


@attrs.define(eq=False)
class PendingFace:
    """A face held back until its track is decided: where it is, its distances and what to write."""

    frame: int
    distance: float
    negative: float | None  # distance to the nearest negative reference (None without any)
    image: np.ndarray
    payload: Any  # what the stage writes when the track is accepted


@attrs.define(eq=False)
class Segment:
    """Consecutive faces of one track, decided together."""

    track_id: int
    faces: list[PendingFace] = attrs.field(factory=list)
    accepted: bool | None = None
    reason: str = ""

    @property
    def first(self) -> int:
        return self.faces[0].frame

    @property
    def last(self) -> int:
        return self.faces[-1].frame

    @property
    def mean_distance(self) -> float:
        return float(np.mean([f.distance for f in self.faces]))

    @property
    def mean_negative(self) -> float | None:
        values = [f.negative for f in self.faces if f.negative is not None]
        return float(np.mean(values)) if values else None

    def middle_image(self) -> np.ndarray:
        return self.faces[len(self.faces) // 2].image


def match_tracks(tracked: Sequence[Any], detections: Sequence[Detection]) -> list[int | None]:
    """For each detection, the id of the tracked face whose (smoothed) box overlaps it most (None if none)."""
    out: list[int | None] = [None] * len(detections)
    if not tracked or not detections:
        return out
    scores = np.array([[iou(t.detection.box, d.box) for d in detections] for t in tracked])
    rows, cols = linear_sum_assignment(-scores)
    for r, c in zip(rows, cols, strict=True):
        if scores[r, c] > 0.0:
            out[int(c)] = int(tracked[r].track_id)
    return out


class TrackIdentity:
    """Follows the faces of one side and decides per track segment whether they are the wanted person."""

    def __init__(
        self,
        tracker: Tracker,
        *,
        threshold: float,
        margin: float,
        cuts: Any | None = None,
        gap: int = 8,
        max_faces: int = 200,
    ) -> None:
        self.tracker = tracker
        self.threshold = threshold
        self.margin = margin
        self.cuts = cuts
        self.gap = gap
        self.max_faces = max_faces
        self.open: dict[int, Segment] = {}
        self.last_seen: dict[int, int] = {}
        self.verdicts: dict[int, bool] = {}  # last verdict per track id, for the hysteresis
        self.frames_seen = 0
        self.cut_count = 0
        self._epoch = 0  # tracker ids restart after a cut: keys are offset per shot
        self._lone = -1  # detections no track took (a tracker's max_faces): one-face tracks

    def frame(
        self, index: int, frame: np.ndarray, detections: list[Detection]
    ) -> tuple[list[Segment], list[int]]:
        """Take a frame: segments ended by a cut or by absence, and the track key of each detection."""
        ended: list[Segment] = []
        self.frames_seen += 1
        if self.cuts is not None and self.cuts.is_cut(frame):
            self.cut_count += 1
            ended.extend(self.finish())
            self.tracker.reset()
            self._epoch += 1
        ids = match_tracks(self.tracker.update(index, list(detections)), detections)
        keys = []
        for track_id in ids:
            if track_id is None:
                keys.append(self._lone)
                self._lone -= 1
            else:
                keys.append(self._epoch * 1_000_000 + track_id)
        for key in keys:
            self.last_seen[key] = self.frames_seen
        stale = [k for k in self.open if self.frames_seen - self.last_seen.get(k, 0) > self.gap]
        ended.extend(self._close(k) for k in stale)
        return ended, keys

    def add(self, key: int, face: PendingFace) -> list[Segment]:
        """Hold a face for its track; a segment that reached max_faces is decided and returned."""
        segment = self.open.setdefault(key, Segment(track_id=key))
        segment.faces.append(face)
        if len(segment.faces) >= self.max_faces:
            return [self._close(key)]
        return []

    def finish(self) -> list[Segment]:
        """Decide every open segment (end of input or a cut)."""
        return [self._close(k) for k in list(self.open)]

    def oldest_pending(self) -> int | None:
        """The first frame with a face still held back (frames from there on are not done yet)."""
        firsts = [s.first for s in self.open.values() if s.faces]
        return min(firsts) if firsts else None

    def _close(self, key: int) -> Segment:
        segment = self.open.pop(key)
        self.decide(segment)
        return segment

    def decide(self, segment: Segment) -> None:
        """Set the segment's verdict and reason (see the module docstring)."""
        previous = self.verdicts.get(segment.track_id)
        limit = self.threshold
        if previous is True:
            limit += self.margin
        elif previous is False:
            limit -= self.margin
        mean = segment.mean_distance
        negative = segment.mean_negative
        if mean > limit:
            segment.accepted = False
            segment.reason = f"mean distance {mean:.3f} > {limit:.3f}"
        elif negative is not None and negative <= mean:
            segment.accepted = False
            segment.reason = f"nearer a negative reference ({negative:.3f} ≤ {mean:.3f})"
        else:
            segment.accepted = True
            segment.reason = f"mean distance {mean:.3f} ≤ {limit:.3f}"
        self.verdicts[segment.track_id] = segment.accepted
