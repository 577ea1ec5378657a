"""The condition map of a conditioned decoder (SPADE normalization): what it is and how it is made.

Training conditions decoder X on face set X's mask named by `[train] eye_mask` (the eye mask extract made),
moved with the face through augmentation, or on zeros when the set has no such mask. The exported model
records that in model.json (`condition`: the mask name and, per decoder side, the mask generator table the
face set was extracted with, "none" for zeros, or "unrecorded"), so convert and evaluate can remake the same
map for any aligned face: the mask generator's mask of the aligned crop, in the crop geometry extract uses,
then the central ROI that is fed to the generator (the `roi_coverage` inset), resized to the model
resolution. Training previews take the stored masks through the same crop as their faces.

No TensorFlow here; OpenCV is imported when a map is made.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from fswap.components import AlignedFace, ComponentChoice, Kind
from fswap.errors import ConfigError, InputError

CONDITION_KEY = "condition"
"""The model.json key (a dict, see `condition_record`)."""
NO_MAP = "none"  # the side trained on zeros (its face set had no such mask)
UNRECORDED = "unrecorded"  # the face set has the mask but not the generator that made it
SIDES = ("a", "b")
DECODER_SIDE = {"a_to_b": "b", "b_to_a": "a"}  # the decoder a direction uses (fswap.model.generator)


def roi_inset(size: int, coverage: float) -> int:
    """Pixels cut from each side of a size² aligned crop to keep its central ROI, as convert crops it
    (`fswap.convert.geometry.roi_matrix`): int(size·(1 − coverage)), robust to float rounding."""
    inset = int(size * (1.0 - coverage) + 1e-9)
    if size - 2 * inset <= 0:
        raise InputError(f"roi_coverage {coverage} leaves no face area in a {size}-pixel crop")
    return inset


def central_square(image: np.ndarray, inset: int, resolution: int) -> np.ndarray:
    """`image` without `inset` pixels on each side, resized to resolution² (area filter)."""
    import cv2

    size = image.shape[0]
    part = np.ascontiguousarray(image[inset:size - inset, inset:size - inset])
    if part.shape[0] == resolution and part.shape[1] == resolution:
        return part
    return cv2.resize(part, (resolution, resolution), interpolation=cv2.INTER_AREA)


def condition_batch(masks: Sequence[np.ndarray], *, inset: Callable[[int], int], resolution: int,
                    channels: int) -> np.ndarray:
    """The decoder's condition input: each mask (float in [0, 1] or uint8 in [0, 255], size²) cropped to
    its central square (`inset(size)` pixels cut per side), resized to resolution², repeated over
    `channels`; (N, R, R, C) float32 in [0, 1]. Every map fswap feeds a decoder goes through here."""
    out = np.zeros((len(masks), resolution, resolution, channels), np.float32)
    for n, mask in enumerate(masks):
        m = np.asarray(mask)
        scaled = m.astype(np.float32) / 255.0 if m.dtype == np.uint8 else m.astype(np.float32)
        square = central_square(np.ascontiguousarray(scaled), inset(scaled.shape[0]), resolution)
        out[n] = np.clip(square, 0.0, 1.0)[..., None]
    return out


# -- what the model records -------------------------------------------------------------------------


def extract_mask_table(faceset: Any, mask: str) -> dict[str, Any] | None:
    """The [extract.masks.<mask>] table (with `use`) that made face set `faceset`'s mask, if recorded."""
    settings = (faceset.meta.get("extract") or {}).get("settings") or {}
    table = (settings.get("masks") or {}).get(mask)
    return dict(table) if isinstance(table, Mapping) and isinstance(table.get("use"), str) else None


def condition_record(channels: int, mask: str, facesets: Mapping[str, Any | None]) -> dict[str, Any]:
    """model.json's `condition` for decoders trained on `mask` of the face sets per side (None: the side's
    face set had no such mask, so its decoder saw zeros)."""
    made_by: dict[str, Any] = {}
    for side in SIDES:
        faceset = facesets.get(side)
        if faceset is None or not mask or mask not in faceset.masks:
            made_by[side] = NO_MAP
        else:
            made_by[side] = extract_mask_table(faceset, mask) or UNRECORDED
    return {"channels": int(channels), "mask": mask, "made_by": made_by,
            "geometry": "mask of the aligned crop, central ROI at [convert] roi_coverage, at the model "
                        "resolution"}


def write_condition(folder: Path, record: Mapping[str, Any]) -> None:
    """Add `record` as `condition` to the model.json of the saved model in `folder` (atomically)."""
    import json

    from fswap.files import write_json_atomic
    from fswap.model.io import METADATA, read_metadata

    metadata = read_metadata(folder)
    metadata[CONDITION_KEY] = json.loads(json.dumps(dict(record)))
    write_json_atomic(Path(folder) / METADATA, metadata)


@attrs.frozen(eq=False)
class ConditionMaps:
    """Makes one decoder's condition maps from aligned faces. `generator` is a built mask generator (None:
    zeros, as the decoder was trained); `label` says where the map comes from, for summaries."""

    channels: int
    resolution: int
    generator: Any | None
    label: str

    def for_faces(self, faces: Sequence[AlignedFace], coverage: float) -> np.ndarray:
        """(N, R, R, C) maps of aligned faces (their crops at the aligner's size, as extract makes them),
        cropped to the central ROI at `coverage` like the generator's input."""
        if self.generator is None:
            return np.zeros((len(faces), self.resolution, self.resolution, self.channels), np.float32)
        masks = [np.asarray(self.generator.generate(face), np.float32) for face in faces]
        return condition_batch(masks, inset=lambda size: roi_inset(size, coverage),
                               resolution=self.resolution, channels=self.channels)


def record_faces(faceset: Any, indices: Sequence[int], crops: Sequence[np.ndarray]) -> list[AlignedFace]:
    """Aligned faces of face set records (their stored crops `crops`, landmarks, detection and matrix), as
    the aligner gave them at extract time."""
    return [AlignedFace(image=np.asarray(crop), matrix=faceset.records[i].matrix,
                        landmarks=faceset.records[i].landmarks, detection=faceset.records[i].detection)
            for i, crop in zip(indices, crops, strict=True)]


def load_condition(folder: Path, metadata: Mapping[str, Any], direction: str, *, catalog: Any,
                   where: Callable[[], str] | str = "") -> ConditionMaps | None:
    """The condition maps direction `direction` of the saved model in `folder` needs (None when its decoder
    takes none). The mask generator is rebuilt from the catalog; its failures name it (`where`: what is
    being processed). A conditioned model without the record is an InputError saying what to do."""
    channels = int(metadata.get("condition_channels", 0) or 0)
    if channels == 0:
        return None
    resolution = int(metadata.get("resolution", 0))
    record = metadata.get(CONDITION_KEY)
    retrain = ("re-run the train stage to export it again (it resumes from the last checkpoint and records "
               "the map), or train it again")
    if not isinstance(record, Mapping) or not isinstance(record.get("made_by"), Mapping):
        raise InputError(
            f"{folder}: this model's decoders take a {channels}-channel condition map (SPADE normalization) "
            f"but its model.json does not say how the map was made (exported by an older fswap); {retrain}")
    side = DECODER_SIDE[direction]
    made = record["made_by"].get(side)
    mask = str(record.get("mask", ""))
    if made == NO_MAP:
        return ConditionMaps(channels, resolution, None, f"zeros (face set {side} had no '{mask}' mask)")
    if not isinstance(made, Mapping):
        raise InputError(
            f"{folder}: decoder {side} was trained on face set {side}'s '{mask}' mask, but the face set does "
            "not record the mask generator that made it (made outside the extract stage), so convert cannot "
            f"remake the map; extract the face set with [extract.masks.{mask}] and train again")
    choice = _mask_choice(folder, made, side, catalog)
    from fswap.builder import build
    from fswap.frame_guard import Attributed

    generator = Attributed(build(choice), choice, where)
    return ConditionMaps(channels, resolution, generator,
                         f"mask generator '{choice.name}' ({choice.provider}), as face set {side}'s '{mask}'")


def _mask_choice(folder: Path, table: Mapping[str, Any], side: str, catalog: Any) -> ComponentChoice:
    from fswap.structure import Context, structure_component

    ctx = Context(source=str(Path(folder) / "model.json"), base_dir=Path(folder), catalog=catalog)
    try:
        return structure_component(Kind.MASK_GENERATOR, table, ctx=ctx,
                                   section=f"{CONDITION_KEY}.made_by.{side}")
    except ConfigError as exc:
        raise InputError(f"{exc} (the mask generator the model's condition map needs; install the plugin "
                         "that provides it)") from exc
