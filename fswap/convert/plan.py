"""Which faces to swap: tracks over the whole clip and one decision per track (pass 1 of convert).

`FaceTracks` is the one place faces enter convert: it detects (every Nth frame), cuts the video into shots
(`fswap.video.cuts.CutDetector`, the tracker reset at each cut) and hands out tracked faces with ids that
are unique over the whole clip, so no track spans a cut. Another source of faces (e.g. alignments an
earlier extract made) only has to provide the same `faces(batch, position)` method.

`plan_tracks` runs `FaceTracks` over every frame, embeds the observed faces of each track (every
`identity_every`th frame) and measures their distance to the reference identity. A track whose distance
moves across the threshold and stays there (`sustain` samples in a row beyond a hysteresis band) is split
into two tracks at that point: when the tracker swaps the ids of two faces that cross, each piece keeps
the right verdict. Each track then gets one decision (swap or leave) and the reason, from its mean
distance, an explicit list of ids or "select = all"; a decision never changes inside a track.

Independent of files and TOML, like the engine.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

import attrs
import numpy as np

from fswap.components import Detection, TrackedFace
from fswap.convert.batching import frame_batches
from fswap.frame_guard import detect_frames
from fswap.video.cuts import CutDetector

SELECT = ("identity", "all", "tracks")


@attrs.frozen(kw_only=True)
class SelectOptions:
    """How tracks are chosen (see ConvertConfig for the meaning of each)."""

    select: str = "all"
    tracks: tuple[int, ...] = ()
    identity_threshold: float = 0.6
    hysteresis: float = 0.05  # half width of the band around the threshold where a sample proves nothing
    sustain: int = 3  # samples in a row on the other side of the band that split a track
    identity_every: int = 1  # embed every Nth frame of each track
    min_face_size: int = 35

    def __attrs_post_init__(self) -> None:
        if self.select not in SELECT:
            raise ValueError(f"select must be one of {', '.join(SELECT)}, received {self.select!r}")


class FaceTracks:
    """Detected and tracked faces per frame, with clip-wide track ids that never span a shot cut."""

    def __init__(
        self, *, detector: Any, tracker: Any, detect_every_n: int = 1, cuts: CutDetector | None = None
    ) -> None:
        self.detector = detector
        self.tracker = tracker
        self.detect_every_n = int(detect_every_n)
        self.cut_detector = cuts
        self.reset()

    def reset(self) -> None:
        """Start a new clip: no tracks, no cuts, ids from 0."""
        self.tracker.reset()
        if self.cut_detector is not None:
            self.cut_detector.reset()
        self.cuts: list[int] = []  # source frame indices that start a new shot
        self.shot = 0
        self.detect_seconds = 0.0
        self._ids: dict[int, int] = {}  # tracker id → clip id, for the current shot
        self._next = 0
        self.shot_of: dict[int, int] = {}  # clip id → shot number

    def faces(self, batch: Sequence[tuple[int, np.ndarray]], position: int) -> list[list[TrackedFace]]:
        """The tracked faces of each frame of `batch` (`position`: frames seen before it)."""
        to_detect = [i for i in range(len(batch)) if (position + i) % self.detect_every_n == 0]
        tick = time.perf_counter()
        found = detect_frames(self.detector, [batch[i] for i in to_detect]) if to_detect else []
        self.detect_seconds += time.perf_counter() - tick
        detections: dict[int, list[Detection]] = dict(zip(to_detect, found, strict=True))
        out = []
        for i, (index, frame) in enumerate(batch):
            if self.cut_detector is not None and self.cut_detector.is_cut(frame):
                self.cuts.append(int(index))
                self.shot += 1
                self.tracker.reset()
                self._ids = {}
            dets = detections.get(i)
            if dets is None and self.cuts and self.cuts[-1] == index:
                dets = self._detect_now(index, frame)  # a new shot: nothing to predict from
            tracked = self.tracker.update(index, dets)
            out.append([attrs.evolve(t, track_id=self._clip_id(t.track_id)) for t in tracked])
        return out

    def _detect_now(self, index: int, frame: np.ndarray) -> list[Detection]:
        tick = time.perf_counter()
        (found,) = detect_frames(self.detector, [(index, frame)])
        self.detect_seconds += time.perf_counter() - tick
        return found

    def _clip_id(self, local: int) -> int:
        if local not in self._ids:
            self._ids[local] = self._next
            self.shot_of[self._next] = self.shot
            self._next += 1
        return self._ids[local]


@attrs.define
class TrackRecord:
    """One track: where it is, how far it is from the wanted identity, and what was decided."""

    track_id: int
    shot: int
    first: int  # source frame index
    last: int
    frames: int = 0
    samples: list[tuple[int, float]] = attrs.field(factory=list)  # (source frame, identity distance)
    largest: int = 0  # the frame with the largest observed face (for thumbnails)
    largest_box: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    large_enough: bool = False  # some face of the track is ≥ min_face_size
    split_from: int | None = None
    decision: str = "leave"
    reason: str = ""

    @property
    def mean_distance(self) -> float | None:
        return float(np.mean([d for _, d in self.samples])) if self.samples else None

    @property
    def swapped(self) -> bool:
        return self.decision == "swap"

    def to_json(self) -> dict[str, Any]:
        mean = self.mean_distance
        return {
            "track_id": self.track_id,
            "shot": self.shot,
            "first_frame": self.first,
            "last_frame": self.last,
            "frames": self.frames,
            "identity_samples": len(self.samples),
            "mean_distance": None if mean is None else round(mean, 4),
            "decision": self.decision,
            "reason": self.reason,
            "split_from": self.split_from,
            "thumbnail_frame": self.largest,
            "thumbnail_box": [round(v, 2) for v in self.largest_box],
        }


@attrs.define
class Plan:
    """Every tracked face per frame position (final ids) and the per-track records with decisions."""

    faces: list[list[TrackedFace]]
    indices: list[int]  # source frame index of each position
    tracks: dict[int, TrackRecord]
    cuts: list[int]
    select: str
    detect_seconds: float = 0.0
    identity_seconds: float = 0.0

    def swapped_at(self, position: int) -> list[TrackedFace]:
        """The faces to swap in the frame at `position` (0-based over the frames planned)."""
        return [f for f in self.faces[position] if self.tracks[f.track_id].swapped]

    def left_at(self, position: int) -> list[TrackedFace]:
        """The tracked faces left as they are in the frame at `position`."""
        return [f for f in self.faces[position] if not self.tracks[f.track_id].swapped]

    def counts(self) -> dict[str, int]:
        swapped = sum(t.swapped for t in self.tracks.values())
        total = len(self.tracks)
        return {"tracks": total, "tracks_swapped": swapped, "tracks_left": total - swapped}

    def frame_rows(self) -> list[dict[str, Any]]:
        """tracks.json "frames" rows of the plan (source-frame pixels): faces to swap and faces left."""

        def face(f: TrackedFace) -> dict[str, Any]:
            x, y, w, h = f.detection.box
            return {"track_id": f.track_id, "observed": f.observed,
                    "box": [round(x, 2), round(y, 2), round(w, 2), round(h, 2)],
                    "confidence": round(f.detection.confidence, 4),
                    "landmarks": np.round(f.detection.landmarks, 2).tolist()}

        return [
            {"frame": n, "source_frame": index, "faces": [face(f) for f in self.swapped_at(n)],
             "left": [face(f) for f in self.left_at(n)]}
            for n, index in enumerate(self.indices)
        ]

    def to_json(self) -> dict[str, Any]:
        return {
            "select": self.select,
            **self.counts(),
            "cuts": list(self.cuts),
            "tracks": [t.to_json() for t in sorted(self.tracks.values(), key=lambda t: t.track_id)],
        }


class TrackBook:
    """Accumulates TrackRecords from tracked faces as frames go by (shared by the plan and live convert)."""

    def __init__(self, shot_of: dict[int, int], min_face_size: int) -> None:
        self.shot_of = shot_of
        self.min_face_size = min_face_size
        self.tracks: dict[int, TrackRecord] = {}

    def add(self, index: int, face: TrackedFace) -> TrackRecord:
        record = self.tracks.get(face.track_id)
        if record is None:
            record = TrackRecord(face.track_id, self.shot_of.get(face.track_id, 0), index, index)
            self.tracks[face.track_id] = record
        record.last = index
        record.frames += 1
        x, y, w, h = face.detection.box
        if min(w, h) >= self.min_face_size:
            record.large_enough = True
        if face.observed and w * h > record.largest_box[2] * record.largest_box[3]:
            record.largest, record.largest_box = index, (x, y, w, h)
        return record


def plan_tracks(
    frames: Iterable[tuple[int, np.ndarray]],
    *,
    source: FaceTracks,
    options: SelectOptions,
    aligner: Any | None = None,
    embedder: Any | None = None,
    reference: np.ndarray | None = None,
    batch_frames: int | None = None,
    activity: Any | None = None,
) -> Plan:
    """Pass 1: track every face of `frames` (`batch_frames` at a time; None: `frames_per_batch`),
    measure identity (when `embedder` and `reference` are given), split tracks where the identity
    changes for good, and decide per track."""
    if options.select == "identity" and (embedder is None or reference is None or aligner is None):
        raise ValueError('select = "identity" needs an aligner, an embedder and a reference embedding')
    source.reset()
    book = TrackBook(source.shot_of, options.min_face_size)
    per_frame: list[list[TrackedFace]] = []
    indices: list[int] = []
    measure = embedder is not None and reference is not None and aligner is not None
    ref = None if reference is None else np.asarray(reference, np.float32).reshape(1, -1)
    identity_seconds = 0.0
    position = 0

    def flush(batch: list[tuple[int, np.ndarray]]) -> None:
        nonlocal identity_seconds, position
        tracked = source.faces(batch, position)
        crops, owners = [], []
        for (index, frame), faces in zip(batch, tracked, strict=True):
            if activity is not None:
                activity.frame = index
            for face in faces:
                record = book.add(index, face)
                if measure and face.observed and (index - record.first) % options.identity_every == 0:
                    crops.append(aligner.align(frame, face.detection).image)
                    owners.append((record, index))
        if crops:
            tick = time.perf_counter()
            emb = np.asarray(embedder.embed(crops), np.float32)
            dist = np.asarray(embedder.distance(np.repeat(ref, len(emb), axis=0), emb), np.float64)
            identity_seconds += time.perf_counter() - tick
            for (record, index), d in zip(owners, dist.reshape(-1), strict=True):
                record.samples.append((index, float(d)))
        per_frame.extend(tracked)
        indices.extend(int(i) for i, _ in batch)
        position += len(batch)

    for batch in frame_batches(frames, batch_frames, source.detect_every_n):
        flush(batch)
    if activity is not None:
        activity.frame = None
    tracks = dict(book.tracks)
    if measure:
        per_frame = _split_tracks(per_frame, indices, tracks, options)
    for record in tracks.values():
        record.decision, record.reason = decide(record, options)
    return Plan(faces=per_frame, indices=indices, tracks=tracks, cuts=list(source.cuts),
                select=options.select, detect_seconds=source.detect_seconds,
                identity_seconds=identity_seconds)


def change_points(distances: Sequence[float], options: SelectOptions) -> list[int]:
    """Positions in `distances` (one track's samples in order) where the identity changes for good.

    A sample is "near" below threshold − hysteresis, "far" above threshold + hysteresis, otherwise it
    proves nothing. The track's side is set by its first telling sample; `sustain` telling samples in a row
    on the other side start a new piece at the first of them."""
    low = options.identity_threshold - options.hysteresis
    high = options.identity_threshold + options.hysteresis
    side: bool | None = None  # True: near
    run: list[int] = []
    points = []
    for n, d in enumerate(distances):
        near = True if d < low else False if d > high else None
        if near is None:
            continue
        if side is None or near == side:
            side, run = near, []
            continue
        run.append(n)
        if len(run) >= options.sustain:
            points.append(run[0])
            side, run = near, []
    return points


def _split_tracks(
    per_frame: list[list[TrackedFace]],
    indices: list[int],
    tracks: dict[int, TrackRecord],
    options: SelectOptions,
) -> list[list[TrackedFace]]:
    """Split tracks at their identity change points; new ids follow the largest existing one."""
    next_id = max(tracks, default=-1) + 1
    starts: dict[int, list[tuple[int, int]]] = {}  # old id → [(first source frame, new id)] after the first
    for tid in sorted(tracks):
        record = tracks[tid]
        points = change_points([d for _, d in record.samples], options)
        if not points:
            continue
        pieces = []
        for p in points:
            pieces.append((record.samples[p][0], next_id))
            next_id += 1
        starts[tid] = pieces
    if not starts:
        return per_frame
    rebuilt: dict[int, TrackRecord] = {}
    for tid, pieces in starts.items():
        record = tracks[tid]
        bounds = [record.first] + [f for f, _ in pieces]
        ids = [tid] + [n for _, n in pieces]
        for k, new_id in enumerate(ids):
            lo = bounds[k]
            hi = bounds[k + 1] if k + 1 < len(bounds) else record.last + 1
            rebuilt[new_id] = TrackRecord(
                new_id, record.shot, lo, lo, samples=[(f, d) for f, d in record.samples if lo <= f < hi],
                split_from=None if k == 0 else tid)
    out = []
    for index, faces in zip(indices, per_frame, strict=True):
        row = []
        for face in faces:
            if face.track_id in starts:
                new_id = face.track_id
                for first, piece in starts[face.track_id]:
                    if index >= first:
                        new_id = piece
                face = attrs.evolve(face, track_id=new_id)
                _extend(rebuilt[new_id], index, face, options.min_face_size)
            row.append(face)
        out.append(row)
    for tid in starts:
        del tracks[tid]
    tracks.update(rebuilt)
    return out


def _extend(record: TrackRecord, index: int, face: TrackedFace, min_face_size: int) -> None:
    record.last = index
    record.frames += 1
    x, y, w, h = face.detection.box
    record.large_enough = record.large_enough or min(w, h) >= min_face_size
    if face.observed and w * h > record.largest_box[2] * record.largest_box[3]:
        record.largest, record.largest_box = index, (x, y, w, h)


def decide(record: TrackRecord, options: SelectOptions) -> tuple[str, str]:
    """("swap" | "leave", why) for one track."""
    if not record.large_enough:
        return "leave", f"every face smaller than min_face_size {options.min_face_size} px"
    if options.select == "all":
        return "swap", "select = all"
    if options.select == "tracks":
        if record.track_id in options.tracks:
            return "swap", "in select.tracks"
        return "leave", "not in select.tracks"
    mean = record.mean_distance
    if mean is None:
        return "leave", "no face of this track could be compared with the reference"
    thr = options.identity_threshold
    if mean <= thr:
        return "swap", f"mean distance {mean:.2f} ≤ threshold {thr:g}"
    return "leave", f"mean distance {mean:.2f} > threshold {thr:g}"
