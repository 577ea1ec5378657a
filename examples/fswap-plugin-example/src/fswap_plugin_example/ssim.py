"""The `ssim` loss term: structural dissimilarity (1 − SSIM) / 2 between a generated face and its target.

It subclasses fswap's `LossTerm` (fswap.losses), which takes the frozen config (kept as `self.config`),
reads `weight` from it and trains no discriminator, so the term only writes `generator_loss`: an unweighted
scalar; the training loop applies the weight and the schedule. Images arrive in [-1, 1] and are compared
in [0, 1].
"""

from __future__ import annotations

import tensorflow as tf

from fswap import ConfigError, LossTerm
from fswap.losses import LossInputs
from fswap_plugin_example.config import SsimLossConfig

# The MS-SSIM weights of the five scales (Wang, Simoncelli & Bovik, 2003); fewer scales use the first ones.
MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


class SsimLoss(LossTerm):
    """(1 − SSIM) / 2 of the raw or masked output against the target, averaged over the batch."""

    config: SsimLossConfig

    def _min_size(self) -> int:
        return (self.config.filter_size - 1) * 2 ** (self.config.scales - 1) + 1

    def generator_loss(self, x: LossInputs) -> tf.Tensor:
        output = x.bgr if self.config.output == "raw" else x.masked
        size = int(output.shape[1])
        if size < self._min_size():
            raise ConfigError(
                f"ssim: scales = {self.config.scales} with filter_size = {self.config.filter_size} needs "
                f"faces of at least {self._min_size()} px, but the model outputs {size} px; lower scales"
            )
        a = (tf.cast(output, tf.float32) + 1.0) / 2.0
        b = (tf.cast(x.target, tf.float32) + 1.0) / 2.0
        if self.config.scales == 1:
            similarity = tf.image.ssim(
                a, b, max_val=1.0, filter_size=self.config.filter_size, filter_sigma=self.config.filter_sigma
            )
        else:
            weights = MS_SSIM_WEIGHTS[: self.config.scales]
            similarity = tf.image.ssim_multiscale(
                a, b, max_val=1.0, power_factors=[w / sum(weights) for w in weights],
                filter_size=self.config.filter_size, filter_sigma=self.config.filter_sigma,
            )
        return tf.reduce_mean((1.0 - similarity) / 2.0)
