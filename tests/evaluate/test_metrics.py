"""The evaluation metrics behave as documented on hand-made inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from fswap.evaluate import metrics


def _face() -> np.ndarray:
    from skimage.data import astronaut

    return astronaut()[64:192, 160:288, ::-1].copy()  # 128² BGR crop around the face


def test_identical_images_have_zero_l1_infinite_psnr_and_ssim_one() -> None:
    face = _face()
    assert metrics.l1(face, face) == 0.0
    assert metrics.psnr(face, face) == math.inf
    assert metrics.ssim(face, face) == pytest.approx(1.0, abs=1e-12)


def test_noise_lowers_psnr_and_ssim_monotonically() -> None:
    rng = np.random.default_rng(0)
    face = _face()
    scores = []
    for sigma in (2, 8, 32):
        noisy = np.clip(face.astype(np.float64) + rng.normal(0, sigma, face.shape), 0, 255).astype(np.uint8)
        scores.append((metrics.l1(face, noisy), metrics.psnr(face, noisy), metrics.ssim(face, noisy)))
    l1s, psnrs, ssims = zip(*scores, strict=True)
    assert l1s[0] < l1s[1] < l1s[2]
    assert psnrs[0] > psnrs[1] > psnrs[2]
    assert 1.0 > ssims[0] > ssims[1] > ssims[2]


def test_psnr_of_known_mse() -> None:
    a = np.zeros((8, 8), np.float64)
    b = np.full((8, 8), 0.1)
    assert metrics.psnr(a, b) == pytest.approx(20.0)  # mse 0.01 → 20 dB
    assert metrics.l1(a, b) == pytest.approx(0.1)


def test_shape_mismatch_is_rejected() -> None:
    with pytest.raises(ValueError, match="same shape"):
        metrics.l1(np.zeros((4, 4)), np.zeros((4, 5)))


def test_cosine_distance() -> None:
    v = np.array([[1.0, 2.0, 3.0]])
    assert metrics.cosine_distance(v, v)[0] == pytest.approx(0.0, abs=1e-12)
    assert metrics.cosine_distance(v, 5 * v)[0] == pytest.approx(0.0, abs=1e-12)
    assert metrics.cosine_distance([1.0, 0.0], [0.0, 1.0])[0] == pytest.approx(1.0)
    assert metrics.cosine_distance([1.0, 0.0], [-1.0, 0.0])[0] == pytest.approx(2.0)
    rows = metrics.cosine_distance(np.eye(3), [1.0, 0.0, 0.0])
    np.testing.assert_allclose(rows, [0.0, 1.0, 1.0], atol=1e-12)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-100, 100), min_size=3, max_size=8), st.floats(0.01, 50))
@example([0.0, 0.0, 5.424935503327533e-162], 0.5)  # found on a fresh clone: its square underflowed
@example([1e-300, -3e-301, 2e-300], 0.01)
def test_cosine_distance_in_range_and_scale_invariant(values: list[float], scale: float) -> None:
    a = np.array(values)
    b = np.roll(a, 1) + 0.5
    d = metrics.cosine_distance(a, b)[0]
    assert -1e-9 <= d <= 2 + 1e-9
    # scaling must not push entries below the normal range itself (5e-324·0.01 is 0: no direction left)
    assume(np.all(np.abs(a[a != 0]) * min(scale, 1.0) >= np.finfo(np.float64).tiny))
    assert metrics.cosine_distance(a * scale, b)[0] == pytest.approx(d, abs=1e-9)


def test_jitter_is_zero_for_constant_velocity_and_grows_with_shake() -> None:
    t = np.arange(60, dtype=np.float64)
    smooth = np.stack([100 + 2 * t, 50 + 0.5 * t, np.full_like(t, 80), np.full_like(t, 80)], axis=1)
    assert metrics.second_difference_jitter(smooth) == pytest.approx(0.0, abs=1e-9)
    rng = np.random.default_rng(1)
    small = smooth + rng.normal(0, 0.5, smooth.shape)
    large = smooth + rng.normal(0, 3.0, smooth.shape)
    assert 0 < metrics.second_difference_jitter(small) < metrics.second_difference_jitter(large)


def test_jitter_skips_missing_frames_and_needs_three_in_a_row() -> None:
    track = np.array([[0.0], [1.0], [np.nan], [3.0], [4.0], [5.0]])
    assert metrics.second_difference_jitter(track) == pytest.approx(0.0)
    assert math.isnan(metrics.second_difference_jitter(np.array([[0.0], [np.nan], [2.0], [np.nan]])))


def test_relative_jitter_is_scale_free() -> None:
    rng = np.random.default_rng(2)
    pts = rng.normal(0, 1, (30, 5, 2))
    assert metrics.relative_jitter(pts * 4, 4.0) == pytest.approx(metrics.second_difference_jitter(pts))
    # a smooth track far from the origin stays smooth even when the measured face size is noisy
    t = np.arange(30, dtype=np.float64)[:, None]
    far = np.hstack([300 + 2 * t, 200 + t])
    noisy_size = 100 + rng.normal(0, 5, 30)
    assert metrics.relative_jitter(far, noisy_size) == pytest.approx(0.0, abs=1e-9)


def test_colour_flicker() -> None:
    steady = np.tile([[100.0, 120.0, 140.0]], (10, 1))
    assert metrics.colour_flicker(steady) == 0.0
    flicker = steady.copy()
    flicker[1::2] += 6.0  # alternates by 6 levels every frame
    assert metrics.colour_flicker(flicker) == pytest.approx(6.0)
    gap = flicker.copy()
    gap[4] = np.nan
    assert metrics.colour_flicker(gap) == pytest.approx(6.0)


def test_mean_colour_inside_mask() -> None:
    image = np.zeros((4, 4, 3))
    image[:2] = [10, 20, 30]
    mask = np.zeros((4, 4))
    mask[:2] = 1.0
    np.testing.assert_allclose(metrics.mean_colour(image, mask), [10, 20, 30])
    np.testing.assert_allclose(metrics.mean_colour(image), [5, 10, 15])
    assert np.isnan(metrics.mean_colour(image, np.zeros((4, 4)))).all()


def test_mask_stats() -> None:
    masks = np.stack([np.zeros((8, 8)), np.ones((8, 8)), np.full((8, 8), 0.5), np.full((8, 8), 0.5)])
    stats = metrics.mask_stats(masks)
    assert stats.count == 4
    assert stats.mean_alpha == pytest.approx(0.5)
    assert stats.empty_fraction == pytest.approx(0.25)
    assert stats.full_fraction == pytest.approx(0.25)
    assert stats.to_json()["mean_alpha"] == pytest.approx(0.5)
    with pytest.raises(ValueError, match=r"\(N, H, W\)"):
        metrics.mask_stats(np.zeros((0, 4, 4)))
