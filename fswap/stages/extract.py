"""The extract stage: frames → faces → aligned crops, masks and alignments.json, one face set per side."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from fswap.builder import build
from fswap.components import AlignedFace, Aligner, Detection, Detector, Embedder, MaskGenerator
from fswap.errors import FswapError, InputError, StageError
from fswap.extract.alignment import square_crop
from fswap.extract.writer import FaceSetWriter
from fswap.frame_guard import Attributed, FrameGuard, check_aligned
from fswap.preflight import require_input
from fswap.run import RunContext, StageResult
from fswap.stages.extract_config import ExtractConfig, ExtractSide, mask_names
from fswap.structure import unstructure
from fswap.video.reader import open_frames, read_image


@attrs.frozen
class ExtractComponents:
    """The components of one extract run, built once and shared by both sides."""

    detector: Detector
    aligner: Aligner
    masks: dict[str, MaskGenerator]
    embedder: Embedder | None

    @classmethod
    def build(cls, config: ExtractConfig) -> ExtractComponents:
        embed = config.embedder is not None and (config.policy == "identity" or config.store_embeddings)
        return cls(
            detector=build(config.detector),
            aligner=build(config.aligner),
            masks=dict(zip(mask_names(config.masks), (build(m) for m in config.masks), strict=True)),
            embedder=build(config.embedder) if embed else None,
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
    rejected: Counter = attrs.field(factory=Counter)
    seconds: float = 0.0
    errors: list[str] = attrs.field(factory=list)

    def to_json(self) -> dict[str, Any]:
        data = attrs.asdict(self)
        data["rejected"] = dict(sorted(self.rejected.items()))
        data["frames_per_s"] = round(self.frames / self.seconds, 2) if self.seconds > 0 else None
        data["seconds"] = round(self.seconds, 2)
        return data


# options that change speed, not results: a resumed run may use other values
_SPEED_ONLY = ("batch_size", "device")

# frames held at once are also capped by pixels, so a batch of huge frames stays within memory
BATCH_PIXELS = 48_000_000


def _content(choice: Any) -> dict[str, Any]:
    return {k: v for k, v in unstructure(choice).items() if k not in _SPEED_ONLY}


def settings_fingerprint(config: ExtractConfig, side: ExtractSide) -> dict[str, Any]:
    """What decides the content of a face set; a resumed run must match it."""
    return {
        "input": str(side.input),
        "reference": None if side.reference is None else str(side.reference),
        "every_n_frames": config.every_n_frames,
        "policy": config.policy,
        "identity_threshold": config.identity_threshold if config.policy == "identity" else None,
        "store_embeddings": config.store_embeddings,
        "save_raw": config.save_raw,
        "detector": _content(config.detector),
        "aligner": _content(config.aligner),
        "masks": dict(zip(mask_names(config.masks), (_content(m) for m in config.masks), strict=True)),
        "embedder": None if config.embedder is None else _content(config.embedder),
    }


def reference_embedding(path: Path, parts: ExtractComponents, config: ExtractConfig) -> np.ndarray:
    """The wanted person's embedding: a .npy file, or the most confident face of an image."""
    if parts.embedder is None or config.embedder is None:
        raise StageError("an identity reference needs an embedder")
    if path.suffix.lower() == ".npy":
        try:
            return np.asarray(np.load(path), dtype=np.float32).reshape(-1)
        except (OSError, ValueError) as exc:
            raise InputError(f"{path}: not a readable .npy embedding ({exc})") from exc
    image = read_image(path)
    where = f"on the identity reference image {path}"
    detector = Attributed(parts.detector, config.detector, where)
    detections = detector.detect([image])[0]
    if not detections:
        raise InputError(f"{path}: no face found in the identity reference image")
    best = max(detections, key=lambda d: d.confidence)
    face = Attributed(parts.aligner, config.aligner, where).align(image, best)
    embedder = Attributed(parts.embedder, config.embedder, where)
    return np.asarray(embedder.embed([face.image])[0], dtype=np.float32)


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
        self.reference: np.ndarray | None = None
        if config.policy == "identity" and side.reference is not None:
            self.reference = reference_embedding(side.reference, parts, config)

    def run(self, progress: bool) -> SideSummary:
        import time

        from tqdm import tqdm

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

    def _process(self, batch: list[tuple[int, np.ndarray]], source: Any) -> int:
        detections = self.guard.detect(self.parts.detector, self.config.detector, batch)
        for (index, frame), found in zip(batch, detections, strict=True):
            self.summary.frames += 1
            if index in self.guard.skipped:
                continue
            self._keep_faces(index, frame, found, source)
        self.writer.mark_done(index for index, _ in batch)
        return len(batch)

    def _keep_faces(self, index: int, frame: np.ndarray, found: list[Detection], source: Any) -> None:
        self.summary.faces_found += len(found)
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
            try:
                embedding = self._embedding(face)
                distance = None
                if self.reference is not None and embedding is not None and self.parts.embedder is not None:
                    distance = float(
                        np.asarray(self.parts.embedder.distance(self.reference[None], embedding[None]))[0]
                    )
            except FswapError:
                raise
            except Exception as exc:  # the embedder broke on this frame: fail or skip it (on_frame_error)
                if self.config.embedder is None:
                    raise
                self.guard.failed(self.config.embedder, index, exc)
                return
            if distance is not None and distance > self.config.identity_threshold:
                self.summary.rejected["other_identity"] += 1
                continue
            masks = {}
            for choice, (name, gen) in zip(self.config.masks, self.parts.masks.items(), strict=True):
                mask = self.guard.mask(gen, choice, index, face)
                if mask is None:
                    return
                masks[name] = mask
            raw = square_crop(frame, detection.box) if self.config.save_raw else None
            ready.append((face_index, face, masks, raw, embedding))
        for face_index, face, masks, raw, embedding in ready:
            self.writer.add(
                face,
                source=origin,
                frame=index,
                face_index=face_index,
                masks=masks,
                raw=raw,
                embedding=embedding if self.config.store_embeddings else None,
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
    reasons = ", ".join(f"{k}={v}" for k, v in sorted(summary.rejected.items()))
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
    parts = ExtractComponents.build(config)
    ctx.pm.notify("fswap_pipeline_built", "after the extract stage's components were built", pipeline=parts)
    summary: dict[str, Any] = {}
    outputs: dict[str, Path] = {}
    for name, side in config.sides().items():
        writer = FaceSetWriter(
            ctx.workdir.faceset(name),
            size=parts.aligner.size,
            masks=list(parts.masks),
            settings=settings_fingerprint(config, side),
            resume=ctx.resume,
            step=config.every_n_frames,
        )
        result = SideExtractor(name, side, config, parts, writer).run(ctx.progress)
        _check_found(name, side, result, config, len(writer.faceset))
        for key in ("frames", "resumed_frames", "faces_found", "faces_kept", "faces_in_set", "read_errors",
                    "frames_skipped_on_error", "frames_retried"):
            summary[f"{name}.{key}"] = getattr(result, key)
        for reason, count in sorted(result.rejected.items()):
            summary[f"{name}.rejected.{reason}"] = count
        if result.seconds > 0 and result.frames:
            summary[f"{name}.frames_per_s"] = round(result.frames / result.seconds, 2)
        outputs[f"faceset {name}"] = writer.path
    return StageResult(stage="extract", summary=summary, outputs=outputs)
