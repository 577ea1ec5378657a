"""Training-face augmentation (reference §3.3) in NumPy/OpenCV.

Images enter as float32 stacks (256, 256, C) where channels 0–2 are BGR in [0, 255] and any further
channel is a mask in [0, 1] that follows the same geometry. Every function takes a numpy Generator, so a
sample is reproducible from its seed alone.
"""

from __future__ import annotations

import cv2
import numpy as np

from fswap.data.stores import WORK_SIZE

_STATS_CROP = 60  # colour statistics use the centre [60:-60] of the 256² face


def umeyama(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity transform (rotation, uniform scale, translation) mapping src → dst.

    Umeyama (1991): SVD of the cross-covariance of the centred point sets. Returns a 2×3 matrix.
    """
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    mu_s, mu_d = src.mean(axis=0), dst.mean(axis=0)
    sc, dc = src - mu_s, dst - mu_d
    cov = dc.T @ sc / len(src)
    u, s, vt = np.linalg.svd(cov)
    d = np.ones(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        d[-1] = -1.0
    rot = u @ np.diag(d) @ vt
    var_s = (sc**2).sum() / len(src)
    scale = float((s * d).sum() / var_s) if var_s > 0 else 1.0
    matrix = np.zeros((2, 3))
    matrix[:, :2] = scale * rot
    matrix[:, 2] = mu_d - scale * rot @ mu_s
    return matrix


def _stats(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    crop = image[_STATS_CROP:-_STATS_CROP, _STATS_CROP:-_STATS_CROP].reshape(-1, 3)
    return crop.mean(axis=0), crop.std(axis=0) + 1e-6


def random_color_match(image: np.ndarray, reference: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Reinhard mean/std transfer of `image` (BGR float 0–255, 256²) toward a random blend of its own and
    the reference's statistics, in BGR or (p = 0.5) CIE XYZ; rescaled back into [0, 255]."""
    use_xyz = rng.random() < 0.5
    r = rng.random()
    src = image.astype(np.float32)
    ref = reference.astype(np.float32)
    if use_xyz:
        src = cv2.cvtColor(src / 255.0, cv2.COLOR_BGR2XYZ) * 255.0
        ref = cv2.cvtColor(ref / 255.0, cv2.COLOR_BGR2XYZ) * 255.0
    mean_s, std_s = _stats(src)
    mean_r, std_r = _stats(ref)
    mean_t = r * mean_r + (1.0 - r) * mean_s
    std_t = r * std_r + (1.0 - r) * std_s
    out = (src - mean_s) / std_s * std_t + mean_t
    low = out.min()
    if low < 0:
        out = out - low
    high = out.max()
    if high > 255:
        out = out * (255.0 / high)
    if use_xyz:
        out = np.clip(cv2.cvtColor((out / 255.0).astype(np.float32), cv2.COLOR_XYZ2BGR), 0.0, 1.0) * 255.0
    return out.astype(np.float32)


def random_transform(
    stack: np.ndarray,
    rng: np.random.Generator,
    *,
    rotation: float = 10.0,
    zoom: float = 0.1,
    shift: float = 0.05,
    flip: float = 0.5,
) -> np.ndarray:
    """Rotate (±rotation°), zoom (1 ± zoom) and shift (± shift·size) about the centre with replicated
    borders, then flip horizontally with probability `flip`. All channels move together."""
    h, w = stack.shape[:2]
    angle = rng.uniform(-rotation, rotation)
    scale = rng.uniform(1.0 - zoom, 1.0 + zoom)
    tx = rng.uniform(-shift, shift) * w
    ty = rng.uniform(-shift, shift) * h
    matrix = cv2.getRotationMatrix2D((w / 2.0, h / 2.0), angle, scale)
    matrix[:, 2] += (tx, ty)
    out = _warp_affine(stack, matrix, (w, h))
    if rng.random() < flip:
        out = out[:, ::-1]
    return np.ascontiguousarray(out)


def _warp_affine(stack: np.ndarray, matrix: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    out = cv2.warpAffine(stack, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out.reshape(size[1], size[0], stack.shape[2]) if out.ndim == 2 else out


def random_warp(
    stack: np.ndarray,
    rng: np.random.Generator,
    resolution: int,
    *,
    sigma: tuple[float, float] = (5.0, 6.2),
) -> tuple[np.ndarray, np.ndarray]:
    """The reference's warp of a 256² stack: a 5×5 control grid over the central (2c)² region
    (c = 78–97 px) gets Gaussian noise, is upsampled into a dense remap field → the *warped* input
    (R×R); the *target* is the same region through the Umeyama similarity fitted from the noisy grid to
    a regular one, i.e. undistorted and aligned with the input. Returns (warped, target)."""
    size = stack.shape[0]
    half = (78 + int(rng.integers(20))) * size / WORK_SIZE
    centre = size / 2.0
    line = np.linspace(centre - half, centre + half, 5)
    grid_x = np.broadcast_to(line, (5, 5)).astype(np.float32)
    grid_y = grid_x.T.copy()
    noise_sigma = rng.uniform(*sigma) * size / WORK_SIZE
    grid_x = grid_x + rng.normal(scale=noise_sigma, size=(5, 5)).astype(np.float32)
    grid_y = grid_y + rng.normal(scale=noise_sigma, size=(5, 5)).astype(np.float32)
    # the 5×5 grid is stretched over 1.25·R pixels and the central R×R kept (the reference's 80s → [8s:72s])
    field = round(resolution * 1.25)
    lo = round(resolution / 8)
    window = (slice(lo, lo + resolution), slice(lo, lo + resolution))
    map_x = np.ascontiguousarray(cv2.resize(grid_x, (field, field))[window])
    map_y = np.ascontiguousarray(cv2.resize(grid_y, (field, field))[window])
    warped = cv2.remap(stack, map_x, map_y, cv2.INTER_LINEAR)
    if warped.ndim == 2:
        warped = warped[..., None]
    src = np.stack([grid_x.ravel(), grid_y.ravel()], axis=-1)
    step = resolution / 4.0
    regular = np.mgrid[0:5, 0:5] * step - 0.5  # where cv2.resize puts the control points in the window
    dst = np.stack([regular[1].ravel(), regular[0].ravel()], axis=-1).astype(np.float64)
    matrix = umeyama(src, dst)
    target = _warp_affine(stack, matrix, (resolution, resolution))
    return warped, target


def motion_blur_kernel(size: int, angle: float) -> np.ndarray:
    """A normalised line kernel of `size` pixels rotated by `angle` degrees."""
    kernel = np.zeros((size, size), np.float32)
    kernel[size // 2, :] = 1.0
    rot = cv2.getRotationMatrix2D(((size - 1) / 2.0, (size - 1) / 2.0), angle, 1.0)
    kernel = cv2.warpAffine(kernel, rot, (size, size))
    total = kernel.sum()
    return kernel / total if total > 0 else kernel


def random_motion_blur(
    images: list[np.ndarray], rng: np.random.Generator, probability: float
) -> list[np.ndarray]:
    """With `probability`, blur every image with the same random line kernel (5, 7, 9 or 11 px)."""
    if rng.random() >= probability:
        return images
    kernel = motion_blur_kernel(int(rng.choice([5, 7, 9, 11])), float(rng.uniform(-180.0, 180.0)))
    return [cv2.filter2D(img, -1, kernel, borderType=cv2.BORDER_REPLICATE) for img in images]
