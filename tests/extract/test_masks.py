"""Landmark masks: eye rectangles (5 points) and part hulls (68 points)."""

from __future__ import annotations

import numpy as np

from fswap.extract.masks import dilate_blur, eye_rectangles, part_hulls

IDENTITY = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])


def test_eye_rectangles_have_the_reference_size() -> None:
    box = (40.0, 40.0, 120.0, 120.0)  # side 120 → ±8 rows, ±15 columns
    mask = eye_rectangles(256, IDENTITY, np.array([[80.0, 90.0], [160.0, 90.0]]), box)
    assert mask.dtype == np.float32 and set(np.unique(mask)) == {0.0, 1.0}
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask[90])
    assert abs(rows.min() - 82) <= 1 and abs(rows.max() - 97) <= 1
    left = cols[cols < 128]
    assert abs(left.min() - 65) <= 1 and abs(left.max() - 94) <= 1
    assert abs(mask.sum() - 2 * 16 * 30) < 2 * (16 + 30) + 4


def test_eye_rectangles_follow_the_matrix() -> None:
    box = (0.0, 0.0, 60.0, 60.0)
    half = np.array([[0.5, 0.0, 0.0], [0.0, 0.5, 0.0]])
    small = eye_rectangles(128, half, np.array([[100.0, 100.0]]), box)
    ys, xs = np.nonzero(small)
    assert abs(xs.mean() - 50) < 1 and abs(ys.mean() - 50) < 1


def test_part_hulls_and_dilation() -> None:
    pts = np.zeros((68, 2))
    angles = np.linspace(0, 2 * np.pi, 6, endpoint=False)
    pts[36:42] = np.stack([60 + 10 * np.cos(angles), 100 + 5 * np.sin(angles)], axis=1)
    pts[42:48] = np.stack([190 + 10 * np.cos(angles), 100 + 5 * np.sin(angles)], axis=1)
    pts[48:60] = np.stack(
        [128 + 30 * np.cos(np.linspace(0, 6, 12)), 200 + 10 * np.sin(np.linspace(0, 6, 12))], 1
    )
    eyes = part_hulls(256, pts, ["eyes"])
    assert eyes[100, 60] == 255 and eyes[100, 190] == 255 and eyes[200, 128] == 0
    both = part_hulls(256, pts, ["eyes", "mouth"])
    assert both[200, 128] == 255
    soft = dilate_blur(eyes, dilate=13, blur=7)
    assert soft.dtype == np.float32 and soft.min() >= 0.0 and soft.max() <= 1.0
    assert soft[100, 75] > 0.5 and eyes[100, 75] == 0  # grown by the 13×13 dilation
    assert (soft > 0).sum() > (eyes > 0).sum()
    np.testing.assert_allclose(dilate_blur(eyes, dilate=0, blur=0), eyes / 255.0, rtol=1e-6)
