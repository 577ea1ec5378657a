"""fswap_attention: SAGAN self-attention, plain vs query-chunked, γ = 0 at start, serialization."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from fswap_attention.config import ChunkedSelfAttentionConfig, SelfAttentionConfig
from fswap_attention.layers import SelfAttention, SelfAttentionBlock

from fswap.model.layer_checks import check_layer


def _numpy_attention(layer: SelfAttention, x: np.ndarray) -> np.ndarray:
    wq, bq, wk, bk, wv, bv, gamma = (np.asarray(w, np.float64) for w in layer.get_weights())
    n, h, w, c = x.shape
    flat = x.reshape(n, h * w, c).astype(np.float64)
    q, k, v = flat @ wq + bq, flat @ wk + bk, flat @ wv + bv
    s = q @ k.transpose(0, 2, 1)
    p = np.exp(s - s.max(axis=-1, keepdims=True))
    p /= p.sum(axis=-1, keepdims=True)
    return x + gamma[0] * (p @ v).reshape(n, h, w, c)


def _with_gamma(layer: SelfAttention, x: np.ndarray, gamma: float) -> None:
    layer(x)
    weights = layer.get_weights()
    weights[-1] = np.array([gamma], np.float32)
    layer.set_weights(weights)


def test_fresh_block_is_the_identity_and_round_trips() -> None:
    result = check_layer(lambda: SelfAttention(weight_decay=1e-4), (6, 6, 16))
    np.testing.assert_array_equal(result["outputs"][0], result["inputs"])
    layer = result["layer"]
    assert layer.get_weights()[-1].tolist() == [0.0]
    assert layer.count_params() == 2 * (16 * 2 + 2) + (16 * 16 + 16) + 1  # reference SAGAN layout
    assert len(layer.losses) == 3  # L2 on the three projections


def test_matches_a_numpy_reference() -> None:
    x = np.random.default_rng(0).normal(size=(2, 5, 7, 16)).astype(np.float32)
    layer = SelfAttention()
    _with_gamma(layer, x, 0.7)
    np.testing.assert_allclose(np.asarray(layer(x)), _numpy_attention(layer, x), atol=1e-4)


@pytest.mark.parametrize("block", [1, 7, 64, 100, 4096])
def test_chunked_equals_plain(block: int) -> None:
    x = np.random.default_rng(1).normal(size=(2, 16, 16, 32)).astype(np.float32)
    plain = SelfAttention(query_block=0)
    _with_gamma(plain, x, 1.3)
    chunked = SelfAttention(query_block=block)
    chunked(x)
    chunked.set_weights(plain.get_weights())
    np.testing.assert_allclose(np.asarray(chunked(x)), np.asarray(plain(x)), rtol=1e-5, atol=1e-5)


def test_chunked_round_trips_and_keeps_its_block_size() -> None:
    result = check_layer(lambda: SelfAttention(query_block=10), (8, 8, 8))
    assert result["reloaded"].layers[-1].query_block == 10


def test_chunked_gradients_equal_plain() -> None:
    import tensorflow as tf

    x = tf.constant(np.random.default_rng(2).normal(size=(1, 8, 8, 16)).astype(np.float32))
    plain, chunked = SelfAttention(), SelfAttention(query_block=24)
    _with_gamma(plain, x.numpy(), 0.5)
    chunked(x)
    chunked.set_weights(plain.get_weights())
    grads = []
    for layer in (plain, chunked):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.sin(layer(x)))
        grads.append(tape.gradient(loss, [w.value for w in layer.trainable_weights]))
    for a, b in zip(*grads, strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=1e-5)


def test_block_factories_follow_their_config() -> None:
    plain = SelfAttentionBlock(SelfAttentionConfig())(64, name="sa", weight_decay=1e-4)
    chunked = SelfAttentionBlock(ChunkedSelfAttentionConfig(query_block=256))(64, name="csa")
    assert (plain.query_block, plain.weight_decay, plain.name) == (0, 1e-4, "sa")
    assert (chunked.query_block, chunked.weight_decay) == (256, 0.0)


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_softmax_stays_finite(policy: str) -> None:
    keras.config.set_dtype_policy(policy)
    try:
        layer = SelfAttention(query_block=32)
        x = np.random.default_rng(3).normal(size=(1, 8, 8, 16)).astype(np.float32) * 30
        layer(x)
        weights = layer.get_weights()
        weights[-1] = np.array([1.0], np.float32)
        layer.set_weights(weights)
        y = np.asarray(layer(x), dtype=np.float32)
        assert layer.compute_dtype in ("float16", "bfloat16")
        assert np.all(np.isfinite(y))
    finally:
        keras.config.set_dtype_policy("float32")


def test_recomputed_blocks_give_the_same_gradients_inside_tf_function() -> None:
    import tensorflow as tf

    x = tf.constant(np.random.default_rng(4).normal(size=(2, 8, 8, 16)).astype(np.float32))
    plain, recomputed = SelfAttention(), SelfAttention(query_block=16, recompute=True)
    _with_gamma(plain, x.numpy(), 0.9)
    recomputed(x)
    recomputed.set_weights(plain.get_weights())

    def grads(layer: SelfAttention) -> list:
        @tf.function
        def step(t: tf.Tensor) -> list:
            with tf.GradientTape() as tape:
                tape.watch(t)
                loss = tf.reduce_sum(tf.sin(layer(t)))
            return tape.gradient(loss, [t, *[w.value for w in layer.trainable_weights]])

        return step(x)

    expected, actual = [g.numpy() for g in grads(plain)], [g.numpy() for g in grads(recomputed)]
    # Each gradient is a float32 sum over the 2048 outputs, reassociated differently by the blocked form:
    # its rounding error is about eps·√2048·scale ≈ 5e-6·scale, where scale is the size of the gradients.
    # Some entries are mathematically zero (softmax ignores the key bias), so they hold only that noise and
    # need the absolute bound; the other entries must agree to 1e-4 relative.
    scale = max(float(np.abs(g).max()) for g in expected)
    assert scale > 10.0, scale  # ≈ 115 here
    for a, b in zip(expected, actual, strict=True):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5 * scale)
    assert SelfAttention.from_config(recomputed.get_config()).recompute is True


def test_automatic_block_choice() -> None:
    from fswap_attention.layers import AUTO_BLOCK, AUTO_MAX_PLAIN, effective_block

    assert effective_block(0, AUTO_MAX_PLAIN) == 0  # small maps: one plain N×N product
    assert effective_block(0, 4096) == AUTO_BLOCK  # the decoder's 64×64 site: blocked
    assert effective_block(0, -1) == 0  # unknown size: plain
    assert effective_block(300, 4096) == 300  # an explicit block is kept
    assert effective_block(4096, 4096) == 0  # a block ≥ N forces plain


def test_automatic_blocks_at_64x64_equal_plain_outputs_and_gradients() -> None:
    import tensorflow as tf

    x = tf.constant(np.random.default_rng(5).normal(size=(2, 64, 64, 16)).astype(np.float32))
    plain, auto = SelfAttention(query_block=64 * 64), SelfAttention()
    _with_gamma(plain, x.numpy(), 0.8)
    auto(x)
    auto.set_weights(plain.get_weights())
    outputs, grads = [], []
    for layer in (plain, auto):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x)
            loss = tf.reduce_sum(tf.sin(y))
        outputs.append(y.numpy())
        grads.append(tape.gradient(loss, [x, *[w.value for w in layer.trainable_weights]]))
    np.testing.assert_allclose(outputs[1], outputs[0], rtol=1e-5, atol=1e-5)
    # the key bias's true gradient is 0 (softmax ignores a per-row shift): its float32 value is round-off,
    # so differences are judged against the largest gradient (~1e3 here), not elementwise
    scale = max(float(np.abs(g.numpy()).max()) for g in grads[0])
    for a, b in zip(*grads, strict=True):
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-4, atol=1e-6 * scale)


@pytest.mark.parametrize("policy", ["float32", "mixed_bfloat16"])
def test_automatic_blocks_inside_a_model_round_trip(policy: str) -> None:
    keras.config.set_dtype_policy(policy)
    try:
        result = check_layer(lambda: SelfAttention(), (64, 64, 8), batch=2)
        assert result["reloaded"].layers[-1].query_block == 0
        assert all(np.all(np.isfinite(np.asarray(o, np.float32))) for o in result["outputs"])
    finally:
        keras.config.set_dtype_policy("float32")
