"""Look-alike augmentation: kNN index, part masks, seamless pasting and the per-sample augmenter."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from fswap.data.faceset import FaceRecord, FaceSet
from fswap.data.lookalike import (
    LookalikeAugmenter,
    LookalikeIndex,
    crop_landmarks,
    part_mask,
    paste_parts,
    pool_features,
    thumbnail_features,
)
from fswap.data.lookalike_config import LookalikeConfig
from fswap.structure import Context, structure
from fswap.train.toys import make_landmarked_faceset


def make_faceset(path: Path, face: str, count: int, *, size: int = 96, seed: int = 0) -> FaceSet:
    """A face set of `count` aligned crops of a sample photo, each with a slightly different pose/lighting."""
    return make_landmarked_faceset(path, face, count, size=size, seed=seed, max_angle=6.0,
                                   scale_jitter=0.05, brightness=0.15)


def test_config_defaults_and_validation() -> None:
    ctx = Context(catalog=None)
    config = structure(LookalikeConfig, {}, ctx=ctx, section="train.lookalike")
    assert not config.enabled and config.embedder is None and config.parts == ("eyes", "nose", "mouth")
    from fswap.errors import ConfigError

    with pytest.raises(ConfigError, match=r"\[train.lookalike\].*probability must be between 0.0 and 1.0"):
        structure(LookalikeConfig, {"probability": 1.5}, ctx=ctx, section="train.lookalike")
    with pytest.raises(ConfigError, match="parts may contain eyes, brows, nose, mouth, received 'ears'"):
        structure(LookalikeConfig, {"parts": ["ears"]}, ctx=ctx, section="train.lookalike")


def test_pool_features_averages_space() -> None:
    fmap = np.arange(2 * 2 * 2 * 3, dtype=np.float64).reshape(2, 2, 2, 3)
    np.testing.assert_allclose(pool_features(fmap), fmap.mean(axis=(1, 2)))
    flat = np.ones((4, 7))
    assert pool_features(flat).shape == (4, 7)


def test_index_finds_the_look_alike_in_the_other_set(tmp_path: Path) -> None:
    a = make_faceset(tmp_path / "a", "astronaut", 6, seed=1)
    mixed = make_faceset(tmp_path / "m", "grace_hopper", 5, seed=2)
    # put one copy of an astronaut face into the target set: it must be everyone's nearest neighbour there
    cv2.imwrite(str(mixed.faces_dir / "twin.png"), a.load_image(a.records[3]))
    mixed.records.append(attrs_replace(a.records[3], file="twin.png"))
    mixed.save()
    mixed = FaceSet.open(mixed.path)
    calls: list[int] = []

    def counting(faces: np.ndarray) -> np.ndarray:
        calls.append(len(faces))
        return thumbnail_features()(faces)

    index = LookalikeIndex.build(mixed, counting, queries=a, batch_size=4)
    assert sum(calls) == len(a) + len(mixed)  # every face embedded exactly once
    best, dist = index.neighbours(3, 2)[0]
    assert index.files[best] == "twin.png" and dist == pytest.approx(0.0, abs=1e-9)
    assert all(index.files[row[0][0]] == "twin.png" for row in index.table(1))
    near = index.neighbours(0, 3)
    assert [d for _j, d in near] == sorted(d for _j, d in near)
    idx, d = index.query(thumbnail_features()(np.stack([a.load_image(a.records[3])])), 1)
    assert index.files[idx[0, 0]] == "twin.png" and d[0, 0] == pytest.approx(0.0, abs=1e-9)


def test_index_within_one_set_never_returns_the_face_itself(tmp_path: Path) -> None:
    a = make_faceset(tmp_path / "a", "astronaut", 5, seed=3)
    index = LookalikeIndex.build(a, thumbnail_features())
    for i in range(len(a)):
        assert i not in [j for j, _d in index.neighbours(i, 4)]
        assert len(index.neighbours(i, 10)) == 4


def attrs_replace(record: FaceRecord, **changes: object) -> FaceRecord:
    import attrs

    return attrs.evolve(record, **changes)


def test_part_masks_cover_the_right_places(tmp_path: Path) -> None:
    a = make_faceset(tmp_path / "a", "astronaut", 1)
    pts = crop_landmarks(a.records[0])
    eyes = part_mask(pts, a.size, ["eyes"])
    mouth = part_mask(pts, a.size, ["mouth"])
    for point in pts[:2]:
        assert eyes[round(point[1]), round(point[0])] > 0.9
    mouth_centre = (pts[3] + pts[4]) / 2
    assert mouth[round(mouth_centre[1]), round(mouth_centre[0])] > 0.9
    assert mouth[round(pts[0][1]), round(pts[0][0])] < 0.05  # not up to the eyes
    assert eyes.min() == 0.0 and 0.0 < eyes.mean() < 0.3


def test_part_mask_from_68_points() -> None:
    rng = np.random.default_rng(0)
    pts = rng.uniform(30, 70, (68, 2))
    pts[36:42] = [[30, 40], [34, 38], [38, 38], [42, 40], [38, 42], [34, 42]]
    pts[42:48] = pts[36:42] + np.array([30.0, 0.0])
    mask = part_mask(pts, 100, ["eyes"])
    assert mask[40, 36] > 0.9 and mask[40, 66] > 0.9 and mask[90, 50] < 0.01


def _max_step(image: np.ndarray) -> float:
    img = image.astype(np.float64)
    return float(max(np.abs(np.diff(img, axis=0)).max(), np.abs(np.diff(img, axis=1)).max()))


@pytest.mark.parametrize("method", ["feather", "poisson"])
def test_paste_parts_blends_without_hard_edges(method: str) -> None:
    size = 96
    source = np.full((size, size, 3), 90, np.uint8)
    target = np.full((size, size, 3), 200, np.uint8)
    target[40:56, 30:66] = 20  # a dark "feature" in the middle of the part
    pts = np.array([[34, 40], [62, 40], [48, 55], [38, 70], [58, 70]], np.float64)
    mask = part_mask(pts, size, ["eyes", "nose"])
    out = paste_parts(source, target, mask, method=method)
    # outside the soft mask the source is untouched
    far = mask < 1e-3
    np.testing.assert_array_equal(out[far], source[far])
    # the pasted feature is visible (darker than the source) inside the mask
    assert out[48, 48].mean() < 85
    # no hard seam: with colour matching off, a flat 200 target on a flat 90 source changes gradually
    plain = paste_parts(source, np.full_like(source, 200), mask, method=method, colour_match=False)
    hard = np.where(mask[..., None] > 0.5, 200, 90).astype(np.uint8)
    assert _max_step(hard) == 110
    assert _max_step(plain) < 30
    if method == "feather":
        assert plain[48, 48].mean() > 150  # yet the inside takes the target's colour
    else:
        assert abs(plain[48, 48].mean() - 90) < 5  # Poisson carries gradients only: a flat target vanishes


def test_paste_parts_with_empty_mask_returns_source() -> None:
    source = np.random.default_rng(0).integers(0, 255, (32, 32, 3), dtype=np.uint8)
    out = paste_parts(source, np.zeros_like(source), np.zeros((32, 32), np.float32))
    np.testing.assert_array_equal(out, source)


def test_augmenter_probability_report_and_swap(tmp_path: Path) -> None:
    a = make_faceset(tmp_path / "a", "astronaut", 4, seed=4)
    b = make_faceset(tmp_path / "b", "grace_hopper", 5, seed=5)
    config = LookalikeConfig(enabled=True, probability=0.5, k=2, features="thumbnail", choose="all",
                             parts=("eyes", "mouth"))
    aug = LookalikeAugmenter.build(config, a, b, thumbnail_features())
    rng = np.random.default_rng(0)
    image = a.load_image(a.records[1])
    outputs = [aug(1, image, rng) for _ in range(200)]
    changed = sum(not np.array_equal(o, image) for o in outputs)
    assert 70 < changed < 130  # ≈ half at probability 0.5
    report = aug.report()
    assert report["samples_augmented"] == changed
    row = report["faces"][1]
    assert row["source"] == a.records[1].file
    assert {n["file"] for n in row["neighbours"]} <= {r.file for r in b.records}
    assert sum(n["used"] for n in row["neighbours"]) == changed
    aug.write_report(tmp_path / "lookalike.json")
    assert json.loads((tmp_path / "lookalike.json").read_text())["k"] == 2
    # a swapped face keeps the source outside the parts and takes the target's look inside
    j = aug.index.neighbours(1, 1)[0][0]
    swapped = aug.swap(1, image, j, ["eyes"])
    pts = crop_landmarks(a.records[1])
    mask = part_mask(pts, a.size, ["eyes"], grow=config.grow, feather=config.feather)
    np.testing.assert_array_equal(swapped[mask < 1e-3], image[mask < 1e-3])
    assert np.abs(swapped.astype(int) - image.astype(int))[mask > 0.9].mean() > 3
    # at a smaller training resolution the landmarks are rescaled
    small = cv2.resize(image, (64, 64), interpolation=cv2.INTER_AREA)
    assert aug.swap(1, small, j, ["mouth"]).shape == (64, 64, 3)


def test_disabled_augmenter_never_changes_a_face(tmp_path: Path) -> None:
    a = make_faceset(tmp_path / "a", "astronaut", 3, seed=6)
    b = make_faceset(tmp_path / "b", "grace_hopper", 3, seed=7)
    aug = LookalikeAugmenter.build(LookalikeConfig(probability=1.0, features="thumbnail"), a, b,
                                   thumbnail_features())
    image = a.load_image(a.records[0])
    rng = np.random.default_rng(0)
    assert all(aug(0, image, rng) is image for _ in range(10))
    assert aug.report()["samples_augmented"] == 0


@pytest.fixture(scope="module")
def real_catalog():
    from fswap.catalog import Catalog
    from fswap.plugins import make_plugin_manager

    return Catalog.from_plugin_manager(make_plugin_manager())


def test_embedder_features_default_to_dlib_resnet_from_the_catalog(tmp_path: Path, real_catalog) -> None:
    from fswap.data.lookalike import make_features_fn

    a = make_faceset(tmp_path / "a", "astronaut", 2, size=128)
    b = make_faceset(tmp_path / "b", "grace_hopper", 3, size=128)
    fn = make_features_fn(LookalikeConfig(enabled=True), catalog=real_catalog)
    feats = fn(np.stack([a.load_image(r) for r in a.records]))
    assert feats.shape == (2, 128)
    index = LookalikeIndex.build(b, fn, queries=a)
    assert index.features.shape == (3, 128)
    assert np.allclose(np.linalg.norm(index.features, axis=1), 1.0)


def test_encoder_features_pool_the_trained_encoder(tmp_path: Path, real_catalog) -> None:
    from fswap.data.lookalike import make_features_fn
    from fswap.model.config import parse_model_config
    from fswap.model.io import save_networks
    from fswap.model.networks import build_networks

    table = {"resolution": 64, "capacity": "lite", "width_divisor": 16, "attention": {"use": "none"},
             "upsampling": {"use": "nearest"}}
    model = parse_model_config(table, catalog=real_catalog)
    save_networks(build_networks(model), tmp_path / "export", model)
    a = make_faceset(tmp_path / "a", "astronaut", 3)
    fn = make_features_fn(LookalikeConfig(features="encoder"), model_folder=tmp_path / "export")
    fmap = fn(np.stack([a.load_image(r) for r in a.records]))
    assert fmap.ndim == 4 and fmap.shape[0] == 3  # a spatial feature map …
    assert pool_features(fmap).shape == (3, fmap.shape[-1])  # … averaged over space for the kNN
    index = LookalikeIndex.build(a, fn)
    assert len(index.neighbours(0, 2)) == 2


def test_build_augmenters_embeds_each_set_once_and_pairs_the_sides(tmp_path: Path) -> None:
    from fswap.data.lookalike import build_augmenters

    sets = {"a": make_faceset(tmp_path / "a", "astronaut", 3, seed=1),
            "b": make_faceset(tmp_path / "b", "grace_hopper", 4, seed=2)}
    seen: list[int] = []

    def counting(faces: np.ndarray) -> np.ndarray:
        seen.append(len(faces))
        return thumbnail_features()(faces)

    augs = build_augmenters(LookalikeConfig(enabled=True, features="thumbnail", k=2), sets, counting)
    assert sum(seen) == 7
    assert augs["a"].target is sets["b"] and augs["b"].target is sets["a"]
    assert {n["file"] for f in augs["a"].report()["faces"] for n in f["neighbours"]} <= {
        r.file for r in sets["b"].records}
    assert len(augs["b"].report()["faces"]) == 4


def test_prepare_lookalike_is_none_when_off_and_ready_when_on(tmp_path: Path) -> None:
    from fswap.data.lookalike import prepare_lookalike

    paths = {"a": make_faceset(tmp_path / "a", "astronaut", 2).path,
             "b": make_faceset(tmp_path / "b", "grace_hopper", 2).path}
    assert prepare_lookalike(LookalikeConfig(features="thumbnail"), paths) is None
    never = LookalikeConfig(enabled=True, probability=0.0, features="thumbnail")
    assert prepare_lookalike(never, paths) is None
    augs = prepare_lookalike(LookalikeConfig(enabled=True, features="thumbnail"), paths)
    assert augs is not None and set(augs) == {"a", "b"}
