"""Toys for tests, benchmarks and quick runs: tiny face sets cut from public-domain photos (no downloads)
and tiny networks with the model contract's shapes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np

from fswap.components import Detection
from fswap.data.faceset import FaceRecord, FaceSet
from fswap.samples import public_domain_face

# (centre x, centre y, face size) of the face in each sample photo
ANCHORS = {"astronaut": (223.5, 117.5, 95.0), "grace_hopper": (264.5, 220.0, 196.0)}
EYES = ((0.40, 0.43), (0.60, 0.43))  # eye positions (x, y) as fractions of these loose crops


def default_eye_mask() -> str:
    """The face-set mask name training reads eye regions from when [train] eye_mask is absent: the mask
    generator an installed plugin declares default for eye_mask ('' when none does)."""
    from fswap.catalog import Catalog
    from fswap.components import Kind
    from fswap.plugins import make_plugin_manager

    return Catalog.from_plugin_manager(make_plugin_manager()).sole_default(Kind.MASK_GENERATOR, "eye_mask")


def make_toy_faceset(path: Path, face: str, count: int = 6, size: int = 128, seed: int = 0,
                 eyes: bool = True) -> FaceSet:
    """`count` jittered aligned-looking crops of one photo, with an eye-region mask per face (two filled
    ellipses, stored under the name training reads by default: `default_eye_mask()`)."""
    rng = np.random.default_rng(seed)
    photo = public_domain_face(face)
    cx, cy, fsize = ANCHORS[face]
    eye_mask = default_eye_mask() if eyes else ""
    faceset = FaceSet(path=path, size=size, masks=[eye_mask] if eye_mask else [])
    faceset.faces_dir.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        angle = rng.uniform(-8, 8)
        side = 2.0 * fsize * rng.uniform(0.95, 1.05)
        scale = size / side
        matrix = cv2.getRotationMatrix2D((cx, cy), angle, scale)
        matrix[:, 2] += (size / 2 - cx + rng.uniform(-3, 3), size / 2 - cy + rng.uniform(-3, 3))
        crop = cv2.warpAffine(photo, matrix, (size, size), borderMode=cv2.BORDER_REPLICATE)
        stem = f"{face}_{i:03d}"
        cv2.imwrite(str(faceset.faces_dir / f"{stem}.png"), crop)
        det = Detection(box=(cx - fsize / 2, cy - fsize / 2, fsize, fsize), confidence=0.99,
                        landmarks=np.zeros((5, 2)))
        record = FaceRecord(file=f"{stem}.png", source=face, frame=i, face_index=0, detection=det,
                            landmarks=np.zeros((5, 2)), matrix=matrix)
        faceset.records.append(record)
        if eye_mask:
            mask = np.zeros((size, size), np.uint8)
            for ex, ey in EYES:
                centre = (int(ex * size), int(ey * size))
                cv2.ellipse(mask, centre, (size // 10, size // 18), 0, 0, 360, 255, -1)
            faceset.mask_dir(eye_mask).mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(faceset.mask_path(record, eye_mask)), mask)
    faceset.save()
    return faceset


# MTCNN's 5 points on the two sample photos (left eye, right eye, nose, mouth left, mouth right).
PHOTO_POINTS = {
    "astronaut": [[203.5, 100.1], [245.4, 102.2], [224.2, 126.4], [201.8, 138.6], [244.4, 140.4]],
    "grace_hopper": [[220.4, 190.2], [308.2, 186.0], [268.3, 237.4], [231.7, 277.0], [303.6, 272.9]],
}


def make_landmarked_faceset(path: Path, face: str, count: int, *, size: int = 96, seed: int = 0,
                            max_angle: float = 5.0, scale_jitter: float = 0.04,
                            brightness: float = 0.1) -> FaceSet:
    """`count` crops of a sample photo aligned by its real 5 landmarks, each with a slightly different
    pose (± `max_angle` degrees, 1 ± `scale_jitter`, ±2 px) and brightness (1 ± `brightness`)."""
    rng = np.random.default_rng(seed)
    photo = public_domain_face(face)
    pts = np.asarray(PHOTO_POINTS[face], np.float64)
    key = np.stack([pts[0], pts[1], (pts[3] + pts[4]) / 2])
    template = np.array([[0.35, 0.4], [0.65, 0.4], [0.5, 0.72]]) * size
    faceset = FaceSet(path=path, size=size, masks=[])
    faceset.faces_dir.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        angle = np.radians(rng.uniform(-max_angle, max_angle))
        scale = rng.uniform(1 - scale_jitter, 1 + scale_jitter)
        c = template.mean(axis=0)
        rot = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        dst = (template - c) @ rot.T + c + rng.uniform(-2, 2, 2)
        matrix, _ = cv2.estimateAffinePartial2D(key.astype(np.float32), dst.astype(np.float32))
        crop = cv2.warpAffine(photo, matrix, (size, size), borderMode=cv2.BORDER_REFLECT101)
        crop = np.clip(crop.astype(np.float64) * rng.uniform(1 - brightness, 1 + brightness), 0, 255)
        file = f"{face}_{n:03d}.png"
        cv2.imwrite(str(faceset.faces_dir / file), crop.astype(np.uint8))
        det = Detection(box=(0, 0, 10, 10), confidence=0.99, landmarks=pts)
        faceset.records.append(FaceRecord(file=file, source=f"{face}.png", frame=n, face_index=0,
                                          detection=det, landmarks=pts, matrix=matrix))
    faceset.save()
    return FaceSet.open(path)


class TinyNetworks:
    """Tiny networks with the model contract's shapes (tests, quick experiments): encoder (R → R/4
    features), decoders {"abgr", "side_outputs"}, 6-channel patch discriminators."""

    def __init__(self, resolution: int = 32, width: int = 8, seed: int = 0) -> None:
        import keras
        from keras import layers

        keras.utils.set_random_seed(seed)
        r = resolution
        inp = keras.Input((r, r, 3))
        x = layers.Conv2D(width, 3, strides=2, padding="same", activation="relu")(inp)
        x = layers.Conv2D(width * 2, 3, strides=2, padding="same", activation="relu",
                          kernel_regularizer=keras.regularizers.L2(1e-4))(x)
        self.encoder = keras.Model(inp, x, name="encoder")
        self.decoders: dict[str, Any] = {s: self._decoder(r, width, s) for s in ("a", "b")}
        self.discriminators: dict[str, Any] = {s: self._disc(r, width, s) for s in ("a", "b")}

    @staticmethod
    def _decoder(r: int, width: int, side: str) -> Any:
        import keras
        from keras import layers

        inp = keras.Input((r // 4, r // 4, width * 2))
        x = layers.UpSampling2D(2)(inp)
        x = layers.Conv2D(width, 3, padding="same", activation="relu")(x)
        x = layers.UpSampling2D(2)(x)
        x = layers.Conv2D(width, 3, padding="same", activation="relu")(x)
        alpha = layers.Conv2D(1, 3, padding="same", activation="sigmoid")(x)
        bgr = layers.Conv2D(3, 3, padding="same", activation="tanh")(x)
        abgr = layers.Concatenate()([alpha, bgr])
        side_out = layers.Conv2D(3, 3, padding="same", activation="tanh")(
            layers.AveragePooling2D(2)(x))
        return keras.Model(inp, {"abgr": abgr, "side_outputs": [side_out]}, name=f"decoder_{side}")

    @staticmethod
    def _disc(r: int, width: int, side: str) -> Any:
        import keras
        from keras import layers

        inp = keras.Input((r, r, 6))
        x = layers.Conv2D(width, 4, strides=2, padding="same", activation="leaky_relu")(inp)
        x = layers.Conv2D(1, 4, strides=r // 16, padding="same")(x)
        return keras.Model(inp, x, name=f"discriminator_{side}")

    def generator(self, side: str) -> Any:
        import keras

        inp = keras.Input(self.encoder.input_shape[1:])
        return keras.Model(inp, self.decoders[side](self.encoder(inp)))
