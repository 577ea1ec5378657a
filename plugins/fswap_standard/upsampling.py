"""Upsampling blocks: PixelShuffle (depth-to-space) with ICNR initialisation, and nearest + conv (lite path).

Each factory returns, per call, the list of layers that double the spatial size (fswap.model.contracts).
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from fswap.model.contracts import call_factory
from fswap_standard.model_config import NearestConfig, PixelShuffleConfig

PACKAGE = "fswap_standard"


@keras.saving.register_keras_serializable(package=PACKAGE)
class ICNR(keras.initializers.Initializer):
    """Sub-pixel-consistent init: one normal draw for `filters / scale²` output channels, tiled so every
    scale×scale block produced by depth-to-space starts with identical values (no checkerboard)."""

    def __init__(self, scale: int = 2, stddev: float = 0.02, seed: int | None = None) -> None:
        self.scale = int(scale)
        self.stddev = float(stddev)
        self.seed = seed
        self._base = keras.initializers.RandomNormal(mean=0.0, stddev=self.stddev, seed=seed)

    def __call__(self, shape: tuple[int, ...], dtype: Any = None) -> Any:
        blocks = self.scale * self.scale
        if shape[-1] % blocks:
            raise ValueError(f"ICNR needs a filter count divisible by {blocks}, got shape {shape}")
        base = self._base((*shape[:-1], shape[-1] // blocks), dtype=dtype)
        # depth_to_space (DCR) reads channel (rh·scale + rw)·F + c for sub-pixel (rh, rw): tile whole copies.
        return ops.tile(base, (1,) * (len(shape) - 1) + (blocks,))

    def get_config(self) -> dict[str, Any]:
        return {"scale": self.scale, "stddev": self.stddev, "seed": self.seed}


@keras.saving.register_keras_serializable(package=PACKAGE)
class PixelShuffle(keras.layers.Layer):
    """Depth-to-space: (N, H, W, s²·C) → (N, s·H, s·W, C), same channel order as tf.nn.depth_to_space."""

    def __init__(self, scale: int = 2, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scale = int(scale)

    def call(self, inputs: Any) -> Any:
        return ops.depth_to_space(inputs, self.scale)

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        n, h, w, c = input_shape
        s = self.scale
        return (n, None if h is None else h * s, None if w is None else w * s, c // (s * s))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "scale": self.scale}


@keras.saving.register_keras_serializable(package=PACKAGE)
class ReflectionPad2D(keras.layers.Layer):
    """Reflect-pads H and W by `pad` pixels (used before the lite path's 'valid' 3×3 conv)."""

    def __init__(self, pad: int = 1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pad = int(pad)

    def call(self, inputs: Any) -> Any:
        p = self.pad
        return ops.pad(inputs, ((0, 0), (p, p), (p, p), (0, 0)), mode="reflect")

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        n, h, w, c = input_shape
        p = 2 * self.pad
        return (n, None if h is None else h + p, None if w is None else w + p, c)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "pad": self.pad}


def _l2(weight_decay: float) -> keras.regularizers.Regularizer | None:
    return keras.regularizers.L2(weight_decay) if weight_decay else None


def _norm_layers(
    normalization: Any, channels: int, *, name: str, base: int, weight_decay: float
) -> list[Any]:
    layer = call_factory(normalization, channels, name=name, base_channels=base, weight_decay=weight_decay)
    return [] if layer is None else [layer]


class PixelShuffleUpsampling:
    """`pixel_shuffle` (reference standard path): Conv3×3 to 4f (bias, ICNR, L2) → LeakyReLU(0.2) →
    normalization on the 4f channels (nominal width f) → PixelShuffle(2)."""

    def __init__(self, config: PixelShuffleConfig) -> None:
        self.config = config

    def __call__(
        self, filters: int, *, name: str, normalization: Any, weight_decay: float = 0.0
    ) -> list[keras.layers.Layer]:
        init = ICNR(scale=2, stddev=self.config.icnr_stddev) if self.config.icnr else "he_normal"
        return [
            keras.layers.Conv2D(4 * filters, 3, padding="same", use_bias=True, kernel_initializer=init,
                                kernel_regularizer=_l2(weight_decay), name=f"{name}_conv"),
            keras.layers.LeakyReLU(negative_slope=0.2, name=f"{name}_act"),
            *_norm_layers(normalization, 4 * filters, name=f"{name}_norm", base=filters,
                          weight_decay=weight_decay),
            PixelShuffle(2, name=f"{name}_shuffle"),
        ]


class NearestUpsampling:
    """`nearest` (reference lite path): UpSampling2D(2, nearest) → reflect pad 1 → Conv3×3 'valid'
    (bias, he_normal, L2) → normalization. No activation, as in the reference."""

    def __init__(self, config: NearestConfig) -> None:
        self.config = config

    def __call__(
        self, filters: int, *, name: str, normalization: Any, weight_decay: float = 0.0
    ) -> list[keras.layers.Layer]:
        pad = [ReflectionPad2D(1, name=f"{name}_pad")] if self.config.reflect_pad else []
        return [
            keras.layers.UpSampling2D(2, interpolation="nearest", name=f"{name}_up"),
            *pad,
            keras.layers.Conv2D(filters, 3, padding="valid" if pad else "same", use_bias=True,
                                kernel_initializer="he_normal", kernel_regularizer=_l2(weight_decay),
                                name=f"{name}_conv"),
            *_norm_layers(normalization, filters, name=f"{name}_norm", base=filters,
                          weight_decay=weight_decay),
        ]
