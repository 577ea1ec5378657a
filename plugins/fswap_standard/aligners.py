"""The `umeyama5` aligner: 5 landmarks → similarity transform onto the reference template → crop."""

from __future__ import annotations

import numpy as np

from fswap import AlignedFace, Detection
from fswap.errors import StageError
from fswap.extract.alignment import alignment_matrix, five_from_68, warp
from fswap_standard.extract_config import Umeyama5Config


class Umeyama5Aligner:
    """Aligns with the detector's 5 points (or the 5 derived from 68); keeps the frame→crop matrix."""

    def __init__(self, config: Umeyama5Config) -> None:
        self.config = config
        self.size = config.size

    def align(self, frame: np.ndarray, detection: Detection) -> AlignedFace:
        points = detection.landmarks
        if len(points) == 68:
            points = five_from_68(points)
        elif len(points) != 5:
            raise StageError(f"umeyama5 needs 5 (or 68) landmarks per detection, received {len(points)}")
        matrix = alignment_matrix(points, self.size)
        matrix.setflags(write=False)
        crop = warp(frame, matrix, self.size, self.config.border)
        return AlignedFace(image=crop, matrix=matrix, landmarks=detection.landmarks, detection=detection)
