"""The built block factories of one model and the reference's fixed conv blocks.

`ModelBlocks.from_config` builds the chosen normalization, attention and upsampling components through
`fswap.builder.build`; the helpers here apply them with unique layer names (see fswap.model.contracts).
"""

from __future__ import annotations

from typing import Any

import attrs
import keras

from fswap.builder import build
from fswap.errors import ConfigError, FswapError
from fswap.model.attribution import AttributedBlocks, block_failure, block_of_exception, choice_of_layer
from fswap.model.config import ModelConfig
from fswap.model.contracts import call_conditional, call_factory, is_conditional


@attrs.frozen
class ModelBlocks:
    """Block factories for one model: normalization, attention, upsampling (built components)."""

    normalization: Any
    attention: Any
    upsampling: Any

    @classmethod
    def from_config(cls, config: ModelConfig) -> ModelBlocks:
        missing = [n for n in ("normalization", "attention", "upsampling") if getattr(config, n) is None]
        if missing:
            raise ConfigError(
                f"[train.model]: {', '.join(missing)} not resolved; build ModelConfig from TOML with "
                "fswap.model.config.parse_model_config (or the pipeline loader) so components are chosen"
            )
        return cls(*(AttributedBlocks(build(choice), choice)
                     for choice in (config.normalization, config.attention, config.upsampling)))

    @property
    def condition_channels(self) -> int:
        """Channels of the decoder's condition map (0 unless the normalization is conditional)."""
        return int(self.normalization.condition_channels) if is_conditional(self.normalization) else 0


@attrs.define
class Stack:
    """Applies layers to a tensor while handing out unique, readable layer names within one network."""

    blocks: ModelBlocks
    weight_decay: float
    counts: dict[str, int] = attrs.field(factory=dict)

    def name(self, stem: str) -> str:
        n = self.counts.get(stem, 0) + 1
        self.counts[stem] = n
        return f"{stem}{n}"

    def l2(self) -> keras.regularizers.Regularizer | None:
        return keras.regularizers.L2(self.weight_decay) if self.weight_decay else None

    def norm(self, x: Any, *, name: str) -> Any:
        layer = call_factory(self.blocks.normalization, int(x.shape[-1]), name=name,
                             weight_decay=self.weight_decay)
        return x if layer is None else self.apply(layer, x)

    def apply(self, layer: Any, x: Any) -> Any:
        """`layer(x)`; when it raises inside a layer a block component made, one PluginFailure names it."""
        try:
            return layer(x)
        except FswapError:
            raise
        except Exception as exc:
            found = block_of_exception(exc)
            choice = choice_of_layer(layer)
            if found is None and choice is not None:
                found = (choice, str(layer.name))
            if found is None:
                raise
            shapes = [tuple(t.shape) for t in (x if isinstance(x, list | tuple) else [x])]
            shape = ", ".join(str(s) for s in shapes)
            raise block_failure(*found, f"while the networks were built (applied to {shape})", exc) from exc

    def attention(self, x: Any) -> Any | None:
        """The attention block applied to x, or None when the attention component is off."""
        layer = call_factory(self.blocks.attention, int(x.shape[-1]), name=self.name("attention"),
                             weight_decay=self.weight_decay)
        return None if layer is None else self.apply(layer, x)

    def attend(self, x: Any) -> Any:
        """x through the attention block, or x unchanged when attention is off."""
        out = self.attention(x)
        return x if out is None else out

    def upscale(self, x: Any, filters: int) -> Any:
        layers = call_factory(self.blocks.upsampling, filters, name=self.name("upscale"),
                              normalization=self.blocks.normalization, weight_decay=self.weight_decay)
        for layer in layers:
            x = self.apply(layer, x)
        return x

    def conv_block(self, x: Any, filters: int, *, strides: int = 2, use_norm: bool = True) -> Any:
        """Conv3×3 (no bias, he_normal, L2) → ReLU → [norm]."""
        name = self.name("conv")
        x = keras.layers.Conv2D(filters, 3, strides=strides, padding="same", use_bias=False,
                                kernel_initializer="he_normal", kernel_regularizer=self.l2(), name=name)(x)
        x = keras.layers.ReLU(name=f"{name}_relu")(x)
        return self.norm(x, name=f"{name}_norm") if use_norm else x

    def conv_block_d(self, x: Any, filters: int, *, use_norm: bool = True) -> Any:
        """Discriminator block: Conv4×4 stride 2 (no bias, he_normal, L2) → LeakyReLU(0.2) → [norm]."""
        name = self.name("dconv")
        x = keras.layers.Conv2D(filters, 4, strides=2, padding="same", use_bias=False,
                                kernel_initializer="he_normal", kernel_regularizer=self.l2(), name=name)(x)
        x = keras.layers.LeakyReLU(negative_slope=0.2, name=f"{name}_lrelu")(x)
        return self.norm(x, name=f"{name}_norm") if use_norm else x

    def res_block(self, x: Any, filters: int, condition: Any | None = None) -> Any:
        """Conv3×3 → LReLU(0.2) → [cnorm] → Conv3×3 → add input → LReLU(0.2) → [cnorm].

        The reference never normalises here; a conditional normalization (SPADE) is applied when a
        condition map is given.
        """
        name = self.name("res")

        def cnorm(t: Any, suffix: str) -> Any:
            if condition is None:
                return t
            layer = call_conditional(self.blocks.normalization, filters, name=f"{name}_{suffix}",
                                     weight_decay=self.weight_decay)
            return self.apply(layer, [t, condition])

        y = x
        for i in (1, 2):
            y = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False,
                                    kernel_initializer="he_normal",
                                    kernel_regularizer=self.l2(), name=f"{name}_conv{i}")(y)
            if i == 1:
                y = keras.layers.LeakyReLU(negative_slope=0.2, name=f"{name}_lrelu1")(y)
                y = cnorm(y, "norm1")
        y = keras.layers.Add(name=f"{name}_add")([y, x])
        y = keras.layers.LeakyReLU(negative_slope=0.2, name=f"{name}_lrelu2")(y)
        return cnorm(y, "norm2")
