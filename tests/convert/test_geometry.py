"""Crop geometry: the ROI transform and the paste-back rectangle."""

from __future__ import annotations

import numpy as np
import pytest

from fswap.convert.geometry import paste_region, roi_matrix


def _apply(matrix: np.ndarray, points) -> np.ndarray:
    pts = np.asarray(points, np.float64)
    return pts @ matrix[:, :2].T + matrix[:, 2]


def test_roi_matrix_maps_the_central_part_of_the_crop_onto_the_generator_input():
    # frame→crop: scale 2, shift (−100, −50); a 256 crop; roi 0.875 → inset 32 px per side
    matrix = np.array([[2.0, 0.0, -100.0], [0.0, 2.0, -50.0]])
    roi = roi_matrix(matrix, 256, 0.875, 64)
    # the crop point (32, 32) is the ROI's top-left corner, (224, 224) its bottom-right
    frame_tl = np.array([(32 + 100) / 2, (32 + 50) / 2])
    frame_br = np.array([(224 + 100) / 2, (224 + 50) / 2])
    np.testing.assert_allclose(_apply(roi, [frame_tl, frame_br]), [[0, 0], [64, 64]], atol=1e-9)


def test_reference_definition_of_the_inset_uses_int():
    matrix = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    roi = roi_matrix(matrix, 100, 0.9, 80)  # m = int(100·0.1) = 10 → the central 80 px
    np.testing.assert_allclose(_apply(roi, [[10, 10], [90, 90]]), [[0, 0], [80, 80]], atol=1e-9)


@pytest.mark.parametrize("angle", [0.0, 30.0])
def test_paste_region_covers_the_crop_and_stays_inside_the_frame(angle):
    a = np.deg2rad(angle)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    matrix = np.hstack(
        [rot, (np.array([32.0, 32.0]) - rot @ [50.0, 40.0])[:, None]]
    )  # crop centred at (50, 40)
    region = paste_region(matrix, 64, (120, 160, 3))
    assert (region.x0, region.y0) == (max(0, region.x0), max(0, region.y0))
    assert region.x1 <= 160 and region.y1 <= 120
    warped = region.warp(np.ones((64, 64), np.float32))
    assert warped.shape == (region.y1 - region.y0, region.x1 - region.x0)
    # the crop centre lands on frame (50, 40)
    assert warped[40 - region.y0, 50 - region.x0] == pytest.approx(1.0)
    assert warped.sum() == pytest.approx(64 * 64, rel=0.05) or region.x0 == 0 or region.y0 == 0


def test_crop_outside_the_frame_gives_an_empty_region():
    matrix = np.array([[1.0, 0.0, 1000.0], [0.0, 1.0, 1000.0]])  # the crop shows frame (−1000, −1000)…
    assert paste_region(matrix, 64, (120, 160, 3)).empty
