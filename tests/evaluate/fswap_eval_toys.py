"""Helpers for the evaluate tests: face sets made from the sample photos, a toy embedder, fake generators."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from fswap.data.faceset import FaceSet
from fswap.train import toys

PHOTO_POINTS = toys.PHOTO_POINTS


def make_faceset(path: Path, face: str, count: int, *, size: int = 96, seed: int = 0) -> FaceSet:
    """`count` aligned crops of a sample photo, each with a slightly different pose and brightness."""
    return toys.make_landmarked_faceset(path, face, count, size=size, seed=seed)


class ThumbEmbedder:
    """A stand-in identity embedder: zero-mean grey 24×24 thumbnails, cosine distance. It tells these two
    photos apart (different faces, lighting, framing) but knows nothing about identity in general."""

    dim = 24 * 24

    def __init__(self, config: object = None) -> None:
        self.calls = 0

    def embed(self, faces: list[np.ndarray]) -> np.ndarray:
        self.calls += 1
        rows = []
        for face in faces:
            grey = cv2.cvtColor(np.ascontiguousarray(face), cv2.COLOR_BGR2GRAY).astype(np.float64)
            small = cv2.resize(grey, (24, 24), interpolation=cv2.INTER_AREA).reshape(-1)
            small -= small.mean()
            rows.append(small / max(np.linalg.norm(small), 1e-9))
        return np.stack(rows).astype(np.float32)

    def distance(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        a = np.atleast_2d(a)
        b = np.atleast_2d(b)
        na = np.linalg.norm(a, axis=1)
        nb = np.linalg.norm(b, axis=1)
        return 1.0 - np.sum(a * b, axis=1) / np.maximum(na * nb, 1e-12)


class CopyGenerator:
    """Returns its input with a constant α: a perfect reconstruction, and a swap that changes nothing."""

    def __init__(self, alpha: float = 0.7) -> None:
        self.alpha = alpha

    def __call__(self, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return faces.copy(), np.full(faces.shape[:3], self.alpha, np.float32)


class SwapToGenerator:
    """Returns a face of the other identity for every input, with α = 1: a perfect identity swap."""

    def __init__(self, other: np.ndarray) -> None:
        self.other = other

    def __call__(self, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        r = faces.shape[1]
        face = cv2.resize(self.other, (r, r), interpolation=cv2.INTER_AREA)
        return np.repeat(face[None], len(faces), axis=0), np.ones(faces.shape[:3], np.float32)
