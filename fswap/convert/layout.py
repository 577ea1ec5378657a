"""Output frame layouts: the result alone, source | result, or source | result | mask heat-map."""

from __future__ import annotations

import cv2
import numpy as np

LAYOUT_WIDTH = {"result": 1, "side_by_side": 2, "triple": 3}


def output_size(layout: str, size: tuple[int, int]) -> tuple[int, int]:
    """(width, height) of the output frames for frames of `size` (width, height)."""
    return (size[0] * LAYOUT_WIDTH[layout], size[1])


def heatmap(mask: np.ndarray, source: np.ndarray) -> np.ndarray:
    """The mask (frame pixels, [0, 1]) in a JET colour map over the source dimmed to 15 % (no face:
    just the dimmed source, as in the reference)."""
    m = np.clip(mask, 0.0, 1.0).astype(np.float32)
    colours = cv2.applyColorMap((m * 255).astype(np.uint8), cv2.COLORMAP_JET).astype(np.float32)
    out = m[..., None] * colours + 0.15 * source.astype(np.float32)
    return np.clip(out, 0, 255).astype(np.uint8)


def compose(layout: str, source: np.ndarray, result: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    """The output frame for `layout` (mask is needed only by 'triple')."""
    if layout == "result":
        return result
    if layout == "side_by_side":
        return np.hstack([source, result])
    if mask is None:
        mask = np.zeros(source.shape[:2], np.float32)
    return np.hstack([source, result, heatmap(mask, source)])
