"""Marks every fswap output as synthetic media: a small visible label and file metadata.

The label is drawn on output frames (configurable off); container metadata (video) and a PNG iTXt
chunk (image sequences) are always written.
"""

from __future__ import annotations

import struct
import zlib
from typing import Literal

import cv2
import numpy as np

from fswap import __version__

LABEL_TEXT = "SYNTHETIC • fswap"
STATEMENT = (
    f"Synthetic media: this content was altered by face swapping with fswap {__version__}. "
    "It does not show real events as recorded."
)
METADATA: dict[str, str] = {
    "comment": STATEMENT,
    "description": STATEMENT,
    "title": "Synthetic media (fswap face swap)",
}
PNG_KEY = "Comment"

Corner = Literal["bottom_right", "bottom_left", "top_right", "top_left"]
CORNERS: tuple[str, ...] = ("bottom_right", "bottom_left", "top_right", "top_left")
_FONT = cv2.FONT_HERSHEY_SIMPLEX


def ffmpeg_metadata_args() -> list[str]:
    """`-metadata key=value` arguments for ffmpeg."""
    args: list[str] = []
    for key, value in METADATA.items():
        args += ["-metadata", f"{key}={value}"]
    return args


def draw_label(frame: np.ndarray, text: str = LABEL_TEXT, corner: str = "bottom_right") -> np.ndarray:
    """A copy of `frame` with `text` drawn small on a dark box in a corner ("•" is drawn as a dot,
    which Hershey fonts lack)."""
    h, w = frame.shape[:2]
    scale = max(0.3, min(h, w) / 900.0)
    thick = max(1, round(scale * 1.5))
    parts = [p.strip() for p in text.split("•")]
    sizes = [cv2.getTextSize(p, _FONT, scale, thick)[0] for p in parts]
    text_h = max(s[1] for s in sizes)
    gap = max(4, text_h)  # room for the dot between parts
    width = sum(s[0] for s in sizes) + gap * (len(parts) - 1)
    pad = max(3, text_h // 2)
    box_w, box_h = width + 2 * pad, text_h + 2 * pad
    x0 = w - box_w - pad if corner.endswith("right") else pad
    y0 = h - box_h - pad if corner.startswith("bottom") else pad
    x0, y0 = max(0, x0), max(0, y0)
    out = frame.copy()
    region = out[y0 : y0 + box_h, x0 : x0 + box_w]
    region[:] = (region.astype(np.float32) * 0.35).astype(np.uint8)
    x = x0 + pad
    baseline = y0 + pad + text_h
    for i, (part, size) in enumerate(zip(parts, sizes, strict=True)):
        cv2.putText(out, part, (x, baseline), _FONT, scale, (255, 255, 255), thick, cv2.LINE_AA)
        x += size[0]
        if i < len(parts) - 1:
            cv2.circle(out, (x + gap // 2, baseline - text_h // 2), max(1, text_h // 6), (255, 255, 255), -1)
            x += gap
    return out


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def add_png_text(png: bytes, text: str = STATEMENT, key: str = PNG_KEY) -> bytes:
    """Insert an uncompressed iTXt chunk (UTF-8) with `key`/`text` before the PNG's IEND chunk."""
    iend = png.rfind(b"IEND")
    if not png.startswith(b"\x89PNG\r\n\x1a\n") or iend < 4:
        raise ValueError("not a PNG stream")
    payload = key.encode("latin-1") + b"\x00\x00\x00" + b"\x00" + b"\x00" + text.encode("utf-8")
    start = iend - 4  # the length field of IEND
    return png[:start] + _chunk(b"iTXt", payload) + png[start:]


def read_png_text(png: bytes) -> dict[str, str]:
    """The tEXt/iTXt entries of a PNG stream (for checks and tests)."""
    out: dict[str, str] = {}
    pos = 8
    while pos + 8 <= len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind = png[pos + 4 : pos + 8]
        data = png[pos + 8 : pos + 8 + length]
        if kind == b"tEXt":
            key, _, value = data.partition(b"\x00")
            out[key.decode("latin-1")] = value.decode("latin-1")
        elif kind == b"iTXt":
            key, _, rest = data.partition(b"\x00")
            rest = rest[2:]  # compression flag and method (we only read uncompressed)
            _lang, _, rest = rest.partition(b"\x00")
            _tkey, _, value = rest.partition(b"\x00")
            out[key.decode("latin-1")] = value.decode("utf-8")
        pos += 12 + length
    return out
