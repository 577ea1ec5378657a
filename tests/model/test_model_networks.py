"""Every normalization/attention/upsampling option builds at 64/128/256, runs and round-trips .keras."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest

from fswap.model.config import ModelConfig
from fswap.model.io import load_networks, save_networks
from fswap.model.networks import Networks, build_networks

NORMALIZATIONS = ["none", "batch", "instance", "layer", "group", "per_sample", "hybrid", "spade"]
ATTENTIONS = ["self_attention", "chunked_self_attention", "none"]
UPSAMPLINGS = ["pixel_shuffle", "nearest"]
RESOLUTIONS = [64, 128, pytest.param(256, marks=pytest.mark.slow)]


def _inputs(networks: Networks, batch: int = 2, seed: int = 0) -> tuple[Any, np.ndarray]:
    r = networks.resolution
    rng = np.random.default_rng(seed)
    face = rng.uniform(-1, 1, (batch, r, r, 3)).astype(np.float32)
    if networks.condition_channels:
        cond = (rng.random((batch, r, r, networks.condition_channels)) > 0.5).astype(np.float32)
        return [face, cond], face
    return face, face


def _run(networks: Networks) -> dict[str, list[np.ndarray]]:
    """Outputs of both decoders (on one encoding) and discriminator A on fixed inputs (inference mode)."""
    feed, face = _inputs(networks)
    latent = networks.encoder(face, training=False)
    out: dict[str, list[np.ndarray]] = {}
    for side in ("a", "b"):
        dec_in = [latent, keras.ops.convert_to_tensor(feed[1])] if networks.condition_channels else latent
        g = networks.decoders[side](dec_in, training=False)
        out[f"g_{side}"] = [np.asarray(g["abgr"]), *[np.asarray(s) for s in g["side_outputs"]]]
    pair = np.concatenate([face[::-1], face], axis=-1)
    out["d_a"] = [np.asarray(networks.discriminators["a"](pair, training=False))]
    return out


def _check_shapes(networks: Networks, outputs: dict[str, list[np.ndarray]]) -> None:
    r = networks.resolution
    abgr, *sides = outputs["g_a"]
    assert abgr.shape == (2, r, r, 4) and abgr.dtype == np.float32
    assert abgr[..., 0].min() >= 0.0 and abgr[..., 0].max() <= 1.0  # alpha: sigmoid
    assert abgr[..., 1:].min() >= -1.0 and abgr[..., 1:].max() <= 1.0  # BGR: tanh
    assert [s.shape for s in sides] == [(2, 64 * 2**i, 64 * 2**i, 3) for i in range(len(sides))]
    assert len(sides) == {64: 0, 128: 1, 256: 2}[r]
    assert outputs["d_a"][0].shape == (2, 8, 8, 1)
    assert all(np.all(np.isfinite(o)) for outs in outputs.values() for o in outs)
    assert not np.allclose(outputs["g_a"][0], outputs["g_b"][0])  # separate decoders


def _round_trip(networks: Networks, config: ModelConfig, folder: Path) -> dict[str, Any]:
    before = _run(networks)
    _check_shapes(networks, before)
    save_networks(networks, folder, config)
    loaded, metadata = load_networks(folder)
    after = _run(loaded)
    for key, outs in before.items():
        for a, b in zip(outs, after[key], strict=True):
            np.testing.assert_array_equal(a, b, err_msg=f"{key} differs after .keras save/load")
    for name, model in networks.all().items():
        assert loaded.all()[name].count_params() == model.count_params()
        assert metadata["parameters"][name] == model.count_params()
    return metadata


def _combinations() -> list[tuple[str, str, str, str]]:
    """Every normalization once, with attention, upsampling and capacity cycling, so each option of
    each kind is covered at every resolution in 8 builds instead of 13."""
    capacities = {"pixel_shuffle": "standard", "nearest": "lite"}
    return [(norm, ATTENTIONS[i % 3], UPSAMPLINGS[i % 2], capacities[UPSAMPLINGS[i % 2]])
            for i, norm in enumerate(NORMALIZATIONS)]


def test_combinations_cover_every_option() -> None:
    combos = _combinations()
    assert {c[0] for c in combos} == set(NORMALIZATIONS)
    assert {c[1] for c in combos} == set(ATTENTIONS)
    assert {c[2] for c in combos} == set(UPSAMPLINGS)
    assert {c[3] for c in combos} == {"standard", "lite"}


@pytest.mark.parametrize("resolution", RESOLUTIONS)
@pytest.mark.parametrize(("norm", "attention", "upsampling", "capacity"), _combinations(),
                         ids=["-".join(c) for c in _combinations()])
def test_option_builds_runs_and_round_trips(
    make_config: Callable[..., ModelConfig], tmp_path: Path, norm: str, attention: str, upsampling: str,
    capacity: str, resolution: int,
) -> None:
    table: dict[str, Any] = {"resolution": resolution, "normalization": norm, "attention": attention,
                             "upsampling": upsampling, "capacity": capacity, "width_divisor": 32}
    if norm == "spade":
        table["normalization"] = {"use": "spade", "hidden": 8}
    config = make_config(**table)
    networks = build_networks(config)
    metadata = _round_trip(networks, config, tmp_path / "model")
    assert {k: metadata["components"][k]["name"] for k in ("normalization", "attention", "upsampling")} == \
        {"normalization": norm, "attention": attention, "upsampling": upsampling}
    assert (metadata["resolution"], metadata["capacity"]) == (resolution, capacity)
    assert networks.condition_channels == (1 if norm == "spade" else 0)
    kinds = [type(layer).__name__ for m in networks.all().values() for layer in m.layers]
    extra_d_blocks = {64: 0, 128: 1, 256: 2}[resolution]
    attention_sites = 2 + 2 * 2 + 2 * (1 + extra_d_blocks)  # encoder, decoders, discriminators
    assert kinds.count("SelfAttention") == (0 if attention == "none" else attention_sites)
    assert ("PixelShuffle" in kinds) == (upsampling == "pixel_shuffle")
    assert ("UpSampling2D" in kinds) == (upsampling == "nearest")
    assert ("Spade" in kinds) == (norm == "spade")


def test_chunked_attention_model_equals_plain(make_config: Callable[..., ModelConfig]) -> None:
    plain = build_networks(make_config(attention="self_attention"))
    chunked = build_networks(make_config(attention={"use": "chunked_self_attention", "query_block": 300}))
    for name, model in plain.all().items():
        chunked.all()[name].set_weights(model.get_weights())
    # γ = 0 at init makes attention the identity; give it weight so the comparison means something
    for nets in (plain, chunked):
        for model in nets.all().values():
            for layer in model.layers:
                if type(layer).__name__ == "SelfAttention":
                    layer.gamma.assign(np.array([0.8], np.float32))
    a, b = _run(plain), _run(chunked)
    for key in a:
        for x, y in zip(a[key], b[key], strict=True):
            np.testing.assert_allclose(x, y, rtol=1e-4, atol=1e-5)


def test_reference_structure_and_regularisation(make_config: Callable[..., ModelConfig]) -> None:
    networks = build_networks(make_config(resolution=128, capacity="standard", width_divisor=16))
    enc, dec, disc = networks.encoder, networks.decoders["a"], networks.discriminators["a"]
    assert tuple(enc.outputs[0].shape) == (None, 8, 8, 512 // 16)
    assert tuple(dec.inputs[0].shape) == (None, 8, 8, 512 // 16)
    assert tuple(disc.inputs[0].shape) == (None, 128, 128, 6)
    assert enc.get_layer("stem").kernel_regularizer is None  # first 5×5 conv: no L2
    assert enc.get_layer("conv1").kernel_regularizer is not None
    assert enc.get_layer("conv1").use_bias is False
    assert enc.get_layer("latent").units == 1024 // 16
    assert dec.get_layer("alpha").activation.__name__ == "sigmoid"
    assert dec.get_layer("bgr").activation.__name__ == "tanh"
    assert disc.get_layer("patches").activation.__name__ == "linear"
    # first conv block never normalises (†), the next ones do
    names = [layer.name for layer in enc.layers]
    assert "conv1_norm" not in names and "conv2_norm" in names
    assert len(enc.losses) > 0 and len(dec.losses) > 0 and len(disc.losses) > 0


@pytest.mark.parametrize(("policy", "table"), [
    ("mixed_bfloat16", {}),
    ("mixed_float16", {"normalization": {"use": "spade", "hidden": 4}, "upsampling": "nearest",
                       "attention": "chunked_self_attention"}),
])
def test_mixed_precision_keeps_float32_outputs(make_config: Callable[..., ModelConfig], policy: str,
                                               table: dict) -> None:
    keras.config.set_dtype_policy(policy)
    networks = build_networks(make_config(resolution=128, width_divisor=32, **table))
    outputs = _run(networks)
    assert outputs["g_a"][0].dtype == np.float32 and outputs["d_a"][0].dtype == np.float32
    assert all(np.all(np.isfinite(o)) for outs in outputs.values() for o in outs)
    conv = networks.encoder.get_layer("conv2")
    assert conv.compute_dtype == policy.removeprefix("mixed_") and conv.variable_dtype == "float32"
    assert networks.decoders["a"].get_layer("abgr").compute_dtype == "float32"


def test_recomputing_chunked_attention_trains_in_a_model(make_config: Callable[..., ModelConfig],
                                                         tmp_path: Path) -> None:
    import tensorflow as tf

    config = make_config(width_divisor=32,
                         attention={"use": "chunked_self_attention", "query_block": 512, "recompute": True})
    networks = build_networks(config)
    gen = networks.generator("a")
    face = tf.constant(np.random.default_rng(0).uniform(-1, 1, (2, 64, 64, 3)).astype(np.float32))

    @tf.function
    def step() -> list:
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.abs(gen(face, training=True)["abgr"]))
        return tape.gradient(loss, gen.trainable_variables)

    grads = step()
    assert all(g is not None for g in grads)
    assert all(bool(tf.reduce_all(tf.math.is_finite(g))) for g in grads)
    _round_trip(networks, config, tmp_path / "model")
