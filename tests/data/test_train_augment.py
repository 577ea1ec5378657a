"""Augmentation (reference §3.3): geometry, warp/target alignment, colour match, blur, reproducibility."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from fswap.data import augment as aug


def _face_stack(size: int = 256) -> np.ndarray:
    from fswap.samples import public_domain_face

    img = cv2.resize(public_domain_face("astronaut")[20:240, 120:340], (size, size)).astype(np.float32)
    mask = np.zeros((size, size, 1), np.float32)
    mask[80:110, 60:120] = 1.0
    return np.concatenate([img, mask], axis=-1)


def test_umeyama_recovers_a_similarity() -> None:
    rng = np.random.default_rng(0)
    src = rng.uniform(0, 100, (10, 2))
    angle, scale, shift = np.deg2rad(20), 1.7, np.array([5.0, -3.0])
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    dst = scale * src @ rot.T + shift
    m = aug.umeyama(src, dst)
    assert np.allclose(m[:, :2], scale * rot, atol=1e-9) and np.allclose(m[:, 2], shift, atol=1e-9)


def test_transform_moves_mask_with_image_and_is_reproducible() -> None:
    stack = _face_stack()
    stack[..., 3] = stack[..., 0] / 255.0  # the mask is a copy of the blue channel
    out1 = aug.random_transform(stack, np.random.default_rng(3))
    out2 = aug.random_transform(stack, np.random.default_rng(3))
    assert np.array_equal(out1, out2)
    assert not np.allclose(out1, stack)
    assert np.allclose(out1[..., 3] * 255.0, out1[..., 0], atol=1e-3)


def test_flip_only_mirrors() -> None:
    stack = _face_stack()
    out = aug.random_transform(stack, np.random.default_rng(0), rotation=0, zoom=0, shift=0, flip=1.0)
    assert np.allclose(out, stack[:, ::-1], atol=1e-3)


@pytest.mark.parametrize("resolution", [64, 128])
def test_warp_without_noise_matches_target_and_noise_distorts(resolution: int) -> None:
    stack = _face_stack()
    warped, target = aug.random_warp(stack, np.random.default_rng(1), resolution, sigma=(0.0, 0.0))
    assert warped.shape == target.shape == (resolution, resolution, 4)
    inner = slice(4, -4)
    assert np.abs(warped[inner, inner, :3] - target[inner, inner, :3]).mean() < 3.0  # 0–255 scale
    noisy, target2 = aug.random_warp(stack, np.random.default_rng(1), resolution)
    assert np.abs(noisy[inner, inner, :3] - target2[inner, inner, :3]).mean() > 5.0
    # the target mask is the same geometric crop of the mask
    assert 0 < target2[..., 3].mean() < 0.2


def test_color_match_changes_statistics_within_range() -> None:
    a = _face_stack()[..., :3]
    b = np.clip(a * 0.4 + np.array([120.0, 10.0, 30.0], np.float32), 0, 255)
    outs = [aug.random_color_match(a, b, np.random.default_rng(s)) for s in range(8)]
    for out in outs:
        assert out.shape == a.shape and out.min() >= 0.0 and out.max() <= 255.0 + 1e-3
    shifts = [abs(float(o[..., 0].mean() - a[..., 0].mean())) for o in outs]
    assert max(shifts) > 10.0


def test_motion_blur() -> None:
    kernel = aug.motion_blur_kernel(7, 33.0)
    assert kernel.sum() == pytest.approx(1.0, abs=1e-5)
    img = _face_stack()[..., :3]
    same = aug.random_motion_blur([img, img], np.random.default_rng(0), 1.0)
    assert np.array_equal(same[0], same[1]) and not np.allclose(same[0], img)
    assert aug.random_motion_blur([img], np.random.default_rng(0), 0.0)[0] is img
