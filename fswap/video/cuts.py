"""Shot-cut detection: where one shot of a video ends and the next begins.

A frame is compared with the one before it on a small thumbnail (the frame shrunk to `width` pixels wide
with area averaging): by the total-variation distance of its per-channel colour histograms (0 = same
colours, 1 = no colour in common) and by the mean absolute difference of the thumbnails' pixels (0–1).
Camera motion and moving faces hardly change the colours, but fast motion can move as many pixels as a cut
between two shots of similar colours does. So a frame starts a new shot when its colours change a lot
(histogram distance ≥ `threshold`), or when its pixels change a lot (≥ `pixel_threshold`) *and* several
times more (`ratio`) than they did between the shot's recent frames (the median of the last `window`
pixel distances): a sudden change, not a fast pan. The pixel rule needs two frame pairs of the shot to
know its motion, so a shot shorter than three frames ends early only on a change of colours. The defaults
were calibrated on made-to-order clips (`fswap.samples_scenes`) and on synthetic videos whipping the camera
round in half a second (`fswap.samples.make_face_video`): tests/video/test_cuts.py measures both sides and
the margins.

Only numpy and OpenCV (for the resize) are used.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs
import numpy as np

DEFAULT_THRESHOLD = 0.30
DEFAULT_PIXEL_THRESHOLD = 0.15
DEFAULT_RATIO = 4.0
DEFAULT_WINDOW = 5
MIN_HISTORY = 2  # frame pairs of a shot before its pixels can show a sudden change


@attrs.frozen
class FrameDistance:
    """How different two consecutive frames look: histogram and pixel distances, each in [0, 1]."""

    histogram: float
    pixels: float


def thumbnail(frame: np.ndarray, width: int = 64) -> np.ndarray:
    """`frame` (H, W) or (H, W, C) uint8 shrunk to `width` pixels wide (area average), as (h, w, C) uint8."""
    import cv2

    image = np.asarray(frame)
    if image.dtype != np.uint8 or image.ndim not in (2, 3) or image.shape[0] < 1 or image.shape[1] < 1:
        raise ValueError(f"a frame must be a uint8 (H, W) or (H, W, C) array, received {image.dtype} "
                         f"{image.shape}")
    h, w = image.shape[:2]
    tw = max(1, min(width, w))
    th = max(1, round(h * tw / w))
    small = cv2.resize(np.ascontiguousarray(image), (tw, th), interpolation=cv2.INTER_AREA)
    return small[:, :, None] if small.ndim == 2 else small


def histograms(thumb: np.ndarray, bins: int = 16) -> np.ndarray:
    """Normalized per-channel histograms (C, bins) of a uint8 thumbnail."""
    if bins < 2 or 256 % bins:
        raise ValueError(f"bins must divide 256 and be ≥ 2, received {bins}")
    q = (thumb.astype(np.int64) * bins) // 256
    channels = q.reshape(-1, q.shape[-1]).T
    counts = np.stack([np.bincount(c, minlength=bins) for c in channels]).astype(np.float64)
    return counts / counts.sum(axis=1, keepdims=True)


def distance(
    previous: np.ndarray, current: np.ndarray, *, width: int = 64, bins: int = 16
) -> FrameDistance:
    """The histogram and pixel distances between two frames (frames of different sizes: both 1)."""
    a, b = thumbnail(previous, width), thumbnail(current, width)
    return _distance(a, histograms(a, bins), b, histograms(b, bins))


def _distance(a: np.ndarray, ha: np.ndarray, b: np.ndarray, hb: np.ndarray) -> FrameDistance:
    if a.shape != b.shape:
        return FrameDistance(1.0, 1.0)
    hist = float(0.5 * np.abs(ha - hb).sum(axis=1).mean())
    pixels = float(np.abs(a.astype(np.float32) - b.astype(np.float32)).mean() / 255.0)
    return FrameDistance(hist, pixels)


class CutDetector:
    """Stateful: `is_cut(frame)` says whether `frame` starts a new shot (the first frame never does).

    `threshold` applies to the colour-histogram distance; `pixel_threshold` and `ratio` to the mean absolute
    pixel difference of the thumbnails and its ratio to `baseline`, the median pixel distance of the last
    `window` frame pairs of the current shot (the pixel rule waits for two of them). `last` holds the
    distances of the latest frame to its predecessor (None after `reset()` or on the first frame).
    """

    def __init__(
        self,
        threshold: float = DEFAULT_THRESHOLD,
        *,
        pixel_threshold: float = DEFAULT_PIXEL_THRESHOLD,
        ratio: float = DEFAULT_RATIO,
        window: int = DEFAULT_WINDOW,
        width: int = 64,
        bins: int = 16,
    ) -> None:
        if not 0.0 < threshold <= 1.0 or not 0.0 < pixel_threshold <= 1.0:
            raise ValueError(
                f"cut thresholds must lie in (0, 1], received {threshold} and {pixel_threshold}"
            )
        if ratio < 1.0 or window < 1:
            raise ValueError(f"ratio must be ≥ 1 and window ≥ 1, received {ratio} and {window}")
        if width < 4:
            raise ValueError(f"thumbnail width must be ≥ 4 pixels, received {width}")
        self.threshold = float(threshold)
        self.pixel_threshold = float(pixel_threshold)
        self.ratio = float(ratio)
        self.window = int(window)
        self.width = int(width)
        self.bins = int(bins)
        histograms(np.zeros((1, 1, 1), np.uint8), self.bins)  # validates bins
        self.reset()

    def reset(self) -> None:
        """Forget the previous frames (the next frame is never a cut)."""
        self._previous: tuple[np.ndarray, np.ndarray] | None = None
        self._recent: list[float] = []
        self.last: FrameDistance | None = None

    @property
    def recent(self) -> tuple[float, ...]:
        """The pixel distances of the current shot's last frame pairs (at most `window`)."""
        return tuple(self._recent)

    @property
    def baseline(self) -> float:
        """Median pixel distance of the current shot's recent frame pairs (0 when there are none)."""
        return float(np.median(self._recent)) if self._recent else 0.0

    def is_cut(self, frame: np.ndarray) -> bool:
        """Whether `frame` differs from the previous frame given to this detector like a hard cut."""
        thumb = thumbnail(frame, self.width)
        hist = histograms(thumb, self.bins)
        previous, self._previous = self._previous, (thumb, hist)
        if previous is None:
            self.last = None
            return False
        d = self.last = _distance(previous[0], previous[1], thumb, hist)
        known = len(self._recent) >= MIN_HISTORY  # the shot's own motion is known
        sudden = known and d.pixels >= self.pixel_threshold and d.pixels >= self.ratio * self.baseline
        if d.histogram >= self.threshold or sudden:
            self._recent = []
            return True
        self._recent = [*self._recent, d.pixels][-self.window:]
        return False


def find_cuts(frames: Iterable[np.ndarray], detector: CutDetector | None = None) -> list[int]:
    """Positions (0-based, in the order given) of the frames that start a new shot."""
    detector = detector or CutDetector()
    detector.reset()
    return [n for n, frame in enumerate(frames) if detector.is_cut(frame)]
