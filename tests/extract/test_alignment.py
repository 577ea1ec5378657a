"""Umeyama similarity, the 5-point template and the crop helpers."""

from __future__ import annotations

import numpy as np
import pytest

from fswap.errors import InputError
from fswap.extract.alignment import (
    TEMPLATE_5,
    alignment_matrix,
    five_from_68,
    invert,
    square_crop,
    template_points,
    transform_points,
    umeyama,
    warp,
)
from fswap.samples import similarity


@pytest.mark.parametrize("seed", range(5))
def test_umeyama_recovers_a_similarity(seed: int) -> None:
    rng = np.random.default_rng(seed)
    src = rng.uniform(0, 500, size=(7, 2))
    truth = similarity(
        rng.uniform(0.2, 3.0), rng.uniform(-180, 180), rng.uniform(0, 100, 2), rng.uniform(0, 100, 2)
    )
    np.testing.assert_allclose(umeyama(src, transform_points(truth, src)), truth, atol=1e-9)


def test_umeyama_never_reflects() -> None:
    src = np.array([[0.0, 0.0], [40.0, 0.0], [0.0, 10.0], [40.0, 10.0]])
    mirrored = src * [-1.0, 1.0]
    m = umeyama(src, mirrored)
    assert np.linalg.det(m[:, :2]) > 0  # a proper rotation: the best fit without flipping


def test_umeyama_rejects_degenerate_points() -> None:
    with pytest.raises(ValueError, match="all the same"):
        umeyama(np.ones((5, 2)), np.zeros((5, 2)))
    with pytest.raises(ValueError, match="matching points"):
        umeyama(np.ones((5, 2)), np.zeros((4, 2)))


def test_alignment_puts_landmarks_on_the_template() -> None:
    truth = similarity(1.7, 12.0, (0.5, 0.5), (300.0, 200.0))
    points = transform_points(invert(truth), template_points(256))  # frame points that map exactly
    m = alignment_matrix(points, 256)
    np.testing.assert_allclose(transform_points(m, points), TEMPLATE_5 * 256, atol=1e-6)
    np.testing.assert_allclose(transform_points(invert(m), TEMPLATE_5 * 256), points, atol=1e-6)


def test_warp_moves_pixels_as_the_matrix_says() -> None:
    frame = np.zeros((200, 300, 3), np.uint8)
    frame[100, 150] = 255
    m = similarity(2.0, 0.0, (150.0, 100.0), (32.0, 32.0))
    crop = warp(frame, m, 64, "constant")
    y, x = np.unravel_index(np.argmax(crop[:, :, 0]), crop.shape[:2])
    assert abs(x - 32) <= 1 and abs(y - 32) <= 1
    with pytest.raises(ValueError, match="border"):
        warp(frame, m, 64, "wrap")


def test_five_from_68() -> None:
    pts = np.zeros((68, 2))
    pts[36:42] = [10.0, 20.0]
    pts[42:48] = [30.0, 20.0]
    pts[30] = [20.0, 30.0]
    pts[48], pts[54] = [12.0, 40.0], [28.0, 40.0]
    np.testing.assert_array_equal(five_from_68(pts), [[10, 20], [30, 20], [20, 30], [12, 40], [28, 40]])
    with pytest.raises(ValueError, match="68"):
        five_from_68(np.zeros((5, 2)))


def test_square_crop_is_clipped_to_the_frame() -> None:
    frame = np.arange(100 * 120 * 3, dtype=np.uint32).reshape(100, 120, 3).astype(np.uint8)
    assert square_crop(frame, (10, 10, 20, 40)).shape == (30, 30, 3)
    assert square_crop(frame, (-20, -20, 40, 40)).shape == (20, 20, 3)
    with pytest.raises(InputError, match="outside"):
        square_crop(frame, (500, 500, 10, 10))
