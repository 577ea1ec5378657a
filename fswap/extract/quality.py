"""Which aligned faces are worth training on: a sharpness measure and a near-duplicate distance.

Both work on the *inner face* of an aligned crop (the template puts the eyes at about 31 % and the mouth at
about 78 % of the side, so rows 18–92 % and columns 15–85 % hold brows to chin and little background),
resampled to a fixed side, so the numbers do not depend on the crop size the aligner makes.

* `sharpness`: second differences of the grey levels (1, −2, 1) along four directions (across, down and
  both diagonals) on the inner face at `MEASURE_SIDE` pixels; the standard deviation of the weakest
  direction's response, divided by the standard deviation of the grey levels. A face whose inner part spans
  fewer than `MEASURE_SIDE` frame pixels is measured at its own size (normalised for face size: the
  enlargement to the crop is undone), so a small sharp face is not taken for a blurred one. Defocus weakens
  every direction, a motion smear the directions along the motion, so taking the weakest catches both (the
  plain Laplacian mixes the directions and misses smears on detailed faces). Dividing by the contrast makes
  a dim or low-contrast face score like a bright one; measuring at a fixed side makes it a property of the
  face, not of the crop size. How the default threshold was chosen:
  `fswap.extract.calibration`.
* `face_distance`: the mean absolute difference of two inner faces at `THUMB_SIDE` pixels, each standardised
  to zero mean and unit variance (so a change of exposure alone is not a difference). Consecutive frames of a
  frozen shot differ only by codec noise; a turning head or a change of expression differs much more
  (measured numbers: docs/extract.md).
"""

from __future__ import annotations

import numpy as np

from fswap.convert.tracking import iou

MEASURE_SIDE = 128
"""Side (pixels) at which the inner face is measured for sharpness (smaller faces: at their own size)."""

MIN_SIDE = 32
"""The smallest side a face is measured at."""

THUMB_SIDE = 32
"""Side (pixels) of the standardised grey thumbnail compared by `face_distance`."""

INNER = (0.18, 0.92, 0.15, 0.85)
"""Inner face of an aligned crop: row start, row stop, column start, column stop (fractions of the side)."""


def inner_face(image: np.ndarray, side: int) -> np.ndarray:
    """The inner face of an aligned BGR (or grey) uint8 crop as float32 grey in [0, 1], side × side."""
    import cv2

    img = np.asarray(image)
    if img.ndim == 3:
        img = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    h, w = img.shape[:2]
    r0, r1, c0, c1 = INNER
    crop = img[round(r0 * h) : round(r1 * h), round(c0 * w) : round(c1 * w)]
    interpolation = cv2.INTER_AREA if crop.shape[0] > side else cv2.INTER_LINEAR
    out = cv2.resize(crop, (side, side), interpolation=interpolation)
    return out.astype(np.float32) / 255.0


_SECOND_DIFFERENCES = (
    ((0, 0, 0), (1, -2, 1), (0, 0, 0)),  # across (horizontal)
    ((0, 1, 0), (0, -2, 0), (0, 1, 0)),  # down (vertical)
    ((1, 0, 0), (0, -2, 0), (0, 0, 1)),  # diagonal ↘
    ((0, 0, 1), (0, -2, 0), (1, 0, 0)),  # diagonal ↙
)


def measure_side(image: np.ndarray, scale: float | None) -> int:
    """The side the inner face is measured at: MEASURE_SIDE, or its size in the frame when smaller (at
    least MIN_SIDE), so enlarging a small face to the crop is not taken for blur. `scale` is crop pixels
    per frame pixel (the alignment matrix's scale)."""
    if scale is None or scale <= 0:
        return MEASURE_SIDE
    r0, r1, c0, c1 = INNER
    native = min((r1 - r0) * image.shape[0], (c1 - c0) * image.shape[1]) / scale
    return int(np.clip(round(native), MIN_SIDE, MEASURE_SIDE))


def sharpness(image: np.ndarray, scale: float | None = None) -> float:
    """Detail of the inner face in its weakest direction, over its contrast (module docstring); ≥ 0."""
    import cv2

    grey = inner_face(image, measure_side(image, scale))
    contrast = float(grey.std())
    if contrast < 1e-3:  # a flat patch has no detail at all
        return 0.0
    strengths = []
    for kernel in _SECOND_DIFFERENCES:
        response = cv2.filter2D(grey, cv2.CV_32F, np.asarray(kernel, np.float32))[1:-1, 1:-1]
        strengths.append(float(response.std()))
    return min(strengths) / contrast


def thumbnail(image: np.ndarray) -> np.ndarray:
    """The standardised grey inner-face thumbnail `face_distance` compares (THUMB_SIDE², float32)."""
    grey = inner_face(image, THUMB_SIDE)
    std = float(grey.std())
    return (grey - float(grey.mean())) / max(std, 1e-3)


def face_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of two thumbnails from `thumbnail` (0 for the same face)."""
    return float(np.mean(np.abs(np.asarray(a, np.float32) - np.asarray(b, np.float32))))


class RecentFaces:
    """The last kept face of each person seen lately, to skip near-duplicates of it.

    A face belongs to the entry with the same `key` (a track id) or, without one, to the entry whose box
    overlaps it most (IoU ≥ `min_iou`); it is a duplicate when its thumbnail is nearer than `threshold` to
    that entry's. Entries not refreshed for `max_gap` frames are forgotten.
    """

    def __init__(self, threshold: float, *, max_gap: int = 25, min_iou: float = 0.3) -> None:
        self.threshold = threshold
        self.max_gap = max_gap
        self.min_iou = min_iou
        self._entries: list[tuple[int, tuple[float, ...], np.ndarray, int | None]] = []

    def _match(self, frame: int, box: tuple[float, ...], key: int | None) -> int | None:
        self._entries = [e for e in self._entries if frame - e[0] <= self.max_gap]
        if key is not None:
            return next((i for i, e in enumerate(self._entries) if e[3] == key), None)
        scores = [iou(box, e[1]) for e in self._entries]
        if not scores or max(scores) < self.min_iou:
            return None
        return int(np.argmax(scores))

    def distance(
        self, frame: int, box: tuple[float, ...], thumb: np.ndarray, key: int | None = None
    ) -> float | None:
        """Distance to the last kept face of the same person, or None when there is none."""
        i = self._match(frame, box, key)
        return None if i is None else face_distance(thumb, self._entries[i][2])

    def is_duplicate(
        self, frame: int, box: tuple[float, ...], thumb: np.ndarray, key: int | None = None
    ) -> bool:
        d = self.distance(frame, box, thumb, key)
        return d is not None and d < self.threshold

    def keep(self, frame: int, box: tuple[float, ...], thumb: np.ndarray, key: int | None = None) -> None:
        """Remember a kept face as its person's latest."""
        i = self._match(frame, box, key)
        entry = (frame, tuple(box), thumb, key)
        if i is None:
            self._entries.append(entry)
        else:
            self._entries[i] = entry

    def reset(self) -> None:
        """Forget every person (e.g. at a shot cut)."""
        self._entries = []
