"""The standard model layers and block factories: maths, serialization, initialisation."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from fswap_standard.model_config import (
    BatchNormConfig,
    EpsilonConfig,
    GroupNormConfig,
    HybridNormConfig,
    NearestConfig,
    PixelShuffleConfig,
)
from fswap_standard.norms import (
    BatchNorm,
    GroupNorm,
    HybridNorm,
    HybridNormalization,
    InstanceNorm,
    LayerNorm,
    NoNormalization,
    PerSampleNorm,
    PerSampleNormalization,
)
from fswap_standard.upsampling import (
    ICNR,
    NearestUpsampling,
    PixelShuffle,
    PixelShuffleUpsampling,
    ReflectionPad2D,
)

from fswap.model.layer_checks import check_layer


def test_per_sample_normalization_matches_numpy() -> None:
    result = check_layer(lambda: PerSampleNormalization(epsilon=1e-3), (6, 5, 4), atol=1e-6)
    x, y = result["inputs"], result["outputs"][0]
    mean = x.mean(axis=(1, 2, 3), keepdims=True)
    std = x.std(axis=(1, 2, 3), keepdims=True)
    np.testing.assert_allclose(y, (x - mean) / (std + 1e-3), atol=1e-5)
    assert result["layer"].count_params() == 2  # scalar γ and β


def test_hybrid_normalization_splits_channels() -> None:
    result = check_layer(lambda: HybridNormalization(split=3, weight_decay=1e-4), (4, 4, 8))
    layer, x, y = result["layer"], result["inputs"], result["outputs"][0]
    kernel, bias, _gamma, _beta = layer.get_weights()
    np.testing.assert_allclose(y[..., :3], x[..., :3] @ kernel + bias, atol=1e-5)
    tail = x[..., 3:]
    mean, std = tail.mean(axis=(1, 2, 3), keepdims=True), tail.std(axis=(1, 2, 3), keepdims=True)
    np.testing.assert_allclose(y[..., 3:], (tail - mean) / (std + 1e-3), atol=1e-5)
    assert len(layer.losses) == 1  # the 1×1 conv's L2


def test_hybrid_factory_uses_the_nominal_width_inside_upsamplers() -> None:
    norm = HybridNorm(HybridNormConfig())
    assert norm(16, name="a").split == 8
    assert norm(64, name="b", base_channels=16).split == 8  # 4f channels, split at f/2 like the reference
    assert isinstance(norm(1, name="c"), PerSampleNormalization)  # nothing to split


def test_group_norm_reduces_groups_to_a_divisor() -> None:
    assert GroupNorm(GroupNormConfig(groups=16))(24, name="g").groups == 8
    assert GroupNorm(GroupNormConfig(groups=16))(64, name="h").groups == 16


@pytest.mark.parametrize(
    "factory",
    [BatchNorm(BatchNormConfig()), InstanceNorm(EpsilonConfig()), LayerNorm(EpsilonConfig()),
     GroupNorm(GroupNormConfig()), PerSampleNorm(EpsilonConfig()), HybridNorm(HybridNormConfig())],
    ids=["batch", "instance", "layer", "group", "per_sample", "hybrid"],
)
def test_every_normalization_layer_round_trips(factory: object) -> None:
    check_layer(lambda: factory(32, name="norm"), (4, 4, 32), expected_output_shape=(4, 4, 32))


def test_no_normalization_makes_no_layer() -> None:
    assert NoNormalization(None)(8, name="n") is None


def test_instance_norm_is_per_channel() -> None:
    layer = InstanceNorm(EpsilonConfig(epsilon=1e-6))(3, name="inst")
    x = np.random.default_rng(1).normal(size=(2, 5, 5, 3)).astype(np.float32) * [1.0, 10.0, 100.0]
    y = np.asarray(layer(x))
    np.testing.assert_allclose(y.mean(axis=(1, 2)), 0.0, atol=1e-4)
    np.testing.assert_allclose(y.std(axis=(1, 2)), 1.0, atol=1e-3)


def test_pixel_shuffle_equals_depth_to_space() -> None:
    result = check_layer(lambda: PixelShuffle(2), (3, 5, 8), expected_output_shape=(6, 10, 2))
    np.testing.assert_array_equal(result["outputs"][0], tf.nn.depth_to_space(result["inputs"], 2).numpy())


def test_icnr_gives_identical_subpixels_after_the_shuffle() -> None:
    kernel = np.asarray(ICNR(scale=2, stddev=0.02, seed=3)((3, 3, 5, 16)))
    x = np.random.default_rng(0).normal(size=(1, 6, 6, 5)).astype(np.float32)
    conv = tf.nn.conv2d(x, kernel, 1, "SAME")
    up = tf.nn.depth_to_space(conv, 2).numpy()[0]
    blocks = up.reshape(6, 2, 6, 2, 4)
    for dy in range(2):
        for dx in range(2):
            np.testing.assert_allclose(blocks[:, dy, :, dx], blocks[:, 0, :, 0], atol=1e-6)
    assert 0.01 < kernel.std() < 0.03
    assert ICNR.from_config(ICNR(stddev=0.05).get_config()).stddev == 0.05


def test_reflection_pad() -> None:
    result = check_layer(lambda: ReflectionPad2D(1), (4, 4, 2), expected_output_shape=(6, 6, 2))
    x, y = result["inputs"], result["outputs"][0]
    np.testing.assert_array_equal(y, np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)), mode="reflect"))


@pytest.mark.parametrize("upsampling", [PixelShuffleUpsampling(PixelShuffleConfig()),
                                        NearestUpsampling(NearestConfig())], ids=["pixel_shuffle", "nearest"])
@pytest.mark.parametrize("norm", [NoNormalization(None), HybridNorm(HybridNormConfig())],
                         ids=["none", "hybrid"])
def test_upsampling_blocks_double_the_size(upsampling: object, norm: object) -> None:
    import keras

    layers = upsampling(6, name="up", normalization=norm, weight_decay=1e-4)
    x = inp = keras.Input((8, 8, 12))
    for layer in layers:
        x = layer(x)
    assert tuple(x.shape) == (None, 16, 16, 6)
    model = keras.Model(inp, x)
    assert len(model.losses) >= 1  # L2 on the conv kernel
    names = [layer.name for layer in layers]
    assert len(set(names)) == len(names) and all(n.startswith("up_") for n in names)


def test_pixel_shuffle_upsampling_reference_parameter_count() -> None:
    import keras

    # reference upscale_ps(f=256) on 512 channels: Conv3×3 512→1024 with bias
    layers = PixelShuffleUpsampling(PixelShuffleConfig())(256, name="u", normalization=NoNormalization(None))
    x = inp = keras.Input((8, 8, 512))
    for layer in layers:
        x = layer(x)
    assert keras.Model(inp, x).count_params() == 512 * 9 * 1024 + 1024
