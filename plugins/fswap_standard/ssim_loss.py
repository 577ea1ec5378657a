"""The structural loss term: (1 − SSIM) / 2 between the raw colour output and the target.

SSIM (Wang et al. 2004) compares local means, contrasts and correlations in a Gaussian window, so it
rewards the shapes an L1 term blurs over; the evaluation scores reconstructions with the same measure.
"""

from __future__ import annotations

from typing import Any

import tensorflow as tf

from fswap.train.loss_api import LossInputs


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
        ssim = tf.image.ssim(out, target, max_val=1.0, filter_size=size, filter_sigma=1.5)
        return tf.reduce_mean((1.0 - ssim) / 2.0)

    def discriminator_loss(self, x: LossInputs) -> tf.Tensor | None:
        return None
