"""Binary region masks of aligned faces drawn from landmarks (reference §6)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from fswap.extract.alignment import PARTS_68, transform_points


def eye_rectangles(
    size: int,
    matrix: np.ndarray,
    eyes: np.ndarray,
    box: tuple[float, float, float, float],
    *,
    half_height: float = 1.0 / 15.0,
    half_width: float = 1.0 / 8.0,
) -> np.ndarray:
    """The crude eye mask: around each eye (frame pixels) a rectangle of ±side·half_height rows and
    ±side·half_width columns, side = mean box side, moved into the crop by `matrix`. float32 in {0, 1}."""
    import cv2

    _, _, w, h = box
    side = (w + h) / 2.0
    dy, dx = side * half_height, side * half_width
    mask = np.zeros((size, size), np.uint8)
    for ex, ey in np.asarray(eyes, dtype=np.float64).reshape(-1, 2):
        corners = np.array([[ex - dx, ey - dy], [ex + dx, ey - dy], [ex + dx, ey + dy], [ex - dx, ey + dy]])
        poly = np.round(transform_points(matrix, corners) * 16).astype(np.int32)  # 4 fractional bits
        cv2.fillConvexPoly(mask, poly, 255, lineType=cv2.LINE_AA, shift=4)
    return (mask >= 128).astype(np.float32)


def part_hulls(size: int, points68: np.ndarray, parts: Sequence[str]) -> np.ndarray:
    """Filled convex hulls (uint8) of the chosen parts (eyes, brows, nose, mouth) of crop 68 landmarks."""
    import cv2

    pts = np.asarray(points68, dtype=np.float64).reshape(-1, 2)
    mask = np.zeros((size, size), np.uint8)
    for part in parts:
        for start, stop in PARTS_68[part]:
            hull = cv2.convexHull(np.round(pts[start:stop] * 16).astype(np.int32))
            cv2.fillConvexPoly(mask, hull, 255, lineType=cv2.LINE_AA, shift=4)
    return mask


def dilate_blur(mask: np.ndarray, *, dilate: int, blur: int, iterations: int = 1) -> np.ndarray:
    """Dilate with a dilate×dilate square (0: none) then Gaussian-blur blur×blur (0: none); float32 [0, 1]."""
    import cv2

    out = mask
    if dilate > 0 and iterations > 0:
        out = cv2.dilate(out, np.ones((dilate, dilate), np.uint8), iterations=iterations)
    if blur > 0:
        out = cv2.GaussianBlur(out, (blur, blur), 0)
    return out.astype(np.float32) / 255.0
