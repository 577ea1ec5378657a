"""The TensorFlow augmentation engine: each step against the OpenCV engine's for the same draws, and its
batches (reproducible, the same from either face store, shards that add up to the batch)."""

from __future__ import annotations

import copy
from pathlib import Path

import cv2
import numpy as np
import pytest

from fswap.data import augment as aug
from fswap.data.pipeline import BatchMaker, load_faces, make_dataset, make_shard_dataset
from fswap.errors import ConfigError
from fswap.stages.train_config import AugmentConfig
from fswap.train.toys import make_toy_faceset

tf = pytest.importorskip("tensorflow")
atf = pytest.importorskip("fswap.data.augment_tf")

ATOL = 2e-3
"""On the 0–255 scale: both engines interpolate in float32, whose spacing at 255 is 3e-5; a few roundings
through two bilinear resamplings stay far below this (measured ≤ 3e-4), while any wrong coordinate, centre
or channel order is off by whole grey levels."""


@pytest.fixture(scope="module")
def stacks() -> np.ndarray:
    """Four smooth random 256² BGR + mask stacks (smooth, so an error of a fraction of a pixel shows as
    a small difference, not as noise)."""
    rng = np.random.default_rng(0)
    out = np.stack([cv2.GaussianBlur(rng.uniform(0, 255, (256, 256, 4)).astype(np.float32), (0, 0), 3)
                    for _ in range(4)])
    out[..., 3] /= 255.0
    return out


def _sample_opencv_way(stacks: np.ndarray, seeds: list[int], resolution: int, transform: np.ndarray):
    """The NumPy engine's warp of `stacks` (after `transform`, forward affine maps), its draws replayed, and
    the TensorFlow engine's fused sampling for the same draws."""
    expected, halves, noise = [], [], []
    for stack, seed in zip(stacks, seeds, strict=True):
        rng = np.random.default_rng(seed)
        replay = copy.deepcopy(rng)
        expected.append(aug.random_warp(stack, rng, resolution))
        halves.append(78 + int(replay.integers(20)))
        sigma = replay.uniform(5.0, 6.2)
        noise.append([replay.normal(scale=sigma, size=(5, 5)).astype(np.float32) for _ in range(2)])
    noise_x, noise_y = (tf.constant(np.stack([n[j] for n in noise])) for j in range(2))
    warped_at, target_at = atf.warp_points(tf.constant(transform, tf.float32),
                                           tf.constant(halves, tf.float32), noise_x, noise_y, 256, resolution)
    image = tf.constant(stacks)
    got = (atf.sample(image, *warped_at).numpy(), atf.sample(image, *target_at).numpy())
    return got, (np.stack([e[0] for e in expected]), np.stack([e[1] for e in expected]))


@pytest.mark.parametrize("resolution", [64, 128])
def test_warp_is_the_reference_grid_warp_and_its_umeyama_target(stacks: np.ndarray, resolution: int) -> None:
    identity = np.tile(np.eye(2, 3, dtype=np.float32), (4, 1, 1))
    got, expected = _sample_opencv_way(stacks, [0, 1, 2, 3], resolution, identity)
    (warped, target), (expected_warped, expected_target) = got, expected
    np.testing.assert_allclose(warped, expected_warped, atol=ATOL)
    np.testing.assert_allclose(target, expected_target, atol=ATOL)


def test_transform_matrix_is_opencvs_rotation_zoom_shift_then_flip() -> None:
    angle = np.array([7.0, -3.0, 0.0, 9.5], np.float32)
    scale = np.array([1.05, 0.92, 1.0, 1.0], np.float32)
    tx, ty = np.array([5.0, -3.0, 0.0, 2.5], np.float32), np.array([-4.0, 1.0, 0.0, 6.0], np.float32)
    flip = np.array([False, True, False, True])
    got = atf.transform_matrix(angle, scale, tx, ty, tf.constant(flip), 256).numpy()
    for i in range(4):
        matrix = cv2.getRotationMatrix2D((128.0, 128.0), float(angle[i]), float(scale[i]))
        matrix[:, 2] += (tx[i], ty[i])
        if flip[i]:  # out[:, ::-1]: x → 255 − x after the transform
            matrix = np.array([[-1.0, 0.0, 255.0], [0.0, 1.0, 0.0]]) @ np.vstack([matrix, [0.0, 0.0, 1.0]])
        np.testing.assert_allclose(got[i], matrix, atol=1e-4)


def test_transform_then_warp_match_opencvs_two_resamplings(stacks: np.ndarray) -> None:
    """Fused, the geometry samples the face once where the NumPy engine resamples twice: the same pixels
    up to that second interpolation's blur (measured: mean 0.058, max 0.93 grey levels on these smooth
    stacks, where moving the transform by a quarter pixel already costs a mean of 0.32)."""
    angle, scale = np.array([7.0, -3.0, 0.0, 9.5]), np.array([1.05, 0.92, 1.0, 1.0])
    shifts = np.array([[5.0, -4.0], [-3.0, 1.0], [0.0, 0.0], [2.5, 6.0]])
    flip = [False, True, False, True]
    transformed, forward = [], []
    for i in range(4):
        matrix = cv2.getRotationMatrix2D((128.0, 128.0), float(angle[i]), float(scale[i]))
        matrix[:, 2] += shifts[i]
        out = aug._warp_affine(stacks[i], matrix, (256, 256))
        transformed.append(out[:, ::-1] if flip[i] else out)
        draws = [tf.constant([v], tf.float32) for v in (angle[i], scale[i], *shifts[i])]
        forward.append(atf.transform_matrix(*draws, tf.constant([flip[i]]), 256).numpy()[0])
    _, (expected_warped, expected_target) = _sample_opencv_way(
        np.stack(transformed), [4, 5, 6, 7], 64, np.tile(np.eye(2, 3, dtype=np.float32), (4, 1, 1)))
    (fused_warped, fused_target), _ = _sample_opencv_way(stacks, [4, 5, 6, 7], 64, np.stack(forward))
    for fused, two_step in ((fused_warped, expected_warped), (fused_target, expected_target)):
        difference = np.abs(fused[..., :3] - two_step[..., :3])
        assert difference.mean() < 0.15 and difference.max() < 2.0, (difference.mean(), difference.max())


@pytest.mark.parametrize("seed", [10, 11, 12, 13])
def test_color_match_is_reinhard_transfer_in_bgr_or_xyz(stacks: np.ndarray, seed: int) -> None:
    image, reference = stacks[seed % 4, ..., :3], stacks[(seed + 1) % 4, ..., :3]
    rng = np.random.default_rng(seed)
    replay = copy.deepcopy(rng)
    expected = aug.random_color_match(image, reference, rng)
    use_xyz, blend = replay.random() < 0.5, replay.random()

    def match(apply: bool) -> np.ndarray:
        face, other = tf.constant(image[None]), tf.constant(reference[None])
        params = atf.color_params(face, other, tf.constant([use_xyz]), tf.constant([blend], tf.float32),
                                  tf.constant([apply]))
        return atf.apply_color(face, *params).numpy()[0]

    np.testing.assert_allclose(match(True), expected, atol=ATOL)
    np.testing.assert_allclose(match(False), image, atol=ATOL)


@pytest.mark.parametrize(("size", "angle"), [(5, 0.0), (7, 33.0), (9, 90.0), (11, -120.0)])
def test_motion_blur_kernel_and_filter_are_opencvs(stacks: np.ndarray, size: int, angle: float) -> None:
    expected = aug.motion_blur_kernel(size, angle)
    kernels = atf.blur_kernels(tf.constant([size, size]), tf.constant([angle, angle], tf.float32)).numpy()
    pad = (11 - size) // 2
    np.testing.assert_allclose(kernels[0], np.pad(expected, pad), atol=1e-6)
    images = stacks[:2, ..., :3]
    out = atf.filter_each(tf.constant(images), tf.constant(kernels)).numpy()
    for i in range(2):
        opencv = cv2.filter2D(images[i], -1, expected, borderType=cv2.BORDER_REPLICATE)
        np.testing.assert_allclose(out[i], opencv, atol=ATOL)


@pytest.fixture(scope="module")
def sets(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("sets")
    make_toy_faceset(root / "a", "astronaut", count=4)
    make_toy_faceset(root / "b", "grace_hopper", count=3, eyes=False)
    return {store: {side: load_faces(root / side, "eyes5", store=store) for side in ("a", "b")}
            for store in ("decoded", "png")}


TF_ENGINE = AugmentConfig(engine="tensorflow", color_match=1.0, motion_blur=0.5)


def _batch(faces: dict, k: int, *, seed: int = 0, config: AugmentConfig = TF_ENGINE) -> list[np.ndarray]:
    maker = BatchMaker(faces=faces, resolution=64, batch_size=4, augment=config, seed=seed)
    return [np.asarray(t) for t in next(iter(make_dataset(maker, start=k)))]


def test_batches_have_the_contract_and_are_a_pure_function_of_seed_and_index(sets: dict) -> None:
    batch = _batch(sets["decoded"], 3)
    assert [b.shape for b in batch] == [(4, 64, 64, 3), (4, 64, 64, 3), (4, 64, 64, 1)] * 2
    assert all(b.dtype == np.float32 for b in batch)
    for image in (batch[0], batch[1], batch[3], batch[4]):
        assert image.min() >= -1.0 and image.max() <= 1.0 and image.std() > 0.1
    assert batch[2].max() > 0.5 and batch[5].max() == 0.0  # side b has no eye masks: zeros
    assert all(np.array_equal(x, y) for x, y in zip(batch, _batch(sets["decoded"], 3), strict=True))
    assert not np.array_equal(batch[0], _batch(sets["decoded"], 4)[0])
    assert not np.array_equal(batch[0], _batch(sets["decoded"], 3, seed=1)[0])
    maker = BatchMaker(faces=sets["decoded"], resolution=64, batch_size=4, augment=TF_ENGINE, seed=0)
    stream = iter(make_dataset(maker, start=2))
    next(stream)
    assert all(np.array_equal(np.asarray(x), y) for x, y in zip(next(stream), batch, strict=True))


def test_png_store_gives_the_same_batches_as_decoded(sets: dict) -> None:
    for k in (0, 5):
        assert all(np.array_equal(x, y) for x, y in
                   zip(_batch(sets["png"], k), _batch(sets["decoded"], k), strict=True))


def test_replica_shards_add_up_to_the_batch(sets: dict) -> None:
    maker = BatchMaker(faces=sets["decoded"], resolution=64, batch_size=4, augment=TF_ENGINE, seed=2)
    whole = _batch(sets["decoded"], 3, seed=2)
    shards = iter(make_shard_dataset(maker, 3, 2, range(2)))
    first, second = next(shards), next(shards)
    for part, a, b in zip(whole, first, second, strict=True):  # per-sample ops; only the blocking differs
        np.testing.assert_allclose(np.concatenate([a, b]), part, atol=1e-5)


def _stream_statistics(faces: dict, engine: str, color_match: float) -> tuple[float, float]:
    """Over 8 batches of 16 (side a): how far warp and transform move the pixels (mean |warped − target|),
    and how much the faces' mean colours vary (the colour match's spread)."""
    maker = BatchMaker(faces=faces, resolution=64, batch_size=16,
                       augment=AugmentConfig(color_match=color_match, engine=engine), seed=0)
    stream = iter(make_dataset(maker))
    batches = [[np.asarray(t) for t in next(stream)] for _ in range(8)]
    movement = float(np.mean([np.abs(b[0] - b[1]).mean() for b in batches]))
    colours = np.concatenate([b[1].mean(axis=(1, 2)) for b in batches])
    return movement, float(colours.std(axis=0).mean())


def test_the_engines_draw_alike(sets: dict) -> None:
    """Different draws, the same distributions. Measured (seeds 0 and 1): movement within 1.5 % between the
    engines; colour spread 0.036–0.039 without colour match, 0.062–0.065 with it (numpy 1.60×, tensorflow
    1.81× its own spread without)."""
    numpy_move, numpy_plain = _stream_statistics(sets["decoded"], "numpy", 0.0)
    tf_move, tf_plain = _stream_statistics(sets["decoded"], "tensorflow", 0.0)
    assert numpy_move > 0.02 and abs(tf_move - numpy_move) < 0.05 * numpy_move, (tf_move, numpy_move)
    numpy_matched = _stream_statistics(sets["decoded"], "numpy", 1.0)[1]
    tf_matched = _stream_statistics(sets["decoded"], "tensorflow", 1.0)[1]
    assert tf_matched > 1.3 * tf_plain and numpy_matched > 1.3 * numpy_plain
    assert abs(tf_matched - numpy_matched) < 0.2 * numpy_matched, (tf_matched, numpy_matched)


def test_lookalike_needs_the_numpy_engine(sets: dict, tmp_path: Path) -> None:
    maker = BatchMaker(faces=sets["decoded"], resolution=64, batch_size=4, augment=TF_ENGINE,
                       lookalike={"a": lambda i, image, rng: image, "b": lambda i, image, rng: image})
    with pytest.raises(ConfigError, match=r'engine = "tensorflow" cannot run \[train\.lookalike\]'):
        make_dataset(maker)


def test_the_engine_is_a_validated_train_option() -> None:
    from fswap import api

    def train(table: dict) -> object:
        return api.from_dict({"workdir": "w", "train": table}, base_dir=Path("/tmp")).stage_config("train")

    assert train({}).augment.engine == "numpy"
    assert train({"augment": {"engine": "tensorflow"}}).augment.engine == "tensorflow"
    with pytest.raises(ConfigError, match=r"\[train\.augment\]: engine must be one of 'numpy', 'tensorflow'"):
        train({"augment": {"engine": "jax"}})
    with pytest.raises(ConfigError, match=r'\[train\]: augment\.engine = "tensorflow" cannot run'):
        train({"augment": {"engine": "tensorflow"}, "lookalike": {"enabled": True}})


MEMORY_PROBE = """
import resource, sys
from pathlib import Path
import numpy as np
from fswap.data.pipeline import BatchMaker, FaceImages, aligned_empty, make_dataset
from fswap.stages.train_config import AugmentConfig
import tensorflow as tf

def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

faces = {}
for side in "ab":
    images = aligned_empty((1000, 256, 256, 3), np.uint8)
    images[:] = np.random.default_rng(0).integers(0, 255, (1, 256, 256, 3), dtype=np.uint8)
    faces[side] = FaceImages(path=Path(side), images=images, eyes=None)
held = peak_mb()
maker = BatchMaker(faces=faces, resolution=64, batch_size=4, augment=AugmentConfig(engine="tensorflow"))
stream = iter(make_dataset(maker))
for _ in range(3):
    next(stream)
print(held, peak_mb())
"""


def test_the_tensorflow_engine_reads_the_faces_without_copying_them() -> None:
    """2 × 1 000 decoded faces (393 MB): the tensors share the arrays' memory and tf.data does not turn
    them into graph constants, so the process grows by TensorFlow's working memory, not by the set
    (measured: +101 MB; +485 MB with tf.data's default graph rewrites on)."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", MEMORY_PROBE], capture_output=True, text=True, check=True,
                         timeout=300)
    held, after = (float(v) for v in out.stdout.split()[-2:])
    assert after - held < 0.4 * 393, (held, after)
