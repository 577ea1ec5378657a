"""Builders of the faceswap-GAN v2.2 networks: shared encoder, a decoder and a conditional PatchGAN
discriminator per identity, for resolutions 64/128/256 and capacities standard/lite (docs/model.md).

Normalization, attention and upsampling come from the chosen components (ModelBlocks); capacity is a
table of widths. Output layers run in float32 so losses stay float32 under mixed precision.
"""

from __future__ import annotations

import math
from typing import Any

import attrs
import keras

from fswap.model.blocks import ModelBlocks, Stack
from fswap.model.config import ModelConfig

SIDES: tuple[str, ...] = ("a", "b")


@attrs.frozen
class Widths:
    """Filter counts of one capacity (before `width_divisor`)."""

    stem: int
    down: tuple[int, int, int, int]
    extra: int
    dense_channels: int
    encoder_out: int
    decoder_up: tuple[int, int, int]
    decoder_tail: int
    latent_64: int
    latent_large: int
    discriminator: tuple[int, int, int] = (64, 128, 256)


CAPACITY_WIDTHS: dict[str, Widths] = {
    "standard": Widths(stem=64, down=(128, 256, 512, 1024), extra=1024, dense_channels=1024, encoder_out=512,
                       decoder_up=(256, 128, 64), decoder_tail=64, latent_64=1024, latent_large=1024),
    # lite: about half the filters, channel count capped at 256 (reference commit 67c1048)
    "lite": Widths(stem=32, down=(64, 128, 256, 256), extra=256, dense_channels=256, encoder_out=256,
                   decoder_up=(128, 64, 32), decoder_tail=32, latent_64=1024, latent_large=2048),
}


@keras.saving.register_keras_serializable(package="fswap")
class FullMask(keras.layers.Layer):
    """α = 1 everywhere, shaped like the first channel of its input (the `mask = "none"` decoder)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(dtype="float32", **{k: v for k, v in kwargs.items() if k != "dtype"})

    def call(self, inputs: Any) -> Any:
        return keras.ops.ones_like(keras.ops.cast(inputs[..., :1], "float32"))

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return (*input_shape[:-1], 1)


@attrs.frozen
class Plan:
    """Concrete widths for one ModelConfig (capacity widths divided by `width_divisor`)."""

    resolution: int
    widths: Widths
    divisor: int
    latent: int
    weight_decay: float
    mask: str = "learned"
    mask_init: float | None = None

    @classmethod
    def of(cls, config: ModelConfig) -> Plan:
        widths = CAPACITY_WIDTHS[config.capacity]
        default_latent = widths.latent_64 if config.resolution == 64 else widths.latent_large
        latent = config.latent_dim or max(8, default_latent // config.width_divisor)
        return cls(config.resolution, widths, config.width_divisor, latent, config.weight_decay, config.mask,
                   config.mask_init)

    def w(self, filters: int) -> int:
        return max(2, filters // self.divisor)


def build_encoder(plan: Plan, blocks: ModelBlocks) -> keras.Model:
    """R×R×3 BGR in [-1, 1] → 8×8×C latent feature map (C = 512 standard, 256 lite, ÷ width_divisor)."""
    s = Stack(blocks, plan.weight_decay)
    wd = plan.widths
    face = keras.Input((plan.resolution, plan.resolution, 3), name="face")
    x = keras.layers.Conv2D(plan.w(wd.stem), 5, padding="same", use_bias=False,
                            kernel_initializer="he_normal", name="stem")(face)
    x = s.conv_block(x, plan.w(wd.down[0]), use_norm=False)
    x = s.conv_block(x, plan.w(wd.down[1]))
    x = s.attend(x)
    x = s.conv_block(x, plan.w(wd.down[2]))
    x = s.attend(x)
    x = s.conv_block(x, plan.w(wd.down[3]))
    size = plan.resolution // 16
    while size > 4:
        x = s.conv_block(x, plan.w(wd.extra))
        size //= 2
    channels = plan.w(wd.dense_channels)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(plan.latent, name="latent")(x)
    x = keras.layers.Dense(4 * 4 * channels, name="expand")(x)
    x = keras.layers.Reshape((4, 4, channels), name="reshape")(x)
    x = s.upscale(x, plan.w(wd.encoder_out))
    return keras.Model(face, x, name="encoder")


def _output_conv(filters: int, activation: str, name: str, bias: float | None = None) -> keras.layers.Conv2D:
    init = "zeros" if bias is None else keras.initializers.Constant(bias)
    return keras.layers.Conv2D(filters, 5, padding="same", activation=activation, dtype="float32", name=name,
                               bias_initializer=init)


def build_decoder(plan: Plan, blocks: ModelBlocks, side: str, condition_channels: int = 0) -> keras.Model:
    """8×8×C latent (+ an R×R condition map for conditional norms) → {"abgr": R×R×4, "side_outputs": [...]}.

    abgr = [alpha (sigmoid), B, G, R (tanh)]; side_outputs are BGR (tanh) at 64, 128, … below R.
    """
    s = Stack(blocks, plan.weight_decay)
    wd = plan.widths
    latent = keras.Input((8, 8, plan.w(wd.encoder_out)), name="latent")
    inputs: list[Any] = [latent]
    condition = None
    if condition_channels:
        condition = keras.Input((plan.resolution, plan.resolution, condition_channels), name="condition")
        inputs.append(condition)
    x = s.upscale(latent, plan.w(wd.decoder_up[0]))
    x = s.upscale(x, plan.w(wd.decoder_up[1]))
    x = s.attend(x)
    x = s.upscale(x, plan.w(wd.decoder_up[2]))
    tail = plan.w(wd.decoder_tail)
    x = s.res_block(x, tail, condition)
    attended = s.attention(x)
    x = attended if attended is not None else s.conv_block(x, tail, strides=1, use_norm=False)
    size, side_outputs = 64, []
    while size < plan.resolution:
        side_outputs.append(_output_conv(3, "tanh", f"bgr{size}")(x))
        x = s.upscale(x, tail)
        x = s.conv_block(x, tail, strides=1, use_norm=False)
        size *= 2
    if plan.mask == "learned":
        bias = None if plan.mask_init is None else math.log(plan.mask_init / (1.0 - plan.mask_init))
        alpha = _output_conv(1, "sigmoid", "alpha", bias)(x)
        bgr = _output_conv(3, "tanh", "bgr")(x)
    else:
        bgr = _output_conv(3, "tanh", "bgr")(x)
        alpha = FullMask(name="alpha")(bgr)
    abgr = keras.layers.Concatenate(dtype="float32", name="abgr")([alpha, bgr])
    return keras.Model(inputs if condition is not None else latent,
                       {"abgr": abgr, "side_outputs": side_outputs}, name=f"decoder_{side}")


def build_discriminator(plan: Plan, blocks: ModelBlocks, side: str) -> keras.Model:
    """concat(image, warped input) R×R×6 → 8×8×1 patch map (no activation; LSGAN)."""
    s = Stack(blocks, plan.weight_decay)
    f1, f2, f3 = (plan.w(f) for f in plan.widths.discriminator)
    pair = keras.Input((plan.resolution, plan.resolution, 6), name="image_and_warped")
    x = s.conv_block_d(pair, f1, use_norm=False)
    x = s.conv_block_d(x, f2)
    x = s.conv_block_d(x, f3)
    x = s.attend(x)
    size = plan.resolution // 8
    while size > 8:
        x = s.conv_block_d(x, f3)
        x = s.attend(x)
        size //= 2
    patches = keras.layers.Conv2D(1, 4, padding="same", use_bias=False, dtype="float32", name="patches")(x)
    return keras.Model(pair, patches, name=f"discriminator_{side}")


@attrs.define
class Networks:
    """The five networks of a model; `generator(side)` chains the encoder and that side's decoder."""

    encoder: keras.Model
    decoders: dict[str, keras.Model]
    discriminators: dict[str, keras.Model]
    condition_channels: int = 0
    _generators: dict[str, keras.Model] = attrs.field(factory=dict, repr=False)

    @property
    def resolution(self) -> int:
        return int(self.encoder.inputs[0].shape[1])

    def generator(self, side: str) -> keras.Model:
        """face R×R×3 (+ condition) → decoder_<side> outputs, sharing the encoder and decoder weights."""
        if side not in self.decoders:
            raise KeyError(f"side must be one of {', '.join(self.decoders)}, received {side!r}")
        if side not in self._generators:
            r = self.resolution
            face = keras.Input((r, r, 3), name="face")
            if self.condition_channels:
                condition = keras.Input((r, r, self.condition_channels), name="condition")
                out = self.decoders[side]([self.encoder(face), condition])
                inputs: Any = [face, condition]
            else:
                out = self.decoders[side](self.encoder(face))
                inputs = face
            self._generators[side] = keras.Model(inputs, out, name=f"generator_{side}")
        return self._generators[side]

    def all(self) -> dict[str, keras.Model]:
        """Every network by file stem: encoder, decoder_a, decoder_b, discriminator_a, discriminator_b."""
        return {"encoder": self.encoder, **{f"decoder_{k}": m for k, m in self.decoders.items()},
                **{f"discriminator_{k}": m for k, m in self.discriminators.items()}}


def build_networks(config: ModelConfig, blocks: ModelBlocks | None = None) -> Networks:
    """Build the encoder, decoders A/B and discriminators A/B for `config` (fresh random weights)."""
    blocks = blocks if blocks is not None else ModelBlocks.from_config(config)
    plan = Plan.of(config)
    cond = blocks.condition_channels
    return Networks(
        encoder=build_encoder(plan, blocks),
        decoders={side: build_decoder(plan, blocks, side, cond) for side in SIDES},
        discriminators={side: build_discriminator(plan, blocks, side) for side in SIDES},
        condition_channels=cond,
    )
