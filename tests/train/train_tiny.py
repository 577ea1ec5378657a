"""Tiny networks with the model contract's shapes, for fast train tests independent of fswap.model."""

from __future__ import annotations

from typing import Any

import keras
from keras import layers


class TinyNetworks:
    """encoder (R→R/8 features), decoders {"abgr", "side_outputs"}, 6-channel patch discriminators."""

    def __init__(self, resolution: int = 32, width: int = 8, seed: int = 0) -> None:
        keras.utils.set_random_seed(seed)
        r = resolution
        inp = keras.Input((r, r, 3))
        x = layers.Conv2D(width, 3, strides=2, padding="same", activation="relu")(inp)
        x = layers.Conv2D(width * 2, 3, strides=2, padding="same", activation="relu",
                          kernel_regularizer=keras.regularizers.L2(1e-4))(x)
        self.encoder = keras.Model(inp, x, name="encoder")
        self.decoders: dict[str, Any] = {s: self._decoder(r, width, s) for s in ("a", "b")}
        self.discriminators: dict[str, Any] = {s: self._disc(r, width, s) for s in ("a", "b")}

    @staticmethod
    def _decoder(r: int, width: int, side: str) -> keras.Model:
        inp = keras.Input((r // 4, r // 4, width * 2))
        x = layers.UpSampling2D(2)(inp)
        x = layers.Conv2D(width, 3, padding="same", activation="relu")(x)
        x = layers.UpSampling2D(2)(x)
        x = layers.Conv2D(width, 3, padding="same", activation="relu")(x)
        alpha = layers.Conv2D(1, 3, padding="same", activation="sigmoid")(x)
        bgr = layers.Conv2D(3, 3, padding="same", activation="tanh")(x)
        abgr = layers.Concatenate()([alpha, bgr])
        side_out = layers.Conv2D(3, 3, padding="same", activation="tanh")(
            layers.AveragePooling2D(2)(x))
        return keras.Model(inp, {"abgr": abgr, "side_outputs": [side_out]}, name=f"decoder_{side}")

    @staticmethod
    def _disc(r: int, width: int, side: str) -> keras.Model:
        inp = keras.Input((r, r, 6))
        x = layers.Conv2D(width, 4, strides=2, padding="same", activation="leaky_relu")(inp)
        x = layers.Conv2D(1, 4, strides=r // 16, padding="same")(x)
        return keras.Model(inp, x, name=f"discriminator_{side}")

    def generator(self, side: str) -> Any:
        inp = keras.Input(self.encoder.input_shape[1:])
        return keras.Model(inp, self.decoders[side](self.encoder(inp)))
