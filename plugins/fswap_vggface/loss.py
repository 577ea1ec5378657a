"""The perceptual loss: Σ_k w_k · MSE(std(φ_k(target)), std(φ_k(x))) with x = λ·bgr + (1−λ)·masked,
φ the frozen backbone's taps and std a per-sample standardisation over H, W, C (reference §2.5)."""

from __future__ import annotations

import logging
from typing import Any

import tensorflow as tf

from fswap.errors import WeightsError
from fswap.losses import LossInputs
from fswap.weights import find_weights
from fswap_vggface.config import VGGFACE_RESNET50, VggFaceLossConfig

log = logging.getLogger("fswap.train")

#: VGGFace2 channel means in BGR order, subtracted from 0–255 images
BGR_MEANS = (91.4953, 103.8827, 131.0912)
INPUT_SIZE = 224
EPSILON = 1e-3


def standardize(features: tf.Tensor) -> tf.Tensor:
    """Per-sample standardisation over H, W, C (the reference's InstanceNormalization(axis=None))."""
    mean, var = tf.nn.moments(features, axes=[1, 2, 3], keepdims=True)
    return (features - mean) / (tf.sqrt(var) + EPSILON)


class ResNetFeatures:
    """VGGFace2 ResNet-50 taps; `weights` None keeps random weights (architecture tests only)."""

    def __init__(self, weights: Any = None, before_activation: bool = False) -> None:
        from fswap_vggface.resnet50 import build_resnet50, feature_model, load_h5_weights

        base = build_resnet50(INPUT_SIZE)
        if weights is not None:
            load_h5_weights(base, weights)
        base.trainable = False
        self.model = feature_model(base, before_activation)

    def __call__(self, bgr: Any) -> list[Any]:
        x = tf.image.resize(bgr, (INPUT_SIZE, INPUT_SIZE), method="bilinear")
        x = (x + 1.0) * 127.5 - tf.constant(BGR_MEANS, dtype=x.dtype)
        return list(self.model(x, training=False))


def make_backbone(config: VggFaceLossConfig) -> tuple[str, Any]:
    """Choose the backbone as configured; 'auto' prefers VGGFace when its weights are available."""
    if config.backbone in ("auto", "vggface_resnet50"):
        try:
            path = find_weights(VGGFACE_RESNET50, config.weights)
        except WeightsError:
            if config.backbone == "vggface_resnet50":
                raise
            log.info("vggface: no VGGFace weights found; using the pretrained MTCNN ONet backbone instead "
                     "(`fswap weights fetch vggface-resnet50` for the reference network)")
        else:
            return "vggface_resnet50", ResNetFeatures(path, config.before_activation)
    from fswap_vggface.onet import OnetFeatures

    return "mtcnn_onet", OnetFeatures()


class VggFacePerceptualLoss:
    """Loss component `vggface` (generator only)."""

    uses_discriminator = False

    def __init__(
        self, config: VggFaceLossConfig, features: Any = None, backbone_name: str | None = None
    ) -> None:
        self.config = config
        self.weight = float(config.weight)
        if features is None:
            backbone_name, features = make_backbone(config)
        self.features = features
        self.backbone_name = backbone_name or "custom"
        log.info("vggface perceptual loss uses the %s backbone", self.backbone_name)

    def generator_loss(self, x: LossInputs) -> tf.Tensor:
        lam = tf.cast(x.mixup, tf.float32)
        fake = lam * x.bgr + (1.0 - lam) * x.masked
        n = tf.shape(x.target)[0]
        feats = self.features(tf.concat([x.target, fake], axis=0))  # one pass for both
        total = tf.constant(0.0)
        for weight, f in zip(self.config.tap_weights, feats, strict=True):
            f = standardize(tf.cast(f, tf.float32))
            total += weight * tf.reduce_mean(tf.square(f[:n] - f[n:]))
        return total

    def discriminator_loss(self, x: LossInputs) -> None:
        return None
