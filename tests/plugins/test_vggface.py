"""fswap_vggface: ResNet-50 architecture and HDF5 loading (random weights), loss math, ONet backbone."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest
import tensorflow as tf
from fswap_vggface.config import VggFaceLossConfig

from fswap.errors import WeightsError
from fswap.losses import LossComponent, LossInputs

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def resnet() -> tf.keras.Model:
    from fswap_vggface.resnet50 import build_resnet50

    tf.keras.utils.set_random_seed(0)
    return build_resnet50()


def _write_keras2_h5(model: tf.keras.Model, path: Path) -> None:
    """Store weights the way Keras 2 `save_weights` did: a group per layer with `weight_names`."""
    with h5py.File(path, "w") as fh:
        names = []
        for layer in model.layers:
            if not layer.weights:
                continue
            stored = layer.name.replace("__", "/")
            names.append(stored.encode())
            group = fh.create_group(stored)
            wnames = [f"{stored}/w{i}:0".encode() for i in range(len(layer.weights))]
            group.attrs["weight_names"] = wnames
            for wname, var in zip(wnames, layer.weights, strict=True):
                group.create_dataset(wname.decode(), data=var.numpy())
        fh.attrs["layer_names"] = names


def test_architecture_matches_vggface_resnet50(resnet: tf.keras.Model) -> None:
    from fswap_vggface.resnet50 import feature_model

    assert resnet.count_params() == 23_561_152  # ResNet-50 convolutional part, bias-free convs
    assert resnet.get_layer("conv1__7x7_s2").kernel.shape == (7, 7, 3, 64)
    shapes = [tuple(o.shape[1:]) for o in feature_model(resnet).outputs]
    assert shapes == [(7, 7, 2048), (28, 28, 512), (55, 55, 256), (112, 112, 64)]
    before = [tuple(o.shape[1:]) for o in feature_model(resnet, before_activation=True).outputs]
    assert before == [(7, 7, 2048), (28, 28, 512), (55, 55, 256), (55, 55, 256)]


def test_hdf5_weights_load_by_layer_name(resnet: tf.keras.Model, tmp_path: Path) -> None:
    from fswap_vggface.resnet50 import build_resnet50, load_h5_weights

    path = tmp_path / "w.h5"
    _write_keras2_h5(resnet, path)
    tf.keras.utils.set_random_seed(1)
    other = build_resnet50()
    x = np.random.default_rng(0).normal(size=(1, 224, 224, 3)).astype("f4") * 50
    assert not np.allclose(other(x), resnet(x))
    assert load_h5_weights(other, path) == sum(1 for layer in resnet.layers if layer.weights)
    np.testing.assert_allclose(other(x), resnet(x), rtol=1e-4, atol=1e-4)

    with h5py.File(path, "a") as fh:
        del fh["conv5_3_3x3"]
    with pytest.raises(WeightsError, match="conv5_3_3x3"):
        load_h5_weights(other, path)


def _inputs(target: np.ndarray, bgr: np.ndarray, masked: np.ndarray, mixup: float) -> LossInputs:
    t = tf.constant
    alpha = np.full((*target.shape[:3], 1), 0.5, "f4")
    return LossInputs(warped=t(target), target=t(target), alpha=t(alpha), bgr=t(bgr), masked=t(masked),
                      mixup=t(mixup))


def test_loss_math_with_known_features() -> None:
    from fswap_vggface.loss import VggFacePerceptualLoss, standardize

    def taps(x: tf.Tensor) -> list[tf.Tensor]:  # four "feature maps" of different sizes
        return [x[:, ::8, ::8], x[:, ::4, ::4], x[:, ::2, ::2], x]

    cfg = VggFaceLossConfig(tap_weights=(0.01, 0.1, 0.3, 0.1))
    loss = VggFacePerceptualLoss(cfg, features=taps, backbone_name="test")
    assert isinstance(loss, LossComponent) and loss.backbone_name == "test"
    rng = np.random.default_rng(0)
    target = rng.uniform(-1, 1, (2, 16, 16, 3)).astype("f4")
    other = rng.uniform(-1, 1, (2, 16, 16, 3)).astype("f4")
    assert float(loss.generator_loss(_inputs(target, target, target, 0.3))) == pytest.approx(0.0, abs=1e-6)
    # λ = 1 uses only the raw output; λ = 0 only the masked one
    assert float(loss.generator_loss(_inputs(target, target, other, 1.0))) == pytest.approx(0.0, abs=1e-6)
    value = float(loss.generator_loss(_inputs(target, other, target, 1.0)))
    expected = sum(
        w * float(tf.reduce_mean(tf.square(standardize(a) - standardize(b))))
        for w, a, b in zip(cfg.tap_weights, taps(tf.constant(target)), taps(tf.constant(other)), strict=True)
    )
    assert value == pytest.approx(expected, rel=1e-5) and value > 0
    # standardisation: a per-sample brightness/contrast change costs nothing
    assert float(loss.generator_loss(_inputs(target, target * 0.5 + 0.2, target, 1.0))) == pytest.approx(
        0.0, abs=1e-4)


def test_random_resnet_backbone_gives_gradients() -> None:
    from fswap_vggface.loss import ResNetFeatures, VggFacePerceptualLoss

    loss = VggFacePerceptualLoss(VggFaceLossConfig(), features=ResNetFeatures(None), backbone_name="random")
    rng = np.random.default_rng(1)
    target = rng.uniform(-1, 1, (1, 32, 32, 3)).astype("f4")
    bgr = tf.Variable(rng.uniform(-1, 1, (1, 32, 32, 3)).astype("f4"))
    with tf.GradientTape() as tape:
        value = loss.generator_loss(_inputs(target, bgr * 1.0, target, 0.5))
    grad = tape.gradient(value, bgr)
    assert float(value) > 0 and float(tf.reduce_sum(tf.abs(grad))) > 0


def test_onet_backbone_is_pretrained_and_differentiable() -> None:
    from fswap_vggface.loss import VggFacePerceptualLoss
    from fswap_vggface.onet import OnetFeatures
    from mtcnn.network.onet import ONet

    features = OnetFeatures()
    fresh = ONet()
    fresh.build()
    assert not np.allclose(features.net.conv1.kernel.numpy(), fresh.conv1.kernel.numpy())
    from fswap.samples import public_domain_face

    crop = public_domain_face("astronaut")[60:200, 150:300][None].astype("f4")
    face = tf.image.resize(crop / 127.5 - 1, (64, 64))
    loss = VggFacePerceptualLoss(VggFaceLossConfig(backbone="mtcnn_onet"))
    assert loss.backbone_name == "mtcnn_onet"
    noisy = tf.Variable(face + tf.random.stateless_normal(face.shape, (1, 2)) * 0.3)
    with tf.GradientTape() as tape:
        value = loss.generator_loss(_inputs(face.numpy(), noisy * 1.0, face.numpy(), 1.0))
    assert float(value) > 0
    assert float(tf.reduce_sum(tf.abs(tape.gradient(value, noisy)))) > 0


def test_backbone_choice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, resnet: tf.keras.Model) -> None:
    from fswap_vggface.loss import VggFacePerceptualLoss, make_backbone

    monkeypatch.setenv("FSWAP_CACHE_DIR", str(tmp_path / "cache"))
    assert make_backbone(VggFaceLossConfig())[0] == "mtcnn_onet"  # auto without weights
    with pytest.raises(WeightsError, match="fswap weights fetch vggface-resnet50"):
        make_backbone(VggFaceLossConfig(backbone="vggface_resnet50"))
    path = tmp_path / "vggface.h5"
    _write_keras2_h5(resnet, path)
    loss = VggFacePerceptualLoss(VggFaceLossConfig(weights=path))
    assert loss.backbone_name == "vggface_resnet50"
    conv = loss.features.model.get_layer("conv1__7x7_s2")
    np.testing.assert_array_equal(conv.kernel.numpy(), resnet.get_layer("conv1__7x7_s2").kernel.numpy())


def test_plugin_registers_loss_and_weights() -> None:
    import fswap_vggface

    (spec,) = fswap_vggface.fswap_register_components()
    assert spec.name == "vggface" and spec.config is VggFaceLossConfig
    (weights,) = fswap_vggface.fswap_register_weights()
    assert weights.name == "vggface-resnet50" and weights.url.startswith("https://")
    assert "non-commercial" in weights.licence


def test_perceptual_term_trains_inside_the_compiled_step_with_a_frozen_backbone() -> None:
    from fswap_vggface.loss import VggFacePerceptualLoss

    from fswap.train.step import TrainStep
    from fswap.train.toys import TinyNetworks

    loss = VggFacePerceptualLoss(VggFaceLossConfig(backbone="mtcnn_onet"))
    step = TrainStep(TinyNetworks(seed=0), {"vggface": loss}, lr_generator=1e-3)
    rng = np.random.default_rng(0)
    one = [rng.uniform(-1, 1, (4, 32, 32, 3)).astype("f4"), rng.uniform(-1, 1, (4, 32, 32, 3)).astype("f4"),
           rng.uniform(0, 1, (4, 32, 32, 1)).astype("f4")]
    frozen = loss.features.net.conv1.kernel.numpy().copy()
    values = [float(step(one * 2, 0.3)["a/vggface"]) for _ in range(4)]
    assert values[-1] < values[0]
    np.testing.assert_array_equal(frozen, loss.features.net.conv1.kernel.numpy())
