"""The `face_alignment` aligner: the face-alignment package's 2D-FAN on the detector's box.

The package is built with its "folder" face detector, which loads no weights: fswap passes the boxes itself,
so only the FAN network is fetched (once, by the package, into torch's hub cache).
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np

from fswap import AlignedFace, Detection
from fswap.errors import PluginError, WeightsError
from fswap.extract.alignment import align_with_68
from fswap_face_alignment.config import FaceAlignmentConfig

INSTALL_HINT = 'pip install "fswap[face-alignment]" (installs face-alignment and PyTorch)'


def _import_face_alignment() -> Any:
    try:
        return importlib.import_module("face_alignment")
    except ImportError as exc:
        raise PluginError(
            f"aligner 'face_alignment' needs the optional extra: {INSTALL_HINT} ({exc})"
        ) from exc


def make_backend(config: FaceAlignmentConfig) -> Any:
    """A face_alignment.FaceAlignment for 2D landmarks; a WeightsError when its weights cannot be fetched."""
    fa = _import_face_alignment()
    kinds = fa.LandmarksType
    two_d = getattr(kinds, "TWO_D", None) or kinds._2D  # renamed in face-alignment 1.4
    try:
        return fa.FaceAlignment(
            two_d, device=config.device, flip_input=config.flip_input, face_detector="folder"
        )
    except OSError as exc:  # urllib's URLError and socket errors are OSErrors
        raise WeightsError(
            f"face-alignment could not download its 2D-FAN weights ({exc}); run once with network access "
            "(they are cached in torch's hub folder, $TORCH_HOME/hub/checkpoints) or use aligner dlib68"
        ) from exc


def fan_box(box: tuple[float, float, float, float], scale: float) -> np.ndarray:
    """(x, y, w, h) → the (x1, y1, x2, y2) box face-alignment expects, scaled about its centre."""
    x, y, w, h = box
    cx, cy = x + w / 2.0, y + h / 2.0
    hw, hh = w * scale / 2.0, h * scale / 2.0
    return np.array([cx - hw, cy - hh, cx + hw, cy + hh], dtype=np.float32)


class FanAligner:
    """68-point 2D-FAN landmarks; the crop and matrix come from 5 points (see `align_on`)."""

    def __init__(self, config: FaceAlignmentConfig, *, backend: Any | None = None) -> None:
        self.config = config
        self.size = config.size
        self._fan = backend if backend is not None else make_backend(config)

    def landmarks(self, frame: np.ndarray, detection: Detection) -> np.ndarray:
        """(68, 2) frame pixels; ValueError when FAN returns nothing for the box."""
        rgb = np.ascontiguousarray(frame[:, :, ::-1])
        found = self._fan.get_landmarks_from_image(
            rgb, detected_faces=[fan_box(detection.box, self.config.box_scale)]
        )
        if found is None or len(found) == 0:
            raise ValueError("face-alignment returned no landmarks for the detected box")
        points = np.asarray(found[0], dtype=np.float64)
        if points.ndim != 2 or points.shape[0] != 68 or points.shape[1] < 2:
            raise ValueError(f"face-alignment returned landmarks of shape {points.shape}; expected (68, 2)")
        return points[:, :2]

    def align(self, frame: np.ndarray, detection: Detection) -> AlignedFace:
        points = self.landmarks(frame, detection)
        return align_with_68(
            frame, detection, points, size=self.size, border=self.config.border, align_on=self.config.align_on
        )
