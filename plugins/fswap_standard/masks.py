"""Mask generators of the standard plugin: `eyes5` (rectangles at the 5-point eyes) and `parts68` (hulls)."""

from __future__ import annotations

import numpy as np

from fswap import AlignedFace
from fswap.errors import StageError
from fswap.extract.alignment import five_from_68
from fswap.extract.masks import dilate_blur, eye_rectangles, part_hulls
from fswap_standard.extract_config import Eyes5Config, Parts68Config


class Eyes5Mask:
    """Eye rectangles of ±side/15 rows × ±side/8 columns around each eye, warped into the crop."""

    def __init__(self, config: Eyes5Config) -> None:
        self.config = config

    def generate(self, face: AlignedFace) -> np.ndarray:
        points = face.landmarks if len(face.landmarks) != 68 else five_from_68(face.landmarks)
        mask = eye_rectangles(
            face.size,
            face.matrix,
            points[:2],
            face.detection.box,
            half_height=self.config.half_height,
            half_width=self.config.half_width,
        )
        if self.config.blur:
            mask = dilate_blur((mask * 255).astype(np.uint8), dilate=0, blur=self.config.blur)
        return mask


class Parts68Mask:
    """Filled convex hulls of the chosen parts of the 68 landmarks, dilated then blurred."""

    def __init__(self, config: Parts68Config) -> None:
        self.config = config

    def generate(self, face: AlignedFace) -> np.ndarray:
        if len(face.landmarks) != 68:
            raise StageError(
                f"mask parts68 needs 68 landmarks but the aligner gave {len(face.landmarks)}; "
                "use aligner dlib68 (or face_alignment), or the eyes5 mask"
            )
        hulls = part_hulls(face.size, face.crop_landmarks, self.config.parts)
        return dilate_blur(
            hulls, dilate=self.config.dilate, blur=self.config.blur, iterations=self.config.iterations
        )
