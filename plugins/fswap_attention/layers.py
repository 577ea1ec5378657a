"""SAGAN self-attention as one Keras layer, with an optional query-blocked evaluation.

out = x + γ · softmax(q kᵀ) v with q, k = 1×1 projections to C/8 channels and v a 1×1 projection to C;
γ starts at 0 so a fresh block is the identity. Projections are batched matmuls over the flattened
positions; the softmax runs in float32 (safe under mixed precision).
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from fswap.model.attention_kit import add_projection_weights, attend, project

PACKAGE = "fswap_attention"


AUTO_MAX_PLAIN = 1024
"""With query_block = 0 (automatic), up to this many positions are computed in one N×N matrix."""
AUTO_BLOCK = 256
"""With query_block = 0 and more positions, each sample's queries go in blocks of this size, one sample
after another: a block's scores (256 × 4096 floats = 4 MiB at 64×64) stay in cache, where the full
matrix (64 MiB per sample, times the batch) streams through memory three times (scores, softmax,
weights·values). 2–4× faster on the CPU than the plain form, and it keeps that gain at any batch size
(blocks over the whole batch grow with it); same outputs (bench/attention.py)."""


def effective_block(query_block: int, positions: int) -> int:
    """Queries per block for `positions` (0: one plain N×N product). `query_block` 0 is automatic."""
    if positions < 0:
        return 0
    block = query_block if query_block > 0 else (AUTO_BLOCK if positions > AUTO_MAX_PLAIN else 0)
    return 0 if block >= positions else block


@keras.saving.register_keras_serializable(package=PACKAGE)
class SelfAttention(keras.layers.Layer):
    """Self-attention over all H·W positions. `query_block` > 0 evaluates the queries in blocks of that
    size (each block still attends to every key, so the result equals the plain computation); 0 picks
    the faster form by size (plain up to AUTO_MAX_PLAIN positions, else blocks of AUTO_BLOCK per
    sample); a value ≥ H·W forces the plain N×N product."""

    def __init__(self, key_ratio: int = 8, query_block: int = 0, weight_decay: float = 0.0,
                 recompute: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.key_ratio = int(key_ratio)
        self.query_block = int(query_block)
        self.weight_decay = float(weight_decay)
        self.recompute = bool(recompute)

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        add_projection_weights(self, int(input_shape[-1]), self.key_ratio, self.weight_decay)

    _attend = staticmethod(attend)

    def call(self, inputs: Any) -> Any:
        shape = ops.shape(inputs)
        height, width, channels = inputs.shape[1], inputs.shape[2], inputs.shape[3]
        positions = height * width if height is not None and width is not None else -1
        flat = ops.reshape(inputs, (shape[0], positions, channels))
        q, k_t, v = project(self, flat)
        block = effective_block(self.query_block, positions)
        if block == 0:
            attended = self._attend(q, k_t, v)
        elif self.query_block == 0 and keras.backend.backend() == "tensorflow":
            attended = _per_sample_blocks(self._attend, q, k_t, v, block, positions)
        else:
            attend_block = self._attend
            if self.recompute and keras.backend.backend() == "tensorflow":
                import tensorflow as tf

                attend_block = tf.recompute_grad(self._attend)  # backprop recomputes each block's scores
            attended = ops.concatenate(
                [attend_block(q[:, start : start + block], k_t, v) for start in range(0, positions, block)],
                axis=1,
            )
        out = ops.reshape(attended, shape)
        return inputs + ops.cast(self.gamma, inputs.dtype) * out

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "key_ratio": self.key_ratio, "query_block": self.query_block,
                "weight_decay": self.weight_decay, "recompute": self.recompute}


def _per_sample_blocks(attend: Any, q: Any, k_t: Any, v: Any, block: int, positions: int) -> Any:
    """attend(q, kᵀ, v) one sample at a time (tf.map_fn, sequential), each in query blocks of `block`."""
    import tensorflow as tf

    def one(args: tuple[Any, Any, Any]) -> Any:
        qs, ks, vs = (t[None] for t in args)
        parts = [attend(qs[:, start : start + block], ks, vs) for start in range(0, positions, block)]
        return tf.concat(parts, axis=1)[0]

    return tf.map_fn(one, (q, k_t, v), fn_output_signature=v.dtype, parallel_iterations=1)


class SelfAttentionBlock:
    """Block factory for `self_attention` / `chunked_self_attention` (one layer per attention site)."""

    def __init__(self, config: Any) -> None:
        self.config = config

    def __call__(self, channels: int, *, name: str, weight_decay: float = 0.0) -> SelfAttention:
        return SelfAttention(key_ratio=self.config.key_ratio, query_block=self.config.query_block,
                             weight_decay=weight_decay, recompute=getattr(self.config, "recompute", False),
                             name=name)
