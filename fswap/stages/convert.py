"""The convert stage: swap the faces of the input with the exported model and write the output.

Output goes to a temporary name and is renamed only when every frame was written; the summary (frames,
faces swapped, frames without a face, fps) is stored in <workdir>/convert/summary.json and the swapped
faces' positions per output frame in <workdir>/convert/tracks.json. Each run
rewrites its output (conversion has no partial state worth resuming).

Which faces are swapped is decided per track (`[convert] select`): with select = "identity" or "tracks" a
first pass detects and tracks the whole range and decides (fswap.stages.convert_select), then the second
pass generates only the selected tracks' faces; select = "all" swaps every tracked face in one pass. Both
files record every track: its frames, mean identity distance, the decision and why.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from fswap.builder import build
from fswap.context import RunContext, StageResult
from fswap.convert.batching import FACES_PER_CALL, frames_per_batch
from fswap.convert.engine import Converter, ConvertOptions
from fswap.convert.layout import output_size
from fswap.errors import InputError, StageError
from fswap.files import write_json_atomic
from fswap.frame_guard import Activity, Attributed, FrameGuard, GuardedDetector
from fswap.model.condition import load_condition
from fswap.preflight import require_input
from fswap.stages import convert_select as selection
from fswap.stages.convert_alignments import detection_counts, faces_detector, faces_from, find_alignments
from fswap.stages.convert_config import ConvertConfig
from fswap.structure import unstructure
from fswap.video.audio import AudioSource
from fswap.video.overlap import WriteBehind, read_ahead
from fswap.video.reader import open_frames

SUMMARY_KEYS = ("frames", "faces_swapped", "frames_without_face", "frames_skipped_on_error", "frames_retried",
                "select", "tracks_swapped", "tracks_left", "faces_from", "fps", "output")
TRACKS_FILE = "tracks.json"
"""Per output frame, the faces swapped ("faces": track id, box, landmarks in output-frame pixels; read by
evaluate) and the tracked faces left unchanged ("left"); per track ("tracks"): frames, identity distance,
decision and why; the shot cuts ("cuts", source frame indices)."""


def options_of(config: ConvertConfig) -> ConvertOptions:
    """The engine options of a [convert] config."""
    return ConvertOptions(
        roi_coverage=config.roi_coverage,
        enhance=config.enhance,
        color_smoothing=config.color_smoothing,
        min_face_size=config.min_face_size,
        detect_every_n=config.detect_every_n,
        batch_frames=config.batch_frames,
        layout=config.layout,
        label=config.label.enabled,
        label_text=config.label.text,
        label_corner=config.label.corner,
    )


def output_path(ctx: RunContext, config: ConvertConfig, suffix: str) -> Path:
    """The configured output, or <workdir>/convert/<input name>_<direction><suffix>."""
    if config.output is not None:
        return config.output
    stem = config.input.stem if config.input.suffix else config.input.name
    stem = stem.replace("*", "").strip("._") or "input"
    return ctx.pipeline.workdir.convert / f"{stem}_{config.direction}{suffix}"


def load_generator(folder: Path, direction: str, batch_size: int, runtime: str = "tensorflow") -> Any:
    """The exported model's generator for `direction`: Keras (imports TensorFlow) or, with runtime "onnx",
    its ONNX export through ONNX Runtime (exported first when missing or older than the networks)."""
    if not folder.is_dir():
        raise InputError(f"{folder}: no exported model; run the train stage first or set [convert] model")
    if runtime == "onnx":
        from fswap.model.deploy import load_onnx_generator

        return load_onnx_generator(folder, direction, batch_size=batch_size)
    from fswap.model.generator import FaceGenerator

    return FaceGenerator.load(folder, direction, batch_size=batch_size)


def make_converter(config: ConvertConfig, catalog: Any, model_dir: Path, detector: Any, activity: Activity,
                   *, cuts: Any | None = None) -> Converter:
    """The converter of a [convert] config: the exported model's generator (with the condition maps of a
    conditioned decoder such as SPADE, remade from each aligned face: fswap.model.condition) and the
    configured aligner, tracker, colour, blender and parts, each named in its errors with the frame at hand
    (`activity`). `detector` comes built, because callers wrap it (extract's record, the frame guard)."""

    def named(choice: Any) -> Any:
        return Attributed(build(choice), choice, activity)

    generator = load_generator(model_dir, config.direction, config.batch_frames or FACES_PER_CALL,
                               config.runtime)
    condition = load_condition(model_dir, generator.metadata, config.direction, catalog=catalog,
                               where=activity)
    return Converter(
        detector=detector,
        aligner=named(config.aligner),
        tracker=named(config.tracker),
        generator=generator,
        condition=condition,
        color=named(config.color),
        blender=named(config.blender),
        parts=named(config.parts) if config.parts is not None else None,
        options=options_of(config),
        activity=activity,
        cuts=cuts,
    )


def frame_range(ctx: RunContext, config: ConvertConfig) -> tuple[Any, float]:
    """The frames of [convert] input between start and start + duration, and the frame rate."""
    require_input(config.input, f"{ctx.pipeline.source.name} [convert]")
    probe = open_frames(config.input)
    fps = probe.fps or config.fps
    start = round(config.start * fps)
    stop = None if config.duration is None else start + round(config.duration * fps)
    source = open_frames(config.input, start=start, stop=stop)
    if source.selected == 0:
        raise StageError(f"[convert] start = {config.start} s lies beyond the end of {config.input}")
    return source, fps


def run_convert(ctx: RunContext, config: ConvertConfig) -> StageResult:
    """Convert [convert] input → output with the model in <workdir>/model/export (or [convert] model)."""
    from fswap.progress import tqdm

    source, fps = frame_range(ctx, config)
    start = round(config.start * fps)
    writer = build(config.writer)
    out = output_path(ctx, config, getattr(writer, "suffix", ".mp4"))
    model_dir = config.model or ctx.pipeline.workdir.model / "export"
    guard = FrameGuard("convert", config.on_frame_error, str(config.input))
    activity = Activity(str(config.input))  # the frame being converted, for errors naming a component
    detector = GuardedDetector(build(config.detector), config.detector, guard)
    alignments = find_alignments(ctx, config, source)
    frames_detector = faces_detector(alignments, detector)  # recorded faces where extract saw the frame
    converter = make_converter(config, ctx.catalog, model_dir, frames_detector, activity,
                               cuts=selection.cut_detector(config))
    aligner, condition = converter.aligner, converter.condition
    select = config.selection(ctx.pipeline)
    plan = None
    found = None
    pass_one = time.perf_counter()
    if select != "all":
        found = selection.identity(ctx, config, detector, aligner, activity, required=select == "identity")
        bar = tqdm(total=source.selected, desc="tracks", unit="frame", disable=not ctx.progress)
        try:
            plan = selection.make_plan(ctx, config, _same_size(source, source.size), source=converter.source,
                                       aligner=aligner, found=found, select=select, activity=activity,
                                       on_frame=bar.update)
        finally:
            bar.close()
    pass_one = time.perf_counter() - pass_one
    audio = (
        AudioSource(config.input, start=start / fps, duration=source.selected / fps)
        if source.is_video
        else None
    )
    size = source.size
    bar = tqdm(total=source.selected, desc="convert", unit="frame", disable=not ctx.progress)
    written = Activity(str(out), frame=None)  # output frames written so far
    session = Attributed(writer, config.writer, f"for {out}").open(
        out, fps=fps, size=output_size(config.layout, size), audio_source=audio)
    session = Attributed(session, config.writer, written)

    def count_written() -> None:
        written.frame = 0 if written.frame is None else written.frame + 1

    frames: Any = _same_size(source, size)
    if config.overlap_io:  # a batch of frames decoded ahead, a batch encoded behind
        depth = frames_per_batch(config.batch_frames, config.detect_every_n, (size[1], size[0], 3))
        frames, session = read_ahead(frames, depth), WriteBehind(session, depth, on_write=count_written)
    try:
        for frame in converter.run(frames, on_frame=bar.update, plan=plan):
            if not config.overlap_io:
                count_written()
            session.write(frame)
        if config.overlap_io:
            session.drain()  # the last frames' write errors still name their frame
    except BaseException:
        session.abort()
        raise
    finally:
        bar.close()
    written.frame = None
    session.close()
    swapped = sum(t["decision"] == "swap" for t in converter.track_records)
    counts = detection_counts(frames_detector)  # frames answered from extract's record / detected
    summary = {
        **converter.stats.to_json(),
        "select": select,
        "select_why": selection.why_selected(ctx, config),
        "seconds_first_pass": round(pass_one, 3),  # tracks and identity of select = identity/tracks (0: all)
        "seconds_identity": round(plan.identity_seconds, 3) if plan is not None else 0.0,
        "identity_reference": None if found is None else found.described,
        "alignments": alignments.to_json(counts),
        "faces_from": faces_from(counts),
        "tracks_swapped": swapped,
        "tracks_left": len(converter.track_records) - swapped,
        "cuts": converter.cuts,
        "tracks": converter.track_records,
        "frames_skipped_on_error": len(guard.skipped),
        "frames_retried": len(guard.retried),
        "output": str(out),
        "fps_out": fps,
        "audio": bool(getattr(session, "has_audio", False)),
        "direction": config.direction,
        "model": str(model_dir),
        "runtime": config.runtime,
        **({"condition_map": condition.label} if condition is not None else {}),
        "config": unstructure(config),
    }
    summary_path = ctx.pipeline.workdir.convert / "summary.json"
    tracks_path = ctx.pipeline.workdir.convert / TRACKS_FILE
    write_json_atomic(tracks_path, {
        "output": str(out), "layout": config.layout, "select": select, "cuts": converter.cuts,
        "tracks": converter.track_records, "frames": converter.tracks,
    })
    write_json_atomic(summary_path, summary)
    return StageResult(
        stage="convert",
        summary={k: summary[k] for k in SUMMARY_KEYS},
        outputs={"output": out, "summary": summary_path, "tracks": tracks_path},
    )


def _same_size(frames: Any, size: tuple[int, int]) -> Any:
    """Frames resized to `size` where an image input mixes sizes (a video has one size)."""
    import cv2

    for index, frame in frames:
        if (frame.shape[1], frame.shape[0]) != size:
            frame = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
        yield index, np.ascontiguousarray(frame)
