"""A contact sheet of tracks: one thumbnail per track with its id, frame range, identity distance and the
decision, so a user can pick tracks for `select = "tracks"`. Swapped tracks get a green frame and "SWAP",
tracks left alone a red frame and "leave". Numpy and OpenCV only."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fswap.errors import InputError

CELL = 112  # thumbnail side, pixels
_TEXT_H = 46
_PAD = 6
_GREEN = (60, 170, 60)
_RED = (50, 50, 200)


def face_thumbnail(frame: np.ndarray, box: Sequence[float], size: int = CELL) -> np.ndarray:
    """The face `box` (x, y, w, h) of `frame` with some context (1.6× the box), as a size² BGR crop."""
    import cv2

    x, y, w, h = (float(v) for v in box)
    side = max(w, h, 1.0) * 1.6
    cx, cy = x + w / 2, y + h / 2
    scale = size / side
    matrix = np.array([[scale, 0, size / 2 - scale * cx], [0, scale, size / 2 - scale * cy]], np.float64)
    return cv2.warpAffine(frame, matrix, (size, size), flags=cv2.INTER_AREA, borderValue=(32, 32, 32))


def _cell(track: Mapping[str, Any], thumb: np.ndarray | None) -> np.ndarray:
    import cv2

    cell = np.full((CELL + _TEXT_H, CELL, 3), 245, np.uint8)
    if thumb is not None:
        cell[:CELL] = thumb
    swap = track["decision"] == "swap"
    colour = _GREEN if swap else _RED
    cv2.rectangle(cell, (0, 0), (CELL - 1, CELL - 1), colour, 3)
    mean = track.get("mean_distance")
    lines = [
        f"#{track['track_id']}  {'SWAP' if swap else 'leave'}",
        f"f {track['first_frame']}-{track['last_frame']} ({track['frames']})",
        "d -" if mean is None else f"d {mean:.2f}",
    ]
    for n, line in enumerate(lines):
        cv2.putText(cell, line, (3, CELL + 13 + 14 * n), cv2.FONT_HERSHEY_SIMPLEX, 0.38,
                    colour if n == 0 else (40, 40, 40), 1, cv2.LINE_AA)
    return cell


def render_sheet(
    tracks: Sequence[Mapping[str, Any]], thumbnails: Mapping[int, np.ndarray], *, columns: int = 6
) -> np.ndarray:
    """The sheet as a BGR image: tracks in id order, `thumbnails` by track id (missing: left blank)."""
    if not tracks:
        raise ValueError("no tracks to show")
    cells = [_cell(t, thumbnails.get(int(t["track_id"]))) for t in tracks]
    columns = max(1, min(columns, len(cells)))
    rows = (len(cells) + columns - 1) // columns
    ch, cw = cells[0].shape[:2]
    sheet = np.full((rows * (ch + _PAD) + _PAD, columns * (cw + _PAD) + _PAD, 3), 255, np.uint8)
    for n, cell in enumerate(cells):
        r, c = divmod(n, columns)
        y, x = _PAD + r * (ch + _PAD), _PAD + c * (cw + _PAD)
        sheet[y:y + ch, x:x + cw] = cell
    return sheet


def write_sheet(
    path: Path, tracks: Sequence[Mapping[str, Any]], frames: Mapping[int, np.ndarray], *, columns: int = 6
) -> Path:
    """Write the contact sheet PNG of `tracks`, thumbnails cut from `frames` (source frame index → frame)."""
    import cv2

    thumbs = {}
    for t in tracks:
        frame = frames.get(int(t["thumbnail_frame"]))
        if frame is not None and t["thumbnail_box"][2] > 0:
            thumbs[int(t["track_id"])] = face_thumbnail(frame, t["thumbnail_box"])
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), render_sheet(tracks, thumbs, columns=columns)):
        raise InputError(f"{path}: cannot write the contact sheet PNG")
    return path
