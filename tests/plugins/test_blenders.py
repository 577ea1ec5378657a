"""Blenders: the feathered alpha blend and Poisson cloning put the generated face where the crop was taken."""

from __future__ import annotations

import numpy as np
import pytest
from fswap_standard.blenders import FeatherBlender, PoissonBlender, feather_rectangle, shape_mask
from fswap_standard.convert_config import FeatherBlendConfig, PoissonBlendConfig

from fswap.convert.geometry import crop, paste_region


def _setup():
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 60, (120, 160, 3), dtype=np.uint8)
    # frame→crop: a 64-px crop of the frame rectangle x 40..104, y 20..84 (scale 1), slightly rotated
    angle = np.deg2rad(10)
    c, s = np.cos(angle), np.sin(angle)
    center = np.array([72.0, 52.0])
    rot = np.array([[c, -s], [s, c]])
    matrix = np.hstack([rot, (np.array([32.0, 32.0]) - rot @ center)[:, None]])
    generated = np.full((64, 64, 3), 220, np.uint8)
    return frame, generated, matrix


def test_feather_rectangle_matches_reference_shape():
    rect = feather_rectangle(200, 0.1, 0.075, 0.05)
    assert rect[100, 100] == pytest.approx(1.0)
    assert rect[0, 0] == 0.0 and rect[100, 5] == 0.0
    assert 0.2 < rect[100, 20] < 0.8  # the edge at the 10 % inset is soft
    assert np.all(np.diff(rect[100, :100]) >= -1e-6)


def test_feather_blend_replaces_centre_keeps_outside():
    frame, generated, matrix = _setup()
    alpha = np.ones((64, 64), np.float32)
    out = FeatherBlender(FeatherBlendConfig()).blend(frame, generated, alpha, matrix)
    assert out.shape == frame.shape and out is not frame
    assert np.all(out[52, 72] == 220)  # crop centre replaced
    np.testing.assert_array_equal(out[:10], frame[:10])  # far outside untouched
    np.testing.assert_array_equal(out[:, 120:], frame[:, 120:])


def test_zero_alpha_leaves_frame_unchanged():
    frame, generated, matrix = _setup()
    out = FeatherBlender(FeatherBlendConfig()).blend(frame, generated, np.zeros((64, 64), np.float32), matrix)
    np.testing.assert_array_equal(out, frame)


def test_round_trip_crop_paste_is_identity_inside():
    _, _, matrix = _setup()
    yy, xx = np.mgrid[0:120, 0:160]
    frame = np.stack([xx, yy, (xx + yy) // 2], axis=-1).astype(np.uint8)  # smooth: survives two warps
    face = crop(frame, matrix, 64)
    out = FeatherBlender(FeatherBlendConfig()).blend(frame, face, np.ones((64, 64), np.float32), matrix)
    assert np.abs(out[40:64, 60:84].astype(int) - frame[40:64, 60:84]).mean() < 1.5


def test_erosion_shrinks_mask_and_dilation_grows_it():
    alpha = np.zeros((64, 64), np.float32)
    alpha[16:48, 16:48] = 1.0
    base = shape_mask(alpha, FeatherBlendConfig(feather_margin=0.0, feather_kernel=0.0)).sum()
    eroded = shape_mask(alpha, FeatherBlendConfig(feather_margin=0.0, feather_kernel=0.0, erode=0.05)).sum()
    dilated = shape_mask(alpha, FeatherBlendConfig(feather_margin=0.0, feather_kernel=0.0, erode=-0.05)).sum()
    assert eroded < base < dilated


def test_poisson_blend_clones_into_the_region():
    frame, generated, matrix = _setup()
    texture = generated.copy()
    texture[28:36, 28:36] = 0  # a dark detail in the middle of the generated face
    alpha = np.ones((64, 64), np.float32)
    out = PoissonBlender(PoissonBlendConfig()).blend(frame, texture, alpha, matrix)
    assert out.shape == frame.shape
    np.testing.assert_array_equal(out[:5], frame[:5])
    region = paste_region(matrix, 64, frame.shape)
    assert not region.empty
    # the gradient of the dark square survives cloning: the centre is darker than around it
    assert out[52, 72].mean() + 20 < out[52, 86].mean() or out[52, 72].mean() + 20 < out[40, 72].mean()
    assert not np.array_equal(out, frame)


def test_poisson_with_empty_mask_returns_frame():
    frame, generated, matrix = _setup()
    out = PoissonBlender(PoissonBlendConfig()).blend(frame, generated, np.zeros((64, 64), np.float32), matrix)
    np.testing.assert_array_equal(out, frame)
