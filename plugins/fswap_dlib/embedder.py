"""The `dlib_resnet` embedder: dlib's 128-d face descriptor of aligned crops; Euclidean distance."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from fswap.errors import InputError
from fswap_dlib.config import DlibResnetConfig
from fswap_dlib.models import model_file

# Where dlib's own HOG detector finds the face in a crop made by the 5-point template (measured on aligned
# crops of the sample faces); the 5-point predictor is run in this box before dlib makes its 150² chip.
CROP_FACE_BOX = (0.070, 0.074, 0.941, 0.945)


class DlibResnetEmbedder:
    """Identity embeddings (N, 128) float32 of aligned BGR crops."""

    dim = 128

    def __init__(self, config: DlibResnetConfig) -> None:
        import dlib

        self.config = config
        self._shape = dlib.shape_predictor(
            str(model_file("shape_predictor_5_face_landmarks.dat", config.shape_model))
        )
        self._net = dlib.face_recognition_model_v1(
            str(model_file("dlib_face_recognition_resnet_model_v1.dat", config.model))
        )

    def embed(self, faces: Sequence[np.ndarray]) -> np.ndarray:
        import cv2
        import dlib

        if len(faces) == 0:
            return np.zeros((0, self.dim), np.float32)
        images, shapes = [], []
        for face in faces:
            if face.ndim != 3 or face.shape[2] != 3 or face.dtype != np.uint8:
                raise InputError(f"dlib_resnet expects BGR uint8 crops, received {face.dtype} {face.shape}")
            rgb = np.ascontiguousarray(cv2.cvtColor(face, cv2.COLOR_BGR2RGB))
            h, w = rgb.shape[:2]
            x0, y0, x1, y1 = CROP_FACE_BOX
            rect = dlib.rectangle(round(x0 * w), round(y0 * h), round(x1 * w), round(y1 * h))
            detections = dlib.full_object_detections()
            detections.append(self._shape(rgb, rect))
            images.append(rgb)
            shapes.append(detections)
        vectors = self._net.compute_face_descriptor(images, shapes, num_jitters=self.config.num_jitters)
        return np.array([np.array(v[0], dtype=np.float32) for v in vectors], dtype=np.float32)

    def distance(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Row-wise Euclidean distance of (N, 128) embeddings (broadcasts a single row)."""
        return np.linalg.norm(np.atleast_2d(a) - np.atleast_2d(b), axis=-1)
