"""Multi-face tracking shared by the smoothing trackers.

Detections are matched to existing tracks by IoU (Hungarian assignment), so several faces keep stable
ids; each track owns a `Smoother` (Kalman, EMA, …) that filters one vector per face: the box corners
(x0, y0, x1, y1) followed by the flattened landmarks. On frames where detection was skipped the
smoothers predict. Only numpy and scipy are used here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import attrs
import numpy as np
from scipy.optimize import linear_sum_assignment

from fswap.components import Detection, TrackedFace


class Smoother(Protocol):
    """Filters the measurement vector of one face over time."""

    def update(self, z: np.ndarray) -> np.ndarray:
        """Take this frame's measurement and return the smoothed vector to use for this frame."""
        ...

    def predict(self) -> np.ndarray:
        """No measurement this frame: return the vector expected for this frame."""
        ...


SmootherFactory = Callable[[np.ndarray], Smoother]


def to_vector(detection: Detection) -> np.ndarray:
    """Box corners then landmarks, flattened: the quantity the smoothers filter."""
    x, y, w, h = detection.box
    return np.concatenate([[x, y, x + w, y + h], detection.landmarks.reshape(-1)]).astype(np.float64)


def from_vector(vector: np.ndarray, confidence: float) -> Detection:
    """Inverse of :func:`to_vector`."""
    x0, y0, x1, y1 = (float(v) for v in vector[:4])
    box = (x0, y0, x1 - x0, y1 - y0)
    return Detection(box=box, confidence=confidence, landmarks=vector[4:].reshape(-1, 2))


def iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """Intersection over union of two (x, y, w, h) boxes."""
    ax0, ay0, aw, ah = a
    bx0, by0, bw, bh = b
    iw = min(ax0 + aw, bx0 + bw) - max(ax0, bx0)
    ih = min(ay0 + ah, by0 + bh) - max(ay0, by0)
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    union = aw * ah + bw * bh - inter
    return float(inter / union) if union > 0 else 0.0


@attrs.define
class _Track:
    track_id: int
    smoother: Smoother
    size: int  # length of the filtered vector (changes of landmark count restart the track)
    detection: Detection  # what was output last
    missed: int = 0  # detection frames in a row without a match


class MultiFaceTracker:
    """Follows several faces with one smoother each.

    * detection frames: detections are matched to tracks (IoU ≥ `iou_threshold`, best total IoU);
      matched tracks are updated, unmatched detections start new tracks (new ids, never reused), and
      unmatched tracks are hidden but kept for `max_missed` detection frames so a face that the
      detector misses once keeps its id;
    * skipped frames (`detections is None`): the tracks seen on the last detection frame are predicted
      and returned with `observed=False`.
    `max_faces` > 0 keeps only that many most confident detections per frame.
    """

    def __init__(
        self,
        make_smoother: SmootherFactory,
        *,
        iou_threshold: float = 0.2,
        max_missed: int = 5,
        max_faces: int = 0,
    ) -> None:
        self._make_smoother = make_smoother
        self.iou_threshold = iou_threshold
        self.max_missed = max_missed
        self.max_faces = max_faces
        self.reset()

    def reset(self) -> None:
        """Forget every track (ids start again at 0)."""
        self._tracks: list[_Track] = []
        self._next_id = 0

    def update(self, frame_index: int, detections: list[Detection] | None) -> list[TrackedFace]:
        if detections is None:
            out = []
            for track in self._tracks:
                if track.missed == 0:
                    track.detection = self._checked(track.smoother.predict(), track.detection)
                    out.append(TrackedFace(track.track_id, track.detection, observed=False))
            return out
        dets = sorted(detections, key=lambda d: -d.confidence)
        if self.max_faces > 0:
            dets = dets[: self.max_faces]
        matches = self._match(dets)
        matched_tracks = {id(t) for t, _ in matches}
        matched_dets = {i for _, i in matches}
        out: list[TrackedFace] = []
        for track, i in matches:
            det = dets[i]
            smoothed = self._checked(track.smoother.update(to_vector(det)), det, confidence=det.confidence)
            track.detection, track.missed = smoothed, 0
            out.append(TrackedFace(track_id=track.track_id, detection=smoothed))
        for track in self._tracks:
            if id(track) not in matched_tracks:
                track.missed += 1
                if track.missed <= self.max_missed:
                    track.smoother.predict()  # keep the state moving while hidden
        self._tracks = [t for t in self._tracks if t.missed <= self.max_missed]
        for i, det in enumerate(dets):
            if i in matched_dets:
                continue
            z = to_vector(det)
            track = _Track(self._next_id, self._make_smoother(z), len(z), det)
            self._next_id += 1
            self._tracks.append(track)
            out.append(TrackedFace(track_id=track.track_id, detection=det))
        return sorted(out, key=lambda f: f.track_id)

    def _match(self, dets: list[Detection]) -> list[tuple[_Track, int]]:
        if not self._tracks or not dets:
            return []
        scores = np.array([[iou(t.detection.box, d.box) for d in dets] for t in self._tracks])
        rows, cols = linear_sum_assignment(-scores)
        return [
            (self._tracks[r], int(c))
            for r, c in zip(rows, cols, strict=True)
            if scores[r, c] >= self.iou_threshold and len(to_vector(dets[c])) == self._tracks[r].size
        ]

    @staticmethod
    def _checked(vector: np.ndarray, fallback: Detection, confidence: float | None = None) -> Detection:
        """The smoothed detection, or `fallback` when smoothing produced a degenerate box."""
        conf = fallback.confidence if confidence is None else confidence
        if not np.all(np.isfinite(vector)) or vector[2] - vector[0] <= 1 or vector[3] - vector[1] <= 1:
            return fallback
        return from_vector(vector, conf)
