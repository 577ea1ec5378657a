"""The conversion loop: detect → track → align → crop ROI → generate (batched) → colour → blend → layout.

Independent of files and TOML: it takes built components and yields output frames, so the stage runner,
the benchmark and tests share it. Frames are processed in batches: one detector call per batch (on every
Nth frame) and one generator call for all faces of the batch. Faces come either live from a
`fswap.convert.plan.FaceTracks` (every tracked face is swapped: select = "all") or from a `Plan` made by a
first pass over the clip (only the faces of the tracks it decided to swap; no second detection). Every
other pixel of the frame passes through unchanged.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import attrs
import numpy as np

from fswap.components import AlignedFace, TrackedFace
from fswap.convert.batching import frame_batches
from fswap.convert.geometry import crop, paste_region, roi_matrix
from fswap.convert.layout import compose
from fswap.convert.plan import FaceTracks, Plan, SelectOptions, TrackBook, decide
from fswap.video.cuts import CutDetector
from fswap.video.provenance import LABEL_TEXT, draw_label


@attrs.frozen(kw_only=True)
class ConvertOptions:
    """How frames are converted (see ConvertConfig for the meaning of each)."""

    roi_coverage: float = 0.875
    enhance: float = 0.0
    min_face_size: int = 35
    detect_every_n: int = 1
    batch_frames: int | None = None  # None: fswap.convert.batching.frames_per_batch decides
    layout: str = "result"
    label: bool = True
    label_text: str = LABEL_TEXT
    label_corner: str = "bottom_right"
    color_smoothing: float = 0.0  # EMA weight of the previous frames' colour shift, per track (0: off)
    single_face_calls: bool = False  # the reference design: one generator call per face (benchmark baseline)


@attrs.define
class ConvertStats:
    """Counts for the stage summary."""

    frames: int = 0
    faces_swapped: int = 0
    frames_without_face: int = 0
    seconds: float = 0.0
    generator_calls: int = 0
    detect_seconds: float = 0.0
    generate_seconds: float = 0.0

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "frames": self.frames,
            "faces_swapped": self.faces_swapped,
            "frames_without_face": self.frames_without_face,
            "fps": round(self.fps, 3),
            "seconds": round(self.seconds, 3),
            "generator_calls": self.generator_calls,
            "seconds_detecting": round(self.detect_seconds, 3),
            "seconds_generating": round(self.generate_seconds, 3),
        }


@attrs.define
class _Job:
    """One face of one frame waiting for the generator."""

    frame: int  # position in the batch
    track_id: int
    observed: bool
    matrix: np.ndarray  # frame → generator-input transform
    face: np.ndarray  # R×R BGR input crop
    aligned: AlignedFace


class Converter:
    """Converts frames with built components (detector, aligner, tracker, generator, colour, blender).

    `generator(faces uint8 (N,R,R,3)) -> (bgr uint8 (N,R,R,3), alpha float32 (N,R,R))` with a
    `.resolution`; `parts` is an optional mask generator restricting the swap to face parts. `activity`
    (e.g. a `fswap.frame_guard.Activity`) gets the index of the frame being worked on in `.frame`, so
    an error from a component can name it. `cuts` (a `CutDetector`) splits tracks at shot cuts when faces
    are found live; `run(..., plan=...)` swaps only the faces a first pass selected."""

    def __init__(
        self,
        *,
        detector: Any,
        aligner: Any,
        tracker: Any,
        generator: Any,
        color: Any,
        blender: Any,
        parts: Any | None = None,
        options: ConvertOptions = ConvertOptions(),
        activity: Any | None = None,
        cuts: CutDetector | None = None,
        condition: Any | None = None,
    ) -> None:
        self.detector = detector
        self.aligner = aligner
        self.tracker = tracker
        self.generator = generator
        self.color = color
        self.blender = blender
        self.parts = parts
        self.options = options
        self.activity = activity
        self.condition = condition  # ConditionMaps (fswap.model.condition) of a conditioned decoder, or None
        self.resolution = int(generator.resolution)
        self.stats = ConvertStats()
        self.tracks: list[dict[str, Any]] = []
        self.track_records: list[dict[str, Any]] = []
        self.cuts: list[int] = []
        self._colour_shift: dict[int, np.ndarray] = {}
        self.source = FaceTracks(
            detector=detector, tracker=tracker, detect_every_n=options.detect_every_n, cuts=cuts
        )
        self._plan: Plan | None = None
        self._book: TrackBook | None = None

    def run(
        self,
        frames: Iterable[tuple[int, np.ndarray]],
        on_frame: Callable[[int], None] | None = None,
        plan: Plan | None = None,
    ) -> Iterator[np.ndarray]:
        """Yield one output frame per input frame, in order; `on_frame(n)` reports progress. With a `plan`
        (from `fswap.convert.plan.plan_tracks` over the same frames) only its selected tracks are swapped
        and nothing is detected again."""
        self.source.reset()
        self.stats = ConvertStats()
        self.tracks = []
        self._colour_shift = {}
        self._plan = plan
        self._book = None if plan is not None else TrackBook(self.source.shot_of, self.options.min_face_size)
        start = time.perf_counter()
        position = 0  # frames seen, for detect_every_n (frame indices may start anywhere)
        for batch in frame_batches(frames, self.options.batch_frames, self.options.detect_every_n):
            yield from self._batch(batch, position)
            position += len(batch)
            if on_frame:
                on_frame(len(batch))
        self.stats.seconds = time.perf_counter() - start
        self._finish_tracks()

    def _finish_tracks(self) -> None:
        """Per-track records: the plan's, or (live) every track swapped unless all its faces were small."""
        if self._plan is not None:
            self.track_records = self._plan.to_json()["tracks"]
            self.cuts = list(self._plan.cuts)
            self.stats.detect_seconds = self._plan.detect_seconds
            return
        assert self._book is not None
        live = SelectOptions(select="all", min_face_size=self.options.min_face_size)
        for record in self._book.tracks.values():
            record.decision, record.reason = decide(record, live)
        self.track_records = [r.to_json() for _, r in sorted(self._book.tracks.items())]
        self.cuts = list(self.source.cuts)
        self.stats.detect_seconds = self.source.detect_seconds

    def _faces(self, batch: list[tuple[int, np.ndarray]], position: int) -> list[tuple[list, list]]:
        """Per frame of the batch: (faces to swap, faces left as they are)."""
        if self._plan is not None:
            n = len(self._plan.faces)
            if position + len(batch) > n:
                raise ValueError(f"the plan covers {n} frames, but convert was given more")
            return [(self._plan.swapped_at(position + i), self._plan.left_at(position + i))
                    for i in range(len(batch))]
        assert self._book is not None
        out = []
        for (index, _), faces in zip(batch, self.source.faces(batch, position), strict=True):
            for face in faces:
                self._book.add(int(index), face)
            out.append((faces, []))
        return out

    def _batch(self, batch: list[tuple[int, np.ndarray]], position: int) -> list[np.ndarray]:
        opts = self.options
        jobs: list[_Job] = []
        left: list[list[tuple[TrackedFace, str]]] = [[] for _ in batch]
        for i, ((index, frame), (chosen, others)) in enumerate(zip(batch, self._faces(batch, position),
                                                                   strict=True)):
            self._at(index)
            left[i] = [(face, "not selected") for face in others]
            for tracked in chosen:
                det = tracked.detection
                if min(det.box[2], det.box[3]) < opts.min_face_size:
                    left[i].append((tracked, f"smaller than min_face_size {opts.min_face_size} px"))
                    continue
                aligned = self.aligner.align(frame, det)
                matrix = roi_matrix(aligned.matrix, aligned.size, opts.roi_coverage, self.resolution)
                face = crop(frame, matrix, self.resolution)
                jobs.append(_Job(i, tracked.track_id, tracked.observed, matrix, face, aligned))
        tick = time.perf_counter()
        bgr, alpha = self._generate([job.face for job in jobs], [job.aligned for job in jobs])
        self.stats.generate_seconds += time.perf_counter() - tick
        results = [frame for _, frame in batch]
        masks: list[np.ndarray | None] = [None] * len(batch)
        swapped = [0] * len(batch)
        for job, out, a in zip(jobs, bgr, alpha, strict=True):
            self._at(batch[job.frame][0])
            a = self._part_alpha(job, a)
            corrected = self._smoothed_colour(job.track_id, out, self.color.transfer(out, job.face, a), a)
            if opts.enhance > 0:
                boosted = (1 + opts.enhance) * corrected.astype(np.float32) - opts.enhance * job.face
                corrected = np.clip(boosted, 0, 255).astype(np.uint8)
            results[job.frame] = self.blender.blend(results[job.frame], corrected, a, job.matrix)
            swapped[job.frame] += 1
            if opts.layout == "triple":
                masks[job.frame] = self._frame_mask(masks[job.frame], a, job.matrix, results[job.frame].shape)
        self._at(None)
        self._record(batch, jobs, left)
        out_frames = []
        for i, (_, source) in enumerate(batch):
            self.stats.frames += 1
            self.stats.faces_swapped += swapped[i]
            self.stats.frames_without_face += swapped[i] == 0
            result = results[i]
            if opts.label:
                result = draw_label(result, opts.label_text, opts.label_corner)
            out_frames.append(compose(opts.layout, source, result, masks[i]))
        return out_frames

    def _at(self, index: int | None) -> None:
        if self.activity is not None:
            self.activity.frame = index

    def _smoothed_colour(
        self, track_id: int, generated: np.ndarray, corrected: np.ndarray, alpha: np.ndarray
    ) -> np.ndarray:
        """Temporal smoothing of the colour correction: the mean per-channel shift the transfer applied
        inside the mask is replaced by its exponential moving average over the track's frames, which
        removes frame-to-frame colour flicker while keeping the transfer's per-pixel shape."""
        weight = self.options.color_smoothing
        if weight <= 0:
            return corrected
        sel = alpha > 0.5
        if int(sel.sum()) < 16:
            sel = np.ones_like(sel)
        shift = (corrected.astype(np.float32) - generated.astype(np.float32))[sel].mean(axis=0)
        previous = self._colour_shift.get(track_id)
        smooth = shift if previous is None else weight * previous + (1.0 - weight) * shift
        self._colour_shift[track_id] = smooth
        return np.clip(corrected.astype(np.float32) + (smooth - shift), 0, 255).round().astype(np.uint8)

    def _record(
        self,
        batch: list[tuple[int, np.ndarray]],
        jobs: list[_Job],
        left: list[list[tuple[TrackedFace, str]]],
    ) -> None:
        """Append each frame's swapped faces ("faces") and the tracked faces left unchanged ("left") to
        `self.tracks`, in output-frame pixels (the result panel)."""
        offset = batch[0][1].shape[1] if self.options.layout != "result" else 0
        rows: list[dict[str, Any]] = [
            {"frame": self.stats.frames + i, "source_frame": int(index), "faces": [], "left": []}
            for i, (index, _) in enumerate(batch)
        ]
        for i, faces in enumerate(left):
            for face, why in faces:
                x, y, w, h = face.detection.box
                rows[i]["left"].append({
                    "track_id": face.track_id,
                    "observed": face.observed,
                    "box": [round(x + offset, 2), round(y, 2), round(w, 2), round(h, 2)],
                    "why": why,
                })
        for job in jobs:
            det = job.aligned.detection
            x, y, w, h = det.box
            rows[job.frame]["faces"].append(
                {
                    "track_id": job.track_id,
                    "observed": job.observed,
                    "box": [round(x + offset, 2), round(y, 2), round(w, 2), round(h, 2)],
                    "confidence": round(det.confidence, 4),
                    "landmarks": np.round(det.landmarks + np.array([offset, 0.0]), 2).tolist(),
                }
            )
        self.tracks.extend(rows)

    def _generate(self, faces: list[np.ndarray], aligned: list[AlignedFace]) -> tuple[np.ndarray, np.ndarray]:
        r = self.resolution
        if not faces:
            return np.zeros((0, r, r, 3), np.uint8), np.zeros((0, r, r), np.float32)
        # a conditioned decoder (SPADE): each face's condition map, in the geometry of its ROI crop
        coverage = self.options.roi_coverage
        maps = None if self.condition is None else self.condition.for_faces(aligned, coverage)

        def call(part: np.ndarray, start: int) -> tuple[np.ndarray, np.ndarray]:
            if maps is None:
                return self.generator(part)
            return self.generator(part, condition=maps[start:start + len(part)])

        if not self.options.single_face_calls:
            self.stats.generator_calls += 1
            return call(np.stack(faces), 0)
        outs = [call(face[None], n) for n, face in enumerate(faces)]
        self.stats.generator_calls += len(outs)
        return np.concatenate([o[0] for o in outs]), np.concatenate([o[1] for o in outs])

    def _part_alpha(self, job: _Job, alpha: np.ndarray) -> np.ndarray:
        """Restrict the model alpha to the chosen face parts (part mode); unchanged otherwise."""
        if self.parts is None:
            return alpha
        face = AlignedFace(
            image=job.face,
            matrix=job.matrix,
            landmarks=job.aligned.landmarks,
            detection=job.aligned.detection,
        )
        return alpha * np.asarray(self.parts.generate(face), np.float32)

    @staticmethod
    def _frame_mask(
        current: np.ndarray | None, alpha: np.ndarray, matrix: np.ndarray, shape: tuple[int, ...]
    ) -> np.ndarray:
        """The model alpha in frame pixels (max over the frame's faces), for the heat-map panel."""
        mask = np.zeros(shape[:2], np.float32) if current is None else current
        region = paste_region(matrix, alpha.shape[0], shape)
        if not region.empty:
            sl = (slice(region.y0, region.y1), slice(region.x0, region.x1))
            mask[sl] = np.maximum(mask[sl], region.warp(alpha.astype(np.float32)))
        return mask
