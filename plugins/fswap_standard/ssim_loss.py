"""The structural loss term: (1 − SSIM) / 2 between the raw colour output and the target.

SSIM (Wang et al. 2004) compares local means, contrasts and correlations in a Gaussian window, so it
rewards the shapes an L1 term blurs over; the evaluation scores reconstructions with the same measure.
"""

from __future__ import annotations

from typing import Any

import tensorflow as tf

from fswap.losses import LossInputs

SIGMA = 1.5
K1, K2 = 0.01, 0.03
"""Wang et al.'s constants, as tf.image.ssim and fswap.evaluate.metrics use them."""


def gaussian_taps(size: int, sigma: float) -> tf.Tensor:
    """The normalised 1-D Gaussian of `size` taps; its outer product with itself is tf.image.ssim's 2-D
    window (exp(−(x² + y²)/2σ²) normalised factors into two normalised 1-D Gaussians)."""
    x = tf.range(size, dtype=tf.float32) - (size - 1) / 2.0
    return tf.nn.softmax(-tf.square(x) / (2.0 * sigma * sigma))


def separable_ssim(x: tf.Tensor, y: tf.Tensor, size: int, sigma: float = SIGMA) -> tf.Tensor:
    """SSIM per image of (N, H, W, C) images in [0, 1], as tf.image.ssim(max_val=1) computes it (valid
    windows, mean over positions and channels), with the Gaussian window applied as two 1-D passes over the
    four local statistics at once: 2·size multiply-adds per pixel and statistic instead of size², which made
    this term the costliest of the fast recipe's step (bench.quality_cost)."""
    channels = x.shape[-1]
    stats = tf.concat([x, y, x * y, x * x + y * y], axis=-1)  # (N, H, W, 4C)
    taps = gaussian_taps(size, sigma)
    rows = tf.tile(tf.reshape(taps, (size, 1, 1, 1)), (1, 1, 4 * channels, 1))
    cols = tf.tile(tf.reshape(taps, (1, size, 1, 1)), (1, 1, 4 * channels, 1))
    local = tf.nn.depthwise_conv2d(stats, rows, strides=(1, 1, 1, 1), padding="VALID")
    local = tf.nn.depthwise_conv2d(local, cols, strides=(1, 1, 1, 1), padding="VALID")
    mean_x, mean_y, mean_xy, mean_sq = tf.split(local, 4, axis=-1)
    c1, c2 = K1 * K1, K2 * K2
    both = mean_x * mean_y * 2.0
    luminance = (both + c1) / (mean_x * mean_x + mean_y * mean_y + c1)
    contrast_structure = (mean_xy * 2.0 - both + c2) / (mean_sq - (mean_x * mean_x + mean_y * mean_y) + c2)
    return tf.reduce_mean(luminance * contrast_structure, axis=(-3, -2, -1))


class SsimLoss:
    """mean over the batch of (1 − SSIM(bgr, target)) / 2, images mapped from [−1, 1] to [0, 1]."""

    uses_discriminator = False

    def __init__(self, config: Any) -> None:
        self.config = config
        self.weight = float(config.weight)

    def generator_loss(self, x: LossInputs) -> tf.Tensor:
        size = int(self.config.window) | 1
        out = (tf.cast(x.bgr, tf.float32) + 1.0) / 2.0
        target = (tf.cast(x.target, tf.float32) + 1.0) / 2.0
        return tf.reduce_mean((1.0 - separable_ssim(out, target, size, SIGMA)) / 2.0)

    def discriminator_loss(self, x: LossInputs) -> tf.Tensor | None:
        return None
