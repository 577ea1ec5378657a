"""Loss math of the standard loss terms (reference §2) on hand-checkable tensors."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from fswap_standard import loss_config as lc
from fswap_standard import losses as L

from fswap.losses import LossComponent, LossInputs


def _inputs(bgr=None, target=None, alpha=None, warped=None, eye=None, sides=(), disc=None, mixup=0.3, r=8):
    rng = np.random.default_rng(0)
    target = rng.uniform(-1, 1, (2, r, r, 3)).astype("f4") if target is None else target
    bgr = target if bgr is None else bgr
    warped = rng.uniform(-1, 1, (2, r, r, 3)).astype("f4") if warped is None else warped
    alpha = np.full((2, r, r, 1), 0.5, "f4") if alpha is None else alpha
    t = tf.constant
    return LossInputs(warped=t(warped), target=t(target), alpha=t(alpha), bgr=t(bgr),
                      masked=t(alpha * bgr + (1 - alpha) * warped), side_outputs=tuple(t(s) for s in sides),
                      eye_mask=None if eye is None else t(eye), discriminator=disc, mixup=t(mixup))


def _constant_discriminator(value: float, r: int = 8) -> keras.Model:
    inp = keras.Input((r, r, 6))
    out = keras.layers.Conv2D(1, 1, kernel_initializer="zeros",
                              bias_initializer=keras.initializers.Constant(value))(inp)
    return keras.Model(inp, out)


def test_every_term_satisfies_the_protocol_with_reference_weights() -> None:
    terms = {
        L.ReconstructionLoss(lc.ReconstructionConfig()): 1.0, L.EdgeLoss(lc.EdgeConfig()): 0.1,
        L.EyesLoss(lc.EyesConfig()): 30.0, L.MixupLsganLoss(lc.MixupLsganConfig()): 0.1,
        L.RelativisticLsganLoss(lc.RelativisticLsganConfig()): 0.1, L.MaskL1Loss(lc.MaskL1Config()): 1e-2,
        L.MaskHingeLoss(lc.MaskHingeConfig()): 0.1, L.MaskTVLoss(lc.MaskTVConfig()): 0.1,
    }
    for term, weight in terms.items():
        assert isinstance(term, LossComponent)
        assert term.weight == pytest.approx(weight)


def test_reconstruction_is_mean_abs_error_plus_side_outputs() -> None:
    target = np.zeros((2, 8, 8, 3), "f4")
    bgr = np.full((2, 8, 8, 3), 0.5, "f4")
    side = np.full((2, 4, 4, 3), -0.25, "f4")
    x = _inputs(bgr=bgr, target=target, sides=[side])
    assert float(L.ReconstructionLoss(lc.ReconstructionConfig()).generator_loss(x)) == pytest.approx(0.75)
    single = L.ReconstructionLoss(lc.ReconstructionConfig(multiscale=False)).generator_loss(x)
    assert float(single) == pytest.approx(0.5)
    assert float(L.ReconstructionLoss(lc.ReconstructionConfig()).generator_loss(_inputs())) == 0.0


def test_edge_loss_compares_gradient_magnitudes() -> None:
    ramp = np.tile(np.linspace(-1, 1, 8, dtype="f4")[None, :, None], (8, 1, 3))[None].repeat(2, 0)
    # a brightness offset has the same gradients → zero; a flat image misses |d_x| = 2/7 everywhere
    edge = L.EdgeLoss(lc.EdgeConfig())
    assert float(edge.generator_loss(_inputs(bgr=ramp + 0.1, target=ramp))) == pytest.approx(0.0, abs=1e-6)
    flat = np.zeros_like(ramp)
    assert float(edge.generator_loss(_inputs(bgr=flat, target=ramp))) == pytest.approx(2 / 7, rel=1e-5)


def test_eye_term_only_counts_inside_the_mask_and_is_zero_without_masks() -> None:
    target = np.zeros((2, 8, 8, 3), "f4")
    bgr = np.ones((2, 8, 8, 3), "f4")
    eye = np.zeros((2, 8, 8, 1), "f4")
    eye[:, 2:4, 2:4] = 1.0  # 4 of 64 pixels
    term = L.EyesLoss(lc.EyesConfig(edges=False))
    assert float(term.generator_loss(_inputs(bgr=bgr, target=target, eye=eye))) == pytest.approx(4 / 64)
    assert float(term.generator_loss(_inputs(bgr=bgr, target=target))) == 0.0
    with_edges = L.EyesLoss(lc.EyesConfig()).generator_loss(_inputs(bgr=bgr, target=target, eye=eye))
    assert float(with_edges) == pytest.approx(4 / 64)  # constant images: no edge difference


@pytest.mark.parametrize("c", [0.0, 0.4, 1.3])
def test_mixup_lsgan_against_a_constant_discriminator(c: float) -> None:
    x = _inputs(disc=_constant_discriminator(c), mixup=0.3)
    term = L.MixupLsganLoss(lc.MixupLsganConfig())
    assert term.uses_discriminator
    assert float(term.generator_loss(x)) == pytest.approx(2 * (c - 1) ** 2, rel=1e-5, abs=1e-6)
    assert float(term.discriminator_loss(x)) == pytest.approx(2 * (c - 0.3) ** 2, rel=1e-5, abs=1e-6)


@pytest.mark.parametrize("c", [0.0, 0.7])
def test_relativistic_lsgan_against_a_constant_discriminator(c: float) -> None:
    x = _inputs(disc=_constant_discriminator(c))
    term = L.RelativisticLsganLoss(lc.RelativisticLsganConfig())
    # r = f = f2 = c: G = (c−1)² + ½·0 + ½·(−1)²;  D = ½[(c−1)² + c² + (−1)² + 0]
    assert float(term.generator_loss(x)) == pytest.approx((c - 1) ** 2 + 0.5, rel=1e-5)
    assert float(term.discriminator_loss(x)) == pytest.approx(0.5 * ((c - 1) ** 2 + c**2 + 1), rel=1e-5)


def test_discriminator_loss_does_not_reach_the_generator_output() -> None:
    # a discriminator that depends on its input (every pixel weighted 0.05), so the generator's loss has a
    # non-zero gradient with respect to the generator output and the discriminator's loss has none
    inp = keras.Input((8, 8, 6))
    disc = keras.Model(inp, keras.layers.Conv2D(1, 1, kernel_initializer=keras.initializers.Constant(0.05),
                                                bias_initializer=keras.initializers.Constant(0.2))(inp))
    bgr = tf.Variable(np.zeros((2, 8, 8, 3), "f4"))
    term = L.MixupLsganLoss(lc.MixupLsganConfig())
    with tf.GradientTape(persistent=True) as tape:
        base = _inputs()
        x = LossInputs(warped=base.warped, target=base.target, alpha=base.alpha, bgr=bgr * 1.0,
                       masked=base.alpha * bgr + (1 - base.alpha) * base.warped, discriminator=disc,
                       mixup=base.mixup)
        d_loss = term.discriminator_loss(x)
        g_loss = term.generator_loss(x)
    assert tape.gradient(d_loss, bgr) is None
    assert all(float(tf.reduce_max(tf.abs(g))) > 0 for g in tape.gradient(d_loss, disc.trainable_variables))
    g_grad = tape.gradient(g_loss, bgr)
    # masked = α·bgr + …: the gradient reaches every pixel of the generator output (α = 0.5 everywhere)
    assert g_grad is not None and float(tf.reduce_min(tf.abs(g_grad))) > 0


def test_mask_terms() -> None:
    alpha = np.zeros((2, 8, 8, 1), "f4")
    alpha[:, :, 4:] = 1.0  # one vertical edge: |d_x| = 1 on one of 7 columns
    x = _inputs(alpha=alpha)
    assert float(L.MaskL1Loss(lc.MaskL1Config()).generator_loss(x)) == pytest.approx(0.5)
    assert float(L.MaskTVLoss(lc.MaskTVConfig()).generator_loss(x)) == pytest.approx(1 / 7)
    hinge = L.MaskHingeLoss(lc.MaskHingeConfig(margin=0.5))
    assert float(hinge.generator_loss(x)) == pytest.approx(0.25)  # half the pixels 0.5 below the margin
    hinge.mask_margin.assign(0.0)
    assert float(hinge.generator_loss(x)) == 0.0


def test_standard_plugin_registers_the_loss_terms() -> None:
    from fswap import declared

    specs = declared(lc)
    names = {spec.name for spec in specs}
    assert {"reconstruction", "edge", "eyes", "mixup_lsgan", "relativistic_avg_lsgan", "mask_l1",
            "mask_hinge", "mask_tv"} <= names
    for spec in specs:
        cls = spec.load_factory()
        assert isinstance(cls(spec.config()), LossComponent)


def test_cycle_term_runs_through_both_generators() -> None:
    target = np.full((2, 8, 8, 3), 0.5, "f4")
    calls = []

    def other(x: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        calls.append("other")
        return tf.fill(tf.shape(x[..., :1]), 0.2), x - 0.25  # G_Y shifts colours down

    def own(x: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        calls.append("own")
        return tf.fill(tf.shape(x[..., :1]), 0.6), x + 0.15  # G_X shifts them up, not fully back

    base = _inputs(target=target)
    x = LossInputs(warped=base.warped, target=base.target, alpha=base.alpha, bgr=base.bgr, masked=base.masked,
                   generate=own, generate_other=other)
    term = L.CycleLoss(lc.CycleConfig())
    assert term.weight == 10.0
    assert float(term.generator_loss(x)) == pytest.approx(0.1 + 0.1 * 0.4, rel=1e-5)
    assert calls == ["other", "own"]
    assert float(term.generator_loss(_inputs())) == 0.0  # no generators given
