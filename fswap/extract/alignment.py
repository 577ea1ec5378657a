"""5-point similarity alignment (Umeyama with scale) onto the faceswap-GAN reference template.

The template gives where the two eyes, the nose tip and the two mouth corners land in the aligned crop, as
fractions of its side (reference §4.4). Points are (x, y) in pixels throughout.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fswap.errors import InputError

TEMPLATE_5 = np.array(
    [
        [0.3259, 0.3134],  # left eye (image-left)
        [0.7228, 0.3108],  # right eye
        [0.5187, 0.5524],  # nose tip
        [0.3726, 0.7752],  # left mouth corner
        [0.6773, 0.7760],  # right mouth corner
    ]
)
"""Reference template as (x, y) fractions of the crop side (the reference lists them as (row, col))."""

BORDERS = ("replicate", "constant", "reflect")

# iBUG-300W 68-point index ranges (inclusive start, exclusive end)
PARTS_68: dict[str, tuple[tuple[int, int], ...]] = {
    "eyes": ((36, 42), (42, 48)),
    "brows": ((17, 22), (22, 27)),
    "nose": ((27, 36),),
    "mouth": ((48, 60),),  # the outer lip contour; the inner lip (60–67) lies inside it
}


def umeyama(src: np.ndarray, dst: np.ndarray, *, estimate_scale: bool = True) -> np.ndarray:
    """Least-squares similarity transform (rotation, uniform scale, translation) mapping src → dst: 2×3."""
    src = np.asarray(src, dtype=np.float64).reshape(-1, 2)
    dst = np.asarray(dst, dtype=np.float64).reshape(-1, 2)
    if len(src) != len(dst) or len(src) < 2:
        raise ValueError(f"umeyama needs ≥ 2 matching points, received {len(src)} and {len(dst)}")
    n = len(src)
    mu_s, mu_d = src.mean(axis=0), dst.mean(axis=0)
    sc, dc = src - mu_s, dst - mu_d
    cov = dc.T @ sc / n
    u, s, vt = np.linalg.svd(cov)
    d = np.ones(2)
    if np.linalg.det(cov) < 0:
        d[-1] = -1.0
    rot = u @ np.diag(d) @ vt
    var_s = (sc**2).sum() / n
    if var_s <= 1e-12:
        raise ValueError("umeyama: source points are all the same")
    scale = float((s * d).sum() / var_s) if estimate_scale else 1.0
    t = mu_d - scale * rot @ mu_s
    return np.hstack([scale * rot, t[:, None]])


def template_points(size: int) -> np.ndarray:
    """The 5-point template in pixels of a size×size crop."""
    return TEMPLATE_5 * float(size)


def alignment_matrix(points5: np.ndarray, size: int) -> np.ndarray:
    """Frame→crop 2×3 matrix that puts the 5 landmarks onto the template of a size×size crop."""
    return umeyama(points5, template_points(size))


def five_from_68(points68: np.ndarray) -> np.ndarray:
    """The MTCNN-style 5 points from 68 iBUG landmarks: eye centres, nose tip, mouth corners."""
    pts = np.asarray(points68, dtype=np.float64).reshape(-1, 2)
    if len(pts) != 68:
        raise ValueError(f"expected 68 landmarks, received {len(pts)}")
    return np.stack([pts[36:42].mean(axis=0), pts[42:48].mean(axis=0), pts[30], pts[48], pts[54]])


def invert(matrix: np.ndarray) -> np.ndarray:
    """Inverse of a 2×3 affine matrix (crop→frame for warping back)."""
    m = np.vstack([np.asarray(matrix, dtype=np.float64).reshape(2, 3), [0.0, 0.0, 1.0]])
    return np.linalg.inv(m)[:2]


def transform_points(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Apply a 2×3 matrix to (N, 2) points."""
    m = np.asarray(matrix, dtype=np.float64).reshape(2, 3)
    return np.asarray(points, dtype=np.float64).reshape(-1, 2) @ m[:, :2].T + m[:, 2]


def warp(frame: np.ndarray, matrix: np.ndarray, size: int, border: str = "replicate") -> np.ndarray:
    """The size×size crop of `frame` under the frame→crop matrix."""
    import cv2

    modes = {
        "replicate": cv2.BORDER_REPLICATE,
        "constant": cv2.BORDER_CONSTANT,
        "reflect": cv2.BORDER_REFLECT,
    }
    if border not in modes:
        raise ValueError(f"border must be one of {', '.join(BORDERS)}, received {border!r}")
    return cv2.warpAffine(
        frame,
        np.asarray(matrix, dtype=np.float64),
        (size, size),
        flags=cv2.INTER_LINEAR,
        borderMode=modes[border],
    )


def square_crop(frame: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """The unaligned square crop around a detection box (side = mean of w and h), clipped to the frame."""
    x, y, w, h = box
    side = (w + h) / 2.0
    cx, cy = x + w / 2.0, y + h / 2.0
    height, width = frame.shape[:2]
    x0, y0 = max(round(cx - side / 2), 0), max(round(cy - side / 2), 0)
    x1, y1 = min(round(cx + side / 2), width), min(round(cy + side / 2), height)
    if x1 <= x0 or y1 <= y0:
        raise InputError(f"detection box {box} lies outside the {width}×{height} frame")
    return frame[y0:y1, x0:x1].copy()


def align_with_68(
    frame: np.ndarray,
    detection: Any,
    points68: np.ndarray,
    *,
    size: int,
    border: str = "replicate",
    align_on: str = "detector",
) -> Any:
    """An AlignedFace carrying 68 landmarks; its crop is placed by the detector's 5 points (`align_on =
    "detector"`, identical to umeyama5) or by the 5 points derived from the 68 (`"landmarks"`)."""
    from fswap.components import AlignedFace

    points = np.asarray(points68, dtype=np.float64).reshape(-1, 2)
    five = np.asarray(detection.landmarks, dtype=np.float64)
    if align_on == "landmarks" or len(five) != 5:
        five = five_from_68(points)
    matrix = alignment_matrix(five, size)
    matrix.setflags(write=False)
    return AlignedFace(
        image=warp(frame, matrix, size, border), matrix=matrix, landmarks=points, detection=detection
    )
