"""`leak`: the share of other people's face pixels that the conversion changed (0 when selection works).

convert/tracks.json lists, per output frame, the tracked faces convert left alone ("left": boxes in
output-frame pixels). Each such box is compared between the convert input frame and the result panel of
the output frame; a pixel counts as changed when any channel differs by more than `tolerance` levels (0 for
lossless outputs such as PNG sequences; lossy video codecs move pixels by themselves, so a tolerance is
needed there). The visible provenance label's corner is excluded. Numpy only (OpenCV for the label shape).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

LOSSY_TOLERANCE = 40  # 8-bit levels a lossy codec may move a pixel by without the conversion touching it


def label_mask(shape: tuple[int, ...], label: Mapping[str, Any] | None) -> np.ndarray | None:
    """Pixels (H, W) bool covered by the provenance label as convert draws it (None: no label)."""
    if not label or not label.get("enabled", True):
        return None
    from fswap.video.provenance import LABEL_TEXT, draw_label

    white = np.full((shape[0], shape[1], 3), 255, np.uint8)
    drawn = draw_label(white, label.get("text", LABEL_TEXT), label.get("corner", "bottom_right"))
    mask = np.any(drawn != white, axis=2)
    ys, xs = np.nonzero(mask)
    if len(xs):
        mask[ys.min():ys.max() + 1, xs.min():xs.max() + 1] = True  # the whole dark box
    return mask


def leak_scores(
    rows: Sequence[Mapping[str, Any]],
    pairs: Iterable[tuple[np.ndarray, np.ndarray]],
    *,
    layout: str = "result",
    tolerance: int = 0,
    label: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Leak over `pairs` of (convert input frame, output frame), in the order of the tracks.json `rows`."""
    changed = total = faces = 0
    frames_with_leak: list[int] = []
    exclude = None
    for row, (source, output) in zip(rows, pairs, strict=False):
        h, w = source.shape[:2]
        offset = w if layout != "result" else 0
        result = output[:, offset:offset + w]
        if result.shape[:2] != (h, w):
            raise ValueError(f"output frame {row.get('frame')} is {output.shape[1]}×{output.shape[0]}; the "
                             f"input is {w}×{h} (layout {layout!r})")
        if exclude is None and label:
            exclude = label_mask(source.shape, label)
        before = changed
        for face in row.get("left", []):
            x, y, bw, bh = (float(v) for v in face["box"])
            x -= offset
            x0, y0 = max(0, int(np.floor(x))), max(0, int(np.floor(y)))
            x1, y1 = min(w, int(np.ceil(x + bw))), min(h, int(np.ceil(y + bh)))
            if x1 <= x0 or y1 <= y0:
                continue
            diff = np.abs(source[y0:y1, x0:x1].astype(np.int16) - result[y0:y1, x0:x1].astype(np.int16))
            moved = diff.max(axis=2) > tolerance
            keep = np.ones(moved.shape, bool) if exclude is None else ~exclude[y0:y1, x0:x1]
            changed += int((moved & keep).sum())
            total += int(keep.sum())
            faces += 1
        if changed > before:
            frames_with_leak.append(int(row.get("frame", 0)))
    return {
        "leak": changed / total if total else None,
        "faces_left": faces,
        "pixels": total,
        "pixels_changed": changed,
        "frames_with_leak": frames_with_leak[:50],
        "tolerance": tolerance,
        "measured": ("share of the pixels inside the boxes of faces convert left unchanged (other people; "
                     "convert/tracks.json \"left\") that differ between the convert input and the output by "
                     f"more than {tolerance} levels in some channel; the provenance label's corner excluded"),
    }
