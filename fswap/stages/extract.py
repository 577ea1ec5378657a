"""The extract stage: frames → faces → aligned crops, masks and alignments.json, one face set per side."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from fswap.builder import build
from fswap.components import AlignedFace, Aligner, Detection, Detector, Embedder, MaskGenerator, Tracker
from fswap.context import RunContext, StageResult
from fswap.data.detections import DETECTIONS, DetectionLog, input_fingerprint
from fswap.errors import FswapError, InputError, StageError
from fswap.extract.alignment import square_crop
from fswap.extract.contact_sheet import SheetTrack
from fswap.extract.identity import PendingFace, Segment, TrackIdentity
from fswap.extract.pose import coverage_summary, five_points, yaw_pitch
from fswap.extract.quality import RecentFaces, sharpness, thumbnail
from fswap.extract.writer import FaceSetWriter
from fswap.frame_guard import Attributed, FrameGuard, check_aligned
from fswap.preflight import require_input
from fswap.reference import reference_embedding as embedding_of
from fswap.stages.extract_config import ExtractConfig, ExtractSide, mask_names, result_settings
from fswap.structure import unstructure
from fswap.video.reader import open_frames


@attrs.frozen
class ExtractComponents:
    """The components of one extract run, built once and shared by both sides."""

    detector: Detector
    aligner: Aligner
    masks: dict[str, MaskGenerator]
    embedder: Embedder | None
    config: ExtractConfig | None = None

    def tracker(self) -> Tracker:
        """A fresh tracker for one side (policy = "identity")."""
        if self.config is None:
            raise StageError("the extract components were built without their config")
        return build(self.config.tracker)

    @classmethod
    def build(cls, config: ExtractConfig) -> ExtractComponents:
        embed = config.embedder is not None and (config.policy == "identity" or config.store_embeddings)
        return cls(
            detector=build(config.detector),
            aligner=build(config.aligner),
            masks=dict(zip(mask_names(config.masks), (build(m) for m in config.masks), strict=True)),
            embedder=build(config.embedder) if embed else None,
            config=config,
        )


@attrs.define
class SideSummary:
    """Counts for one side, reported at the end and stored in the face set's meta."""

    frames: int = 0
    resumed_frames: int = 0
    frames_without_face: int = 0
    faces_found: int = 0
    faces_kept: int = 0
    faces_in_set: int = 0
    read_errors: int = 0
    frames_skipped_on_error: int = 0
    frames_retried: int = 0
    skipped_blurry: int = 0
    skipped_duplicate: int = 0
    tracks_kept: int = 0
    tracks_rejected: int = 0
    cuts: int = 0
    rejected: Counter = attrs.field(factory=Counter)
    seconds: float = 0.0
    errors: list[str] = attrs.field(factory=list)

    def to_json(self) -> dict[str, Any]:
        data = attrs.asdict(self)
        data["rejected"] = dict(sorted(self.rejected.items()))
        data["frames_per_s"] = round(self.frames / self.seconds, 2) if self.seconds > 0 else None
        data["seconds"] = round(self.seconds, 2)
        return data


# frames held at once are also capped by pixels, so a batch of huge frames stays within memory
BATCH_PIXELS = 48_000_000


def _identity_settings(config: ExtractConfig, side: ExtractSide, others: list[Path]) -> dict[str, Any]:
    return {
        "reference_not": [str(p) for p in side.reference_not] + [str(p) for p in others],
        "identity_margin": config.identity_margin,
        "max_track_faces": config.max_track_faces,
        "cut_threshold": config.cut_threshold,
        "tracker": result_settings(config.tracker),
    }


def negative_references(name: str, side: ExtractSide, config: ExtractConfig) -> list[Path]:
    """The "not this person" references of a side: its reference_not and, with other_side_not, the other
    side's reference."""
    paths = list(side.reference_not)
    if config.policy == "identity" and config.other_side_not:
        other = config.sides().get("b" if name == "a" else "a")
        if other is not None and other.reference is not None and other.reference != side.reference:
            paths.append(other.reference)
    return paths


def settings_fingerprint(config: ExtractConfig, side: ExtractSide, name: str = "a") -> dict[str, Any]:
    """What decides the content of a face set; a resumed run must match it."""
    others = [p for p in negative_references(name, side, config) if p not in side.reference_not]
    return {
        "input": str(side.input),
        "reference": None if side.reference is None else str(side.reference),
        "every_n_frames": config.every_n_frames,
        "policy": config.policy,
        "identity_threshold": config.identity_threshold if config.policy == "identity" else None,
        "identity_tracks": _identity_settings(config, side, others) if config.policy == "identity" else None,
        "store_embeddings": config.store_embeddings,
        "min_sharpness": config.min_sharpness,
        "dedupe": config.dedupe,
        "dedupe_threshold": config.dedupe_threshold if config.dedupe != "off" else None,
        "save_raw": config.save_raw,
        "detector": result_settings(config.detector),
        "aligner": result_settings(config.aligner),
        "masks": dict(zip(mask_names(config.masks), (result_settings(m) for m in config.masks), strict=True)),
        "embedder": None if config.embedder is None else result_settings(config.embedder),
    }


def reference_embedding(path: Path, parts: ExtractComponents, config: ExtractConfig) -> np.ndarray:
    """The wanted person's embedding: a .npy file, or the most confident face of an image."""
    if parts.embedder is None or config.embedder is None:
        raise StageError("an identity reference needs an embedder")
    where = f"on the identity reference image {path}"
    return embedding_of(path, Attributed(parts.detector, config.detector, where),
                        Attributed(parts.aligner, config.aligner, where),
                        Attributed(parts.embedder, config.embedder, where), where="[extract] reference")


def face_quality(face: AlignedFace) -> dict[str, float]:
    """Sharpness and head pose (yaw, pitch) of an aligned face, stored per face in meta.extract.faces."""
    yaw, pitch = yaw_pitch(five_points(face.landmarks, face.detection.landmarks))
    scale = float(np.hypot(face.matrix[0, 0], face.matrix[1, 0]))  # crop pixels per frame pixel
    return {"sharpness": sharpness(face.image, scale), "yaw": yaw, "pitch": pitch}


def set_poses(writer: FaceSetWriter) -> list[tuple[float, float]]:
    """(yaw, pitch) of every face in the set (this run's and resumed ones)."""
    quality = writer.quality
    return [(q["yaw"], q["pitch"]) for r in writer.faceset.records if (q := quality.get(r.file)) is not None]


def write_contact_sheet(
    name: str, writer: FaceSetWriter, summary: SideSummary, tracks: list[SheetTrack] | None = None
) -> Path:
    """contact_sheet.png of a face set: thumbnails, pose coverage and what was skipped."""
    from fswap.extract.contact_sheet import render_sheet, write_sheet

    faceset = writer.faceset
    count = len(faceset.records)
    picks = set(np.linspace(0, count - 1, min(count, 48)).round().astype(int)) if count else set()
    faces = [(faceset.load_image(r), r.frame) for i, r in enumerate(faceset.records) if i in picks]
    poses = set_poses(writer)
    pose = coverage_summary(poses)
    notes = [
        f"faces found {summary.faces_found}, kept {summary.faces_kept} this run, in set {count}",
        f"skipped: blurry {summary.skipped_blurry}, duplicate {summary.skipped_duplicate}",
        ", ".join(f"{k} {v}" for k, v in sorted(summary.rejected.items())) or "no other rejections",
    ]
    if pose["faces"]:
        notes.append(
            f"yaw {pose['yaw_min']:+.0f}..{pose['yaw_max']:+.0f}, pitch {pose['pitch_min']:+.0f}.."
            f"{pose['pitch_max']:+.0f}; cells covered {pose['cells_covered']}/{pose['cells']}"
        )
    path = faceset.path / "contact_sheet.png"
    if summary.tracks_kept or summary.tracks_rejected:
        kept, left = summary.tracks_kept, summary.tracks_rejected
        notes.append(f"tracks kept {kept}, left out {left}, cuts {summary.cuts}")
    sheet = render_sheet(f"face set {name}", faces, poses, notes, tracks or [], total=count)
    write_sheet(path, sheet)
    return path


def face_image(payload: tuple[Any, ...]) -> np.ndarray:
    """The aligned crop of a face waiting to be written."""
    return payload[0].image


def _describe(choice: Any) -> str:
    options = ", ".join(f"{k}={v}" for k, v in unstructure(choice.config).items())
    return f"{choice.name} ({options})"


class SideExtractor:
    """Runs one side: reads frames, detects in batches, applies the keep policy, writes the face set."""

    def __init__(
        self,
        name: str,
        side: ExtractSide,
        config: ExtractConfig,
        parts: ExtractComponents,
        writer: FaceSetWriter,
    ) -> None:
        self.name = name
        self.side = side
        self.config = config
        self.parts = parts
        self.writer = writer
        self.summary = SideSummary()
        self.guard = FrameGuard("extract", config.on_frame_error, str(side.input))
        self.recent = RecentFaces(config.dedupe_threshold, max_gap=25 * config.every_n_frames)
        self.reference: np.ndarray | None = None
        self.negatives: np.ndarray | None = None
        self.identity: TrackIdentity | None = None
        self.sheet_tracks: list[SheetTrack] = []
        if config.policy == "identity" and side.reference is not None:
            self.reference = reference_embedding(side.reference, parts, config)
            paths = negative_references(name, side, config)
            negatives = [reference_embedding(p, parts, config) for p in paths]
            self.negatives = np.stack(negatives) if negatives else None
            from fswap.video.cuts import CutDetector

            self.identity = TrackIdentity(
                parts.tracker(),
                threshold=config.identity_threshold,
                margin=config.identity_margin,
                cuts=CutDetector(config.cut_threshold),
                max_faces=config.max_track_faces,
            )
        self._undone: list[int] = []
        self.detections: DetectionLog | None = None

    def _open_log(self, source: Any) -> DetectionLog:
        """This side's detections.json: every processed frame's faces, for convert to reuse. A resumed run
        keeps the frames already logged when the input and detector are still the ones they came from."""
        log = DetectionLog(
            input=str(Path(source.path).resolve()),
            fingerprint=input_fingerprint(Path(source.path), bool(source.is_video), source.files),
            detector=result_settings(self.config.detector),
        )
        path = self.writer.path / DETECTIONS
        if self.writer.done and path.is_file():
            try:
                earlier = DetectionLog.open(path)
            except InputError:
                return log
            if (earlier.input, earlier.fingerprint, earlier.detector) == (log.input, log.fingerprint,
                                                                         log.detector):
                log.frames = earlier.frames
        return log

    def run(self, progress: bool) -> SideSummary:
        import time

        from fswap.progress import tqdm

        skip = self.config.on_error == "skip"
        started = time.perf_counter()
        try:
            source = open_frames(self.side.input, every_n=self.config.every_n_frames, skip_unreadable=skip)
        except InputError as exc:
            if not skip:
                raise
            self.summary.read_errors += 1
            self.summary.errors.append(str(exc))
            return self.summary
        self.detections = self._open_log(source)
        todo = [i for i in source.indices() if i not in self.writer.done]
        self.summary.resumed_frames = source.selected - len(todo)
        if todo:
            source.start = todo[0]
        bar = tqdm(
            total=source.selected,
            initial=self.summary.resumed_frames,
            unit="frame",
            desc=f"extract {self.name}",
            disable=not progress,
        )
        since_save = 0
        try:
            batch: list[tuple[int, np.ndarray]] = []
            pixels = 0
            for index, frame in self._frames(source, skip):
                if index in self.writer.done:
                    continue
                batch.append((index, frame))
                pixels += frame.shape[0] * frame.shape[1]
                if len(batch) >= self.config.batch_size or pixels >= BATCH_PIXELS:
                    pixels = 0
                    since_save += self._process(batch, source)
                    bar.update(len(batch))
                    bar.set_postfix(kept=self.summary.faces_kept)
                    batch = []
                    if since_save >= self.config.save_every:
                        self._save(started)
                        since_save = 0
            if batch:
                self._process(batch, source)
                bar.update(len(batch))
            self.finish()
            self.summary.read_errors += len(source.skipped)
            self.summary.errors.extend(f"{p}: {reason}" for _, p, reason in source.skipped)
        finally:
            bar.close()
            self._save(started)
        return self.summary

    def _frames(self, source: Any, skip: bool) -> Any:
        """Frames of the source; with on_error = "skip" a truncated video ends the side instead of failing."""
        try:
            yield from source
        except InputError as exc:
            if not skip:
                raise
            self.summary.read_errors += 1
            self.summary.errors.append(str(exc))

    def _save(self, started: float) -> None:
        import time

        self.summary.seconds = time.perf_counter() - started
        self.summary.frames_skipped_on_error = len(self.guard.skipped)
        self.summary.frames_retried = len(self.guard.retried)
        self.summary.errors.extend(e for e in self.guard.errors if e not in self.summary.errors)
        self.summary.faces_in_set = len(self.writer.faceset)
        self.writer.save(self.summary.to_json())
        if self.detections is not None:
            self.detections.save(self.writer.path / DETECTIONS)

    def _process(self, batch: list[tuple[int, np.ndarray]], source: Any) -> int:
        detections = self.guard.detect(self.parts.detector, self.config.detector, batch)
        for (index, frame), found in zip(batch, detections, strict=True):
            self.summary.frames += 1
            if index in self.guard.skipped:
                continue
            if self.detections is not None:
                self.detections.record(index, (frame.shape[1], frame.shape[0]), found)
            self._keep_faces(index, frame, found, source)
        self._mark_done([index for index, _ in batch])
        return len(batch)

    def _mark_done(self, indices: list[int]) -> None:
        """Frames count as done (resume points) once no face of theirs waits for its track's verdict."""
        self._undone.extend(indices)
        oldest = self.identity.oldest_pending() if self.identity is not None else None
        done = [i for i in self._undone if oldest is None or i < oldest]
        self._undone = [i for i in self._undone if not (oldest is None or i < oldest)]
        self.writer.mark_done(done)

    def finish(self) -> None:
        """Decide the tracks still open at the end of the input and write the accepted ones."""
        if self.identity is not None:
            self._settle(self.identity.finish())
            self.summary.cuts = self.identity.cut_count
        self._mark_done([])

    def _settle(self, segments: list[Segment]) -> None:
        """Write the faces of accepted segments (skipping near-duplicates), count the rejected ones."""
        for segment in segments:
            if not segment.accepted:
                self.summary.tracks_rejected += 1
                self.summary.rejected["other_identity"] += len(segment.faces)
                self.sheet_tracks.append(
                    SheetTrack(
                        image=segment.middle_image(), first=segment.first, last=segment.last,
                        faces=len(segment.faces), distance=segment.mean_distance, decision=segment.reason,
                    )
                )  # fmt: skip
                continue
            self.summary.tracks_kept += 1
            for pending in segment.faces:
                self._write(*pending.payload, key=segment.track_id)

    def _keep_faces(self, index: int, frame: np.ndarray, found: list[Detection], source: Any) -> None:
        self.summary.faces_found += len(found)
        keys: list[int | None] = [None] * len(found)
        if self.identity is not None:
            ended, tracked = self.identity.frame(index, frame, found)
            self._settle(ended)
            keys = list(tracked)
        if not found:
            self.summary.frames_without_face += 1
            return
        if self.config.policy == "single" and len(found) != 1:
            self.summary.rejected["several_faces_in_frame"] += len(found)
            return
        origin = str(source.files[index]) if not source.is_video else str(source.path)
        ready = []  # written only when every face of the frame went through (a skipped frame adds nothing)
        for face_index, detection in enumerate(found):
            try:
                face = self.parts.aligner.align(frame, detection)
            except FswapError:
                raise
            except (ValueError, np.linalg.LinAlgError):
                self.summary.rejected["alignment_failed"] += 1
                continue
            except Exception as exc:  # the aligner broke on this frame: fail or skip it (on_frame_error)
                self.guard.failed(self.config.aligner, index, exc)
                return
            check_aligned(self.config.aligner, face)
            quality = face_quality(face)
            if quality["sharpness"] < self.config.min_sharpness:
                self.summary.skipped_blurry += 1
                continue
            try:
                embedding = self._embedding(face)
                distance, negative = None, None
                if self.reference is not None and embedding is not None and self.parts.embedder is not None:
                    distance = float(
                        np.asarray(self.parts.embedder.distance(self.reference[None], embedding[None]))[0]
                    )
                    if self.negatives is not None:
                        negative = float(
                            np.min(self.parts.embedder.distance(self.negatives, embedding[None]))
                        )
            except FswapError:
                raise
            except Exception as exc:  # the embedder broke on this frame: fail or skip it (on_frame_error)
                if self.config.embedder is None:
                    raise
                self.guard.failed(self.config.embedder, index, exc)
                return
            thumb = thumbnail(face.image) if self._dedupe(source) else None
            alone = self.identity is None  # under identity, duplicates are found when the track is written
            if alone and thumb is not None and self.recent.is_duplicate(index, detection.box, thumb):
                self.summary.skipped_duplicate += 1
                continue
            masks = {}
            for choice, (name, gen) in zip(self.config.masks, self.parts.masks.items(), strict=True):
                mask = self.guard.mask(gen, choice, index, face)
                if mask is None:
                    return
                masks[name] = mask
            raw = square_crop(frame, detection.box) if self.config.save_raw else None
            payload = (face, origin, index, face_index, masks, raw, embedding, quality, thumb)
            ready.append((face_index, payload, distance, negative))
        for face_index, payload, distance, negative in ready:
            key = keys[face_index]
            if self.identity is not None and distance is not None:
                pending = PendingFace(
                    frame=index,
                    distance=distance,
                    negative=negative,
                    image=face_image(payload),
                    payload=payload,
                )
                self._settle(self.identity.add(-1 if key is None else key, pending))
            else:
                self._write(*payload)

    def _dedupe(self, source: Any) -> bool:
        """Whether near-duplicates are skipped for this input (dedupe = video | always | off)."""
        return self.config.dedupe == "always" or (self.config.dedupe == "video" and bool(source.is_video))

    def _write(
        self,
        face: AlignedFace,
        origin: str,
        index: int,
        face_index: int,
        masks: dict[str, np.ndarray],
        raw: np.ndarray | None,
        embedding: np.ndarray | None,
        quality: dict[str, float],
        thumb: np.ndarray | None,
        key: int | None = None,
    ) -> None:
        """Write one kept face, unless it is a near-duplicate of its person's last kept face."""
        if thumb is not None:
            if self.recent.is_duplicate(index, face.detection.box, thumb, key):
                self.summary.skipped_duplicate += 1
                return
            self.recent.keep(index, face.detection.box, thumb, key)
        self.writer.add(
            face,
            source=origin,
            frame=index,
            face_index=face_index,
            masks=masks,
            raw=raw,
            embedding=embedding if self.config.store_embeddings else None,
            quality=quality,
        )
        self.summary.faces_kept += 1

    def _embedding(self, face: AlignedFace) -> np.ndarray | None:
        if self.parts.embedder is None:
            return None
        return np.asarray(self.parts.embedder.embed([face.image])[0], dtype=np.float32)


def _check_found(
    name: str, side: ExtractSide, summary: SideSummary, config: ExtractConfig, total: int
) -> None:
    """Zero faces is an error that says which thresholds were used; so is keeping none of those found."""
    if total > 0:
        return
    where = f"[extract.{name}] {side.input}"
    if summary.read_errors and summary.frames == 0:
        raise StageError(f"{where}: no frame could be read ({'; '.join(summary.errors[:2])})")
    if summary.faces_found == 0:
        raise StageError(
            f"{where}: no faces found in {summary.frames} frames with detector {_describe(config.detector)}; "
            "lower its thresholds or min_face_size"
        )
    skipped = {"blurry": summary.skipped_blurry, "duplicate": summary.skipped_duplicate}
    reasons = ", ".join(
        f"{k}={v}" for k, v in sorted({**summary.rejected, **{k: v for k, v in skipped.items() if v}}.items())
    )
    raise StageError(
        f'{where}: found {summary.faces_found} faces but kept none with policy = "{config.policy}" '
        f"(rejected: {reasons})"
    )


def run_extract(ctx: RunContext, config: ExtractConfig) -> StageResult:
    """Extract the face sets of sides a and b into workdir/faces/<side>."""
    for name, side in config.sides().items():
        where = f"{ctx.pipeline.source.name} [extract.{name}]"
        require_input(side.input, where)
        if side.reference is not None and config.policy == "identity":
            require_input(side.reference, where, what="an image of the person or a .npy embedding")
            for path in side.reference_not:
                require_input(path, where, what="an image of a person to leave out or a .npy embedding")
    parts = ExtractComponents.build(config)
    ctx.pm.notify("fswap_pipeline_built", "after the extract stage's components were built", pipeline=parts)
    summary: dict[str, Any] = {}
    outputs: dict[str, Path] = {}
    for name, side in config.sides().items():
        writer = FaceSetWriter(
            ctx.workdir.faceset(name),
            size=parts.aligner.size,
            masks=list(parts.masks),
            settings=settings_fingerprint(config, side, name),
            resume=ctx.resume,
            step=config.every_n_frames,
        )
        extractor = SideExtractor(name, side, config, parts, writer)
        result = extractor.run(ctx.progress)
        _check_found(name, side, result, config, len(writer.faceset))
        for key in ("frames", "resumed_frames", "faces_found", "faces_kept", "faces_in_set", "read_errors",
                    "frames_skipped_on_error", "frames_retried", "skipped_blurry", "skipped_duplicate"):
            summary[f"{name}.{key}"] = getattr(result, key)
        if config.policy == "identity":
            for key in ("tracks_kept", "tracks_rejected", "cuts"):
                summary[f"{name}.{key}"] = getattr(result, key)
        for reason, count in sorted(result.rejected.items()):
            summary[f"{name}.rejected.{reason}"] = count
        for key, value in coverage_summary(set_poses(writer)).items():
            if key != "faces":
                summary[f"{name}.pose.{key}"] = value
        if result.seconds > 0 and result.frames:
            summary[f"{name}.frames_per_s"] = round(result.frames / result.seconds, 2)
        outputs[f"faceset {name}"] = writer.path
        outputs[f"detections {name}"] = writer.path / DETECTIONS
        if config.contact_sheet:
            sheet = write_contact_sheet(name, writer, result, extractor.sheet_tracks)
            outputs[f"contact sheet {name}"] = sheet
    return StageResult(stage="extract", summary=summary, outputs=outputs)
