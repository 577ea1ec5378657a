"""MTCNN detector over batches of frames: BGR → RGB, optional downscaling, one batched call per frame size."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from fswap import Detection
from fswap_mtcnn.config import MtcnnConfig

# reference §4.2 auto-downscaling: (minimum pixel count, divisor), largest first
_AUTO_STEPS = ((1920 * 1080, 4), (1280 * 720, 3), (858 * 480, 2))

# mtcnn 1.0 sizes its pyramid from the image alone, so with min_face_size above ~20 its smallest level falls
# under P-Net's 12 px input and the whole call fails (reported as "no faces"). Larger minimum sizes are
# therefore applied by shrinking the image instead: a face of min_face_size px becomes PYRAMID_FACE px.
PYRAMID_FACE = 20

# Stacking frames helps small frames and hurts big ones (memory-bound): cap pixels per mtcnn call.
BATCH_PIXELS = 2_000_000


def downscale_factor(width: int, height: int, config: MtcnnConfig) -> float:
    """The factor (≤ 1) frames of this size are resized by before detection."""
    factor = 1.0
    if config.auto_downscale:
        for pixels, divisor in _AUTO_STEPS:
            if width * height >= pixels:
                factor = 1.0 / divisor
                break
    if config.max_side and max(width, height) * factor > config.max_side:
        factor = config.max_side / max(width, height)
    return factor


def detection_scale(width: int, height: int, config: MtcnnConfig) -> tuple[float, int]:
    """(factor frames are resized by, min_face_size passed to mtcnn); see PYRAMID_FACE."""
    factor = downscale_factor(width, height, config)
    if config.min_face_size > PYRAMID_FACE:
        return factor * PYRAMID_FACE / config.min_face_size, PYRAMID_FACE
    return factor, config.min_face_size


def rows_to_detections(
    rows: np.ndarray, scale: float, min_confidence: float, min_side: float = 0.0
) -> list[Detection]:
    """mtcnn numpy rows [image, x, y, w, h, confidence, 5 xs, 5 ys] → Detections (frame px), best first.

    Faces whose longer box side is under `min_side` (detection-image px) are dropped, so min_face_size is a
    real lower bound and not only where the pyramid starts.
    """
    out = []
    for row in np.asarray(rows, dtype=np.float64).reshape(-1, 16):
        confidence = float(row[5])
        if confidence < min_confidence or max(row[3], row[4]) < min_side:
            continue
        landmarks = np.stack([row[6:11], row[11:16]], axis=1) / scale
        out.append(Detection(box=row[1:5] / scale, confidence=confidence, landmarks=landmarks))
    out.sort(key=lambda d: -d.confidence)
    return out


class QuietRetracing(logging.Filter):
    """Drops TensorFlow's "… triggered tf.function retracing" warning. mtcnn's networks get one input size per
    pyramid level and frame size, so Keras' predict retraces by design (each trace is kept and reused); the
    warning only adds a paragraph of noise to fswap's output. Other TensorFlow records pass."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "tf.function retracing" not in record.getMessage()


class MtcnnDetector:
    """The `mtcnn` detector built once; `detect` groups frames by size and runs them as batches."""

    def __init__(self, config: MtcnnConfig) -> None:
        from mtcnn import MTCNN

        self.config = config
        self._mtcnn = MTCNN(device=config.device)
        self._kwargs = {
            "scale_factor": config.scale_factor,
            "threshold_pnet": config.thresholds[0],
            "threshold_rnet": config.thresholds[1],
            "threshold_onet": config.thresholds[2],
        }

    def detect(self, frames: Sequence[np.ndarray]) -> list[list[Detection]]:
        """Per frame (BGR uint8), its faces sorted by confidence (highest first)."""
        results: list[list[Detection]] = [[] for _ in frames]
        groups: dict[tuple[int, ...], list[int]] = defaultdict(list)
        for i, frame in enumerate(frames):
            groups[frame.shape].append(i)
        for shape, indices in groups.items():
            height, width = shape[:2]
            scale, min_face = detection_scale(width, height, self.config)
            pixels = max(width * height * scale * scale, 1.0)
            step = max(1, min(self.config.batch_size, int(BATCH_PIXELS // pixels)))
            for start in range(0, len(indices), step):
                chunk = indices[start : start + step]
                images = [self._prepare(frames[i], scale) for i in chunk]
                rows = self._run(images, min_face)
                for j, i in enumerate(chunk):
                    results[i] = rows_to_detections(
                        rows[rows[:, 0] == j], scale, self.config.min_confidence, min_side=min_face
                    )
        return results

    @staticmethod
    def _prepare(frame: np.ndarray, scale: float) -> np.ndarray:
        import cv2

        if scale != 1.0:
            h, w = frame.shape[:2]
            size = (max(round(w * scale), 1), max(round(h * scale), 1))
            frame = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
        return cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)

    def _run(self, images: list[np.ndarray], min_face: int) -> np.ndarray:
        tf_logger, quiet = logging.getLogger("tensorflow"), QuietRetracing()
        tf_logger.addFilter(quiet)  # only while mtcnn runs
        try:
            rows = self._mtcnn.detect_faces(
                images, output_type="numpy", box_format="xywh", min_face_size=min_face, **self._kwargs
            )
        finally:
            tf_logger.removeFilter(quiet)
        return np.asarray(rows, dtype=np.float64).reshape(-1, 16)
