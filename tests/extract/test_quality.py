"""The measures behind the extract gates: sharpness, near-duplicate distance, 5-point head pose, coverage."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fswap.evaluate.following import MODEL_POINTS, rotation_from_angles
from fswap.extract.alignment import alignment_matrix, warp
from fswap.extract.calibration import gaussian_blur, motion_blur, turn_face
from fswap.extract.defaults import DEDUPE_THRESHOLD, MIN_SHARPNESS
from fswap.extract.pose import FRONTAL_NOSE, PITCH_BINS, YAW_BINS, coverage_grid, coverage_summary, yaw_pitch
from fswap.extract.quality import RecentFaces, face_distance, sharpness, thumbnail
from fswap.samples import make_image_folder, photo_detection, public_domain_face


def model_points5(yaw: float, pitch: float, roll: float = 0.0) -> np.ndarray:
    """The generic head's 5 points (eye centres, nose tip, mouth corners) seen by a distant camera."""
    p = MODEL_POINTS
    points = np.array([
        np.mean([p[36], p[39]], axis=0), np.mean([p[42], p[45]], axis=0), p[30], p[48], p[54],
    ])  # fmt: skip
    cam = points @ rotation_from_angles(yaw, pitch, roll).T + [0.0, 0.0, 3000.0]
    return 1000.0 * cam[:, :2] / cam[:, 2:] + 320.0


@pytest.mark.parametrize("yaw", [-40.0, -25.0, -10.0, 0.0, 10.0, 25.0, 40.0])
def test_yaw_of_the_generic_head(yaw: float) -> None:
    est_yaw, _ = yaw_pitch(model_points5(yaw, 0.0))
    assert est_yaw == pytest.approx(yaw, abs=3.0)


@pytest.mark.parametrize("pitch", [-25.0, -10.0, 10.0, 25.0])
def test_pitch_of_the_generic_head(pitch: float) -> None:
    # the generic head's nose sits a little lower than the template's frontal face: compare with pitch 0
    _, zero = yaw_pitch(model_points5(0.0, 0.0))
    _, est = yaw_pitch(model_points5(0.0, pitch))
    assert est - zero == pytest.approx(pitch, abs=3.0)
    assert 0.0 < zero < 6.0  # that offset, and no more


def test_pose_ignores_roll_scale_and_position() -> None:
    base = yaw_pitch(model_points5(20.0, 10.0))
    turned = yaw_pitch(model_points5(20.0, 10.0, roll=25.0) * 0.5 + 40.0)
    np.testing.assert_allclose(turned, base, atol=0.5)


def test_template_face_is_frontal() -> None:
    from fswap.extract.alignment import TEMPLATE_5

    yaw, pitch = yaw_pitch(TEMPLATE_5 * 256)
    assert abs(yaw) < 2.5 and abs(pitch) < 0.05  # the template is a little asymmetric and rolled
    assert 0.4 < FRONTAL_NOSE < 0.6


def test_coverage_grid_and_summary() -> None:
    poses = [(0.0, 0.0), (2.0, -3.0), (31.0, 0.0), (-80.0, 40.0)]
    grid = coverage_grid(poses)
    assert grid.shape == (len(PITCH_BINS), len(YAW_BINS)) and grid.sum() == 4
    assert grid[PITCH_BINS.index(0.0), YAW_BINS.index(0.0)] == 2
    assert grid[PITCH_BINS.index(0.0), YAW_BINS.index(30.0)] == 1
    assert grid[-1, 0] == 1  # beyond the grid: the outer cell
    summary = coverage_summary(poses)
    assert summary["cells_covered"] == 3 and summary["cells"] == grid.size
    assert summary["yaw_min"] == -80.0 and summary["yaw_max"] == 31.0
    assert summary["yaw_histogram"] == [1, 0, 0, 2, 0, 1, 0]
    assert coverage_summary([]) == {"faces": 0}


def aligned(image: np.ndarray, name: str) -> np.ndarray:
    return warp(image, alignment_matrix(photo_detection(name).landmarks, 256), 256)


@pytest.mark.parametrize("name", ["astronaut", "grace_hopper"])
def test_sharpness_separates_sharp_from_blurred(name: str, tmp_path: Path) -> None:
    media = make_image_folder(tmp_path, face=name, count=2, size=(640, 360), seed=1)  # a 144 px face
    for i in range(2):
        frame, matrix = media.render(i), alignment_matrix(media.true_landmarks(i), 256)
        sharp = sharpness(warp(frame, matrix, 256))
        degraded = [
            gaussian_blur(frame, 1.5), gaussian_blur(frame, 2.5), motion_blur(frame, 9, 20.0),
            motion_blur(frame, 15, 20.0), motion_blur(frame, 15, 0.0), motion_blur(frame, 15, 90.0),
        ]  # fmt: skip
        blurred = [sharpness(warp(d, matrix, 256)) for d in degraded]
        assert sharp > MIN_SHARPNESS
        assert all(b < MIN_SHARPNESS for b in blurred), (sharp, blurred)
        assert blurred[1] < blurred[0] < sharp and blurred[3] < blurred[2]


def test_sharpness_does_not_depend_on_contrast_or_crop_size() -> None:
    face = aligned(public_domain_face("astronaut"), "astronaut")
    dim = (face.astype(np.float32) * 0.4 + 60).astype(np.uint8)
    assert sharpness(dim) == pytest.approx(sharpness(face), rel=0.1)
    import cv2

    big = cv2.resize(face, (512, 512), interpolation=cv2.INTER_CUBIC)
    assert sharpness(big) == pytest.approx(sharpness(face), rel=0.15)
    assert sharpness(np.full((256, 256, 3), 128, np.uint8)) == 0.0


def test_face_distance_frozen_vs_turning() -> None:
    name = "astronaut"
    photo = public_domain_face(name)
    points = photo_detection(name).landmarks
    face = aligned(photo, name)
    rng = np.random.default_rng(0)
    noisy = np.clip(face + rng.normal(0, 2.0, face.shape), 0, 255).astype(np.uint8)  # codec-like noise
    brighter = np.clip(face.astype(np.float32) * 1.1 + 5, 0, 255).astype(np.uint8)
    turned = aligned(turn_face(photo, points, yaw=12.0), name)
    assert face_distance(thumbnail(face), thumbnail(face)) == 0.0
    assert face_distance(thumbnail(face), thumbnail(noisy)) < DEDUPE_THRESHOLD
    assert face_distance(thumbnail(face), thumbnail(brighter)) < DEDUPE_THRESHOLD
    assert face_distance(thumbnail(face), thumbnail(turned)) > 2 * DEDUPE_THRESHOLD


def test_recent_faces_compares_with_the_last_kept_face_of_the_same_person() -> None:
    a, b = np.zeros((32, 32), np.float32), np.ones((32, 32), np.float32)
    recent = RecentFaces(0.5, max_gap=3)
    box_left, box_right = (0.0, 0.0, 10.0, 10.0), (50.0, 0.0, 10.0, 10.0)
    assert not recent.is_duplicate(0, box_left, a)  # nobody seen yet
    recent.keep(0, box_left, a)
    recent.keep(0, box_right, b)
    assert recent.is_duplicate(1, (1.0, 0.0, 10.0, 10.0), a)
    assert not recent.is_duplicate(1, (1.0, 0.0, 10.0, 10.0), b)  # another face at that place
    assert recent.is_duplicate(1, box_right, b)
    assert not recent.is_duplicate(5, box_left, a)  # forgotten after max_gap frames
    recent.keep(6, box_left, a, key=7)
    assert recent.is_duplicate(7, box_right, a, key=7)  # a track id wins over the box
    recent.reset()
    assert not recent.is_duplicate(7, box_left, a, key=7)


def test_turn_face_moves_the_nose_against_the_eyes() -> None:
    name = "grace_hopper"
    photo = public_domain_face(name)
    points = photo_detection(name).landmarks
    left = turn_face(photo, points, yaw=25.0)
    assert left.shape == photo.shape and left.dtype == np.uint8
    assert not np.array_equal(left, photo)
    np.testing.assert_array_equal(turn_face(photo, points), photo)
