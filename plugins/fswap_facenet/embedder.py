"""The `facenet` embedder: aligned BGR crops → 512-d unit vectors from Inception-ResNet-v1."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from fswap.errors import InputError, WeightsError
from fswap.weights import find_weights
from fswap_facenet.config import WEIGHTS, FacenetConfig

EMBEDDING = 512


def standardize(rgb: np.ndarray, mode: str) -> np.ndarray:
    """(N, S, S, 3) uint8 → float32 network input."""
    x = rgb.astype(np.float32)
    if mode == "fixed":
        return (x - 127.5) / 128.0
    axes = (1, 2, 3)
    mean = x.mean(axis=axes, keepdims=True)
    std = np.maximum(x.std(axis=axes, keepdims=True), 1.0 / np.sqrt(x[0].size))
    return (x - mean) / std


def load_weights(model: object, path: Path) -> None:
    """Keras 3 `.weights.h5` / `.keras`, or a legacy Keras 2 `.h5` of the same layer layout."""
    try:
        model.load_weights(str(path))  # type: ignore[attr-defined]
    except (ValueError, KeyError, OSError) as exc:
        raise WeightsError(
            f"{path}: not FaceNet Inception-ResNet-v1 (512-d) weights fswap can load "
            f"({type(exc).__name__}: {str(exc)[:200]})"
        ) from exc


class FacenetEmbedder:
    """Builds the network once, loads its weights, embeds crops in batches; L2-normalised output."""

    dim = EMBEDDING

    def __init__(self, config: FacenetConfig, *, weights: Path | None = None) -> None:
        from fswap_facenet.network import build_facenet

        self.config = config
        path = weights if weights is not None else find_weights(WEIGHTS, config.weights)
        self.model = build_facenet(config.image_size, EMBEDDING, config.dropout)
        load_weights(self.model, path)

    def embed(self, faces: Sequence[np.ndarray]) -> np.ndarray:
        import cv2

        if len(faces) == 0:
            return np.zeros((0, self.dim), np.float32)
        size = self.config.image_size
        batch = []
        for face in faces:
            if face.ndim != 3 or face.shape[2] != 3 or face.dtype != np.uint8:
                raise InputError(f"facenet expects BGR uint8 crops, received {face.dtype} {face.shape}")
            resized = cv2.resize(face, (size, size), interpolation=cv2.INTER_AREA)
            batch.append(cv2.cvtColor(resized, cv2.COLOR_BGR2RGB))
        x = standardize(np.stack(batch), self.config.standardize)
        out = []
        for start in range(0, len(x), self.config.batch_size):
            out.append(np.asarray(self.model(x[start : start + self.config.batch_size], training=False)))
        vectors = np.concatenate(out).astype(np.float32)
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-10)

    def distance(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Row-wise distance of unit embeddings: Euclidean (0…2) or cosine (1 − cos, 0…2)."""
        a, b = np.atleast_2d(a), np.atleast_2d(b)
        if self.config.metric == "cosine":
            an = a / np.maximum(np.linalg.norm(a, axis=-1, keepdims=True), 1e-10)
            bn = b / np.maximum(np.linalg.norm(b, axis=-1, keepdims=True), 1e-10)
            return 1.0 - np.sum(an * bn, axis=-1)
        return np.linalg.norm(a - b, axis=-1)
