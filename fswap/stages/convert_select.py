"""The file and TOML side of per-track selection: the embedder, the reference identity and pass 1.

Shared by the convert stage and `fswap tracks`: both build the same `FaceTracks` (detector, tracker, cut
detector) and, when an embedder is set, measure every track against the same reference, so the track ids
`fswap tracks` shows are the ids `select = "tracks"` converts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import numpy as np

from fswap.builder import build
from fswap.context import RunContext
from fswap.convert.plan import FaceTracks, Plan, SelectOptions, plan_tracks
from fswap.errors import StageError
from fswap.frame_guard import Attributed
from fswap.reference import reference_embedding
from fswap.stages.convert_config import ConvertConfig
from fswap.video.cuts import CutDetector

MAX_REFERENCE_FACES = 64  # faces of a face set embedded for its centroid when it stores no embeddings


@attrs.frozen
class Identity:
    """The embedder and the reference embedding tracks are compared with, and where it came from."""

    embedder: Any
    reference: np.ndarray
    described: str


def select_options(config: ConvertConfig, select: str) -> SelectOptions:
    """The plan options of a [convert] config with `select` in effect."""
    return SelectOptions(
        select=select,
        tracks=tuple(config.tracks),
        identity_threshold=config.identity_threshold,
        identity_every=config.identity_every,
        min_face_size=config.min_face_size,
    )


def cut_detector(config: ConvertConfig) -> CutDetector | None:
    """The shot-cut detector of [convert] (None: cut_threshold = 1 turns cuts off)."""
    if config.cut_threshold >= 1.0:
        return None
    return CutDetector(config.cut_threshold)


def why_selected(ctx: RunContext, config: ConvertConfig) -> str:
    """One line saying why this select mode is in effect."""
    if config.select is not None:
        return f'select = "{config.select}" set in [convert]'
    choice = config.embedder_choice(ctx.pipeline)
    if choice is None:
        return ('default select = "all": no embedder ([convert.embedder] or [extract.embedder]) to tell '
                "people apart, so every face is swapped")
    return f'default select = "identity": the embedder {choice.name} tells people apart'


def identity(
    ctx: RunContext, config: ConvertConfig, detector: Any, aligner: Any, activity: Any, *, required: bool
) -> Identity | None:
    """The embedder and reference for identity distances; None when no embedder is configured, or (unless
    `required`) when there is neither a reference nor a face set to compare with."""
    choice = config.embedder_choice(ctx.pipeline)
    if choice is None:
        return None
    embedder = Attributed(build(choice), choice, activity)
    if config.reference is not None:
        ref = reference_embedding(config.reference, detector, aligner, embedder,
                                  where="[convert] reference")
        return Identity(embedder, ref, f"the reference {config.reference}")
    side = config.direction.split("_to_")[0]
    folder = ctx.pipeline.workdir.faceset(side)
    if not (folder / "alignments.json").is_file():
        if not required:
            return None
        raise StageError(
            f'[convert] select = "identity" compares faces with side {side}\'s face set, but {folder} has '
            'none: run extract first, set [convert] reference = "person.png", or use select = "all"'
        )
    ref, how = _faceset_centroid(folder, embedder)
    return Identity(embedder, ref, f"the centroid of side {side}'s face set {folder} ({how})")


def _faceset_centroid(folder: Path, embedder: Any) -> tuple[np.ndarray, str]:
    from fswap.data.faceset import FaceSet
    from fswap.evaluate.faces import spread

    faceset = FaceSet.open(folder)
    if not faceset.records:
        raise StageError(f"{folder}: the face set is empty; it cannot say whom [convert] select should pick")
    stored = [r.embedding for r in faceset.records]
    if all(e is not None for e in stored):
        return np.mean(np.stack(stored), axis=0).astype(np.float32), f"{len(stored)} stored embeddings"
    picks = spread(range(len(faceset.records)), MAX_REFERENCE_FACES)
    rows = []
    for start in range(0, len(picks), 16):
        faces = [faceset.load_image(faceset.records[i]) for i in picks[start:start + 16]]
        rows.append(np.asarray(embedder.embed(faces), np.float32))
    return np.concatenate(rows).mean(axis=0), f"{len(picks)} of its faces embedded"


def make_plan(
    ctx: RunContext,
    config: ConvertConfig,
    frames: Any,
    *,
    source: FaceTracks,
    aligner: Any,
    found: Identity | None,
    select: str,
    activity: Any,
    on_frame: Any = None,
) -> Plan:
    """Pass 1 over `frames`: tracks, identity distances (when `found`), one decision per track."""
    options = select_options(config, select)
    counted = _counted(frames, on_frame) if on_frame is not None else frames
    plan = plan_tracks(
        counted, source=source, options=options, aligner=aligner,
        embedder=None if found is None else found.embedder,
        reference=None if found is None else found.reference,
        batch_frames=config.batch_frames, activity=activity,
    )
    if select == "tracks":
        unknown = sorted(set(config.tracks) - set(plan.tracks))
        if unknown:
            have = ", ".join(str(t) for t in sorted(plan.tracks)) or "none"
            raise StageError(f"[convert] tracks lists {unknown} but this clip's tracks are: {have} (see "
                             "`fswap tracks` and its contact sheet)")
    return plan


def _counted(frames: Any, on_frame: Any) -> Any:
    for item in frames:
        yield item
        on_frame(1)


SHEET_FILE = "tracks.png"


def review_tracks(ctx: RunContext, config: ConvertConfig) -> dict[str, Any]:
    """`fswap tracks`: pass 1 only over the [convert] range; writes <workdir>/convert/tracks.json (marked
    "dry_run", so evaluate never takes it for a converted video's record) and the contact sheet tracks.png.
    Returns the counts and both paths."""
    from fswap.convert.contact import write_sheet
    from fswap.files import write_json_atomic
    from fswap.frame_guard import Activity, FrameGuard, GuardedDetector
    from fswap.progress import tqdm
    from fswap.stages.convert import TRACKS_FILE, frame_range

    source, _fps = frame_range(ctx, config)
    guard = FrameGuard("convert", config.on_frame_error, str(config.input))
    activity = Activity(str(config.input))
    from fswap.stages.convert_alignments import detection_counts, faces_detector, faces_from, find_alignments

    detector = GuardedDetector(build(config.detector), config.detector, guard)
    alignments = find_alignments(ctx, config, source)
    aligner = Attributed(build(config.aligner), config.aligner, activity)
    tracker = Attributed(build(config.tracker), config.tracker, activity)
    frames_detector = faces_detector(alignments, detector)
    faces = FaceTracks(detector=frames_detector, tracker=tracker,
                       detect_every_n=config.detect_every_n, cuts=cut_detector(config))
    select = config.selection(ctx.pipeline)
    found = identity(ctx, config, detector, aligner, activity, required=select == "identity")
    bar = tqdm(total=source.selected, desc="tracks", unit="frame", disable=not ctx.progress)
    try:
        plan = make_plan(ctx, config, _resized(source, source.size), source=faces, aligner=aligner,
                         found=found, select=select, activity=activity, on_frame=bar.update)
    finally:
        bar.close()
    data = plan.to_json()
    counts = detection_counts(frames_detector)
    folder = ctx.pipeline.workdir.convert
    tracks_path = folder / TRACKS_FILE
    sheet_path = folder / SHEET_FILE
    wanted = {int(t["thumbnail_frame"]) for t in data["tracks"]}
    frames = {int(i): f for i, f in _resized(source, source.size) if int(i) in wanted}
    if data["tracks"]:
        write_sheet(sheet_path, data["tracks"], frames)
    elif sheet_path.exists():
        sheet_path.unlink()
    write_json_atomic(tracks_path, {
        "output": None, "dry_run": True, "layout": "result",
        "identity_reference": None if found is None else found.described,
        "select_why": why_selected(ctx, config), "alignments": alignments.to_json(counts), **data,
        "frames": plan.frame_rows(),
    })
    return {**plan.counts(), "select": select, "cuts": len(plan.cuts),
            "faces_from": faces_from(counts),
            "tracks_file": tracks_path,
            "contact_sheet": sheet_path if data["tracks"] else None}


def _resized(frames: Any, size: tuple[int, int]) -> Any:
    from fswap.stages.convert import _same_size

    return _same_size(frames, size)
