"""WGAN-GP (Gulrajani et al., "Improved Training of Wasserstein GANs"), the adversarial-autoencoder latent
term (Makhzani et al., "Adversarial Autoencoders") and domain confusion on the code as fswap loss components.

All follow `fswap.losses`: unweighted scalars, the loop applies weights. WGAN-GP declares `critic_steps`;
the AAE and confusion terms own their small networks through `extra_models(networks)`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import tensorflow as tf

from fswap.losses import LossInputs


def critic_scores(critic: Any, pairs: tf.Tensor) -> tf.Tensor:
    """One score per sample: the mean of the critic's output (a patch map or a scalar) over all but the
    batch axis, in float32."""
    out = tf.cast(critic(pairs), tf.float32)
    return tf.reduce_mean(tf.reshape(out, (tf.shape(out)[0], -1)), axis=1)


def gradient_penalty(critic: Any, real: tf.Tensor, fake: tf.Tensor, epsilon: tf.Tensor,
                     gp_lambda: float = 10.0) -> tf.Tensor:
    """λ · mean_i (‖∇ₓ s(x̂ᵢ)‖₂ − 1)² with x̂ᵢ = εᵢ·realᵢ + (1 − εᵢ)·fakeᵢ and s the per-sample critic score.

    `epsilon` has one value per sample (shape (N,)). The norm is over every non-batch axis of the input.
    The penalty is differentiable with respect to the critic's weights (second-order gradients)."""
    real, fake = tf.cast(real, tf.float32), tf.cast(fake, tf.float32)
    eps = tf.reshape(tf.cast(epsilon, tf.float32), [-1] + [1] * (len(real.shape) - 1))
    mixed = eps * real + (1.0 - eps) * fake
    with tf.GradientTape() as tape:
        tape.watch(mixed)
        total = tf.reduce_sum(critic_scores(critic, mixed))  # samples are independent: ∂total/∂x̂ᵢ = ∇s(x̂ᵢ)
    grads = tape.gradient(total, mixed)
    norms = tf.sqrt(tf.reduce_sum(tf.square(tf.reshape(grads, (tf.shape(grads)[0], -1))), axis=1) + 1e-12)
    return gp_lambda * tf.reduce_mean(tf.square(norms - 1.0))


def _fakes(x: LossInputs, which: str) -> list[tf.Tensor]:
    fakes = [x.masked] if which == "masked" else [x.masked, x.bgr]
    return [tf.concat([tf.cast(f, tf.float32), tf.cast(x.warped, tf.float32)], axis=-1) for f in fakes]


def _real(x: LossInputs) -> tf.Tensor:
    return tf.concat([tf.cast(x.target, tf.float32), tf.cast(x.warped, tf.float32)], axis=-1)


class WganGpLoss:
    """Critic: Σ_fake [mean D(fake) − mean D(real) + GP(real, fake)] (+ drift·mean D(real)²);
    generator: −Σ_fake mean D(fake). D sees concat(image, warped) and its patch map is averaged per sample."""

    uses_discriminator = True

    def __init__(self, config: Any) -> None:
        self.config = config
        self.weight = float(config.weight)
        self.critic_steps = int(config.critic_steps)

    def generator_loss(self, x: LossInputs) -> tf.Tensor:
        scores = [tf.reduce_mean(critic_scores(x.discriminator, f)) for f in _fakes(x, self.config.fakes)]
        return -tf.add_n(scores)

    def discriminator_loss(self, x: LossInputs) -> tf.Tensor:
        real = _real(x)
        real_scores = critic_scores(x.discriminator, real)
        loss = tf.constant(0.0)
        for fake in _fakes(x, self.config.fakes):
            fake = tf.stop_gradient(fake)
            epsilon = tf.random.uniform((tf.shape(real)[0],), 0.0, 1.0)
            loss += tf.reduce_mean(critic_scores(x.discriminator, fake)) - tf.reduce_mean(real_scores)
            loss += gradient_penalty(x.discriminator, real, fake, epsilon, self.config.gp_lambda)
        if self.config.drift > 0.0:
            loss += self.config.drift * tf.reduce_mean(tf.square(real_scores))
        return loss


def latent_discriminator(channels: int, hidden: int, layers: int, name: str = "aae_latent_discriminator"
                         ) -> keras.Model:
    """A small MLP judging each latent vector (the last axis; any leading axes) → one logit per vector."""
    code = keras.Input((None, None, channels), name="aae_code")
    x = code
    for i in range(layers):
        x = keras.layers.Dense(hidden, name=f"aae_hidden_{i}")(x)
        x = keras.layers.LeakyReLU(negative_slope=0.2, name=f"aae_lrelu_{i}")(x)
    logit = keras.layers.Dense(1, dtype="float32", name="aae_logit")(x)
    return keras.Model(code, logit, name=name)


class _CodeNetworkTerm:
    """A loss term that owns one small network reading the encoder's code, built on first use to the code's
    width and trained by the discriminator optimisers (`extra_models`)."""

    uses_discriminator = True
    term = "code network"

    def __init__(self, config: Any) -> None:
        self.config = config
        self.weight = float(config.weight)
        self.model: keras.Model | None = None

    def build(self, channels: int) -> keras.Model:
        raise NotImplementedError

    def extra_models(self, networks: Any) -> Sequence[keras.Model]:
        """Build the term's network to the encoder's output width (once)."""
        if self.model is None:
            self.model = self.build(int(networks.encoder.outputs[0].shape[-1]))
        return [self.model]

    def _logits(self, code: Any) -> tf.Tensor:
        """The owned network on `code`, in float32."""
        if self.model is None:
            raise RuntimeError(f"{self.term}: extra_models(networks) must be called before the loss is used")
        return tf.cast(self.model(tf.cast(code, tf.float32)), tf.float32)


class AaeLatentLoss(_CodeNetworkTerm):
    """Adversarial regularisation of the encoder's output (an 8×8×C map, treated as 64 C-dim vectors per
    face): a latent discriminator learns prior samples (1) from codes (0) with a logistic loss; the encoder
    is trained to make its codes pass as prior samples."""

    term = "aae_latent"

    def build(self, channels: int) -> keras.Model:
        return latent_discriminator(channels, self.config.hidden, self.config.layers)

    def sample_prior(self, shape: Any) -> tf.Tensor:
        """Samples of the configured prior with the latent's shape."""
        scale = float(self.config.scale)
        if self.config.prior == "uniform":
            return tf.random.uniform(shape, -scale, scale)
        return tf.random.normal(shape, stddev=scale)

    def generator_loss(self, x: LossInputs) -> tf.Tensor:
        if x.latent is None:
            return tf.constant(0.0)
        logits = self._logits(x.latent)
        return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(tf.ones_like(logits), logits))

    def discriminator_loss(self, x: LossInputs) -> tf.Tensor:
        if x.latent is None:
            return tf.constant(0.0)
        code = tf.stop_gradient(tf.cast(x.latent, tf.float32))
        prior = self._logits(self.sample_prior(tf.shape(code)))
        fake = self._logits(code)
        return (tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(tf.ones_like(prior), prior))
                + tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(tf.zeros_like(fake), fake)))


def side_classifier(channels: int, hidden: int, name: str = "side_confusion_classifier") -> keras.Model:
    """One logit per face (positive: side a): an MLP shared by every position of the H×W×C code, its logits
    averaged over the positions. Small on purpose: Adam moves every weight by about the learning rate per
    step, and a first version reading the flattened code (8 192 inputs) swung its logit by several units per
    step instead of learning."""
    code = keras.Input((None, None, channels), name="side_code")
    x = keras.layers.Dense(hidden, name="side_hidden")(code)
    x = keras.layers.LeakyReLU(negative_slope=0.2, name="side_lrelu")(x)
    x = keras.layers.Dense(1, dtype="float32", name="side_logit")(x)
    logit = keras.layers.GlobalAveragePooling2D(dtype="float32", name="side_mean")(x)
    return keras.Model(code, logit, name=name)


class SideConfusionLoss(_CodeNetworkTerm):
    """Domain confusion (Tzeng et al. 2015; Ganin et al. 2016, with a confusion target instead of gradient
    reversal): the classifier minimises BCE(C(code), side is a) on stopped codes; the encoder minimises
    BCE(C(code), ½), which is least where the classifier cannot tell the sides apart (logit 0). Why: a swap
    feeds decoder B the code of a face of A; if that code carries A's identity, decoder B repaints A."""

    term = "side_confusion"

    def build(self, channels: int) -> keras.Model:
        return side_classifier(channels, self.config.hidden)

    @staticmethod
    def _side(x: LossInputs) -> str:
        if x.side not in ("a", "b"):
            raise ValueError(f"side_confusion needs LossInputs.side 'a' or 'b', received {x.side!r}")
        return x.side

    def generator_loss(self, x: LossInputs) -> tf.Tensor:
        if x.latent is None:
            return tf.constant(0.0)
        self._side(x)
        logits = self._logits(x.latent)
        return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(tf.fill(tf.shape(logits), 0.5), logits))

    def discriminator_loss(self, x: LossInputs) -> tf.Tensor:
        """BCE of this side's codes against its label, plus the other side's codes against theirs when the
        step provides them (`other_latent`): each update then sees both classes, so it learns the boundary
        instead of pushing every logit toward one label (what single-side batches do to the bias)."""
        if x.latent is None:
            return tf.constant(0.0)
        own = 1.0 if self._side(x) == "a" else 0.0
        pairs = [(x.latent, own)] + ([(x.other_latent, 1.0 - own)] if x.other_latent is not None else [])
        losses = []
        for code, label in pairs:
            logits = self._logits(tf.stop_gradient(code))
            losses.append(tf.reduce_mean(
                tf.nn.sigmoid_cross_entropy_with_logits(tf.fill(tf.shape(logits), label), logits)))
        return tf.add_n(losses) / float(len(losses))
