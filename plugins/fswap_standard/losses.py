"""The standard loss terms (reference §2): reconstruction, edge, eye weighting, adversarial, mask terms.

Each class is built with its frozen config and returns *unweighted* scalars; the training loop applies
`weight` and the schedule's runtime factor. Images are in [-1, 1], masks in [0, 1], all float32.
"""

from __future__ import annotations

from typing import Any

import tensorflow as tf

from fswap.losses import LossInputs, LossTerm


def l1(a: tf.Tensor, b: tf.Tensor) -> tf.Tensor:
    """Mean absolute error over every element."""
    return tf.reduce_mean(tf.abs(a - b))


def mse(a: tf.Tensor, b: Any) -> tf.Tensor:
    """Mean squared error over every element."""
    return tf.reduce_mean(tf.square(a - b))


def gradient_magnitudes(x: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """(|d_y x|, |d_x x|), both cropped to (R−1)×(R−1)."""
    dy = tf.abs(x[:, 1:, :-1, :] - x[:, :-1, :-1, :])
    dx = tf.abs(x[:, :-1, 1:, :] - x[:, :-1, :-1, :])
    return dy, dx


def resize_to(x: tf.Tensor, size: int) -> tf.Tensor:
    """Bilinear (antialiased) resize of an NHWC batch to size×size."""
    return tf.image.resize(x, (size, size), method="bilinear", antialias=True)


class ReconstructionLoss(LossTerm):
    """L1(bgr, target) + Σ_k L1(side_k, resize(target, size_k))."""

    def generator_loss(self, x: LossInputs) -> tf.Tensor:
        loss = l1(x.bgr, x.target)
        if self.config.multiscale:
            for side in x.side_outputs:
                loss += l1(side, resize_to(x.target, int(side.shape[1])))
        return loss


class EdgeLoss(LossTerm):
    """L1(d_y bgr, d_y target) + L1(d_x bgr, d_x target)."""

    def generator_loss(self, x: LossInputs) -> tf.Tensor:
        oy, ox = gradient_magnitudes(x.bgr)
        ty, tx = gradient_magnitudes(x.target)
        return l1(oy, ty) + l1(ox, tx)


class EyesLoss(LossTerm):
    """mean(|M ⊙ (bgr − target)|) (+ the same on gradient magnitudes with M resized to R−1).

    Zero when the batch carries no eye masks."""

    needs_eye_masks = True

    def generator_loss(self, x: LossInputs) -> tf.Tensor:
        if x.eye_mask is None:
            return tf.constant(0.0)
        mask = x.eye_mask
        loss = tf.reduce_mean(tf.abs(mask * (x.bgr - x.target)))
        if self.config.edges:
            size = int(x.bgr.shape[1]) - 1
            small = resize_to(mask, size)
            oy, ox = gradient_magnitudes(x.bgr)
            ty, tx = gradient_magnitudes(x.target)
            loss += tf.reduce_mean(tf.abs(small * (oy - ty))) + tf.reduce_mean(tf.abs(small * (ox - tx)))
        return loss


def _pairs(x: LossInputs) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """Discriminator inputs concat(image, warped) for real, masked fake and raw fake."""
    real = tf.concat([x.target, x.warped], axis=-1)
    fake = tf.concat([x.masked, x.warped], axis=-1)
    raw = tf.concat([x.bgr, x.warped], axis=-1)
    return real, fake, raw


def _d(x: LossInputs, inputs: tf.Tensor) -> tf.Tensor:
    return tf.cast(x.discriminator(inputs), tf.float32)


class MixupLsganLoss(LossTerm):
    """Mixup LSGAN. D: MSE(D(λ·real + (1−λ)·fake), λ) for fake ∈ {masked, raw}; G: MSE(D(fake), 1)."""

    uses_discriminator = True

    def generator_loss(self, x: LossInputs) -> tf.Tensor:
        _real, fake, raw = _pairs(x)
        return mse(_d(x, fake), 1.0) + mse(_d(x, raw), 1.0)

    def discriminator_loss(self, x: LossInputs) -> tf.Tensor:
        real, fake, raw = _pairs(x)
        fake, raw = tf.stop_gradient(fake), tf.stop_gradient(raw)
        lam = tf.cast(x.mixup, tf.float32)
        mixed_fake = lam * real + (1.0 - lam) * fake
        mixed_raw = lam * real + (1.0 - lam) * raw
        return mse(_d(x, mixed_fake), lam) + mse(_d(x, mixed_raw), lam)


class RelativisticLsganLoss(LossTerm):
    """Relativistic average LSGAN with r = D(real), f = D(masked), f2 = D(raw) (reference §2.2)."""

    uses_discriminator = True

    def generator_loss(self, x: LossInputs) -> tf.Tensor:
        real, fake, raw = _pairs(x)
        r, f, f2 = _d(x, real), _d(x, fake), _d(x, raw)
        return (
            mse(f, 1.0)
            + 0.5 * mse(r - tf.reduce_mean(f2), 0.0)
            + 0.5 * mse(f2 - tf.reduce_mean(r), 1.0)
        )

    def discriminator_loss(self, x: LossInputs) -> tf.Tensor:
        real, fake, raw = _pairs(x)
        fake, raw = tf.stop_gradient(fake), tf.stop_gradient(raw)
        r, f, f2 = _d(x, real), _d(x, fake), _d(x, raw)
        return 0.5 * (
            mse(r, 1.0)
            + mse(f, 0.0)
            + mse(r - tf.reduce_mean(f2), 1.0)
            + mse(f2 - tf.reduce_mean(r), 0.0)
        )


class MaskL1Loss(LossTerm):
    """mean(|alpha|)."""

    def generator_loss(self, x: LossInputs) -> tf.Tensor:
        return tf.reduce_mean(tf.abs(x.alpha))


class MaskHingeLoss(LossTerm):
    """mean(max(0, margin − alpha)); `mask_margin` is a variable the trainer assigns per phase (the phase's
    mask_margin, or `config.margin` again in a phase that sets none)."""

    def __init__(self, config: Any) -> None:
        super().__init__(config)
        self.mask_margin = tf.Variable(float(config.margin), trainable=False, dtype=tf.float32,
                                       name="mask_margin")

    def generator_loss(self, x: LossInputs) -> tf.Tensor:
        return tf.reduce_mean(tf.nn.relu(self.mask_margin - x.alpha))


class MaskTVLoss(LossTerm):
    """mean(|d_y alpha|) + mean(|d_x alpha|)."""

    def generator_loss(self, x: LossInputs) -> tf.Tensor:
        dy, dx = gradient_magnitudes(x.alpha)
        return tf.reduce_mean(dy) + tf.reduce_mean(dx)


class CycleLoss(LossTerm):
    """L1(bgr of G_X(bgr of G_Y(target)), target) + mask_weight · L1(alpha_cycle, alpha_Y) (reference §2.6).

    Zero when the caller provides no generators."""

    def generator_loss(self, x: LossInputs) -> tf.Tensor:
        if x.generate is None or x.generate_other is None:
            return tf.constant(0.0)
        alpha_other, bgr_other = x.generate_other(x.target)
        alpha_cycle, bgr_cycle = x.generate(bgr_other)
        return l1(bgr_cycle, x.target) + self.config.mask_weight * l1(alpha_cycle, alpha_other)
