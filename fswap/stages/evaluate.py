"""The evaluate stage: builds the parts the report needs from the pipeline and writes evaluate/report.*.

Inputs: both face sets (required), the exported model (workdir/model/export or [evaluate] model) and/or the
converted video ([evaluate] video, else the [convert] output, else the newest video in workdir/convert).
Face positions in the video come from the convert stage's record (convert/tracks.json) or by re-detecting.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fswap.builder import build
from fswap.components import ComponentChoice
from fswap.context import RunContext, StageResult
from fswap.data.faceset import FaceSet
from fswap.errors import StageError
from fswap.evaluate import faces as fx
from fswap.evaluate import temporal
from fswap.evaluate.evaluation import EvaluationInputs, Limits, VideoInput, evaluate
from fswap.evaluate.holdout import select_holdout, training_indices
from fswap.evaluate.report import headline, write_data_uri, write_report
from fswap.frame_guard import Activity, Attributed
from fswap.stages.evaluate_config import EvaluateConfig

VIDEO_SUFFIXES = (".mp4", ".mkv", ".avi", ".mov", ".webm")
TRACKS_FILE = "tracks.json"
CONVERT_SUMMARY = "summary.json"
DEFAULT_ROI_COVERAGE = 0.85
COMPARISON_FILE = "comparison.png"


def run_evaluate(ctx: RunContext, config: EvaluateConfig) -> StageResult:
    """Measure identity transfer, reconstruction, temporal stability and masks; write the report."""
    wd = ctx.workdir
    sets = {side: FaceSet.open(wd.faceset(side)) for side in ("a", "b")}
    for faceset in sets.values():
        if len(faceset) < 2:
            raise StageError(f"[evaluate]: face set {faceset.path} has {len(faceset)} face(s); at least 2 "
                             "are needed (some held out, some for the identity reference)")
    model_folder = config.model or wd.model / "export"
    has_model = (model_folder / "model.json").is_file()
    video_path = find_video(ctx, config)
    if not has_model and video_path is None:
        raise StageError(
            f"[evaluate]: nothing to evaluate: no exported model in {model_folder} and no converted video in "
            f"{wd.convert}; run the train and/or convert stage first (or set [evaluate] model / video)"
        )
    skipped: dict[str, str] = {}
    holdouts = {s: select_holdout(f, s, every=config.holdout_every, model_folder=model_folder)
                for s, f in sets.items()}
    reference = {}
    for side, faceset in sets.items():
        held = set(holdouts[side].indices)
        rest = [i for i in range(len(faceset)) if i not in held] or training_indices(len(faceset), 2)
        reference[side] = fx.spread(rest, config.max_reference_faces)
    embedder = Attributed(build(config.embedder), config.embedder, "while the evaluate stage scored identity")
    generators, resolution, model_label, conditions = {}, None, "none", {}
    if has_model:
        generators, resolution, model_label, conditions = _load_generators(model_folder, config.batch_size,
                                                                           ctx.catalog)
    else:
        skipped["reconstruction and face identity"] = f"no exported model in {model_folder}"
    video = None
    if video_path is not None:
        video = _video_input(ctx, config, video_path, skipped)
    landmarks = (Attributed(build(config.landmarks), config.landmarks,
                            "while the evaluate stage measured head pose and expression")
                 if generators else None)
    inputs = EvaluationInputs(
        sets=sets, holdouts=holdouts, reference=reference, embedder=embedder,
        embedder_label=_label(config.embedder), generators=generators, resolution=resolution,
        model_label=model_label, video=video, skipped=skipped,
        landmarks=landmarks, landmarks_label=_label(config.landmarks), conditions=conditions,
    )
    convert = ctx.pipeline.stage("convert")
    roi = config.roi_coverage or getattr(convert, "roi_coverage", None) or DEFAULT_ROI_COVERAGE
    limits = Limits(max_faces=config.max_faces, batch_size=config.batch_size, examples=config.examples,
                    roi_coverage=roi,
                    empty_mask_below=config.empty_mask_below, full_mask_above=config.full_mask_above,
                    max_frames=config.max_frames, identity_every=config.identity_every,
                    comparison_faces=config.comparison_faces, progress=ctx.progress)
    report, images = evaluate(inputs, limits)
    if video_path is not None:
        report["leak"] = _leak(ctx, video_path)
    json_path, html_path = write_report(wd.evaluate, report, images)
    outputs = {"report": html_path, "numbers": json_path}
    if "comparison" in images:
        outputs["comparison"] = write_data_uri(wd.evaluate / COMPARISON_FILE, images["comparison"])
    return StageResult(stage="evaluate", summary=_summary(report), outputs=outputs,
                       headline=headline(report))


def _label(choice: ComponentChoice) -> str:
    return f"{choice.spec.kind} '{choice.spec.name}' ({choice.provider})"


def _load_generators(folder: Path, batch_size: int,
                     catalog: Any) -> tuple[dict[str, Any], int | None, str, dict[str, Any]]:
    """Both directions of the exported model; (generators, resolution, label, condition maps per direction
    of a conditioned decoder (SPADE), fswap.model.condition)."""
    from fswap.model.condition import load_condition
    from fswap.model.generator import FaceGenerator
    from fswap.model.io import read_metadata

    meta = read_metadata(folder)
    gens = {d: FaceGenerator.load(folder, d, batch_size=batch_size) for d in ("a_to_b", "b_to_a")}
    resolution = gens["a_to_b"].resolution
    label = f"model {folder} ({resolution}², {meta.get('capacity', '?')} capacity)"
    where = "while the evaluate stage made the held-out faces' condition maps"
    conditions = {d: load_condition(folder, meta, d, catalog=catalog, where=where) for d in gens}
    if any(conditions.values()):
        label += "; condition maps: " + ", ".join(f"{d} {c.label}" for d, c in conditions.items() if c)
    return gens, resolution, label, {d: c for d, c in conditions.items() if c is not None}


def find_video(ctx: RunContext, config: EvaluateConfig) -> Path | None:
    """The converted video: [evaluate] video, else the output named in convert/summary.json, else the newest
    video file in convert/."""
    if config.video is not None:
        if not config.video.exists():
            raise StageError(f"[evaluate] video {config.video} does not exist")
        return config.video
    summary = convert_summary(ctx)
    output = summary.get("output")
    if isinstance(output, str) and Path(output).exists():
        return Path(output)
    folder = ctx.workdir.convert
    if not folder.is_dir():
        return None
    videos = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES
              and not p.name.startswith(".")]
    return max(videos, key=lambda p: p.stat().st_mtime) if videos else None


def convert_summary(ctx: RunContext) -> dict[str, Any]:
    """convert/summary.json written by the convert stage ({} when absent or unreadable)."""
    path = ctx.workdir.convert / CONVERT_SUMMARY
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _from_extract(ctx: RunContext, name: str) -> ComponentChoice | None:
    extract = ctx.pipeline.stage("extract")
    return getattr(extract, name, None) if extract is not None else None


def _video_input(ctx: RunContext, config: EvaluateConfig, path: Path, skipped: dict[str, str]) -> VideoInput:
    from fswap.video.reader import open_frames

    activity = Activity(str(path))  # the video frame being looked at, for errors naming a component
    record = ctx.workdir.convert / TRACKS_FILE
    use_record = config.tracks == "record" or (config.tracks == "auto" and _record_matches(record, path))
    if use_record:
        if not record.is_file():
            raise StageError(f"[evaluate] tracks = \"record\" but {record} does not exist; run convert first "
                             "or use tracks = \"redetect\"")
        observe = temporal.file_observer(temporal.read_tracks_file(record))
        source = f"the convert stage's record {record} (the tracker's smoothed positions of the pasted faces)"
    else:
        layout = _layout(ctx, path)
        if layout != "result":
            raise StageError(f"[evaluate]: {path} shows several panels per frame (layout = \"{layout}\"), so "
                             "re-detected faces would mix source and result; use its tracks.json record "
                             "(tracks = \"auto\") or a layout = \"result\" video")
        detector_choice = config.detector or _from_extract(ctx, "detector")
        if detector_choice is None:
            raise StageError("[evaluate]: re-detecting faces in the converted video needs a detector: add "
                             "[evaluate.detector] use = \"mtcnn\" (or an [extract] section)")
        observe = temporal.detector_observer(Attributed(build(detector_choice), detector_choice, activity))
        source = f"re-detection with {_label(detector_choice)}"
    aligner_choice = config.aligner or _from_extract(ctx, "aligner")
    aligner = None if aligner_choice is None else Attributed(build(aligner_choice), aligner_choice, activity)
    if aligner is None:
        skipped["video identity"] = "no aligner to crop the video's faces (add [evaluate.aligner])"
    summary = convert_summary(ctx) if config.video is None else {}
    convert = ctx.pipeline.stage("convert")
    direction = summary.get("direction") or (getattr(convert, "direction", "a_to_b") if convert else "a_to_b")
    return VideoInput(path=path, frames=_noted(open_frames(path), activity), observe=observe, source=source,
                      aligner=aligner, direction=direction)


def _noted(frames: Any, activity: Activity) -> Any:
    """The (index, frame) pairs of `frames`, noting each index in `activity` as it is handed out (each frame
    is detected and aligned before the next is read)."""
    for index, frame in frames:
        activity.frame = index
        yield index, frame


def _record_matches(record: Path, video: Path) -> bool:
    """Whether convert/tracks.json exists and describes `video` (its "output"; none given also counts; the
    dry run of `fswap tracks` never does)."""
    if not record.is_file():
        return False
    try:
        data = json.loads(record.read_text(encoding="utf-8"))
        output, dry = data.get("output"), data.get("dry_run", False)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError):
        return True  # let read_tracks_file report what is wrong with it
    if dry:
        return False
    return output is None or Path(output).resolve() == video.resolve()


def _leak(ctx: RunContext, video: Path) -> dict[str, Any]:
    """The `leak` section: other people's face pixels changed by convert (fswap.evaluate.leak)."""
    from fswap.evaluate.leak import LOSSY_TOLERANCE, leak_scores
    from fswap.stages.convert import _same_size, frame_range
    from fswap.video.reader import open_frames

    record = ctx.workdir.convert / TRACKS_FILE
    convert = ctx.pipeline.stage("convert")
    if convert is None or not _record_matches(record, video):
        return {"leak": None, "why": "needs the [convert] section and its record convert/tracks.json of this "
                                     "video"}
    data = json.loads(record.read_text(encoding="utf-8"))
    rows = data.get("frames", [])
    if not any("left" in row for row in rows):
        return {"leak": None, "why": f"{record} predates per-track selection (no \"left\" faces recorded)"}
    summary = convert_summary(ctx)
    same = isinstance(summary.get("output"), str) and Path(summary["output"]).resolve() == video.resolve()
    label = (same and (summary.get("config") or {}).get("label")) or {
        "enabled": convert.label.enabled, "text": convert.label.text, "corner": convert.label.corner}
    source, _fps = frame_range(ctx, convert)
    inputs = (frame for _, frame in _same_size(source, source.size))
    outputs = (frame for _, frame in open_frames(video))
    tolerance = 0 if video.is_dir() else LOSSY_TOLERANCE
    section = leak_scores(rows, zip(inputs, outputs, strict=False), layout=str(data.get("layout", "result")),
                          tolerance=tolerance, label=label)
    section["output"] = "lossless image sequence" if video.is_dir() else "lossy video (hence the tolerance)"
    return section


def _layout(ctx: RunContext, video: Path) -> str:
    """The convert layout of `video` when convert/summary.json describes it, else "result"."""
    summary = convert_summary(ctx)
    output = summary.get("output")
    if isinstance(output, str) and Path(output).resolve() == video.resolve():
        return str((summary.get("config") or {}).get("layout", "result"))
    return "result"


def _summary(report: dict[str, Any]) -> dict[str, Any]:
    """A few headline numbers for the CLI line."""
    out: dict[str, Any] = {}
    ident = report.get("identity", {})
    for key in ("a_to_b", "b_to_a", "video"):
        if key in ident and ident[key].get("closer_to_target") is not None:
            out[f"{key}_closer_to_target"] = round(ident[key]["closer_to_target"], 3)
    recon = report.get("reconstruction", {})
    for side in ("a", "b"):
        if side in recon and recon[side].get("ssim") is not None:
            out[f"ssim_{side}"] = round(recon[side]["ssim"], 3)
    following = report.get("following", {})
    for key in ("a_to_b", "b_to_a"):
        if key in following:
            sec = following[key]
            out[f"{key}_pose_error_deg"] = round(sec["pose_error_deg"], 2)
            out[f"{key}_pose_error_real_deg"] = round(sec["baseline"]["real_faces"]["pose_error_deg"], 2)
            if sec.get("following_rate") is not None:
                out[f"{key}_following_rate"] = round(sec["following_rate"], 3)
    leak = report.get("leak") or {}
    if leak.get("leak") is not None:
        out["leak"] = round(leak["leak"], 6)
    temp = report.get("temporal", {})
    if temp.get("box_jitter_relative") is not None:
        out["box_jitter_relative"] = round(temp["box_jitter_relative"], 5)
    if temp.get("colour_flicker") is not None:
        out["colour_flicker"] = round(temp["colour_flicker"], 3)
    if report.get("skipped"):
        out["skipped"] = len(report["skipped"])
    return out
