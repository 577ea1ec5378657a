"""Head pose (yaw, pitch) from the 5 landmarks, and the pose coverage of a face set.

The 5 points (eyes, nose tip, mouth corners) are first turned so the eye line is level (removing roll). Then,
on a generic adult head (the proportions of `fswap.evaluate.following.MODEL_POINTS`: eye centres 61 mm apart,
the mouth 67 mm below them, the nose tip 35 mm in front of the eyes and 28 mm in front of the mouth corners):

* **yaw** turns the nose tip sideways against the eyes and the mouth by `depth·sin(yaw)` while the eye
  distance shrinks by `cos(yaw)`: tan(yaw) = −(nose − face midline) / eye distance · 61 / 31.5;
* **pitch** moves the nose tip up or down between the eye line and the mouth line: with f the nose's height as
  a fraction of the eye-to-mouth height, f = (f₀·67 + 35·t) / (67 + 7·t), t = tan(pitch), solved for t; f₀ is
  the fraction of the aligner's template (a frontal face).

Convention as in `fswap.evaluate.following`: yaw > 0 turns the nose towards the image's left, pitch > 0 tilts
it down; degrees. A weak-perspective estimate: good to a few degrees up to about ±40°, which is what a
coverage grid needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from fswap.extract.alignment import TEMPLATE_5, five_from_68

EYE_DISTANCE = 61.0  # mm between the eye centres
EYE_TO_MOUTH = 67.0  # mm from the eye line down to the mouth corners
NOSE_DEPTH_EYES = 35.0  # mm the nose tip lies in front of the eye centres
NOSE_DEPTH_MOUTH = 28.0  # mm the nose tip lies in front of the mouth corners
_EYE_Y = (TEMPLATE_5[0, 1] + TEMPLATE_5[1, 1]) / 2.0
_MOUTH_Y = (TEMPLATE_5[3, 1] + TEMPLATE_5[4, 1]) / 2.0
FRONTAL_NOSE = float((TEMPLATE_5[2, 1] - _EYE_Y) / (_MOUTH_Y - _EYE_Y))
"""Height of the nose tip between eye line (0) and mouth line (1) on a frontal face (the template's)."""

YAW_BINS = (-45.0, -30.0, -15.0, 0.0, 15.0, 30.0, 45.0)
PITCH_BINS = (-30.0, -15.0, 0.0, 15.0, 30.0)
"""Centres (degrees) of the coverage grid; each cell spans ±7.5°, the outer ones everything beyond."""


def five_points(landmarks: np.ndarray, detection_landmarks: np.ndarray | None = None) -> np.ndarray:
    """The 5 alignment points from 5 or 68 landmarks (falling back to the detector's 5)."""
    pts = np.asarray(landmarks, dtype=np.float64).reshape(-1, 2)
    if len(pts) == 5:
        return pts
    if len(pts) == 68:
        return five_from_68(pts)
    if detection_landmarks is not None and len(np.asarray(detection_landmarks).reshape(-1, 2)) == 5:
        return np.asarray(detection_landmarks, dtype=np.float64).reshape(5, 2)
    raise ValueError(f"need 5 or 68 landmarks for a head pose, received {len(pts)}")


def yaw_pitch(points5: np.ndarray) -> tuple[float, float]:
    """(yaw, pitch) in degrees of a face from its 5 landmarks (any pixel frame: frame or crop)."""
    pts = np.asarray(points5, dtype=np.float64).reshape(5, 2)
    left, right = pts[0], pts[1]
    roll = np.arctan2(right[1] - left[1], right[0] - left[0])
    c, s = np.cos(-roll), np.sin(-roll)
    level = (pts - (left + right) / 2.0) @ np.array([[c, s], [-s, c]])  # rotate by −roll about the eyes
    eye_distance = float(np.hypot(*(level[1] - level[0])))
    mouth = (level[3] + level[4]) / 2.0
    height = float(mouth[1])  # the eye midpoint is at the origin
    if eye_distance <= 1e-6 or height <= 1e-6:
        raise ValueError("degenerate landmarks: the eyes coincide or the mouth is not below the eyes")
    nose = level[2]
    # the face midline (eye and mouth midpoints) lies at mean depth (35 + 28) / 2 behind the nose tip
    midline = mouth[0] / 2.0
    offset = (nose[0] - midline) / eye_distance
    depth = (NOSE_DEPTH_EYES + NOSE_DEPTH_MOUTH) / 2.0
    yaw = np.degrees(np.arctan(-offset * EYE_DISTANCE / depth))
    f = nose[1] / height
    # f = (f0·H + De·t) / (H + (De − Dm)·t)  ⇒  t = H·(f − f0) / (De − f·(De − Dm))
    denominator = NOSE_DEPTH_EYES - f * (NOSE_DEPTH_EYES - NOSE_DEPTH_MOUTH)
    t = EYE_TO_MOUTH * (f - FRONTAL_NOSE) / denominator if abs(denominator) > 1e-6 else np.sign(f) * 1e6
    pitch = np.degrees(np.arctan(t))
    return float(yaw), float(pitch)


def _bin(value: float, centres: Sequence[float]) -> int:
    return int(np.argmin([abs(value - c) for c in centres]))


def coverage_grid(poses: Sequence[tuple[float, float]]) -> np.ndarray:
    """Faces per cell of the coverage grid: int array (len(PITCH_BINS), len(YAW_BINS)), pitch rows."""
    grid = np.zeros((len(PITCH_BINS), len(YAW_BINS)), dtype=np.int64)
    for yaw, pitch in poses:
        grid[_bin(pitch, PITCH_BINS), _bin(yaw, YAW_BINS)] += 1
    return grid


def coverage_summary(poses: Sequence[tuple[float, float]]) -> dict[str, Any]:
    """What the summary says about the poses of a face set: ranges, histograms, cells covered."""
    if not poses:
        return {"faces": 0}
    arr = np.asarray(poses, dtype=np.float64).reshape(-1, 2)
    grid = coverage_grid(poses)
    return {
        "faces": len(arr),
        "yaw_min": round(float(arr[:, 0].min()), 1),
        "yaw_max": round(float(arr[:, 0].max()), 1),
        "pitch_min": round(float(arr[:, 1].min()), 1),
        "pitch_max": round(float(arr[:, 1].max()), 1),
        "yaw_histogram": grid.sum(axis=0).tolist(),
        "pitch_histogram": grid.sum(axis=1).tolist(),
        "cells_covered": int((grid > 0).sum()),
        "cells": int(grid.size),
    }
