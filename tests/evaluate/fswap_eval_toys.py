"""Helpers for the evaluate tests: face sets made from the sample photos, a toy embedder, fake generators."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from fswap.components import Detection
from fswap.data.faceset import FaceRecord, FaceSet
from fswap.samples import public_domain_face

# MTCNN's 5 points on the two sample photos (left eye, right eye, nose, mouth left, mouth right).
PHOTO_POINTS = {
    "astronaut": [[203.5, 100.1], [245.4, 102.2], [224.2, 126.4], [201.8, 138.6], [244.4, 140.4]],
    "grace_hopper": [[220.4, 190.2], [308.2, 186.0], [268.3, 237.4], [231.7, 277.0], [303.6, 272.9]],
}


def make_faceset(path: Path, face: str, count: int, *, size: int = 96, seed: int = 0) -> FaceSet:
    """`count` aligned crops of a sample photo, each with a slightly different pose and brightness."""
    rng = np.random.default_rng(seed)
    photo = public_domain_face(face)
    pts = np.asarray(PHOTO_POINTS[face], np.float64)
    key = np.stack([pts[0], pts[1], (pts[3] + pts[4]) / 2])
    template = np.array([[0.35, 0.4], [0.65, 0.4], [0.5, 0.72]]) * size
    faceset = FaceSet(path=path, size=size, masks=[])
    faceset.faces_dir.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        angle = np.radians(rng.uniform(-5, 5))
        scale = rng.uniform(0.96, 1.04)
        c = template.mean(axis=0)
        rot = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        dst = (template - c) @ rot.T + c + rng.uniform(-2, 2, 2)
        matrix, _ = cv2.estimateAffinePartial2D(key.astype(np.float32), dst.astype(np.float32))
        crop = cv2.warpAffine(photo, matrix, (size, size), borderMode=cv2.BORDER_REFLECT101)
        crop = np.clip(crop.astype(np.float64) * rng.uniform(0.9, 1.1), 0, 255).astype(np.uint8)
        file = f"{face}_{n:03d}.png"
        cv2.imwrite(str(faceset.faces_dir / file), crop)
        det = Detection(box=(0, 0, 10, 10), confidence=0.99, landmarks=pts)
        faceset.records.append(FaceRecord(file=file, source=f"{face}.png", frame=n, face_index=0,
                                          detection=det, landmarks=pts, matrix=matrix))
    faceset.save()
    return FaceSet.open(path)


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
