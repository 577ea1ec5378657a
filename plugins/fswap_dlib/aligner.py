"""The `dlib68` aligner: 68 landmarks from dlib's shape predictor; the crop is aligned on 5 points."""

from __future__ import annotations

import numpy as np

from fswap import AlignedFace, Detection
from fswap.extract.alignment import align_with_68
from fswap_dlib.config import Dlib68Config
from fswap_dlib.models import model_file


def landmarks68(predictor: object, rgb: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """Run a dlib shape predictor in a box (x, y, w, h); (68, 2) float64 frame pixels."""
    import dlib

    x, y, w, h = box
    rect = dlib.rectangle(round(x), round(y), round(x + w), round(y + h))
    shape = predictor(rgb, rect)  # type: ignore[operator]
    return np.array([[p.x, p.y] for p in shape.parts()], dtype=np.float64)


class Dlib68Aligner:
    """68-point landmarks in the detector's box; the crop and matrix come from 5 points (see `align_on`)."""

    def __init__(self, config: Dlib68Config) -> None:
        import dlib

        self.config = config
        self.size = config.size
        self._predictor = dlib.shape_predictor(
            str(model_file("shape_predictor_68_face_landmarks.dat", config.predictor))
        )

    def align(self, frame: np.ndarray, detection: Detection) -> AlignedFace:
        import cv2

        points = landmarks68(self._predictor, cv2.cvtColor(frame, cv2.COLOR_BGR2RGB), detection.box)
        return align_with_68(
            frame, detection, points, size=self.size, border=self.config.border, align_on=self.config.align_on
        )
