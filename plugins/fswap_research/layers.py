"""DANet dual attention (Fu et al., "Dual Attention Network for Scene Segmentation") as one Keras layer.

out = x + γ · PAM(x) + β · CAM(x), with γ and β starting at 0 so a fresh block is the identity.

* Position attention (PAM): q, k = 1×1 projections to C/key_ratio channels, v a 1×1 projection to C;
  PAM(x) = softmax(q kᵀ) v over all N = H·W positions. Evaluated in blocks of `query_block` queries, so at
  most query_block × N scores per sample exist at once (64×64 maps: 256 × 4096 instead of 4096²).
* Channel attention (CAM): with A the (N, C) feature matrix, E = AᵀA (C × C), the paper's
  softmax(max(E) − E) row-wise gives S, and CAM(x) = A Sᵀ. No projections; memory C × C per sample.

Scores and softmaxes run in float32 (safe under mixed precision).
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

PACKAGE = "fswap_research"


@keras.saving.register_keras_serializable(package=PACKAGE)
class DualAttention(keras.layers.Layer):
    """Position + channel self-attention summed onto the input with learned 0-initialised scales."""

    def __init__(self, key_ratio: int = 8, query_block: int = 256, weight_decay: float = 0.0,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.key_ratio = int(key_ratio)
        self.query_block = int(query_block)
        self.weight_decay = float(weight_decay)

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        channels = int(input_shape[-1])
        inner = max(1, channels // self.key_ratio)
        reg = keras.regularizers.L2(self.weight_decay) if self.weight_decay else None

        def weight(name: str, shape: tuple[int, ...], init: str, regularizer: Any = None) -> Any:
            return self.add_weight(shape=shape, initializer=init, regularizer=regularizer, name=name)

        self.query_kernel = weight("query_kernel", (channels, inner), "glorot_uniform", reg)
        self.query_bias = weight("query_bias", (inner,), "zeros")
        self.key_kernel = weight("key_kernel", (channels, inner), "glorot_uniform", reg)
        self.key_bias = weight("key_bias", (inner,), "zeros")
        self.value_kernel = weight("value_kernel", (channels, channels), "glorot_uniform", reg)
        self.value_bias = weight("value_bias", (channels,), "zeros")
        self.gamma = weight("gamma", (1,), "zeros")  # scale of the position attention
        self.beta = weight("beta", (1,), "zeros")  # scale of the channel attention

    def _project(self, flat: Any, kernel: Any, bias: Any) -> Any:
        return ops.matmul(flat, ops.cast(kernel, flat.dtype)) + ops.cast(bias, flat.dtype)

    @staticmethod
    def _attend(q: Any, k_t: Any, v: Any) -> Any:
        weights = ops.softmax(ops.cast(ops.matmul(q, k_t), "float32"), axis=-1)  # (B, n, N)
        return ops.matmul(ops.cast(weights, v.dtype), v)

    def _position(self, flat: Any, positions: int) -> Any:
        q = self._project(flat, self.query_kernel, self.query_bias)
        k_t = ops.transpose(self._project(flat, self.key_kernel, self.key_bias), (0, 2, 1))
        v = self._project(flat, self.value_kernel, self.value_bias)
        block = self.query_block
        if block <= 0 or positions < 0 or block >= positions:
            return self._attend(q, k_t, v)
        blocks = [self._attend(q[:, start : start + block], k_t, v) for start in range(0, positions, block)]
        return ops.concatenate(blocks, axis=1)

    @staticmethod
    def _channel(flat: Any) -> Any:
        a = ops.cast(flat, "float32")
        energy = ops.matmul(ops.transpose(a, (0, 2, 1)), a)  # (B, C, C)
        energy = ops.max(energy, axis=-1, keepdims=True) - energy
        weights = ops.softmax(energy, axis=-1)
        return ops.cast(ops.matmul(a, ops.transpose(weights, (0, 2, 1))), flat.dtype)  # (B, N, C)

    def call(self, inputs: Any) -> Any:
        shape = ops.shape(inputs)
        height, width, channels = inputs.shape[1], inputs.shape[2], inputs.shape[3]
        positions = height * width if height is not None and width is not None else -1
        flat = ops.reshape(inputs, (shape[0], positions, channels))
        position = ops.reshape(self._position(flat, positions), shape)
        channel = ops.reshape(self._channel(flat), shape)
        dtype = inputs.dtype
        return inputs + ops.cast(self.gamma, dtype) * position + ops.cast(self.beta, dtype) * channel

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "key_ratio": self.key_ratio, "query_block": self.query_block,
                "weight_decay": self.weight_decay}


class DualAttentionBlock:
    """Block factory for `dual_attention`: one DualAttention layer per attention site of the model."""

    def __init__(self, config: Any) -> None:
        self.config = config

    def __call__(self, channels: int, *, name: str, weight_decay: float = 0.0) -> DualAttention:
        return DualAttention(key_ratio=self.config.key_ratio, query_block=self.config.query_block,
                             weight_decay=weight_decay, name=name)
