"""Crop geometry of the convert stage: the ROI crop fed to the generator and pasting crops back.

Matrices are 2×3 affine frame→crop transforms (as in AlignedFace.matrix). Pasting works on the smallest
frame rectangle the crop covers, so warping back costs little on large frames.
"""

from __future__ import annotations

import attrs
import cv2
import numpy as np

from fswap.errors import InputError


def roi_matrix(matrix: np.ndarray, crop_size: int, roi_coverage: float, resolution: int) -> np.ndarray:
    """Frame→generator-input transform: the aligned crop's central ROI, resized to `resolution`.

    The ROI is the crop inset by m = int(crop_size·(1 − roi_coverage)) on each side (the reference's
    definition: 0.9 keeps the central 80 %)."""
    margin = int(crop_size * (1.0 - roi_coverage) + 1e-9)  # 1e-9: int(100·(1 − 0.9)) would give 9
    side = crop_size - 2 * margin
    if side <= 0:
        raise InputError(f"roi_coverage {roi_coverage} leaves no face area in a {crop_size}-pixel crop")
    scale = resolution / side
    shift = np.array([[scale, 0.0, -margin * scale], [0.0, scale, -margin * scale], [0.0, 0.0, 1.0]])
    full = np.vstack([np.asarray(matrix, np.float64).reshape(2, 3), [0.0, 0.0, 1.0]])
    return (shift @ full)[:2]


def crop(frame: np.ndarray, matrix: np.ndarray, size: int) -> np.ndarray:
    """Warp the frame into a size×size crop (border pixels replicated, as the reference does)."""
    return cv2.warpAffine(
        frame, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )


@attrs.frozen
class PasteRegion:
    """Where a crop lands in the frame: the rectangle (x0, y0, x1, y1) and the crop→rectangle transform."""

    x0: int
    y0: int
    x1: int
    y1: int
    matrix: np.ndarray  # 2×3 crop → rectangle pixels

    @property
    def empty(self) -> bool:
        return self.x1 <= self.x0 or self.y1 <= self.y0

    @property
    def size(self) -> tuple[int, int]:
        return (self.x1 - self.x0, self.y1 - self.y0)

    def warp(self, image: np.ndarray, interpolation: int = cv2.INTER_LINEAR) -> np.ndarray:
        """Warp a crop-space image (or mask) into this rectangle; outside the crop is 0."""
        return cv2.warpAffine(
            image, self.matrix, self.size, flags=interpolation, borderMode=cv2.BORDER_CONSTANT, borderValue=0
        )


def paste_region(matrix: np.ndarray, crop_size: int, frame_shape: tuple[int, ...]) -> PasteRegion:
    """The frame rectangle covered by a crop_size crop taken with `matrix` (clipped to the frame)."""
    full = np.vstack([np.asarray(matrix, np.float64).reshape(2, 3), [0.0, 0.0, 1.0]])
    inverse = np.linalg.inv(full)
    corners = np.array(
        [[0, 0, 1], [crop_size, 0, 1], [0, crop_size, 1], [crop_size, crop_size, 1]], np.float64
    )
    pts = corners @ inverse[:2].T
    h, w = frame_shape[:2]
    x0, y0 = (int(max(0, np.floor(v))) for v in pts.min(axis=0))
    x1 = int(min(w, np.ceil(pts[:, 0].max()) + 1))
    y1 = int(min(h, np.ceil(pts[:, 1].max()) + 1))
    shift = np.array([[1.0, 0.0, -x0], [0.0, 1.0, -y0], [0.0, 0.0, 1.0]])
    return PasteRegion(x0, y0, max(x0, x1), max(y0, y1), (shift @ inverse)[:2])
