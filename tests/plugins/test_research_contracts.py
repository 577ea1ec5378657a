"""fswap_research: contract checks (build, forward/gradient, serialization round trip) at small sizes, the
dual-attention maths against NumPy, and the gradient penalty against hand-computed values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest
import tensorflow as tf
from fswap_research import config as research_config
from fswap_research.config import AaeLatentConfig, DualAttentionConfig, SideConfusionConfig, WganGpConfig
from fswap_research.layers import DualAttention
from fswap_research.losses import AaeLatentLoss, SideConfusionLoss, WganGpLoss, gradient_penalty

from fswap import declared
from fswap.errors import ConfigError
from fswap.losses import LossInputs
from fswap.testing import check_block, check_layer, check_loss, check_spec

SPECS = {s.name: s for s in declared(research_config)}


def test_specs_are_valid_and_register_without_tensorflow() -> None:
    for spec in SPECS.values():
        check_spec(spec)


# -- dual attention -----------------------------------------------------------------------------------


def test_dual_attention_block_contract_and_identity_at_start() -> None:
    result = check_block(SPECS["dual_attention"], channels=16, size=8)
    np.testing.assert_array_equal(result["outputs"][0], result["inputs"])  # γ = β = 0: the identity
    layer = result["layer"]
    assert [w.tolist() for w in layer.get_weights()[-2:]] == [[0.0], [0.0]]
    assert layer.query_block == DualAttentionConfig().query_block


def _numpy_dual(layer: DualAttention, x: np.ndarray) -> np.ndarray:
    wq, bq, wk, bk, wv, bv, gamma, beta = (np.asarray(w, np.float64) for w in layer.get_weights())
    n, h, w, c = x.shape
    a = x.reshape(n, h * w, c).astype(np.float64)

    def softmax(s: np.ndarray) -> np.ndarray:
        e = np.exp(s - s.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    q, k, v = a @ wq + bq, a @ wk + bk, a @ wv + bv
    position = softmax(q @ k.transpose(0, 2, 1)) @ v
    energy = a.transpose(0, 2, 1) @ a
    channel = a @ softmax(energy.max(axis=-1, keepdims=True) - energy).transpose(0, 2, 1)
    return x + (gamma[0] * position + beta[0] * channel).reshape(n, h, w, c)


def _set_scales(layer: DualAttention, x: np.ndarray, gamma: float, beta: float) -> None:
    layer(x)
    weights = layer.get_weights()
    weights[-2], weights[-1] = np.array([gamma], np.float32), np.array([beta], np.float32)
    layer.set_weights(weights)


def test_dual_attention_matches_numpy_and_both_branches_contribute() -> None:
    x = np.random.default_rng(0).normal(size=(2, 5, 6, 16)).astype(np.float32) * 0.3
    layer = DualAttention(query_block=0)
    _set_scales(layer, x, 0.7, -0.4)
    np.testing.assert_allclose(np.asarray(layer(x)), _numpy_dual(layer, x), atol=1e-4)
    only_position = DualAttention(query_block=0)
    _set_scales(only_position, x, 0.7, 0.0)
    only_position.set_weights([*layer.get_weights()[:-1], np.array([0.0], np.float32)])
    assert float(np.abs(np.asarray(layer(x)) - np.asarray(only_position(x))).max()) > 1e-3


@pytest.mark.parametrize("block", [1, 7, 64, 100])
def test_query_blocks_give_the_same_result(block: int) -> None:
    x = np.random.default_rng(1).normal(size=(2, 8, 8, 16)).astype(np.float32)
    plain = DualAttention(query_block=0)
    _set_scales(plain, x, 1.3, 0.5)
    blocked = DualAttention(query_block=block)
    blocked(x)
    blocked.set_weights(plain.get_weights())
    np.testing.assert_allclose(np.asarray(blocked(x)), np.asarray(plain(x)), rtol=1e-5, atol=1e-5)


def test_dual_attention_at_64x64_with_query_blocks_round_trips() -> None:
    result = check_layer(lambda: DualAttention(query_block=256, weight_decay=1e-4), (64, 64, 8), batch=1,
                         atol=1e-5)
    layer = result["layer"]
    reloaded = [lay for lay in result["reloaded"].layers if isinstance(lay, DualAttention)]
    assert len(reloaded) == 1 and reloaded[0].query_block == 256
    assert len(layer.losses) == 3  # L2 on the three projections


# -- WGAN-GP ------------------------------------------------------------------------------------------


def _linear_critic(shape: tuple[int, ...], w: np.ndarray, b: float) -> keras.Model:
    model = keras.Sequential([keras.Input(shape), keras.layers.Flatten(), keras.layers.Dense(1)])
    model.layers[-1].set_weights([w.reshape(-1, 1).astype(np.float32), np.array([b], np.float32)])
    return model


def test_gradient_penalty_of_a_linear_critic_is_lambda_times_norm_minus_one_squared() -> None:
    rng = np.random.default_rng(2)
    shape = (4, 4, 6)
    w = rng.normal(size=shape).astype(np.float32) * 0.3
    critic = _linear_critic(shape, w, 0.5)
    real, fake = (tf.constant(rng.uniform(-1, 1, (3, *shape)).astype(np.float32)) for _ in range(2))
    gp = gradient_penalty(critic, real, fake, tf.constant([0.1, 0.5, 0.9]), gp_lambda=10.0)
    expected = 10.0 * (np.linalg.norm(w.astype(np.float64)) - 1.0) ** 2  # ∇D = w everywhere
    np.testing.assert_allclose(float(gp), expected, rtol=1e-5)
    assert float(gradient_penalty(critic, real, fake, tf.constant([0.3, 0.3, 0.3]), gp_lambda=0.0)) == 0.0


class _Quadratic(keras.Model):
    """D(x) = c · Σ x²  (per sample), so ∇D(x̂) = 2c·x̂ and ‖∇D‖ = 2|c|·‖x̂‖."""

    def __init__(self, c: float) -> None:
        super().__init__()
        self.c = self.add_weight(shape=(), initializer=keras.initializers.Constant(c), name="c")

    def call(self, x: tf.Tensor) -> tf.Tensor:
        return self.c * tf.reduce_sum(tf.square(x), axis=[1, 2, 3])[:, None]


def test_gradient_penalty_of_a_quadratic_critic_and_its_gradient_for_the_critic() -> None:
    rng = np.random.default_rng(3)
    real = rng.uniform(-1, 1, (2, 3, 3, 2))
    fake = rng.uniform(-1, 1, (2, 3, 3, 2))
    eps = np.array([0.25, 0.8])
    c = 0.2
    critic = _Quadratic(c)
    mixed = eps[:, None, None, None] * real + (1 - eps[:, None, None, None]) * fake
    norms = np.linalg.norm(mixed.reshape(2, -1), axis=1)
    expected = 10.0 * np.mean((2 * c * norms - 1.0) ** 2)
    with tf.GradientTape() as tape:
        gp = gradient_penalty(critic, tf.constant(real, tf.float32), tf.constant(fake, tf.float32),
                              tf.constant(eps, tf.float32))
    np.testing.assert_allclose(float(gp), expected, rtol=1e-5)
    # d GP / d c = 10 · mean(2 (2c‖x̂‖ − 1) · 2‖x̂‖): the critic really learns from the penalty
    expected_grad = 10.0 * np.mean(2 * (2 * c * norms - 1.0) * 2 * norms)
    np.testing.assert_allclose(float(tape.gradient(gp, critic.c)), expected_grad, rtol=1e-4)


def test_wgan_gp_losses_on_a_linear_critic() -> None:
    rng = np.random.default_rng(4)
    r = 4
    w = rng.normal(size=(r, r, 6)).astype(np.float32) * 0.1
    critic = _linear_critic((r, r, 6), w, 0.0)

    def t(*shape: int) -> tf.Tensor:
        return tf.constant(rng.uniform(-1, 1, (2, *shape)).astype(np.float32))

    target, warped, bgr = t(r, r, 3), t(r, r, 3), t(r, r, 3)
    alpha = tf.constant(rng.uniform(0, 1, (2, r, r, 1)).astype(np.float32))
    masked = alpha * bgr + (1 - alpha) * warped
    x = LossInputs(warped=warped, target=target, alpha=alpha, bgr=bgr, masked=masked, discriminator=critic)

    def d(image: tf.Tensor) -> float:
        pair = np.concatenate([np.asarray(image), np.asarray(warped)], axis=-1).reshape(2, -1)
        return float((pair @ w.reshape(-1)).mean())

    gp = 10.0 * (np.linalg.norm(w.astype(np.float64)) - 1.0) ** 2
    loss = WganGpLoss(WganGpConfig(fakes="masked"))
    np.testing.assert_allclose(float(loss.generator_loss(x)), -d(masked), rtol=1e-5)
    np.testing.assert_allclose(float(loss.discriminator_loss(x)), d(masked) - d(target) + gp, rtol=1e-4)
    both = WganGpLoss(WganGpConfig(drift=0.5))
    np.testing.assert_allclose(float(both.generator_loss(x)), -d(masked) - d(bgr), rtol=1e-5)
    pair = np.concatenate([np.asarray(target), np.asarray(warped)], axis=-1).reshape(2, -1) @ w.reshape(-1)
    expected = d(masked) + d(bgr) - 2 * d(target) + 2 * gp + 0.5 * float(np.mean(pair**2))
    np.testing.assert_allclose(float(both.discriminator_loss(x)), expected, rtol=1e-4)
    assert both.critic_steps == 5 and both.uses_discriminator


def test_wgan_gp_passes_the_loss_contract() -> None:
    assert np.isfinite(check_loss(SPECS["wgan_gp"], resolution=64))


# -- AAE latent -----------------------------------------------------------------------------------------


def test_aae_latent_passes_the_loss_contract() -> None:
    assert np.isfinite(check_loss(SPECS["aae_latent"], resolution=64))


class _Nets:
    def __init__(self, channels: int) -> None:
        self.encoder = keras.Sequential([keras.Input((16, 16, 3)),
                                         keras.layers.Conv2D(channels, 3, strides=2, padding="same")])


def test_aae_latent_discriminator_is_sized_to_the_encoder_and_round_trips(tmp_path: Path) -> None:
    loss = AaeLatentLoss(AaeLatentConfig(hidden=12, layers=3))
    models = loss.extra_models(_Nets(5))
    assert loss.extra_models(_Nets(5)) == models  # built once
    model = models[0]
    assert model.input_shape == (None, None, None, 5)
    assert len([layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]) == 4
    code = np.random.default_rng(5).normal(size=(2, 8, 8, 5)).astype(np.float32)
    path = tmp_path / "latent.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(np.asarray(reloaded(code)), np.asarray(model(code)), atol=1e-6)
    assert np.asarray(model(code)).shape == (2, 8, 8, 1)


@pytest.mark.parametrize(("prior", "mean_abs", "std"), [("gaussian", None, 2.0), ("uniform", 1.0, None)])
def test_aae_prior_samples(prior: str, mean_abs: float | None, std: float | None) -> None:
    keras.utils.set_random_seed(0)  # the prior's tf.random draws
    loss = AaeLatentLoss(AaeLatentConfig(prior=prior, scale=2.0))
    sample = np.asarray(loss.sample_prior((4000, 8)))
    if std is not None:
        assert abs(sample.std() - std) < 0.05 and abs(sample.mean()) < 0.05
    else:
        assert sample.min() >= -2.0 and sample.max() <= 2.0 and abs(np.abs(sample).mean() - mean_abs) < 0.05


def test_aae_discriminator_learns_to_tell_codes_from_the_prior() -> None:
    """A few Adam steps on the discriminator loss separate shifted codes from N(0, 1) samples."""
    keras.utils.set_random_seed(1)  # the discriminator's initial weights (Keras' own seed) and the prior
    loss = AaeLatentLoss(AaeLatentConfig(hidden=16))
    model = loss.extra_models(_Nets(4))[0]
    code = tf.constant(np.random.default_rng(6).normal(3.0, 0.5, (4, 8, 8, 4)).astype(np.float32))
    x = LossInputs(warped=None, target=None, alpha=None, bgr=None, masked=None, latent=code)
    opt = keras.optimizers.Adam(1e-2)
    first = float(loss.discriminator_loss(x))
    fooled = float(loss.generator_loss(x))
    for _ in range(30):
        with tf.GradientTape() as tape:
            value = loss.discriminator_loss(x)
        opt.apply(tape.gradient(value, model.trainable_variables), model.trainable_variables)
    assert float(loss.discriminator_loss(x)) < 0.5 * first
    # the codes are now recognisably not prior samples: the generator's BCE rose, well past chance (log 2);
    # measured over initial weights from seeds 0–5: 0.02–1.9 before, 3.7–5.2 after
    assert float(loss.generator_loss(x)) > max(fooled, 2.0)
    off = LossInputs(warped=None, target=None, alpha=None, bgr=None, masked=None)
    assert float(loss.generator_loss(off)) == 0.0


# -- side confusion -------------------------------------------------------------------------------------


def test_side_confusion_passes_the_loss_contract() -> None:
    assert np.isfinite(check_loss(SPECS["side_confusion"], resolution=64))


def _codes(side: str, code: Any, other: Any = None) -> LossInputs:
    return LossInputs(warped=None, target=None, alpha=None, bgr=None, masked=None, latent=code, side=side,
                      other_latent=other)


def test_side_confusion_losses_against_hand_computed_values() -> None:
    """With the classifier's last layer zeroed the logit is its bias b: the classifier's loss is
    softplus(−b) for side a and softplus(b) for side b (their mean when the other side's codes come too), the
    encoder's is log(1 + e^b) − b/2 for both (least, log 2, at b = 0)."""
    loss = SideConfusionLoss(SideConfusionConfig(hidden=6))
    model = loss.extra_models(_Nets(3))[0]
    assert loss.extra_models(_Nets(3)) == [model]  # built once
    assert model.input_shape == (None, None, None, 3) and model.output_shape == (None, 1)
    last = model.get_layer("side_logit")
    b = 0.7
    last.set_weights([np.zeros_like(last.get_weights()[0]), np.array([b], np.float32)])
    code = tf.constant(np.random.default_rng(2).normal(size=(4, 8, 8, 3)).astype(np.float32))
    softplus = lambda v: float(np.log1p(np.exp(v)))  # noqa: E731
    assert float(loss.discriminator_loss(_codes("a", code))) == pytest.approx(softplus(-b), rel=1e-6)
    assert float(loss.discriminator_loss(_codes("b", code))) == pytest.approx(softplus(b), rel=1e-6)
    both = (softplus(-b) + softplus(b)) / 2  # with the other side's codes, against the other label
    for side in "ab":
        assert float(loss.discriminator_loss(_codes(side, code, code))) == pytest.approx(both, rel=1e-6)
        assert float(loss.generator_loss(_codes(side, code))) == pytest.approx(softplus(b) - b / 2, rel=1e-6)
    assert float(loss.generator_loss(_codes("a", None))) == 0.0
    with pytest.raises(ValueError, match=r"LossInputs\.side"):
        loss.generator_loss(_codes(None, code))  # type: ignore[arg-type]


def test_side_confusion_classifier_learns_the_sides_and_the_encoder_gradient_undoes_it() -> None:
    """Adam steps on the classifier's loss separate codes of two shifted distributions; one encoder-side
    gradient step on the codes then lowers the confusion loss (it moves them toward each other)."""
    keras.utils.set_random_seed(3)  # the classifier's initial weights
    loss = SideConfusionLoss(SideConfusionConfig(hidden=16))
    model = loss.extra_models(_Nets(4))[0]
    rng = np.random.default_rng(7)
    code_a = tf.Variable(rng.normal(1.0, 0.5, (8, 8, 8, 4)).astype(np.float32))
    code_b = tf.Variable(rng.normal(-1.0, 0.5, (8, 8, 8, 4)).astype(np.float32))
    opt = keras.optimizers.Adam(1e-2)

    def classifier_loss() -> tf.Tensor:
        return (loss.discriminator_loss(_codes("a", code_a, code_b))
                + loss.discriminator_loss(_codes("b", code_b, code_a)))

    first = float(classifier_loss())
    for _ in range(30):
        with tf.GradientTape() as tape:
            value = classifier_loss()
        opt.apply(tape.gradient(value, model.trainable_variables), model.trainable_variables)
    assert float(classifier_loss()) < 0.2 * first  # the sides are told apart

    def confusion() -> tf.Tensor:
        return loss.generator_loss(_codes("a", code_a)) + loss.generator_loss(_codes("b", code_b))

    before = float(confusion())
    assert before > 2.0 * np.log(2.0) + 0.5  # far from confused
    with tf.GradientTape() as tape:
        value = confusion()
    grads = tape.gradient(value, [code_a, code_b])
    gap_before = float(tf.reduce_mean(code_a) - tf.reduce_mean(code_b))
    for var, grad in zip((code_a, code_b), grads, strict=True):
        var.assign_sub(0.5 * grad / (tf.norm(grad) + 1e-12))
    assert float(confusion()) < before
    assert float(tf.reduce_mean(code_a) - tf.reduce_mean(code_b)) < gap_before  # pulled toward each other


# -- configs --------------------------------------------------------------------------------------------


_TOML = """
workdir = "work"
[train.model.attention]
use = "dual_attention"
{attention}
[train.losses.reconstruction]
[train.losses.wgan_gp]
{wgan}
[train.losses.aae_latent]
{aae}
"""


def _load(tmp_path: Path, attention: str = "", wgan: str = "", aae: str = "") -> Any:
    from fswap.catalog import Catalog
    from fswap.config import load_pipeline
    from fswap.plugins import make_plugin_manager

    path = tmp_path / "pipeline.toml"
    path.write_text(_TOML.format(attention=attention, wgan=wgan, aae=aae), encoding="utf-8")
    return load_pipeline(path, catalog=Catalog.from_plugin_manager(make_plugin_manager())).stage("train")


def test_components_are_switched_on_from_toml_with_clear_errors(tmp_path: Path) -> None:
    train = _load(tmp_path, wgan="critic_steps = 3", aae='prior = "uniform"')
    assert train.model.attention.name == "dual_attention"
    assert train.model.attention.provider.distribution == "fswap"
    options = {c.name: c.config for c in train.losses}
    assert options["wgan_gp"].critic_steps == 3 and options["wgan_gp"].gp_lambda == 10.0
    assert options["aae_latent"].prior == "uniform"
    with pytest.raises(ConfigError, match=r"train.losses.wgan_gp.*critic_steps must be ≥ 1, received 0"):
        _load(tmp_path, wgan="critic_steps = 0")
    with pytest.raises(ConfigError, match=r"prior must be one of 'gaussian', 'uniform', received 'laplace'"):
        _load(tmp_path, aae='prior = "laplace"')
    with pytest.raises(ConfigError, match=r"query_block must be ≥ 0"):
        _load(tmp_path, attention="query_block = -1")
