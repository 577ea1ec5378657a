"""fswap.model.condition: the condition map of a SPADE decoder — its record in model.json, how convert and
evaluate remake it, and the real maps the training previews feed (not zeros)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import cv2
import numpy as np
import pytest

from fswap.catalog import Catalog
from fswap.components import AlignedFace, Detection
from fswap.data.pipeline import load_faces, preview_conditions, preview_faces
from fswap.errors import InputError, TrainingError
from fswap.model.condition import (
    NO_MAP,
    UNRECORDED,
    condition_batch,
    condition_record,
    load_condition,
    roi_inset,
)
from fswap.plugins import make_plugin_manager
from fswap.train.toys import make_toy_faceset

EYES5 = {"use": "eyes5", "half_height": 1.0 / 15.0, "half_width": 1.0 / 8.0, "blur": 0}


@pytest.fixture(scope="module")
def full_catalog() -> Catalog:
    return Catalog.from_plugin_manager(make_plugin_manager())


def _meta(made_by: dict[str, Any] | None) -> dict[str, Any]:
    meta: dict[str, Any] = {"condition_channels": 1, "resolution": 32}
    if made_by is not None:
        meta["condition"] = {"channels": 1, "mask": "eyes5", "made_by": made_by}
    return meta


def test_condition_batch_crops_scales_and_repeats() -> None:
    mask = np.zeros((40, 40), np.uint8)
    mask[10:30, 10:30] = 255  # the central 20² after a 10 px inset: all ones
    out = condition_batch([mask, mask.astype(np.float32) / 255.0], inset=lambda size: size // 4, resolution=8,
                          channels=2)
    assert out.shape == (2, 8, 8, 2) and out.dtype == np.float32
    np.testing.assert_array_equal(out, np.ones_like(out))
    assert roi_inset(256, 0.875) == 32 and roi_inset(100, 0.9) == 10  # not 9 from float rounding


def test_record_per_side_says_how_each_decoder_saw_its_map(tmp_path: Path) -> None:
    with_mask = make_toy_faceset(tmp_path / "a", "astronaut", count=2, size=32)
    without = make_toy_faceset(tmp_path / "b", "grace_hopper", count=2, size=32, eyes=False)
    with_mask.meta["extract"] = {"settings": {"masks": {"eyes5": EYES5}}}
    record = condition_record(1, "eyes5", {"a": with_mask, "b": without})
    assert record["made_by"] == {"a": EYES5, "b": NO_MAP} and record["mask"] == "eyes5"
    with_mask.meta.clear()  # a face set made outside extract: the mask is there, its maker is not
    assert condition_record(1, "eyes5", {"a": with_mask, "b": None})["made_by"] == {"a": UNRECORDED,
                                                                                   "b": NO_MAP}
    assert condition_record(1, "", {"a": with_mask, "b": with_mask})["made_by"] == {"a": NO_MAP, "b": NO_MAP}


def test_load_condition_builds_the_recorded_mask_generator(full_catalog: Catalog, tmp_path: Path) -> None:
    meta = _meta({"a": NO_MAP, "b": EYES5})
    assert load_condition(tmp_path, {"condition_channels": 0}, "a_to_b", catalog=full_catalog) is None
    zeros = load_condition(tmp_path, meta, "b_to_a", catalog=full_catalog)  # decoder a: trained on zeros
    assert zeros is not None and zeros.generator is None and "zeros" in zeros.label
    det = Detection(box=(20, 20, 60, 60), confidence=1.0, landmarks=np.zeros((5, 2)))
    face = AlignedFace(image=np.zeros((64, 64, 3), np.uint8), matrix=np.array([[1.0, 0, -10], [0, 1.0, -10]]),
                       landmarks=[[38, 42], [62, 42], [50, 55], [40, 68], [60, 68]], detection=det)
    assert not zeros.for_faces([face], 0.875).any()
    maps = load_condition(tmp_path, meta, "a_to_b", catalog=full_catalog)  # decoder b: face set b's eyes5
    assert maps is not None and "eyes5" in maps.label
    got = maps.for_faces([face, face], 0.875)
    assert got.shape == (2, 32, 32, 1)
    # the eyes5 rectangles (±side/15 rows × ±side/8 columns around each eye, side 60) in crop pixels: rows
    # 32 ± 4, columns 28 ± 7.5 and 52 ± 7.5 (edges included); then the ROI (8 px inset of the 64² crop,
    # which cuts the right rectangle at column 56) resized to 32²
    expected = np.zeros((64, 64), np.float32)
    expected[28:37, 20:37] = expected[28:37, 44:61] = 1.0
    expected = cv2.resize(expected[8:56, 8:56], (32, 32), interpolation=cv2.INTER_AREA)
    np.testing.assert_allclose(got[0, ..., 0], expected, atol=1e-6)
    np.testing.assert_array_equal(got[0], got[1])


def test_load_condition_errors_name_the_model_and_the_remedy(full_catalog: Catalog, tmp_path: Path) -> None:
    with pytest.raises(InputError, match=rf"{tmp_path}: .*1-channel condition map.*older fswap.*re-run the "
                                         "train stage"):
        load_condition(tmp_path, _meta(None), "a_to_b", catalog=full_catalog)
    with pytest.raises(InputError, match=r"does not record the mask generator.*\[extract.masks.eyes5\]"):
        load_condition(tmp_path, _meta({"a": UNRECORDED, "b": UNRECORDED}), "a_to_b", catalog=full_catalog)
    with pytest.raises(InputError, match=r"model.json \[condition.made_by.b\].*no_such_mask.*install the "
                                         "plugin"):
        load_condition(tmp_path, _meta({"a": NO_MAP, "b": {"use": "no_such_mask"}}), "a_to_b",
                       catalog=full_catalog)


class _Recording:
    """A decoder that remembers the condition maps it was called with."""

    def __init__(self, decoder: Any) -> None:
        self.decoder = decoder
        self.weights = decoder.weights
        self.conditions: list[np.ndarray] = []

    def __call__(self, inputs: Any, training: bool = False) -> Any:
        self.conditions.append(np.asarray(inputs[1]))
        return self.decoder(inputs, training=training)


def _spade_trainer(tmp_path: Path, faces: dict[str, Any], conditions: dict[str, np.ndarray] | None) -> Any:
    import keras

    from fswap.model.config import parse_model_config
    from fswap.model.networks import build_networks
    from fswap.train.trainer import LoopSettings, Trainer, TrainFolders

    catalog = Catalog.from_plugin_manager(make_plugin_manager())
    table = {"resolution": 64, "capacity": "lite", "width_divisor": 16, "normalization": {"use": "spade"},
             "attention": {"use": "none"}, "upsampling": {"use": "nearest"}}
    keras.utils.set_random_seed(0)
    nets = build_networks(parse_model_config(table, catalog=catalog))
    recorded = SimpleNamespace(encoder=nets.encoder, discriminators=nets.discriminators, condition_channels=1,
                               decoders={s: _Recording(nets.decoders[s]) for s in ("a", "b")})
    step = SimpleNamespace(networks=recorded, losses={}, optimizers=lambda: [])
    folders = TrainFolders(tmp_path / "ck", tmp_path / "previews", tmp_path / "logs", tmp_path)
    previews = {s: preview_faces(faces[s], 64, count=2) for s in ("a", "b")}
    settings = LoopSettings(iterations=1, batch_size=2)  # the schedule and batches are not used by previews
    return Trainer(step, None, settings, folders, lambda k: iter(()), previews, progress=False,
                   preview_conditions=conditions)


def test_preview_of_a_spade_model_feeds_the_face_sets_eye_masks(tmp_path: Path) -> None:
    sets = {"a": make_toy_faceset(tmp_path / "a", "astronaut", count=3, size=128),
            "b": make_toy_faceset(tmp_path / "b", "grace_hopper", count=3, size=128, seed=1)}
    faces = {s: load_faces(f.path, "eyes5") for s, f in sets.items()}
    maps = {s: preview_conditions(faces[s], 64, 1, count=2) for s in ("a", "b")}
    trainer = _spade_trainer(tmp_path, faces, maps)
    real = cv2.imread(str(trainer.write_preview(1)))
    for side in ("a", "b"):
        # each decoder sees the maps of the faces it is given: A's faces (reconstruction by decoder a, swap
        # by decoder b), then B's
        fed = trainer.step.networks.decoders[side].conditions
        assert len(fed) == 2 and np.array_equal(fed[0], maps["a"]) and np.array_equal(fed[1], maps["b"])
        # the stored masks of faces 0 and 2 (the ones preview_faces picks), mapped straight from the stored
        # 128² crop to the preview's 64² (the central 176 px of the 256² working size)
        for n, record in enumerate([sets[side].records[0], sets[side].records[2]]):
            stored = sets[side].load_mask(record, "eyes5")
            scale = 128 / 256 * 176 / 64
            to_stored = np.array([[scale, 0, 40 * 128 / 256], [0, scale, 40 * 128 / 256]])
            flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
            expected = cv2.warpAffine(stored, to_stored, (64, 64), flags=flags)
            assert expected.sum() > 50
            assert np.abs(maps[side][n, ..., 0] - expected).mean() < 0.03
    zeros = {s: np.zeros_like(m) for s, m in maps.items()}
    plain = cv2.imread(str(_spade_trainer(tmp_path / "zeros", faces, zeros).write_preview(1)))
    assert np.abs(real.astype(int) - plain.astype(int)).max() > 8  # the map reaches the preview
    with pytest.raises(TrainingError, match=r"1-channel condition map.*preview maps of side a are none"):
        _spade_trainer(tmp_path / "none", faces, None).write_preview(1)


def test_face_set_without_the_mask_previews_with_zeros(tmp_path: Path) -> None:
    faceset = make_toy_faceset(tmp_path / "a", "astronaut", count=2, size=64, eyes=False)
    maps = preview_conditions(load_faces(faceset.path, "eyes5"), 32, 1)
    assert maps.shape == (2, 32, 32, 1) and not maps.any()
