"""Runs every measurement of the report on already-built parts (face sets, generators, embedder, video
observer) and returns the report dictionary and its figures. The stage (`fswap.stages.evaluate`) builds the
parts from the pipeline; tests can pass their own."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from fswap.data.faceset import FaceSet
from fswap.evaluate import faces as fx
from fswap.evaluate import following, metrics, report, temporal
from fswap.evaluate.holdout import Holdout

SIDES = ("a", "b")


@attrs.frozen(eq=False)
class VideoInput:
    """A converted video and how to find its faces."""

    path: Path
    frames: Any  # iterable of (frame index, BGR frame)
    observe: Callable[[int, np.ndarray], list[temporal.FaceObservation]]
    source: str  # which record or detector gave the face positions
    aligner: Any | None  # crops faces for the video identity score (None: no identity score)
    direction: str  # "a_to_b" or "b_to_a": who the video's faces should look like


@attrs.frozen(eq=False)
class EvaluationInputs:
    """Everything one evaluation needs; `generators` maps "a_to_b"/"b_to_a" to a generator (or is empty)."""

    sets: dict[str, FaceSet]
    holdouts: dict[str, Holdout]
    reference: dict[str, list[int]]
    embedder: Any
    embedder_label: str
    generators: dict[str, fx.Generator]
    resolution: int | None
    model_label: str
    video: VideoInput | None
    skipped: dict[str, str] = attrs.field(factory=dict)
    landmarks: Any | None = None  # an Aligner giving 68 landmarks: pose and expression (source following)
    landmarks_label: str = ""
    # per direction, the condition maps its decoder takes (fswap.model.condition.ConditionMaps; SPADE)
    conditions: dict[str, Any] = attrs.field(factory=dict)


@attrs.frozen
class Limits:
    """Sizes and thresholds from the [evaluate] config."""

    max_faces: int = 64
    batch_size: int = 16
    examples: int = 6
    roi_coverage: float = 0.85
    empty_mask_below: float = 0.02
    full_mask_above: float = 0.98
    max_frames: int = 0
    identity_every: int = 5
    comparison_faces: int = 3  # held-out faces per direction in the comparison still
    progress: bool = False


def evaluate(inputs: EvaluationInputs, limits: Limits) -> tuple[dict[str, Any], dict[str, str]]:
    """Compute every section that its inputs allow; returns (report, figures as data: URIs)."""
    skipped = dict(inputs.skipped)
    images: dict[str, str] = {}
    held = {s: fx.spread(inputs.holdouts[s].indices, limits.max_faces) for s in SIDES}
    result: dict[str, Any] = {
        "format": "fswap-evaluation",
        "version": 1,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "inputs": {
            "faces_a": str(inputs.sets["a"].path),
            "faces_b": str(inputs.sets["b"].path),
            "faces_in_a": len(inputs.sets["a"]),
            "faces_in_b": len(inputs.sets["b"]),
            "held_out_evaluated_a": len(held["a"]),
            "held_out_evaluated_b": len(held["b"]),
            "model": inputs.model_label,
            "video": str(inputs.video.path) if inputs.video else None,
            "embedder": inputs.embedder_label,
            "holdout": {s: {"description": inputs.holdouts[s].description,
                            "recorded_by_training": inputs.holdouts[s].recorded_by_training} for s in SIDES},
        },
    }
    ref_faces = {s: fx.load_faces(inputs.sets[s], inputs.reference[s]) for s in SIDES}
    if inputs.generators and inputs.resolution:
        # same detail level as the generated faces, so distances compare like with like
        res, roi = int(inputs.resolution), limits.roi_coverage
        ref_faces = {s: fx.roundtrip(f, roi, res) for s, f in ref_faces.items()}
    reference = fx.identity_reference(inputs.embedder, ref_faces, limits.batch_size)
    identity: dict[str, Any] = {
        "by": inputs.embedder_label,
        "distance": "the embedder's own distance to each identity's centroid embedding (mean of "
                    f"{reference.counts['a']} faces of A and {reference.counts['b']} of B not held out); "
                    "cosine distance (1 − cos) to the same centroids is also given",
    }
    mask_groups: dict[str, metrics.MaskStats] = {}
    if inputs.generators and inputs.resolution:
        recon, grids, crops = _model_sections(inputs, held, reference, identity, mask_groups, limits)
        result["reconstruction"] = recon
        if grids:
            images["examples"] = report.image_data_uri(report.image_grid(grids), "jpeg")
        if limits.comparison_faces > 0:
            still = report.comparison_still(crops, limits.comparison_faces)
            images["comparison"] = report.image_data_uri(still, "png")
        section, reason = _following_section(inputs, held, crops)
        if section is not None:
            result["following"] = section
        else:
            skipped["source following"] = reason
        images["reconstruction"] = report.reconstruction_plot({s: recon[s] for s in SIDES})
        for direction in ("a_to_b", "b_to_a"):
            images[f"identity_{direction}"] = report.identity_plot(direction, identity[direction],
                                                                   inputs.embedder_label)
    else:
        skipped.setdefault("reconstruction and face identity", "no trained model")
    if inputs.video is not None:
        result["temporal"], video_identity, series = _video_sections(inputs, reference, limits)
        if video_identity is not None:
            identity["video"] = video_identity
        else:
            skipped.setdefault("video identity", "no face could be cropped from the converted video")
        if series is not None:
            images["temporal"] = report.temporal_plot(series)
    else:
        skipped.setdefault("temporal stability", "no converted video")
    if len(identity) > 2:
        result["identity"] = identity
    if mask_groups:
        result["masks"] = {
            "by": inputs.model_label + " (the decoders' predicted α)",
            "empty_below": limits.empty_mask_below,
            "full_above": limits.full_mask_above,
            "groups": {name: stats.to_json() for name, stats in mask_groups.items()},
        }
        images["masks"] = report.mask_plot({name: s.per_face_mean for name, s in mask_groups.items()})
    else:
        skipped.setdefault("mask sanity", "no trained model")
    result["skipped"] = skipped
    return result, images


def _model_sections(inputs: EvaluationInputs, held: dict[str, list[int]], reference: fx.IdentityReference,
                    identity: dict[str, Any], mask_groups: dict[str, metrics.MaskStats],
                    limits: Limits) -> tuple[dict[str, Any], list[list[np.ndarray]], dict[str, Any]]:
    from fswap.progress import tqdm

    res = int(inputs.resolution or 0)
    recon: dict[str, Any] = {"by": inputs.model_label, "resolution": res, "roi_coverage": limits.roi_coverage,
                             "compared": "the decoder's raw colour output against the held-out input (the "
                                         "crop's central ROI, as training and convert use it) at the model "
                                         "resolution"}
    grids: list[list[np.ndarray]] = []
    crops: dict[str, Any] = {}  # per side: the full crops the comparison still and source following use
    for side in tqdm(SIDES, desc="evaluate faces", unit="side", disable=not limits.progress, leave=False):
        other = fx.OTHER[side]
        files = [inputs.sets[side].records[i].file for i in held[side]]
        roi = limits.roi_coverage
        full = fx.load_faces(inputs.sets[side], held[side])
        faces = fx.model_inputs(full, roi, res)
        batch = limits.batch_size
        rec, swap = f"{other}_to_{side}", f"{side}_to_{other}"
        rec_bgr, rec_alpha = fx.run_generator(inputs.generators[rec], faces, batch,
                                              _condition(inputs, rec, side, held[side], full, roi))
        swap_bgr, swap_alpha = fx.run_generator(inputs.generators[swap], faces, batch,
                                                _condition(inputs, swap, side, held[side], full, roi))
        recon[side] = fx.reconstruction_scores(faces, rec_bgr, files)
        swapped = fx.composite(swap_bgr, swap_alpha, faces)
        target_held = fx.roundtrip(fx.load_faces(inputs.sets[other], held[other]), roi, res)
        swapped_full = fx.paste_roi(full, swap_bgr, swap_alpha, roi)
        real_source = fx.roundtrip(full, roi, res)
        identity[f"{side}_to_{other}"] = fx.identity_scores(
            inputs.embedder, reference, source=side, swapped=swapped_full,
            real_source=real_source,
            real_target=target_held, files=files, batch_size=limits.batch_size,
        )
        crops[side] = {"files": files, "source": real_source, "swapped": swapped_full,
                       "reconstructed": fx.paste_roi(full, rec_bgr, rec_alpha, roi), "real": full}
        empty, full = limits.empty_mask_below, limits.full_mask_above
        mask_groups[f"reconstruction {side.upper()}"] = metrics.mask_stats(
            rec_alpha, empty_below=empty, full_above=full)
        mask_groups[f"swap {side.upper()}→{other.upper()}"] = metrics.mask_stats(
            swap_alpha, empty_below=empty, full_above=full)
        for n in range(min(limits.examples, len(faces))):
            grids.append([faces[n], rec_bgr[n], rec_alpha[n], swap_bgr[n], swap_alpha[n], swapped[n]])
    return recon, grids, crops


def _condition(inputs: EvaluationInputs, direction: str, side: str, indices: list[int], crops: np.ndarray,
               roi: float) -> np.ndarray | None:
    """The condition maps of held-out faces of `side` for `direction`'s decoder (None: it takes none), made
    from each face's record as convert makes them from a detected face."""
    maps = inputs.conditions.get(direction)
    if maps is None:
        return None
    from fswap.model.condition import record_faces

    return maps.for_faces(record_faces(inputs.sets[side], indices, crops), roi)


def _following_section(inputs: EvaluationInputs, held: dict[str, list[int]],
                       crops: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
    """Head pose, expression and source-following of both directions (None and why when not measured)."""
    if inputs.landmarks is None:
        return None, "no landmark aligner ([evaluate.landmarks])"
    section: dict[str, Any] = {
        "by": inputs.landmarks_label,
        "measured": "68 landmarks of each held-out source face (after the model's resampling) and of the "
                    "swap made from it, in the same box; pose = solvePnP on a generic 3D face, error = angle "
                    "of the rotation between the two head poses; expression = mouth opening and width and "
                    "eye openings over the inter-ocular distance, error = mean absolute difference; "
                    "following rate = share of swaps whose landmarks are nearer their own source than any "
                    "other",
        "baselines": "real_faces: each real source face against a slightly moved copy of itself (±3°, ±3%, "
                     "±2% shift; the landmark pipeline's own noise, what a perfect copy of the source's pose "
                     "and expression scores); reconstruction: the model's same-identity reconstruction of "
                     "each source",
    }
    for side in SIDES:
        other = fx.OTHER[side]
        part = crops[side]
        faceset = inputs.sets[side]
        points5 = np.stack([following.crop_points5(faceset.records[i], faceset.size) for i in held[side]])
        try:
            section[f"{side}_to_{other}"] = following.score_direction(
                inputs.landmarks, sources=part["source"], swapped=part["swapped"],
                reconstructed=part["reconstructed"], points5=points5, files=part["files"])
        except ValueError as exc:
            return None, f"{inputs.landmarks_label} {exc}"
    return section, ""


def _video_sections(
    inputs: EvaluationInputs, reference: fx.IdentityReference, limits: Limits
) -> tuple[dict[str, Any], dict[str, Any] | None, dict[str, np.ndarray] | None]:
    from fswap.progress import tqdm

    video = inputs.video
    if video is None:
        raise ValueError("no video to evaluate")
    crops: list[np.ndarray] = []
    main_face: dict[int, int] = {}

    def on_face(index: int, frame: np.ndarray, tid: int, det: Any) -> None:
        if video.aligner is None or index % limits.identity_every or index in main_face:
            return
        main_face[index] = tid
        crops.append(video.aligner.align(frame, det).image)

    frames = tqdm(temporal.limited(video.frames, limits.max_frames), desc="evaluate video", unit="frame",
                  disable=not limits.progress, leave=False)
    tracks = temporal.collect_tracks(frames, video.observe, on_face=on_face)
    section = temporal.temporal_scores(tracks)
    section["by"] = video.source
    section["jitter"] = ("std over time of second differences of box centre/size and landmarks (0 = smooth "
                         "motion); relative = divided by the face size")
    section["flicker"] = ("mean absolute frame-to-frame change of the mean colour of the central 60% of "
                          "the box (8-bit levels)")
    series = None
    if tracks:
        main = max(tracks.values(), key=lambda t: len(t.frames))
        boxes, _pts, colours, _size = main.dense()
        frame_ids = np.arange(main.frames[0], main.frames[-1] + 1)
        series = {"frames": frame_ids, "cx": boxes[:, 0], "cy": boxes[:, 1], "colour": colours}
    identity = None
    if crops:
        source, target = video.direction.split("_to_")
        emb = fx.embed(inputs.embedder, np.stack(crops), limits.batch_size)
        to_t = fx.embedder_distance(inputs.embedder, emb, reference.centroids[target])
        to_s = fx.embedder_distance(inputs.embedder, emb, reference.centroids[source])
        identity = {
            "frames": len(crops),
            "direction": video.direction,
            "distance_to_target": float(to_t.mean()),
            "distance_to_source": float(to_s.mean()),
            "closer_to_target": float(np.mean(to_t < to_s)),
            "sampled": f"the first face of every {limits.identity_every}th frame",
        }
    return section, identity, series
