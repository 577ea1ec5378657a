"""MTCNN's ONet (a small face-trained CNN shipped with weights in the `mtcnn` package) as a frozen
feature extractor with four taps, built from the package's public module and its packaged weights."""

from __future__ import annotations

import importlib.resources
from typing import Any

import tensorflow as tf

INPUT_SIZE = 48


class OnetFeatures:
    """Callable: BGR images in [-1, 1] (N, H, W, 3) → four feature maps, deepest first."""

    def __init__(self) -> None:
        from mtcnn.network.onet import ONet
        from mtcnn.utils.tensorflow import load_weights

        self.net = ONet()
        self.net.build()
        weights = importlib.resources.files("mtcnn.assets.weights") / "onet.lz4"
        self.net.set_weights(load_weights(str(weights)))
        self.net.trainable = False

    def __call__(self, bgr: Any) -> list[Any]:
        n = self.net
        x = tf.image.resize(bgr, (INPUT_SIZE, INPUT_SIZE), method="bilinear")
        x = x[..., ::-1] * (127.5 / 128.0)  # RGB, MTCNN's (x − 127.5) / 128 scaling
        f1 = n.prelu1(n.conv1(x))
        f2 = n.prelu2(n.conv2(n.maxpool1(f1)))
        f3 = n.prelu3(n.conv3(n.maxpool2(f2)))
        f4 = n.prelu4(n.conv4(n.maxpool3(f3)))
        return [f4, f3, f2, f1]
