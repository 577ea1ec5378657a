"""Blenders: composite a generated crop back into the frame (numpy/cv2 only).

`feather` is the reference blend: the model's alpha times a rectangle inset from the crop border and
Gaussian-blurred, warped back with the inverse crop transform and alpha-composited. `poisson` clones the
generated face with cv2.seamlessClone inside the thresholded mask, then (by default) applies the same
alpha so the model's occlusion handling is kept.
"""

from __future__ import annotations

import functools

import cv2
import numpy as np

from fswap.convert.geometry import PasteRegion, paste_region
from fswap_standard.convert_config import FeatherBlendConfig, PoissonBlendConfig


def _odd(value: float) -> int:
    k = max(1, round(value))
    return k if k % 2 else k + 1


@functools.lru_cache(maxsize=8)
def feather_rectangle(size: int, margin: float, kernel: float, sigma: float) -> np.ndarray:
    """A size×size float32 rectangle inset by margin·size, blurred by a Gaussian (fractions of size)."""
    rect = np.zeros((size, size), np.float32)
    m = int(size * margin)
    rect[m : size - m, m : size - m] = 1.0
    if kernel > 0 and sigma > 0:
        rect = cv2.GaussianBlur(rect, (_odd(size * kernel),) * 2, size * sigma)
    rect.setflags(write=False)
    return rect


def shape_mask(alpha: np.ndarray, config: FeatherBlendConfig) -> np.ndarray:
    """The crop-space blend mask: alpha (eroded/dilated, blurred as configured) × feather rectangle."""
    size = alpha.shape[0]
    mask = np.clip(np.asarray(alpha, np.float32), 0.0, 1.0)
    amount = round(abs(config.erode) * size)
    if amount:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * amount + 1,) * 2)
        mask = cv2.erode(mask, kernel) if config.erode > 0 else cv2.dilate(mask, kernel)
    if config.blur > 0:
        k = _odd(size * config.blur)
        mask = cv2.GaussianBlur(mask, (k, k), 0)
    rect = feather_rectangle(size, config.feather_margin, config.feather_kernel, config.feather_sigma)
    return mask * rect


def composite(frame: np.ndarray, region: PasteRegion, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Frame copy with region := mask·image + (1 − mask)·frame (image/mask already in region pixels)."""
    out = frame.copy()
    sl = (slice(region.y0, region.y1), slice(region.x0, region.x1))
    m = mask[..., None]
    out[sl] = (
        (m * image.astype(np.float32) + (1.0 - m) * frame[sl].astype(np.float32)).round().astype(np.uint8)
    )
    return out


class FeatherBlender:
    """`feather` (alias `alpha`): the reference's model alpha × feathered rectangle."""

    def __init__(self, config: FeatherBlendConfig) -> None:
        self.config = config

    def blend(
        self, frame: np.ndarray, generated: np.ndarray, alpha: np.ndarray, matrix: np.ndarray
    ) -> np.ndarray:
        region = paste_region(matrix, generated.shape[0], frame.shape)
        if region.empty:
            return frame.copy()
        mask = region.warp(shape_mask(alpha, self.config))
        return composite(frame, region, region.warp(generated), mask)


class PoissonBlender:
    """`poisson`: cv2.seamlessClone of the generated face inside mask > threshold."""

    def __init__(self, config: PoissonBlendConfig) -> None:
        self.config = config
        self._flag = cv2.MIXED_CLONE if config.mode == "mixed" else cv2.NORMAL_CLONE

    def blend(
        self, frame: np.ndarray, generated: np.ndarray, alpha: np.ndarray, matrix: np.ndarray
    ) -> np.ndarray:
        region = paste_region(matrix, generated.shape[0], frame.shape)
        if region.empty:
            return frame.copy()
        soft = region.warp(shape_mask(alpha, self.config))
        warped = region.warp(generated)
        binary = np.where(soft > self.config.threshold, 255, 0).astype(np.uint8)
        binary[[0, -1], :] = 0  # seamlessClone needs a border of unmasked pixels
        binary[:, [0, -1]] = 0
        points = cv2.findNonZero(binary)
        if points is None:
            return frame.copy()
        x, y, w, h = cv2.boundingRect(points)
        src = frame.copy()
        src[region.y0 : region.y1, region.x0 : region.x1] = warped
        full = np.zeros(frame.shape[:2], np.uint8)
        full[region.y0 : region.y1, region.x0 : region.x1] = binary
        center = (region.x0 + x + w // 2, region.y0 + y + h // 2)
        cloned = cv2.seamlessClone(src, frame, full, center, self._flag)
        if not self.config.keep_alpha:
            return cloned
        sl = (slice(region.y0, region.y1), slice(region.x0, region.x1))
        return composite(frame, region, cloned[sl], soft)
