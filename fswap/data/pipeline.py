"""The training input pipeline: face sets A and B in memory → augmented batches through tf.data.

Batch `k` is a pure function of (seed, k): the augmentation RNG of every sample is seeded from it, so
the stream is reproducible, independent of how many map calls run in parallel, and a resumed run at
iteration k sees exactly the batches an uninterrupted run would have seen.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import attrs
import cv2
import numpy as np

from fswap.data import augment as aug
from fswap.data.faceset import FaceSet
from fswap.data.stores import FACE_STORES, choose_store
from fswap.errors import ConfigError, InputError
from fswap.model.condition import central_square, condition_batch

SIDES = ("a", "b")


class EncodedImages:
    """Equal-size uint8 images kept as PNG bytes (lossless: `self[i]` is the exact array that was stored),
    for face sets too large to hold decoded. Indexing decodes one image (about 1 ms at 256², in OpenCV,
    which releases the GIL, so tf.data's parallel calls overlap)."""

    def __init__(self, blobs: Sequence[bytes], shape: tuple[int, ...]) -> None:
        self.blobs = list(blobs)
        self.shape = (len(self.blobs), *shape)
        self.nbytes = sum(len(b) for b in self.blobs)

    @classmethod
    def encode(cls, images: Iterable[np.ndarray]) -> EncodedImages:
        """Store `images` (all of one shape; one at a time, so a large set is never decoded whole); PNG at
        compression level 1, which encodes fast."""
        blobs, shape = [], (0,)
        for image in images:
            ok, buffer = cv2.imencode(".png", image, [cv2.IMWRITE_PNG_COMPRESSION, 1])
            if not ok:
                raise InputError(f"could not PNG-encode a face of shape {image.shape}")
            blobs.append(buffer.tobytes())
            shape = image.shape
        return cls(blobs, shape)

    def __len__(self) -> int:
        return len(self.blobs)

    def __getitem__(self, index: int) -> np.ndarray:
        flag = cv2.IMREAD_GRAYSCALE if len(self.shape) == 3 else cv2.IMREAD_COLOR
        return cv2.imdecode(np.frombuffer(self.blobs[int(index)], np.uint8), flag)

    def __iter__(self) -> Any:
        return (self[i] for i in range(len(self)))


@attrs.frozen(eq=False)
class FaceImages:
    """A face set loaded for training: BGR uint8 faces at 256² and their optional eye masks (uint8), as
    arrays or `EncodedImages` (both indexable by face); `faceset` describes face i (its record), when
    known."""

    path: Path
    images: np.ndarray | EncodedImages
    eyes: np.ndarray | EncodedImages | None
    faceset: FaceSet | None = None

    def __len__(self) -> int:
        return len(self.images)

    @property
    def nbytes(self) -> int:
        """Bytes the faces and masks take in memory."""
        return int(self.images.nbytes + (0 if self.eyes is None else self.eyes.nbytes))


def load_faces(path: Path | FaceSet, eye_mask: str = "", store: str = "decoded") -> FaceImages:
    """Read every face of the set at `path` (resized to 256²) and, when the set has it, the mask named
    `eye_mask`, held as `store` says ("decoded" arrays or "png" bytes; the same pixels either way; "auto"
    decides by this set's size alone). A FaceSet may be given instead of a folder (e.g. one without its
    held-out faces). A set without faces is an InputError naming the folder."""
    faceset = path if isinstance(path, FaceSet) else FaceSet.open(path)
    path = faceset.path
    if len(faceset) == 0:
        raise InputError(f"{path}: the face set is empty; extract faces before training")
    if store not in FACE_STORES:
        raise InputError(f"face store must be one of {', '.join(FACE_STORES)}, received {store!r}")
    encoded = choose_store(store, [faceset], eye_mask) == "png"

    def pack(images: Iterable[np.ndarray]) -> np.ndarray | EncodedImages:
        if encoded:
            return EncodedImages.encode(images)
        out = None  # filled in place: a list then np.stack would hold the set twice while loading
        for i, image in enumerate(images):
            if out is None:
                out = aligned_empty((len(faceset), *image.shape), image.dtype)
            out[i] = image
        return out

    size = (aug.WORK_SIZE, aug.WORK_SIZE)
    images = pack(_resize(faceset.load_image(r), size) for r in faceset.records)
    eyes = None
    if eye_mask and eye_mask in faceset.masks:
        eyes = pack(
            _resize((faceset.load_mask(r, eye_mask) * 255).astype(np.uint8), size) for r in faceset.records
        )
    return FaceImages(path=path, images=images, eyes=eyes, faceset=faceset)


def aligned_empty(shape: tuple[int, ...], dtype: Any, alignment: int = 64) -> np.ndarray:
    """An uninitialised C-contiguous array whose data starts on an `alignment`-byte boundary, so that
    TensorFlow can use its memory without a copy (the TensorFlow augmentation engine reads it so)."""
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape)) * dtype.itemsize
    buffer = np.empty(nbytes + alignment, np.uint8)
    start = -buffer.ctypes.data % alignment
    return buffer[start:start + nbytes].view(dtype).reshape(shape)


def _resize(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if image.shape[:2] == size[::-1]:
        return image
    interp = cv2.INTER_AREA if image.shape[0] > size[1] else cv2.INTER_CUBIC
    return cv2.resize(image, size, interpolation=interp)


@attrs.frozen(eq=False)
class BatchMaker:
    """Builds batch `k` for both sides: (warped_a, target_a, eyes_a, warped_b, target_b, eyes_b).

    Images are float32 in [-1, 1] (N, R, R, 3); eye masks float32 in [0, 1] (N, R, R, 1), zeros for a set
    without eye masks."""

    faces: dict[str, FaceImages]
    resolution: int
    batch_size: int
    augment: Any  # fswap.stages.train_config.AugmentConfig
    seed: int = 0
    offset: int = 0  # index of this maker's first sample within the global batch (a replica's shard)
    lookalike: dict[str, Any] | None = None  # per side: LookalikeAugmenter(index, image, rng) -> image

    @property
    def has_eyes(self) -> bool:
        return any(f.eyes is not None for f in self.faces.values())

    def make(self, k: int) -> tuple[np.ndarray, ...]:
        out: list[np.ndarray] = []
        for side_id, side in enumerate(SIDES):
            samples = [self.sample(side_id, side, int(k), self.offset + i) for i in range(self.batch_size)]
            for part in range(3):
                out.append(np.stack([s[part] for s in samples]))
        return tuple(out)

    def sample(self, side_id: int, side: str, k: int, i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One augmented (warped, target, eyes) triple, seeded by (seed, k, side, i)."""
        rng = np.random.default_rng([self.seed, k, side_id, i])
        faces = self.faces[side]
        index = int(rng.integers(len(faces)))
        image = faces.images[index]
        if self.lookalike:  # draws from rng only when enabled, so plain runs keep their batches
            image = self.lookalike[side](index, image, rng)
        image = image.astype(np.float32)
        cfg = self.augment
        if rng.random() < cfg.color_match:
            other = self.faces[SIDES[int(rng.integers(2))]]
            image = aug.random_color_match(image, other.images[int(rng.integers(len(other)))], rng)
        eyes = (faces.eyes[index].astype(np.float32) / 255.0 if faces.eyes is not None
                else np.zeros(image.shape[:2], np.float32))
        stack = np.concatenate([image, eyes[..., None]], axis=-1)
        stack = aug.random_transform(stack, rng, rotation=cfg.rotation, zoom=cfg.zoom, shift=cfg.shift,
                                     flip=cfg.flip)
        warped, target = aug.random_warp(stack, rng, self.resolution, sigma=tuple(cfg.warp_sigma))
        warped_bgr, target_bgr = warped[..., :3], target[..., :3]
        if cfg.motion_blur > 0:
            warped_bgr, target_bgr = aug.random_motion_blur([warped_bgr, target_bgr], rng, cfg.motion_blur)
        return (
            (warped_bgr / 127.5 - 1.0).astype(np.float32),
            (target_bgr / 127.5 - 1.0).astype(np.float32),
            np.clip(target[..., 3:4], 0.0, 1.0).astype(np.float32),
        )


def _tensorflow_engine(maker: BatchMaker) -> Any:
    """fswap.data.augment_tf (imported only when chosen), after checking `maker` needs nothing it lacks."""
    if maker.lookalike:
        raise ConfigError("[train.augment] engine = \"tensorflow\" cannot run [train.lookalike] (its "
                          "part pastes are NumPy/OpenCV code): set engine = \"numpy\" or lookalike.enabled "
                          "= false")
    from fswap.data import augment_tf

    return augment_tf


def make_dataset(maker: BatchMaker, start: int = 0) -> Any:
    """An endless tf.data stream of batches `start`, `start+1`, … (parallel map, ordered, prefetched)."""
    if maker.augment.engine == "tensorflow":
        return _tensorflow_engine(maker).dataset(maker, start)
    import tensorflow as tf

    n, r = maker.batch_size, maker.resolution
    shapes = [(n, r, r, 3), (n, r, r, 3), (n, r, r, 1)] * 2

    def load(k: Any) -> tuple[Any, ...]:
        parts = tf.numpy_function(maker.make, [k], [tf.float32] * 6, stateful=False)
        for part, shape in zip(parts, shapes, strict=True):
            part.set_shape(shape)
        return tuple(parts)

    dataset = tf.data.Dataset.range(start, 2**62)
    dataset = dataset.map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return dataset.prefetch(tf.data.AUTOTUNE)


def make_shard_dataset(maker: BatchMaker, start: int, per_replica: int, shards: Sequence[int]) -> Any:
    """Batches `start`, `start+1`, … cut into replica shards: for each batch, one element per shard in
    `shards` (shard r = samples r·per_replica … of the global batch), so the replicas of all workers
    together see exactly the global batch `maker` would make."""
    if maker.augment.engine == "tensorflow":
        return _tensorflow_engine(maker).dataset(maker, start, shards=list(shards), per_replica=per_replica)
    import tensorflow as tf

    makers = [attrs.evolve(maker, batch_size=per_replica, offset=r * per_replica) for r in shards]
    count, n, r = len(makers), per_replica, maker.resolution
    shapes = [(n, r, r, 3), (n, r, r, 3), (n, r, r, 1)] * 2

    def make(j: Any) -> tuple[np.ndarray, ...]:
        return makers[int(j) % count].make(start + int(j) // count)

    def load(j: Any) -> tuple[Any, ...]:
        parts = tf.numpy_function(make, [j], [tf.float32] * 6, stateful=False)
        for part, shape in zip(parts, shapes, strict=True):
            part.set_shape(shape)
        return tuple(parts)

    dataset = tf.data.Dataset.range(0, 2**62)
    dataset = dataset.map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return dataset.prefetch(tf.data.AUTOTUNE)


PREVIEW_INSET = aug.WORK_SIZE // 2 - 88  # the training target covers about the central ±88 px of 256


def _preview_indices(faces: FaceImages, count: int) -> np.ndarray:
    return np.linspace(0, len(faces) - 1, num=min(count, len(faces))).round().astype(int)


def preview_faces(faces: FaceImages, resolution: int, count: int = 4) -> np.ndarray:
    """`count` faces of the set (evenly spread), centre-cropped like the training targets and resized to
    R×R, float32 in [-1, 1]."""
    out = [central_square(faces.images[i], PREVIEW_INSET, resolution) for i in _preview_indices(faces, count)]
    return (np.stack(out).astype(np.float32) / 127.5 - 1.0).astype(np.float32)


def preview_conditions(faces: FaceImages, resolution: int, channels: int, count: int = 4) -> np.ndarray:
    """The condition maps of the faces `preview_faces` picks: their stored eye masks (what training feeds a
    conditioned decoder) through the same crop, (N, R, R, channels) in [0, 1]; zeros for a set without."""
    indices = _preview_indices(faces, count)
    if faces.eyes is None:
        return np.zeros((len(indices), resolution, resolution, channels), np.float32)
    return condition_batch([faces.eyes[i] for i in indices], inset=lambda _size: PREVIEW_INSET,
                           resolution=resolution, channels=channels)
