"""Temporal stability of a converted video: box and landmark jitter, and colour flicker inside the face.

Face positions per frame come from the convert stage's record (`convert/tracks.json`) when it exists, or
from re-detecting faces in the converted video with the configured detector. Detections are linked into
tracks by box overlap. Jitter is the std of second differences over time (0 for constant-velocity motion),
reported in pixels and relative to the face size; flicker is the mean absolute frame-to-frame change of the
mean colour of the central part of the face box (8-bit levels).

tracks.json shape: `{"frames": [{"frame": i, "faces": [{"track_id": n, "box": [x, y, w, h],
"landmarks": [[x, y], …]}, …]}, …]}` (extra keys are ignored).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from fswap.components import Detection
from fswap.errors import InputError
from fswap.evaluate import metrics

FaceObservation = tuple[int, Detection]  # (track id, detection) in one frame


@attrs.define
class Track:
    """One face over the frames of the video: its boxes (x, y, w, h), landmarks and mean colours."""

    track_id: int
    frames: list[int] = attrs.field(factory=list)
    boxes: list[tuple[float, float, float, float]] = attrs.field(factory=list)
    landmarks: list[np.ndarray] = attrs.field(factory=list)
    colours: list[np.ndarray] = attrs.field(factory=list)

    def add(self, frame: int, detection: Detection, colour: np.ndarray) -> None:
        self.frames.append(frame)
        self.boxes.append(detection.box)
        self.landmarks.append(np.asarray(detection.landmarks, dtype=np.float64))
        self.colours.append(colour)

    def dense(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Frame-indexed arrays from the first to the last frame, NaN where the face is missing:
        centre/size boxes (T, 4), landmarks (T, K, 2), colours (T, 3), face sizes (T,)."""
        first, last = self.frames[0], self.frames[-1]
        t = last - first + 1
        k = max(len(p) for p in self.landmarks)
        boxes = np.full((t, 4), np.nan)
        pts = np.full((t, k, 2), np.nan)
        colours = np.full((t, 3), np.nan)
        rows = zip(self.frames, self.boxes, self.landmarks, self.colours, strict=True)
        for f, (x, y, w, h), lm, col in rows:
            boxes[f - first] = (x + w / 2, y + h / 2, w, h)
            if len(lm) == k:
                pts[f - first] = lm
            colours[f - first] = col
        size = np.sqrt(np.abs(boxes[:, 2] * boxes[:, 3]))
        return boxes, pts, colours, size


def face_colour(frame: np.ndarray, box: tuple[float, float, float, float], inner: float = 0.6) -> np.ndarray:
    """Mean BGR colour of the central `inner` fraction of the box (mostly skin, little background)."""
    x, y, w, h = box
    cx, cy = x + w / 2, y + h / 2
    hw, hh = w * inner / 2, h * inner / 2
    fh, fw = frame.shape[:2]
    x0, x1 = int(max(0, np.floor(cx - hw))), int(min(fw, np.ceil(cx + hw)))
    y0, y1 = int(max(0, np.floor(cy - hh))), int(min(fh, np.ceil(cy + hh)))
    if x1 <= x0 or y1 <= y0:
        return np.full(3, np.nan)
    return metrics.mean_colour(frame[y0:y1, x0:x1])


def read_tracks_file(path: Path) -> dict[int, list[FaceObservation]]:
    """frame index → [(track id, detection)] from a convert-stage tracks.json."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        frames: dict[int, list[FaceObservation]] = {}
        for row in data["frames"]:
            faces = []
            for n, face in enumerate(row.get("faces", [])):
                lm = face.get("landmarks") or []
                det = Detection(box=face["box"], confidence=float(face.get("confidence", 1.0)),
                                landmarks=np.asarray(lm, dtype=np.float64).reshape(-1, 2))
                faces.append((int(face.get("track_id", n)), det))
            frames[int(row["frame"])] = faces
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise InputError(f"{path}: unreadable tracks file ({type(exc).__name__}: {exc}); expected "
                         "{\"frames\": [{\"frame\": i, \"faces\": [{\"box\": [x, y, w, h], …}]}]}") from exc
    return frames


class IouLinker:
    """Gives detections stable track ids by greedy box overlap with each track's last box."""

    def __init__(self, min_iou: float = 0.3, max_gap: int = 5) -> None:
        self.min_iou = min_iou
        self.max_gap = max_gap
        self._last: dict[int, tuple[int, tuple[float, float, float, float]]] = {}
        self._next = 0

    def link(self, frame: int, detections: list[Detection]) -> list[FaceObservation]:
        from fswap.convert.tracking import iou

        live = {tid: box for tid, (f, box) in self._last.items() if frame - f <= self.max_gap}
        pairs = sorted(
            ((iou(box, d.box), tid, n) for tid, box in live.items() for n, d in enumerate(detections)),
            reverse=True,
        )
        taken_t, taken_d, out = set(), set(), {}
        for overlap, tid, n in pairs:
            if overlap < self.min_iou or tid in taken_t or n in taken_d:
                continue
            taken_t.add(tid)
            taken_d.add(n)
            out[n] = tid
        result = []
        for n, det in enumerate(detections):
            if n not in out:
                out[n] = self._next
                self._next += 1
            self._last[out[n]] = (frame, det.box)
            result.append((out[n], det))
        return result


def collect_tracks(
    frames: Iterable[tuple[int, np.ndarray]],
    observe: Callable[[int, np.ndarray], list[FaceObservation]],
    *,
    on_face: Callable[[int, np.ndarray, int, Detection], None] | None = None,
) -> dict[int, Track]:
    """Walk the video once: `observe(frame_index, frame)` gives the faces; colours are measured here and
    `on_face` (e.g. crop-for-identity) is called per face."""
    tracks: dict[int, Track] = {}
    for index, frame in frames:
        for tid, det in observe(index, frame):
            tracks.setdefault(tid, Track(tid)).add(index, det, face_colour(frame, det.box))
            if on_face is not None:
                on_face(index, frame, tid, det)
    return tracks


def detector_observer(detector: Any, linker: IouLinker | None = None) -> Callable[[int, np.ndarray], list]:
    """An `observe` function that re-detects faces in every frame and links them into tracks."""
    link = linker or IouLinker()

    def observe(index: int, frame: np.ndarray) -> list[FaceObservation]:
        return link.link(index, list(detector.detect([frame])[0]))

    return observe


def file_observer(record: dict[int, list[FaceObservation]]) -> Callable[[int, np.ndarray], list]:
    """An `observe` function reading the convert stage's per-frame record."""

    def observe(index: int, _frame: np.ndarray) -> list[FaceObservation]:
        return record.get(index, [])

    return observe


def limited(frames: Iterable[tuple[int, np.ndarray]], max_frames: int) -> Iterator[tuple[int, np.ndarray]]:
    """The first `max_frames` frames (all when 0)."""
    for n, item in enumerate(frames):
        if max_frames and n >= max_frames:
            return
        yield item


def track_scores(track: Track) -> dict[str, Any]:
    """Jitter and flicker of one track (NaN-free JSON: None where a score needs more frames)."""
    boxes, pts, colours, size = track.dense()
    box_px = metrics.second_difference_jitter(boxes)
    lm_px = metrics.second_difference_jitter(pts) if pts.shape[1] else float("nan")
    return {
        "track_id": track.track_id,
        "frames": len(track.frames),
        "first_frame": track.frames[0],
        "last_frame": track.frames[-1],
        "mean_face_size": float(np.nanmean(size)),
        "box_jitter_px": _finite(box_px),
        "box_jitter_relative": _finite(metrics.relative_jitter(boxes, size)),
        "landmark_jitter_px": _finite(lm_px),
        "landmark_jitter_relative": _finite(metrics.relative_jitter(pts, size)) if pts.shape[1] else None,
        "colour_flicker": _finite(metrics.colour_flicker(colours)),
    }


def temporal_scores(tracks: dict[int, Track], *, min_frames: int = 3) -> dict[str, Any]:
    """Per-track scores and their frame-weighted means over tracks with at least `min_frames` frames."""
    rows = [track_scores(t) for t in sorted(tracks.values(), key=lambda t: -len(t.frames))
            if len(t.frames) >= min_frames]
    summary: dict[str, Any] = {"tracks": len(rows), "faces_seen": sum(len(t.frames) for t in tracks.values())}
    for key in ("box_jitter_px", "box_jitter_relative", "landmark_jitter_px", "landmark_jitter_relative",
                "colour_flicker"):
        vals = [(r[key], r["frames"]) for r in rows if r[key] is not None]
        summary[key] = (float(np.average([v for v, _ in vals], weights=[w for _, w in vals]))
                        if vals else None)
    summary["per_track"] = rows
    return summary


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None
