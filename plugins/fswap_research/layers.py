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

from fswap.model.attention_kit import add_projection_weights, attend, project

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
        add_projection_weights(self, int(input_shape[-1]), self.key_ratio, self.weight_decay)  # and gamma
        self.beta = self.add_weight(shape=(1,), initializer="zeros", name="beta")  # channel attention scale

    def _position(self, flat: Any, positions: int) -> Any:
        q, k_t, v = project(self, flat)
        block = self.query_block
        if block <= 0 or positions < 0 or block >= positions:
            return attend(q, k_t, v)
        blocks = [attend(q[:, start : start + block], k_t, v) for start in range(0, positions, block)]
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
