"""SPADE: x is normalised per sample and channel without learned affine parameters, then modulated by a
per-pixel scale and shift predicted from the condition map (resized to x's size):
out = norm(x) · (1 + γ(c)) + β(c), γ, β = conv(relu(conv(c)))."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from fswap.builder import build
from fswap.model.contracts import call_factory

PACKAGE = "fswap_spade"


@keras.saving.register_keras_serializable(package=PACKAGE)
class Spade(keras.layers.Layer):
    """Called on `[x, condition]`; returns a tensor shaped like x."""

    def __init__(self, channels: int, hidden: int = 128, kernel_size: int = 3, epsilon: float = 1e-5,
                 weight_decay: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.channels = int(channels)
        self.hidden = int(hidden)
        self.kernel_size = int(kernel_size)
        self.epsilon = float(epsilon)
        self.weight_decay = float(weight_decay)
        reg = keras.regularizers.L2(self.weight_decay) if self.weight_decay else None

        def conv(filters: int, name: str, activation: str | None = None) -> keras.layers.Conv2D:
            return keras.layers.Conv2D(filters, self.kernel_size, padding="same", activation=activation,
                                       kernel_initializer="he_normal", kernel_regularizer=reg,
                                       dtype=self.dtype_policy, name=name)

        self.shared = conv(self.hidden, "shared", "relu")
        self.to_gamma = conv(self.channels, "gamma")
        self.to_beta = conv(self.channels, "beta")

    def build(self, input_shape: list[tuple[int | None, ...]]) -> None:
        x_shape, c_shape = input_shape
        if int(x_shape[-1]) != self.channels:
            raise ValueError(f"{self.name}: built for {self.channels} channels, got input {x_shape}")
        self._size = (int(x_shape[1]), int(x_shape[2]))
        cond = (c_shape[0], *self._size, c_shape[-1])
        self.shared.build(cond)
        self.to_gamma.build((c_shape[0], *self._size, self.hidden))
        self.to_beta.build((c_shape[0], *self._size, self.hidden))

    def call(self, inputs: list[Any]) -> Any:
        x, cond = inputs
        x32 = ops.cast(x, "float32")
        mean = ops.mean(x32, axis=(1, 2), keepdims=True)
        var = ops.mean(ops.square(x32 - mean), axis=(1, 2), keepdims=True)
        normed = ops.cast((x32 - mean) / ops.sqrt(var + self.epsilon), x.dtype)
        cond = ops.cast(cond, x.dtype)
        if tuple(cond.shape[1:3]) != self._size:
            cond = ops.image.resize(cond, self._size, interpolation="nearest")
        embedded = self.shared(cond)
        return normed * (1.0 + self.to_gamma(embedded)) + self.to_beta(embedded)

    def compute_output_shape(self, input_shape: list[tuple[int | None, ...]]) -> tuple[int | None, ...]:
        return tuple(input_shape[0])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "channels": self.channels, "hidden": self.hidden,
                "kernel_size": self.kernel_size, "epsilon": self.epsilon, "weight_decay": self.weight_decay}


class SpadeNorm:
    """Block factory: `conditional(...)` makes a SPADE layer (decoder residual blocks); plain calls go to
    the fallback normalization (or no layer when it is absent)."""

    def __init__(self, config: Any) -> None:
        self.config = config
        self.condition_channels = int(config.condition_channels)
        self.fallback = build(config.fallback) if config.fallback is not None else None

    def __call__(
        self, channels: int, *, name: str, base_channels: int | None = None, weight_decay: float = 0.0
    ) -> keras.layers.Layer | None:
        if self.fallback is None:
            return None
        return call_factory(self.fallback, channels, name=name, base_channels=base_channels,
                            weight_decay=weight_decay)

    def conditional(self, channels: int, *, name: str, weight_decay: float = 0.0) -> Spade:
        return Spade(channels, hidden=self.config.hidden, kernel_size=self.config.kernel_size,
                     epsilon=self.config.epsilon, weight_decay=weight_decay, name=name)
