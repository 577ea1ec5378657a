"""Training-face augmentation (reference §3.3) in TensorFlow ops: `[train.augment] engine = "tensorflow"`.

The same steps, order and parameter ranges as the NumPy/OpenCV engine (fswap.data.augment): colour match,
rotate/zoom/shift/flip, the 5×5-grid warp with its Umeyama-aligned target, motion blur. Here they run
vectorised over a batch inside tf.data's parallel map, with no Python and so no GIL on the hot path, and PNG
faces are decoded there too. Every draw comes from stateless RNG keyed by (seed, batch k, side, draw), so
batch k is a pure function of them, as with NumPy; but the engines draw differently, so their batches
differ. Sample i of a batch is element i of draws over the whole global batch, so a replica's shard of it
is exactly those samples of the batch one device would make.

Faces stay uint8 (n, 256, 256, C) until the geometry samples them at R²; BGR is then float32 in [0, 255].
This module imports TensorFlow at import time: only make_dataset imports it, when the engine is chosen.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

from fswap.data.stores import WORK_SIZE

_STATS_CROP = 60  # colour statistics use the centre [60:-60] of the 256² face, as the NumPy engine does
_BLUR_TAPS = 11  # the largest motion-blur line; shorter lines sit centred in an 11×11 kernel
_BLUR_SIZES = (5, 7, 9, 11)
_BGR_TO_XYZ = np.array([[0.180423, 0.357580, 0.412453],  # rows X, Y, Z; columns B, G, R (sRGB, D65,
                        [0.072169, 0.715160, 0.212671],  # the linear transform OpenCV's COLOR_BGR2XYZ
                        [0.950227, 0.119193, 0.019334]],  # applies to float images)
                       np.float32)


# ---------------------------------------------------------------------------------------------------
# face stores as tensors
# ---------------------------------------------------------------------------------------------------


def _as_tensor(array: np.ndarray) -> Any:
    """`array` as a uint8 tensor, sharing its memory where TensorFlow allows it (64-byte aligned, as
    fswap.data.pipeline allocates decoded sets), else copied."""
    if array.ctypes.data % 64 == 0 and array.flags.c_contiguous:
        return tf.experimental.dlpack.from_dlpack(array.__dlpack__())
    return tf.constant(array)


class SideStores:
    """Both sides' faces (or eye masks) readable by (side, index) inside a graph: decoded uint8 arrays, or
    PNG bytes decoded by TensorFlow (RGB files, so reversed to BGR); `None` for a side without them."""

    def __init__(self, stores: list[Any], channels: int) -> None:
        from fswap.data.pipeline import EncodedImages

        self.channels = channels
        self.present = [s is not None for s in stores]
        self.sizes = [len(s) if s is not None else 1 for s in stores]
        self.encoded = any(isinstance(s, EncodedImages) for s in stores)
        if self.encoded:  # one string tensor over both sides: a read decodes only the faces it needs
            blobs: list[bytes] = []
            for store in stores:
                blobs.extend(store.blobs if isinstance(store, EncodedImages) else
                             [_png(image) for image in store] if store is not None else [b""])
            self.blobs = tf.constant(blobs, tf.string)
            self.offsets = tf.constant(np.cumsum([0, *self.sizes[:-1]]), tf.int32)
        else:
            empty = np.zeros((1, WORK_SIZE, WORK_SIZE, channels), np.uint8)
            self.arrays = [_as_tensor(s if s.ndim == 4 else s[..., None]) if s is not None else
                           tf.constant(empty) for s in stores]

    def read(self, sides: Any, indices: Any, side: int | None = None) -> Any:
        """Faces `indices` of sides `sides` (int32 vectors): uint8 (n, 256, 256, channels), zeros for a side
        without them. `side`: every one is of this side (one gather instead of one per side)."""
        if side is not None and not self.encoded:
            if not self.present[side]:
                return tf.zeros((tf.shape(indices)[0], WORK_SIZE, WORK_SIZE, self.channels), tf.uint8)
            return tf.gather(self.arrays[side], indices)
        if self.encoded:  # (a side without masks has one empty blob: every index reads it)
            indices = tf.minimum(indices, tf.gather(tf.constant(self.sizes), sides) - 1)
            chosen = tf.gather(self.blobs, tf.gather(self.offsets, sides) + indices)
            spec = tf.TensorSpec((WORK_SIZE, WORK_SIZE, self.channels), tf.uint8)
            out = tf.map_fn(self._decode, chosen, fn_output_signature=spec)
        else:
            picks = [tf.gather(array, tf.minimum(indices, tf.shape(array)[0] - 1)) for array in self.arrays]
            out = tf.where(tf.reshape(sides == 0, (-1, 1, 1, 1)), picks[0], picks[1])
        present = tf.gather(tf.constant(self.present), sides)
        return tf.where(_column(present), out, tf.zeros_like(out))

    def _decode(self, blob: Any) -> Any:
        def decode() -> Any:
            image = tf.io.decode_png(blob, channels=self.channels)
            return tf.reverse(image, axis=[-1]) if self.channels == 3 else image

        zeros = tf.zeros((WORK_SIZE, WORK_SIZE, self.channels), tf.uint8)
        return tf.ensure_shape(tf.cond(tf.strings.length(blob) > 0, decode, lambda: zeros),
                               (WORK_SIZE, WORK_SIZE, self.channels))


def _png(image: np.ndarray) -> bytes:
    import cv2

    return cv2.imencode(".png", image, [cv2.IMWRITE_PNG_COMPRESSION, 1])[1].tobytes()


# ---------------------------------------------------------------------------------------------------
# the steps, each a deterministic function of its draws (the tests compare them with OpenCV's)
# ---------------------------------------------------------------------------------------------------


def _column(values: Any) -> Any:
    return tf.reshape(values, (-1, 1, 1, 1))


def _pixels(images: Any) -> Any:
    """(n, H, W, C) → (n, H·W, C) float32."""
    return tf.reshape(tf.cast(images, tf.float32), (tf.shape(images)[0], -1, images.shape[-1]))


def color_params(images: Any, references: Any, use_xyz: Any, blend: Any, apply: Any) -> tuple[Any, Any]:
    """The NumPy engine's colour match as one affine map per image, `out = clip(W·bgr + c, 0, 255)`, for
    BGR faces `images` and `references` (n, 256, 256, 3; uint8 or float).

    Reinhard mean/std transfer toward `blend`·reference + (1 − blend)·own statistics (centre crop), in BGR
    or CIE XYZ (`use_xyz`), shifted/scaled into [0, 255] by the whole image's extremes, converted back: all
    affine per image but the final clip, so the map can be applied after the geometry, to the R² samples
    instead of the 256² face. Identity where not `apply`. Returns W (n, 3, 3) and c (n, 3)."""
    eye = tf.eye(3, batch_shape=tf.shape(use_xyz)[:1])
    to_space = tf.where(use_xyz[:, None, None], tf.constant(_BGR_TO_XYZ)[None], eye)  # P (n, 3, 3)

    def stats(x: Any) -> tuple[Any, Any]:  # crop mean and std in the chosen space, from BGR mean/covariance
        crop = _pixels(x[:, _STATS_CROP:-_STATS_CROP, _STATS_CROP:-_STATS_CROP, :])
        mean = tf.reduce_mean(crop, axis=1)  # (n, 3)
        centred = crop - mean[:, None, :]
        cov = tf.einsum("npa,npb->nab", centred, centred) / tf.cast(tf.shape(crop)[1], tf.float32)
        space_cov = to_space @ cov @ tf.transpose(to_space, (0, 2, 1))
        return (tf.einsum("nab,nb->na", to_space, mean),
                tf.sqrt(tf.maximum(tf.linalg.diag_part(space_cov), 0.0)) + 1e-6)

    (mean_s, std_s), (mean_r, std_r) = stats(images), stats(references)
    r = blend[:, None]
    gain = (r * std_r + (1.0 - r) * std_s) / std_s  # D, per channel, > 0
    bias = r * mean_r + (1.0 - r) * mean_s - gain * mean_s  # e
    forward = gain[:, :, None] * to_space  # D·P
    # the extremes of D·P·x + e over the face: D is positive, so per channel of P·x (a pass only for XYZ)
    pixels = _pixels(images)
    xyz = [sum(pixels[..., c] * float(_BGR_TO_XYZ[d, c]) for c in range(3)) for d in range(3)]
    space_low = tf.where(use_xyz[:, None], tf.stack([tf.reduce_min(v, axis=1) for v in xyz], axis=1),
                         tf.reduce_min(pixels, axis=1))
    space_high = tf.where(use_xyz[:, None], tf.stack([tf.reduce_max(v, axis=1) for v in xyz], axis=1),
                          tf.reduce_max(pixels, axis=1))
    low = tf.reduce_min(gain * space_low + bias, axis=1)
    high = tf.reduce_max(gain * space_high + bias, axis=1)
    shift = tf.minimum(low, 0.0)  # the NumPy engine subtracts a negative minimum
    top = high - shift
    scale = tf.where(top > 255.0, 255.0 / tf.maximum(top, 1e-6), 1.0)
    back = tf.linalg.inv(to_space)
    matrix = scale[:, None, None] * (back @ forward)
    offset = scale[:, None] * tf.einsum("nab,nb->na", back, bias - shift[:, None])
    keep = apply[:, None, None]
    return tf.where(keep, matrix, eye), tf.where(apply[:, None], offset, tf.zeros_like(offset))


def apply_color(images: Any, matrix: Any, offset: Any) -> Any:
    """clip(W·bgr + c) per image, for float32 (n, h, w, 3) BGR images."""
    out = tf.einsum("nhwc,ndc->nhwd", images, matrix) + offset[:, None, None, :]
    return tf.clip_by_value(out, 0.0, 255.0)


def rotation_matrix(angle: Any, scale: Any, tx: Any, ty: Any, centre: float) -> Any:
    """OpenCV's getRotationMatrix2D((centre, centre), angle°, scale) plus a shift, per sample: (n, 2, 3)."""
    rad = angle * (np.pi / 180.0)
    alpha, beta = scale * tf.cos(rad), scale * tf.sin(rad)
    row0 = tf.stack([alpha, beta, (1.0 - alpha) * centre - beta * centre + tx], axis=-1)
    row1 = tf.stack([-beta, alpha, beta * centre + (1.0 - alpha) * centre + ty], axis=-1)
    return tf.stack([row0, row1], axis=1)


def transform_matrix(angle: Any, scale: Any, tx: Any, ty: Any, flip: Any, size: int) -> Any:
    """The random transform as one forward affine map per sample (n, 2, 3): rotate/zoom about the centre,
    shift, then mirror (x → size − 1 − x) where `flip`."""
    matrix = rotation_matrix(angle, scale, tx, ty, size / 2.0)
    mirrored = tf.stack([-matrix[:, 0], matrix[:, 1]], axis=1) + tf.constant([[0, 0, size - 1.0], [0, 0, 0]])
    return tf.where(flip[:, None, None], mirrored, matrix)


def _invert(matrix: Any) -> Any:
    """Inverse of forward affine maps (n, 2, 3)."""
    inverse = tf.linalg.inv(matrix[:, :, :2])
    return tf.concat([inverse, -inverse @ matrix[:, :, 2:]], axis=2)


def _apply(matrix: Any, xs: Any, ys: Any) -> tuple[Any, Any]:
    """Points (n, h, w) through affine maps (n, 2, 3)."""
    m = matrix[:, :, :, None, None]
    return (m[:, 0, 0] * xs + m[:, 0, 1] * ys + m[:, 0, 2],
            m[:, 1, 0] * xs + m[:, 1, 1] * ys + m[:, 1, 2])


def sample(images: Any, xs: Any, ys: Any) -> Any:
    """Bilinear samples (n, h, w, C) float32 of `images` (any dtype) at (xs, ys) (n, h, w), borders
    replicated (OpenCV's BORDER_REPLICATE)."""
    height, width = tf.shape(images)[1], tf.shape(images)[2]
    x0, y0 = tf.floor(xs), tf.floor(ys)
    wx, wy = (xs - x0)[..., None], (ys - y0)[..., None]
    x0, y0 = tf.cast(x0, tf.int32), tf.cast(y0, tf.int32)

    def tap(yy: Any, xx: Any) -> Any:
        at = tf.stack([tf.clip_by_value(yy, 0, height - 1), tf.clip_by_value(xx, 0, width - 1)], axis=-1)
        return tf.cast(tf.gather_nd(images, at, batch_dims=1), tf.float32)

    return ((tap(y0, x0) * (1 - wx) + tap(y0, x0 + 1) * wx) * (1 - wy)
            + (tap(y0 + 1, x0) * (1 - wx) + tap(y0 + 1, x0 + 1) * wx) * wy)


def umeyama(src: Any, dst: Any) -> Any:
    """Batched least-squares similarity transforms (n, 2, 3) mapping points src (n, P, 2) → dst (P, 2)."""
    count = tf.cast(tf.shape(src)[1], tf.float32)
    mu_s, mu_d = tf.reduce_mean(src, axis=1, keepdims=True), tf.reduce_mean(dst, axis=0, keepdims=True)
    sc, dc = src - mu_s, dst - mu_d
    cov = tf.einsum("pa,npb->nab", dc, sc) / count
    s, u, v = tf.linalg.svd(cov)
    sign = tf.where(tf.linalg.det(u) * tf.linalg.det(v) < 0, -1.0, 1.0)
    d = tf.stack([tf.ones_like(sign), sign], axis=-1)
    rot = u @ tf.linalg.diag(d) @ tf.transpose(v, (0, 2, 1))
    var_s = tf.reduce_sum(sc**2, axis=[1, 2]) / count
    scale = tf.where(var_s > 0, tf.reduce_sum(s * d, axis=-1) / tf.maximum(var_s, 1e-12), 1.0)
    linear = scale[:, None, None] * rot
    shift = tf.transpose(mu_d) - linear @ tf.transpose(mu_s, (0, 2, 1))
    return tf.concat([linear, shift], axis=2)


def warp_points(transform: Any, half: Any, noise_x: Any, noise_y: Any, size: int,
                resolution: int) -> tuple[Any, Any]:
    """Where in the *untransformed* 256² face each pixel of the warped input and of the target samples.

    The NumPy engine resamples twice: the random transform, then the reference's grid warp of its result
    (control points over the central ±`half` px moved by `noise_x`/`noise_y` (n, 5, 5) → the warped R²
    input; the same region through the similarity fitted from the moved grid to a regular one → the
    aligned target). Here both maps are composed with the transform's inverse, so each output pixel is one
    bilinear sample of the original face (sharper by one interpolation). Returns the warped input's points
    (xs, ys) and the target's. (The warp's points lie in the central ±~100 px, so the zero border of
    OpenCV's remap there is never reached and not reproduced.)"""
    n = tf.shape(half)[0]
    steps = tf.linspace(-1.0, 1.0, 5)
    line = size / 2.0 + half[:, None] * steps[None, :]  # (n, 5)
    grid_x = tf.broadcast_to(line[:, None, :], (n, 5, 5)) + noise_x
    grid_y = tf.broadcast_to(line[:, :, None], (n, 5, 5)) + noise_y
    field, lo = round(resolution * 1.25), round(resolution / 8)
    maps = tf.image.resize(tf.stack([grid_x, grid_y], axis=-1), (field, field), method="bilinear")
    maps = maps[:, lo:lo + resolution, lo:lo + resolution]
    back = _invert(transform)
    warped = _apply(back, maps[..., 0], maps[..., 1])
    src = tf.stack([tf.reshape(grid_x, (-1, 25)), tf.reshape(grid_y, (-1, 25))], axis=-1)
    regular = np.mgrid[0:5, 0:5] * (resolution / 4.0) - 0.5
    dst = np.stack([regular[1].ravel(), regular[0].ravel()], axis=-1).astype(np.float32)
    to_target = umeyama(src, tf.constant(dst))  # transformed frame → target
    pixel = tf.range(resolution, dtype=tf.float32)
    xs = tf.broadcast_to(pixel[None, None, :], (n, resolution, resolution))
    ys = tf.broadcast_to(pixel[None, :, None], (n, resolution, resolution))
    target = _apply(_compose(back, _invert(to_target)), xs, ys)
    return warped, target


def _compose(outer: Any, inner: Any) -> Any:
    """outer ∘ inner of affine maps (n, 2, 3)."""
    linear = outer[:, :, :2] @ inner[:, :, :2]
    return tf.concat([linear, outer[:, :, :2] @ inner[:, :, 2:] + outer[:, :, 2:]], axis=2)


def blur_kernels(sizes: Any, angles: Any) -> Any:
    """Normalised line kernels (n, 11, 11): a centred line `sizes` px long rotated by `angles`° about the
    centre (OpenCV's warpAffine of the line, bilinear, zeros outside)."""
    taps = np.arange(_BLUR_TAPS, dtype=np.float32) - _BLUR_TAPS // 2
    half = tf.cast(sizes // 2, tf.float32)[:, None]
    row = tf.cast(tf.abs(taps[None, :]) <= half, tf.float32)  # (n, 11)
    pad = _BLUR_TAPS // 2 + 1  # a zero ring around the 11 × 11 kernel: replicated, it is the zero border
    lines = tf.pad(row[:, None, :, None], [[0, 0], [pad, pad], [1, 1], [0, 0]])  # (n, 13, 13, 1)
    zero = tf.zeros_like(angles)
    back = _invert(rotation_matrix(angles, tf.ones_like(angles), zero, zero, (_BLUR_TAPS - 1) / 2.0))
    pixel = tf.range(_BLUR_TAPS, dtype=tf.float32)
    n = tf.shape(angles)[0]
    xs, ys = _apply(back, tf.broadcast_to(pixel[None, None, :], (n, _BLUR_TAPS, _BLUR_TAPS)),
                    tf.broadcast_to(pixel[None, :, None], (n, _BLUR_TAPS, _BLUR_TAPS)))
    kernels = sample(lines, xs + 1.0, ys + 1.0)[..., 0]
    total = tf.reduce_sum(kernels, axis=[1, 2], keepdims=True)
    return tf.where(total > 0, kernels / tf.maximum(total, 1e-12), kernels)


def filter_each(images: Any, kernels: Any) -> Any:
    """OpenCV's filter2D (correlation, replicated borders) of image i by kernel i, for every channel."""
    n, height, width, channels = (tf.shape(images)[0], images.shape[1], images.shape[2], images.shape[3])
    pad = _BLUR_TAPS // 2
    rows = tf.clip_by_value(tf.range(-pad, height + pad), 0, height - 1)
    cols = tf.clip_by_value(tf.range(-pad, width + pad), 0, width - 1)
    padded = tf.gather(tf.gather(images, rows, axis=1), cols, axis=2)
    merged = tf.reshape(tf.transpose(padded, (1, 2, 0, 3)), (1, height + 2 * pad, width + 2 * pad, -1))
    depthwise = tf.repeat(tf.transpose(kernels, (1, 2, 0)), channels, axis=2)[..., None]  # (11, 11, n·C, 1)
    out = tf.nn.depthwise_conv2d(merged, depthwise, strides=[1, 1, 1, 1], padding="VALID")
    return tf.transpose(tf.reshape(out, (height, width, n, channels)), (2, 0, 1, 3))


# ---------------------------------------------------------------------------------------------------
# a batch
# ---------------------------------------------------------------------------------------------------


class BatchGraph:
    """Builds batch k of both sides in TensorFlow ops, as BatchMaker does in NumPy: (warped_a, target_a,
    eyes_a, warped_b, target_b, eyes_b), images in [-1, 1], eye masks in [0, 1]."""

    def __init__(self, maker: Any) -> None:
        from fswap.data.pipeline import SIDES

        self.config = maker.augment
        self.seed = int(maker.seed)
        self.resolution = int(maker.resolution)
        self.total = int(maker.batch_size)  # the global batch: draws cover it, shards take their part
        faces = [maker.faces[side] for side in SIDES]
        self.images = SideStores([f.images for f in faces], 3)
        self.eyes = SideStores([f.eyes for f in faces], 1)

    def batch(self, k: Any, offset: Any = 0, count: int | None = None) -> tuple[Any, ...]:
        """Samples offset … offset + count of global batch `k` (default: the whole batch)."""
        count = self.total if count is None else count
        out: list[Any] = []
        for side_id in range(2):
            out.extend(self.side(k, side_id, offset, count))
        r = self.resolution
        shapes = [(count, r, r, 3), (count, r, r, 3), (count, r, r, 1)] * 2
        return tuple(tf.ensure_shape(part, shape) for part, shape in zip(out, shapes, strict=True))

    def side(self, k: Any, side_id: int, offset: Any, count: int) -> tuple[Any, Any, Any]:
        cfg, n, size = self.config, self.total, float(WORK_SIZE)
        key = tf.stack([tf.constant(self.seed, tf.int64), tf.cast(k, tf.int64)])
        draws = iter(range(100))

        def uniform(low: float = 0.0, high: float = 1.0, shape: tuple[int, ...] = ()) -> Any:
            seed = tf.random.experimental.stateless_fold_in(key, side_id * 100 + next(draws))
            values = tf.random.stateless_uniform((n, *shape), seed, low, high)
            return values[offset:offset + count]

        def normal(shape: tuple[int, ...]) -> Any:
            seed = tf.random.experimental.stateless_fold_in(key, side_id * 100 + next(draws))
            return tf.random.stateless_normal((n, *shape), seed)[offset:offset + count]

        def index(sides: Any) -> Any:
            sizes = tf.cast(tf.gather(tf.constant(self.images.sizes), sides), tf.float32)
            return tf.minimum(tf.cast(tf.floor(uniform() * sizes), tf.int32), tf.cast(sizes, tf.int32) - 1)

        sides = tf.fill((count,), side_id)
        chosen = index(sides)
        images = self.images.read(sides, chosen, side_id)
        shift_x, shift_y = (uniform(-cfg.shift, cfg.shift) * size for _ in range(2))
        matrix = transform_matrix(uniform(-cfg.rotation, cfg.rotation), uniform(1 - cfg.zoom, 1 + cfg.zoom),
                                  shift_x, shift_y, uniform() < cfg.flip, WORK_SIZE)
        half = tf.floor(uniform(78.0, 98.0))
        sigma = uniform(*cfg.warp_sigma)[:, None, None]
        warped_at, target_at = warp_points(matrix, half, normal((5, 5)) * sigma, normal((5, 5)) * sigma,
                                           WORK_SIZE, self.resolution)
        warped_bgr, target_bgr = sample(images, *warped_at), sample(images, *target_at)
        eyes = sample(self.eyes.read(sides, chosen, side_id), *target_at) / 255.0
        if cfg.color_match > 0:  # an affine map per face, from its 256² statistics, applied to the samples
            other_sides = tf.cast(uniform() < 0.5, tf.int32)
            references = self.images.read(other_sides, index(other_sides))
            color = color_params(images, references, uniform() < 0.5, uniform(), uniform() < cfg.color_match)
            warped_bgr, target_bgr = apply_color(warped_bgr, *color), apply_color(target_bgr, *color)
        if cfg.motion_blur > 0:
            sizes = tf.gather(tf.constant(_BLUR_SIZES), tf.cast(tf.floor(uniform(0.0, 4.0)), tf.int32))
            kernels = blur_kernels(sizes, uniform(-180.0, 180.0))
            apply = _column(uniform() < cfg.motion_blur)
            blurred = filter_each(tf.concat([warped_bgr, target_bgr], axis=-1), kernels)
            warped_bgr = tf.where(apply, blurred[..., :3], warped_bgr)
            target_bgr = tf.where(apply, blurred[..., 3:], target_bgr)
        def scaled(bgr: Any) -> Any:  # bilinear weights summing to 1 ± an ulp can step past 255
            return tf.clip_by_value(bgr / 127.5 - 1.0, -1.0, 1.0)

        return scaled(warped_bgr), scaled(target_bgr), tf.clip_by_value(eyes, 0.0, 1.0)


def dataset(maker: Any, start: int = 0, shards: Any = None, per_replica: int | None = None,
            graph: BatchGraph | None = None) -> Any:
    """An endless tf.data stream of batches start, start + 1, …; with `shards`, one element per shard of
    each batch (shard r = samples r·per_replica … of it), as fswap.data.pipeline.make_shard_dataset.
    `graph`: an existing BatchGraph of `maker` (its face tensors are reused, not built again)."""
    graph = graph or BatchGraph(maker)
    if shards is None:
        stream = tf.data.Dataset.range(start, 2**62).map(graph.batch, num_parallel_calls=tf.data.AUTOTUNE,
                                                           deterministic=True)
    else:
        offsets = tf.constant([int(r) * int(per_replica) for r in shards], tf.int64)
        count = len(shards)

        def shard(j: Any) -> tuple[Any, ...]:
            return graph.batch(start + j // count, tf.gather(offsets, j % count), int(per_replica))

        stream = tf.data.Dataset.range(0, 2**62).map(shard, num_parallel_calls=tf.data.AUTOTUNE,
                                                     deterministic=True)
    # tf.data's default graph rewrites serialise the dataset graph, which turns the captured face tensors
    # into constants: a second copy of every face set (measured: +756 MB for 4 000 decoded faces). This
    # pipeline (one map, one prefetch) has nothing for them to fuse.
    options = tf.data.Options()
    options.experimental_optimization.apply_default_optimizations = False
    return stream.prefetch(tf.data.AUTOTUNE).with_options(options)
