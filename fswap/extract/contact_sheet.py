"""A contact sheet per face set (`<face set>/contact_sheet.png`): what the set holds and what it lacks.

Left: up to `max_thumbs` thumbnails of kept faces spread evenly over the set (frame number under each). Right:
the yaw/pitch coverage grid of `fswap.extract.pose` (cells shaded by their count, the count written in each,
empty cells marked), the kept faces as dots, and the counts of skipped faces. Below, when extract decided by
identity per track: one thumbnail per rejected track with its frames and mean identity distance. Drawn with
OpenCV only.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from fswap.extract.pose import PITCH_BINS, YAW_BINS, coverage_grid

THUMB = 72
PLOT = 360
_BG = (32, 32, 32)
_TEXT = (230, 230, 230)
_DIM = (140, 140, 140)


@attrs.frozen(eq=False)
class SheetTrack:
    """A track shown on the sheet: a face crop, its frame range and why it was kept or left."""

    image: np.ndarray
    first: int
    last: int
    faces: int
    distance: float | None
    decision: str


def _text(img: np.ndarray, text: str, org: tuple[int, int], scale: float = 0.4, color: Any = _TEXT) -> None:
    import cv2

    cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, color, 1, cv2.LINE_AA)


def _thumb(image: np.ndarray, side: int) -> np.ndarray:
    import cv2

    return cv2.resize(image, (side, side), interpolation=cv2.INTER_AREA)


def _grid_panel(poses: Sequence[tuple[float, float]], lines: Sequence[str]) -> np.ndarray:
    """The yaw/pitch coverage plot: a heat grid with counts, dots for each face, notes below."""
    import cv2

    grid = coverage_grid(poses)
    rows, cols = grid.shape
    margin_l, margin_t, cell = 46, 28, (PLOT - 60) // cols
    height = margin_t + rows * cell + 40 + 16 * len(lines)
    panel = np.full((height, PLOT, 3), _BG, np.uint8)
    _text(panel, "pose coverage (yaw across, pitch down)", (8, 16), 0.42)
    peak = max(int(grid.max()), 1)
    for r in range(rows):
        for c in range(cols):
            x0, y0 = margin_l + c * cell, margin_t + r * cell
            count = int(grid[r, c])
            if count:
                level = 0.25 + 0.75 * count / peak
                color = (int(40 + 60 * level), int(90 + 150 * level), int(40 + 40 * level))
                cv2.rectangle(panel, (x0, y0), (x0 + cell - 2, y0 + cell - 2), color, -1)
                _text(panel, str(count), (x0 + 3, y0 + 12), 0.38, (0, 0, 0))  # a corner: dots go mid-cell
            else:
                cv2.rectangle(panel, (x0, y0), (x0 + cell - 2, y0 + cell - 2), (70, 70, 70), 1)
                cv2.line(panel, (x0 + 6, y0 + 6), (x0 + cell - 8, y0 + cell - 8), (70, 70, 90), 1)
    span_yaw = YAW_BINS[-1] - YAW_BINS[0] + 15.0
    span_pitch = PITCH_BINS[-1] - PITCH_BINS[0] + 15.0
    for yaw, pitch in poses:  # each face as a dot at its exact pose (clamped to the grid)
        fx = float(np.clip((yaw - YAW_BINS[0] + 7.5) / span_yaw, 0.0, 0.999))
        fy = float(np.clip((pitch - PITCH_BINS[0] + 7.5) / span_pitch, 0.0, 0.999))
        centre = (margin_l + int(fx * cols * cell), margin_t + int(fy * rows * cell))
        cv2.circle(panel, centre, 2, (0, 200, 255), -1, cv2.LINE_AA)
    for c, yaw in enumerate(YAW_BINS):
        _text(panel, f"{yaw:+.0f}", (margin_l + c * cell + 6, margin_t + rows * cell + 14), 0.35, _DIM)
    for r, pitch in enumerate(PITCH_BINS):
        _text(panel, f"{pitch:+.0f}", (6, margin_t + r * cell + cell // 2 + 4), 0.35, _DIM)
    y = margin_t + rows * cell + 34
    for line in lines:
        _text(panel, line, (8, y), 0.4)
        y += 16
    return panel


def render_sheet(
    title: str,
    faces: Sequence[tuple[np.ndarray, int]],
    poses: Sequence[tuple[float, float]],
    notes: Sequence[str],
    tracks: Sequence[SheetTrack] = (),
    *,
    max_thumbs: int = 48,
    total: int | None = None,
) -> np.ndarray:
    """The sheet as a BGR image: thumbnails (image, frame) left, coverage right, rejected tracks below;
    `total` is the size of the set when `faces` is a sample of it."""
    count = len(faces)
    total = count if total is None else total
    picks = (
        sorted(set(np.linspace(0, count - 1, min(count, max_thumbs)).round().astype(int))) if count else []
    )
    per_row = 8
    rows = max((len(picks) + per_row - 1) // per_row, 1)
    cell_h = THUMB + 14
    thumbs = np.full((24 + rows * cell_h, per_row * (THUMB + 4) + 4, 3), _BG, np.uint8)
    _text(thumbs, f"{title}: {total} faces" + (f" (showing {len(picks)})" if len(picks) < total else ""),
          (6, 16), 0.45)  # fmt: skip
    for n, i in enumerate(picks):
        image, frame = faces[i]
        x, y = 4 + (n % per_row) * (THUMB + 4), 24 + (n // per_row) * cell_h
        thumbs[y : y + THUMB, x : x + THUMB] = _thumb(image, THUMB)
        _text(thumbs, f"#{frame}", (x + 2, y + THUMB + 11), 0.33, _DIM)
    panel = _grid_panel(poses, notes)
    height = max(thumbs.shape[0], panel.shape[0])
    top = np.full((height, thumbs.shape[1] + panel.shape[1], 3), _BG, np.uint8)
    top[: thumbs.shape[0], : thumbs.shape[1]] = thumbs
    top[: panel.shape[0], thumbs.shape[1] :] = panel
    if not tracks:
        return top
    per_row = max(top.shape[1] // (THUMB + 70), 1)
    rows = (len(tracks) + per_row - 1) // per_row
    strip = np.full((24 + rows * (THUMB + 34), top.shape[1], 3), _BG, np.uint8)
    _text(strip, f"tracks left out of this set: {len(tracks)}", (6, 16), 0.45)
    for n, track in enumerate(tracks):
        x, y = 4 + (n % per_row) * (THUMB + 70), 24 + (n // per_row) * (THUMB + 34)
        strip[y : y + THUMB, x : x + THUMB] = _thumb(track.image, THUMB)
        _text(strip, f"#{track.first}-{track.last}", (x, y + THUMB + 11), 0.33)
        dist = "-" if track.distance is None else f"{track.distance:.2f}"
        _text(strip, f"{track.faces} faces d={dist}", (x, y + THUMB + 24), 0.33, _DIM)
        words, lines = track.decision.split(), [""]
        for word in words:  # the reason, wrapped beside the thumbnail (three short lines)
            if lines[-1] and len(lines[-1]) + 1 + len(word) > 11:
                lines.append("")
            lines[-1] = f"{lines[-1]} {word}".strip()
        for n_line, line in enumerate(lines[:5]):
            _text(strip, line, (x + THUMB + 3, y + 10 + 12 * n_line), 0.3, _DIM)
    return np.vstack([top, strip])


def write_sheet(path: Path, image: np.ndarray) -> None:
    """Write the sheet PNG (StageError when it cannot be written)."""
    from fswap.extract.writer import write_png

    write_png(path, image)
