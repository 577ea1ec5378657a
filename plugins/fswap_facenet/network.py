"""Inception-ResNet-v1 as used by FaceNet (Szegedy et al. 2016; Schroff et al. 2015), built with Keras 3.

Convolutions are followed by batch norm without scale (momentum 0.995, epsilon 0.001) and ReLU; residual
blocks add a scaled 1×1 "up" projection (scales 0.17, 0.10, 0.20). Output: the 512-d bottleneck after batch
norm; the embedder L2-normalises it.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import layers


def _conv(
    x: Any,
    filters: int,
    kernel: int | tuple[int, int],
    *,
    strides: int = 1,
    padding: str = "same",
    name: str,
    activation: bool = True,
) -> Any:
    x = layers.Conv2D(filters, kernel, strides=strides, padding=padding, use_bias=False, name=name)(x)
    x = layers.BatchNormalization(
        axis=3, momentum=0.995, epsilon=0.001, scale=False, name=f"{name}_BatchNorm"
    )(x)
    if activation:
        x = layers.Activation("relu", name=f"{name}_Activation")(x)
    return x


def _residual(x: Any, branches: list[Any], channels: int, scale: float, name: str, activation: bool) -> Any:
    mixed = layers.Concatenate(axis=3, name=f"{name}_Concatenate")(branches)
    up = layers.Conv2D(channels, 1, use_bias=True, name=f"{name}_Conv2d_1x1")(mixed)
    up = layers.Rescaling(scale, name=f"{name}_ScaleSum")(up)
    x = layers.Add(name=f"{name}_Add")([x, up])
    if activation:
        x = layers.Activation("relu", name=f"{name}_Activation")(x)
    return x


def _block35(x: Any, i: int) -> Any:
    n = f"Block35_{i}"
    b0 = _conv(x, 32, 1, name=f"{n}_Branch_0_Conv2d_1x1")
    b1 = _conv(x, 32, 1, name=f"{n}_Branch_1_Conv2d_0a_1x1")
    b1 = _conv(b1, 32, 3, name=f"{n}_Branch_1_Conv2d_0b_3x3")
    b2 = _conv(x, 32, 1, name=f"{n}_Branch_2_Conv2d_0a_1x1")
    b2 = _conv(b2, 32, 3, name=f"{n}_Branch_2_Conv2d_0b_3x3")
    b2 = _conv(b2, 32, 3, name=f"{n}_Branch_2_Conv2d_0c_3x3")
    return _residual(x, [b0, b1, b2], 256, 0.17, n, True)


def _block17(x: Any, i: int) -> Any:
    n = f"Block17_{i}"
    b0 = _conv(x, 128, 1, name=f"{n}_Branch_0_Conv2d_1x1")
    b1 = _conv(x, 128, 1, name=f"{n}_Branch_1_Conv2d_0a_1x1")
    b1 = _conv(b1, 128, (1, 7), name=f"{n}_Branch_1_Conv2d_0b_1x7")
    b1 = _conv(b1, 128, (7, 1), name=f"{n}_Branch_1_Conv2d_0c_7x1")
    return _residual(x, [b0, b1], 896, 0.10, n, True)


def _block8(x: Any, i: int, *, scale: float = 0.20, activation: bool = True) -> Any:
    n = f"Block8_{i}"
    b0 = _conv(x, 192, 1, name=f"{n}_Branch_0_Conv2d_1x1")
    b1 = _conv(x, 192, 1, name=f"{n}_Branch_1_Conv2d_0a_1x1")
    b1 = _conv(b1, 192, (1, 3), name=f"{n}_Branch_1_Conv2d_0b_1x3")
    b1 = _conv(b1, 192, (3, 1), name=f"{n}_Branch_1_Conv2d_0c_3x1")
    return _residual(x, [b0, b1], 1792, scale, n, activation)


def build_facenet(image_size: int = 160, embedding: int = 512, dropout: float = 0.2) -> keras.Model:
    """The Inception-ResNet-v1 FaceNet graph: (N, S, S, 3) standardised RGB → (N, embedding) bottleneck."""
    inputs = keras.Input((image_size, image_size, 3), name="input")
    x = _conv(inputs, 32, 3, strides=2, padding="valid", name="Conv2d_1a_3x3")
    x = _conv(x, 32, 3, padding="valid", name="Conv2d_2a_3x3")
    x = _conv(x, 64, 3, name="Conv2d_2b_3x3")
    x = layers.MaxPooling2D(3, strides=2, name="MaxPool_3a_3x3")(x)
    x = _conv(x, 80, 1, padding="valid", name="Conv2d_3b_1x1")
    x = _conv(x, 192, 3, padding="valid", name="Conv2d_4a_3x3")
    x = _conv(x, 256, 3, strides=2, padding="valid", name="Conv2d_4b_3x3")
    for i in range(1, 6):
        x = _block35(x, i)
    # Reduction A (k, l, m, n = 192, 192, 256, 384)
    a0 = _conv(x, 384, 3, strides=2, padding="valid", name="Mixed_6a_Branch_0_Conv2d_1a_3x3")
    a1 = _conv(x, 192, 1, name="Mixed_6a_Branch_1_Conv2d_0a_1x1")
    a1 = _conv(a1, 192, 3, name="Mixed_6a_Branch_1_Conv2d_0b_3x3")
    a1 = _conv(a1, 256, 3, strides=2, padding="valid", name="Mixed_6a_Branch_1_Conv2d_1a_3x3")
    a2 = layers.MaxPooling2D(3, strides=2, padding="valid", name="Mixed_6a_Branch_2_MaxPool_1a_3x3")(x)
    x = layers.Concatenate(axis=3, name="Mixed_6a")([a0, a1, a2])
    for i in range(1, 11):
        x = _block17(x, i)
    # Reduction B
    b0 = _conv(x, 256, 1, name="Mixed_7a_Branch_0_Conv2d_0a_1x1")
    b0 = _conv(b0, 384, 3, strides=2, padding="valid", name="Mixed_7a_Branch_0_Conv2d_1a_3x3")
    b1 = _conv(x, 256, 1, name="Mixed_7a_Branch_1_Conv2d_0a_1x1")
    b1 = _conv(b1, 256, 3, strides=2, padding="valid", name="Mixed_7a_Branch_1_Conv2d_1a_3x3")
    b2 = _conv(x, 256, 1, name="Mixed_7a_Branch_2_Conv2d_0a_1x1")
    b2 = _conv(b2, 256, 3, name="Mixed_7a_Branch_2_Conv2d_0b_3x3")
    b2 = _conv(b2, 256, 3, strides=2, padding="valid", name="Mixed_7a_Branch_2_Conv2d_1a_3x3")
    b3 = layers.MaxPooling2D(3, strides=2, padding="valid", name="Mixed_7a_Branch_3_MaxPool_1a_3x3")(x)
    x = layers.Concatenate(axis=3, name="Mixed_7a")([b0, b1, b2, b3])
    for i in range(1, 6):
        x = _block8(x, i)
    x = _block8(x, 6, scale=1.0, activation=False)
    x = layers.GlobalAveragePooling2D(name="AvgPool")(x)
    x = layers.Dropout(dropout, name="Dropout")(x)
    x = layers.Dense(embedding, use_bias=False, name="Bottleneck")(x)
    x = layers.BatchNormalization(momentum=0.995, epsilon=0.001, scale=False, name="Bottleneck_BatchNorm")(x)
    return keras.Model(inputs, x, name="inception_resnet_v1")
