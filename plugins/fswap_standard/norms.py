"""Standard normalization blocks: none, batch, instance, layer, group, per-sample (the reference's
"instancenorm") and hybrid. Each factory class is built from its config and makes one Keras layer per
call (see fswap.model.contracts)."""

from __future__ import annotations

import math
from typing import Any

import keras
from keras import ops

from fswap_standard.model_config import (
    BatchNormConfig,
    GroupNormConfig,
    HybridNormConfig,
    InstanceNormConfig,
    LayerNormConfig,
    NoNormalizationConfig,
    PerSampleNormConfig,
)

PACKAGE = "fswap_standard"


def per_sample_normalize(x: Any, gamma: Any, beta: Any, epsilon: float) -> Any:
    """(x − mean) / (std + ε) · γ + β with mean/std over all of H, W, C of each sample (stats in float32)."""
    x32 = ops.cast(x, "float32")
    mean = ops.mean(x32, axis=(1, 2, 3), keepdims=True)
    std = ops.sqrt(ops.mean(ops.square(x32 - mean), axis=(1, 2, 3), keepdims=True))
    y = (x32 - mean) / (std + epsilon)
    return ops.cast(y * ops.cast(gamma, "float32") + ops.cast(beta, "float32"), x.dtype)


@keras.saving.register_keras_serializable(package=PACKAGE)
class PerSampleNormalization(keras.layers.Layer):
    """Normalises each sample over H, W and C together with one scalar γ and β.

    This is what the reference calls "instancenorm" (keras-contrib InstanceNormalization with axis=None);
    it behaves like a layer norm without per-channel affine parameters.
    """

    def __init__(self, epsilon: float = 1e-3, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.epsilon = float(epsilon)

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        self.gamma = self.add_weight(shape=(1,), initializer="ones", name="gamma")
        self.beta = self.add_weight(shape=(1,), initializer="zeros", name="beta")

    def call(self, inputs: Any) -> Any:
        return per_sample_normalize(inputs, self.gamma, self.beta, self.epsilon)

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "epsilon": self.epsilon}


@keras.saving.register_keras_serializable(package=PACKAGE)
class HybridNormalization(keras.layers.Layer):
    """The reference's "hybrid": the first `split` channels go through a learned 1×1 conv (bias, L2),
    the rest are normalised per sample (scalar γ/β); the two parts are concatenated again."""

    def __init__(self, split: int, epsilon: float = 1e-3, weight_decay: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.split = int(split)
        self.epsilon = float(epsilon)
        self.weight_decay = float(weight_decay)

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        channels = int(input_shape[-1])
        if not 0 < self.split < channels:
            raise ValueError(f"{self.name}: split {self.split} must be between 1 and {channels - 1}")
        reg = keras.regularizers.L2(self.weight_decay) if self.weight_decay else None
        self.kernel = self.add_weight(shape=(self.split, self.split), initializer="glorot_uniform",
                                      regularizer=reg, name="kernel")
        self.bias = self.add_weight(shape=(self.split,), initializer="zeros", name="bias")
        self.gamma = self.add_weight(shape=(1,), initializer="ones", name="gamma")
        self.beta = self.add_weight(shape=(1,), initializer="zeros", name="beta")

    def call(self, inputs: Any) -> Any:
        head = inputs[..., : self.split]
        tail = inputs[..., self.split :]
        mixed = ops.matmul(head, ops.cast(self.kernel, head.dtype)) + ops.cast(self.bias, head.dtype)
        normed = per_sample_normalize(tail, self.gamma, self.beta, self.epsilon)
        return ops.concatenate([mixed, normed], axis=-1)

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "split": self.split, "epsilon": self.epsilon,
                "weight_decay": self.weight_decay}


class NoNormalization:
    """`none`: no normalization layer anywhere."""

    def __init__(self, config: NoNormalizationConfig | None) -> None:
        self.config = config

    def __call__(self, channels: int, *, name: str) -> None:
        return None


class BatchNorm:
    """`batch`: Keras BatchNormalization (statistics over the batch, per channel)."""

    def __init__(self, config: BatchNormConfig) -> None:
        self.config = config

    def __call__(self, channels: int, *, name: str) -> keras.layers.Layer:
        return keras.layers.BatchNormalization(momentum=self.config.momentum, epsilon=self.config.epsilon,
                                               name=name)


class InstanceNorm:
    """`instance`: true instance norm, per sample and per channel over H, W, with per-channel γ/β."""

    def __init__(self, config: InstanceNormConfig) -> None:
        self.config = config

    def __call__(self, channels: int, *, name: str) -> keras.layers.Layer:
        return keras.layers.GroupNormalization(groups=-1, epsilon=self.config.epsilon, name=name)


class LayerNorm:
    """`layer`: per sample over H, W and C together, with per-channel γ/β (a group norm with one group)."""

    def __init__(self, config: LayerNormConfig) -> None:
        self.config = config

    def __call__(self, channels: int, *, name: str) -> keras.layers.Layer:
        return keras.layers.GroupNormalization(groups=1, epsilon=self.config.epsilon, name=name)


class GroupNorm:
    """`group`: group norm; the group count drops to the largest common divisor with the channel count."""

    def __init__(self, config: GroupNormConfig) -> None:
        self.config = config

    def __call__(self, channels: int, *, name: str) -> keras.layers.Layer:
        groups = math.gcd(self.config.groups, channels)
        return keras.layers.GroupNormalization(groups=groups, epsilon=self.config.epsilon, name=name)


class PerSampleNorm:
    """`per_sample`: the reference's "instancenorm" (see PerSampleNormalization)."""

    def __init__(self, config: PerSampleNormConfig) -> None:
        self.config = config

    def __call__(self, channels: int, *, name: str) -> keras.layers.Layer:
        return PerSampleNormalization(epsilon=self.config.epsilon, name=name)


class HybridNorm:
    """`hybrid`: split at half the block's nominal width (so 4f-channel upsampler tensors split unevenly,
    as in the reference); falls back to per-sample normalization when there is nothing to split."""

    def __init__(self, config: HybridNormConfig) -> None:
        self.config = config

    def __call__(
        self, channels: int, *, name: str, base_channels: int | None = None, weight_decay: float = 0.0
    ) -> keras.layers.Layer:
        split = (base_channels or channels) // 2
        if not 0 < split < channels:
            return PerSampleNormalization(epsilon=self.config.epsilon, name=name)
        return HybridNormalization(split=split, epsilon=self.config.epsilon, weight_decay=weight_decay,
                                   name=name)
