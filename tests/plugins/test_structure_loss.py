"""The `structure` loss: (1 − SSIM) / 2 of the raw output, 0 for a perfect copy, larger for blur than for a
brightness shift that keeps the shapes, and its gradient sharpens a blurred output."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from fswap import api
from fswap.train.loss_api import LossInputs

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
