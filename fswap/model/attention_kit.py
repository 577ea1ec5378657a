"""The query/key/value projections and the softmax attention that self-attention layers share (SAGAN in
fswap_attention, DANet's position attention in fswap_research); public for plugins that add others.

Weights are created on the layer itself with fixed names (query_kernel, query_bias, key_kernel, key_bias,
value_kernel, value_bias, gamma), so layers built from them save and reload like hand-written ones.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops


def add_projection_weights(layer: keras.layers.Layer, channels: int, key_ratio: int,
                           weight_decay: float) -> None:
    """On `layer`: 1×1 projections to channels // key_ratio (query, key) and to channels (value), and the
    0-initialised output scale `gamma` (so a fresh block is the identity). L2 `weight_decay` on kernels."""
    inner = max(1, channels // key_ratio)
    reg = keras.regularizers.L2(weight_decay) if weight_decay else None

    def weight(name: str, shape: tuple[int, ...], init: str, regularizer: Any = None) -> Any:
        return layer.add_weight(shape=shape, initializer=init, regularizer=regularizer, name=name)

    layer.query_kernel = weight("query_kernel", (channels, inner), "glorot_uniform", reg)
    layer.query_bias = weight("query_bias", (inner,), "zeros")
    layer.key_kernel = weight("key_kernel", (channels, inner), "glorot_uniform", reg)
    layer.key_bias = weight("key_bias", (inner,), "zeros")
    layer.value_kernel = weight("value_kernel", (channels, channels), "glorot_uniform", reg)
    layer.value_bias = weight("value_bias", (channels,), "zeros")
    layer.gamma = weight("gamma", (1,), "zeros")


def project(layer: keras.layers.Layer, flat: Any) -> tuple[Any, Any, Any]:
    """(q, kᵀ, v) of flattened features (B, N, C): q (B, N, C'), kᵀ (B, C', N), v (B, N, C)."""

    def one(kernel: Any, bias: Any) -> Any:
        return ops.matmul(flat, ops.cast(kernel, flat.dtype)) + ops.cast(bias, flat.dtype)

    k = one(layer.key_kernel, layer.key_bias)
    return one(layer.query_kernel, layer.query_bias), ops.transpose(k, (0, 2, 1)), \
        one(layer.value_kernel, layer.value_bias)


def attend(q: Any, k_t: Any, v: Any) -> Any:
    """softmax(q kᵀ) v, the softmax in float32 (safe under mixed precision): (B, n, C) for n queries."""
    weights = ops.softmax(ops.cast(ops.matmul(q, k_t), "float32"), axis=-1)
    return ops.matmul(ops.cast(weights, v.dtype), v)
