"""VGGFace2 ResNet-50 (the keras-vggface "resnet50" topology) without the classifier, and a loader for
its Keras-2 HDF5 weight file.

Caffe-style bottlenecks: the stride sits on the first 1×1 conv; batch norm eps 1e-5 (as the converted
weights expect). Layer names follow the weight file with "/" written as "__" (Keras 3 forbids "/"), so
weights load by name.
"""

from __future__ import annotations

from pathlib import Path

import keras
from keras import layers

from fswap.errors import WeightsError

BN_EPS = 1e-5
STAGES = ((2, 3, (64, 64, 256)), (3, 4, (128, 128, 512)), (4, 6, (256, 256, 1024)), (5, 3, (512, 512, 2048)))
#: tap name → (layer after activation, layer before activation)
TAPS = {
    "7": ("conv5_3_relu", "conv5_3_add"),
    "28": ("conv3_4_relu", "conv3_4_add"),
    "55": ("conv2_3_relu", "conv2_3_add"),
    "112": ("conv1__7x7_s2", "conv2_1_add"),
}


def keras_name(file_name: str) -> str:
    """The Keras layer name for a layer called `file_name` in the weight file."""
    return file_name.replace("/", "__")


def _bn(name: str) -> layers.BatchNormalization:
    return layers.BatchNormalization(axis=-1, epsilon=BN_EPS, name=keras_name(name))


def _bottleneck(x: keras.KerasTensor, filters: tuple[int, int, int], stage: int, block: int,
                strides: int) -> keras.KerasTensor:
    f1, f2, f3 = filters
    base = f"conv{stage}_{block}"
    y = layers.Conv2D(f1, 1, strides=strides, use_bias=False, name=f"{base}_1x1_reduce")(x)
    y = layers.Activation("relu")(_bn(f"{base}_1x1_reduce/bn")(y))
    y = layers.Conv2D(f2, 3, padding="same", use_bias=False, name=f"{base}_3x3")(y)
    y = layers.Activation("relu")(_bn(f"{base}_3x3/bn")(y))
    y = layers.Conv2D(f3, 1, use_bias=False, name=f"{base}_1x1_increase")(y)
    y = _bn(f"{base}_1x1_increase/bn")(y)
    if block == 1:
        shortcut = layers.Conv2D(f3, 1, strides=strides, use_bias=False, name=f"{base}_1x1_proj")(x)
        shortcut = _bn(f"{base}_1x1_proj/bn")(shortcut)
    else:
        shortcut = x
    out = layers.Add(name=f"{base}_add")([y, shortcut])
    return layers.Activation("relu", name=f"{base}_relu")(out)


def build_resnet50(input_size: int = 224) -> keras.Model:
    """The convolutional part of VGGFace2 ResNet-50 (input BGR minus the channel means)."""
    inp = keras.Input((input_size, input_size, 3), name="image")
    x = layers.Conv2D(64, 7, strides=2, padding="same", use_bias=False, name=keras_name("conv1/7x7_s2"))(inp)
    x = layers.Activation("relu")(_bn("conv1/7x7_s2/bn")(x))
    x = layers.MaxPooling2D(3, strides=2)(x)
    for stage, blocks, filters in STAGES:
        for block in range(1, blocks + 1):
            x = _bottleneck(x, filters, stage, block, strides=(1 if stage == 2 else 2) if block == 1 else 1)
    return keras.Model(inp, x, name="vggface_resnet50")


def feature_model(base: keras.Model, before_activation: bool = False) -> keras.Model:
    """A model returning the four taps in the order 7, 28, 55, 112."""
    pick = 1 if before_activation else 0
    outputs = [base.get_layer(TAPS[name][pick]).output for name in ("7", "28", "55", "112")]
    return keras.Model(base.input, outputs, name="vggface_taps")


def load_h5_weights(model: keras.Model, path: Path) -> int:
    """Assign the weights stored per layer name in a Keras-2 HDF5 file; returns the layers loaded.

    Every layer of `model` that has weights must be in the file with matching shapes."""
    import h5py

    loaded = 0
    try:
        with h5py.File(path, "r") as fh:
            root = fh.get("model_weights", fh)
            for layer in model.layers:
                if not layer.weights:
                    continue
                stored = layer.name.replace("__", "/")
                if stored not in root:
                    raise WeightsError(f"{path}: no weights for layer '{stored}'; is this the VGGFace "
                                       "ResNet-50 'notop' file?")
                group = root[stored]
                raw = group.attrs.get("weight_names", [])
                names = [n.decode() if isinstance(n, bytes) else n for n in raw]
                values = [group[n][()] for n in names]
                if len(values) != len(layer.weights):
                    raise WeightsError(f"{path}: layer '{stored}' has {len(values)} arrays, expected "
                                       f"{len(layer.weights)}")
                for var, value in zip(layer.weights, values, strict=True):
                    if tuple(var.shape) != tuple(value.shape):
                        raise WeightsError(f"{path}: layer '{stored}' weight shape {value.shape} does "
                                           f"not match {tuple(var.shape)}")
                    var.assign(value)
                loaded += 1
    except OSError as exc:
        raise WeightsError(f"{path}: not a readable HDF5 weights file ({exc})") from exc
    return loaded
