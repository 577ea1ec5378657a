"""The optional loss members of fswap.losses: `critic_steps`, `extra_models(networks)` and the
`latent` input, as the train step and the checkpoint store use them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf
from train_tiny import TinyNetworks

from fswap.losses import LossComponent, LossInputs
from fswap.train.step import TrainStep

RES = 32


def _batch(seed: int = 0) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    parts = []
    for _ in ("a", "b"):
        target = rng.uniform(-1, 1, (2, RES, RES, 3)).astype(np.float32)
        parts += [np.roll(target, 1, axis=2), target, np.zeros((2, RES, RES, 1), np.float32)]
    return tuple(parts)


class _Reconstruction:
    weight = 1.0
    uses_discriminator = False

    def generator_loss(self, x: LossInputs) -> Any:
        return tf.reduce_mean(tf.abs(x.bgr - x.target))

    def discriminator_loss(self, x: LossInputs) -> Any:
        return None


class _CountingCritic:
    """Counts its discriminator_loss evaluations in a variable (counts executions, not traces)."""

    weight = 1.0
    uses_discriminator = True

    def __init__(self, steps: int) -> None:
        self.critic_steps = steps
        self.calls = tf.Variable(0, dtype=tf.int32, trainable=False)

    def generator_loss(self, x: LossInputs) -> Any:
        return -tf.reduce_mean(x.discriminator(tf.concat([x.masked, x.warped], -1)))

    def discriminator_loss(self, x: LossInputs) -> Any:
        with tf.control_dependencies([self.calls.assign_add(1)]):
            real = x.discriminator(tf.concat([x.target, x.warped], -1))
            fake = x.discriminator(tf.stop_gradient(tf.concat([x.masked, x.warped], -1)))
            return tf.reduce_mean(fake) - tf.reduce_mean(real)


class _LatentCritic:
    """Owns a 1×1 'latent discriminator' built to the encoder's output width."""

    weight = 1.0
    uses_discriminator = True

    def __init__(self) -> None:
        self.model: Any = None
        self.seen_latent_shape: Any = None
        self.seen_sides: list[Any] = []
        self.seen_other_is_other: list[bool] = []

    def extra_models(self, networks: Any) -> list[Any]:
        channels = int(networks.encoder.outputs[0].shape[-1])
        self.model = keras.Sequential([keras.Input((None, None, channels)), keras.layers.Dense(1)],
                                      name="latent_critic")
        return [self.model]

    def generator_loss(self, x: LossInputs) -> Any:
        self.seen_latent_shape = tuple(x.latent.shape)
        return tf.reduce_mean(tf.square(self.model(x.latent) - 1.0))

    def discriminator_loss(self, x: LossInputs) -> Any:
        self.seen_sides.append(x.side)
        self.seen_other_is_other.append(x.other_latent is not None and x.other_latent is not x.latent
                                        and tuple(x.other_latent.shape) == tuple(x.latent.shape))
        return tf.reduce_mean(tf.square(self.model(tf.stop_gradient(x.latent))))


def test_critic_steps_repeat_the_discriminator_update_per_term() -> None:
    nets = TinyNetworks(RES, seed=0)
    five, one = _CountingCritic(5), _CountingCritic(1)
    assert isinstance(five, LossComponent)
    rec = _Reconstruction()
    rec.critic_steps = 9  # type: ignore[attr-defined]  # ignored: the term trains no discriminator
    step = TrainStep(nets, {"rec": rec, "five": five, "one": one})
    before = [w.copy() for w in nets.discriminators["a"].get_weights()]
    metrics = step(_batch(), 0.5)
    assert int(five.calls.numpy()) == 2 * 5  # two sides × five critic updates
    assert int(one.calls.numpy()) == 2 * 1
    assert np.isfinite(float(metrics["a/d_total"]))
    moved = max(float(np.abs(a - b).max()) for a, b in zip(before, nets.discriminators["a"].get_weights(),
                                                           strict=True))
    assert moved > 0.0
    assert int(step.d_opt["a"].iterations.numpy()) == 5


def test_extra_models_train_with_the_discriminator_optimiser_and_are_checkpointed(tmp_path: Path) -> None:
    from fswap.train.schedule import Schedule
    from fswap.train.trainer import LoopSettings, Trainer, TrainFolders

    nets = TinyNetworks(RES, seed=0)
    latent_loss = _LatentCritic()
    step = TrainStep(nets, {"rec": _Reconstruction(), "latent": latent_loss})
    model = latent_loss.model
    assert step.extra_models == [model]
    assert all(any(v is w for w in step.d_vars[s]) for s in "ab" for v in model.trainable_variables)
    before = [w.copy() for w in model.get_weights()]
    step(_batch(), 0.5)
    assert latent_loss.seen_latent_shape == (2, RES // 4, RES // 4, 16)  # the encoder's output
    # each side's term is told its side and gets the other side's code of the same iteration
    assert latent_loss.seen_sides == ["a", "b"] and all(latent_loss.seen_other_is_other)
    assert any(not np.allclose(a, b) for a, b in zip(before, model.get_weights(), strict=True))

    folders = TrainFolders(tmp_path / "c", tmp_path / "p", tmp_path / "l", tmp_path)
    previews = {s: np.zeros((1, RES, RES, 3)) for s in "ab"}
    trainer = Trainer(step, Schedule((), 1, 1), LoopSettings(iterations=1, batch_size=2), folders,
                      lambda start: iter(()), previews, progress=False)
    assert all(any(v is w for w in trainer.store.variables) for v in model.weights)


def test_optional_members_are_read_the_same_from_a_base_class_term_and_a_plain_one() -> None:
    from fswap_standard.loss_config import EyesConfig
    from fswap_standard.losses import EyesLoss

    from fswap.losses import LossTerm, backbone_name, margin_variable, needs_eye_masks

    class Plain(LossTerm):
        pass

    plain = Plain(attrs_weight(0.5))
    assert (needs_eye_masks(plain), backbone_name(plain), margin_variable(plain)) == (False, None, None)
    assert needs_eye_masks(EyesLoss(EyesConfig()))  # the built-in eye-region term declares it

    class ThirdParty:  # no base class: the members are read by name, as documented in fswap.losses
        needs_eye_masks = True
        backbone_name = "arcface_r50"
        mask_margin = tf.Variable(0.3, trainable=False)

    other = ThirdParty()
    assert needs_eye_masks(other) and backbone_name(other) == "arcface_r50"
    assert margin_variable(other) is other.mask_margin

    class FloatMargin:  # a plain number cannot be set per phase, so it is not a margin variable
        mask_margin = 0.3

    assert margin_variable(FloatMargin()) is None


def attrs_weight(weight: float) -> Any:
    import attrs

    @attrs.frozen
    class WeightOnly:
        weight: float

    return WeightOnly(weight)
