"""The `structure` loss: (1 − SSIM) / 2 of the raw output, 0 for a perfect copy, larger for blur than for a
brightness shift that keeps the shapes, and its gradient sharpens a blurred output."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from fswap import api
from fswap.losses import LossInputs

pytestmark = pytest.mark.slow


def _inputs(bgr: Any, target: Any) -> LossInputs:
    import tensorflow as tf

    zeros = tf.zeros_like(target)
    return LossInputs(warped=zeros, target=tf.constant(target), alpha=zeros[..., :1], bgr=bgr,
                      masked=bgr, side_outputs=(), eye_mask=None, discriminator=None, mixup=0.5)


def _face() -> np.ndarray:
    import cv2

    from fswap.testing import sample_aligned_face

    face = cv2.resize(sample_aligned_face("astronaut").image, (64, 64), interpolation=cv2.INTER_AREA)
    return (face[None].astype(np.float32) / 127.5 - 1.0).astype(np.float32)


def test_zero_for_a_copy_and_blur_costs_more_than_a_brightness_shift() -> None:
    import cv2
    import tensorflow as tf

    loss = api.build("loss", "structure")
    assert loss.weight == 1.0 and not loss.uses_discriminator
    target = _face()
    blurred = cv2.GaussianBlur(target[0], (0, 0), 2.0)[None]
    brighter = np.clip(target + 0.1, -1.0, 1.0)
    copy = float(loss.generator_loss(_inputs(tf.constant(target), target)))
    blur = float(loss.generator_loss(_inputs(tf.constant(blurred), target)))
    shift = float(loss.generator_loss(_inputs(tf.constant(brighter), target)))
    assert copy == pytest.approx(0.0, abs=1e-6)
    assert blur > 2 * shift > 0.0
    assert loss.discriminator_loss(_inputs(tf.constant(target), target)) is None


def test_its_gradient_sharpens_a_blurred_output() -> None:
    import cv2
    import tensorflow as tf

    loss = api.build("loss", "structure", window=7)
    target = _face()
    out = tf.Variable(cv2.GaussianBlur(target[0], (0, 0), 2.0)[None])
    opt = tf.keras.optimizers.Adam(0.01)
    start = float(loss.generator_loss(_inputs(out, target)))
    for _ in range(30):
        with tf.GradientTape() as tape:
            value = loss.generator_loss(_inputs(out, target))
        opt.apply_gradients([(tape.gradient(value, out), out)])
    assert float(loss.generator_loss(_inputs(out, target))) < 0.5 * start


@pytest.mark.parametrize("size", [7, 11])
def test_the_separable_window_computes_tensorflows_ssim_and_its_gradient(size: int) -> None:
    import tensorflow as tf
    from fswap_standard.ssim_loss import separable_ssim

    rng = np.random.default_rng(size)
    x = tf.constant(rng.random((4, 64, 64, 3), np.float32))
    # a target related to x, so SSIM is far from 0 and the gradient is not trivial
    y = tf.constant(np.clip(x.numpy() * 0.7 + 0.3 * rng.random((4, 64, 64, 3), np.float32), 0.0, 1.0))
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        ours = separable_ssim(x, y, size)
        theirs = tf.image.ssim(x, y, max_val=1.0, filter_size=size, filter_sigma=1.5)
    # float32 sums of a few hundred terms of size ~1, in another order: a few 1e-7 apart, SSIM ~0.5
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), atol=2e-6)
    ours_grad = tape.gradient(ours, x).numpy()
    theirs_grad = tape.gradient(theirs, x).numpy()
    # each gradient element sums ~size² products that cancel: float32 keeps ~1e-6 of the largest ones, so
    # the bound is relative to the largest gradient (measured: 1.3e-6 of it at most)
    np.testing.assert_allclose(ours_grad, theirs_grad, atol=1e-5 * float(np.abs(theirs_grad).max()))
