"""`[train.model] mask = "none"`: decoders without a mask head paste their whole output (α = 1), survive
save/load, and the learned mask stays the default with its own head."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from fswap.errors import ConfigError
from fswap.model.config import ModelConfig


def test_mask_none_is_alpha_one_and_round_trips(make_config: Callable[..., ModelConfig],
                                                tmp_path: Path) -> None:
    from fswap.model.generator import FaceGenerator
    from fswap.model.io import save_networks
    from fswap.model.networks import build_networks

    config = make_config(resolution=64, capacity="lite", mask="none")
    nets = build_networks(config)
    decoder = nets.decoders["a"]
    assert not any(layer.name == "alpha" and hasattr(layer, "kernel") for layer in decoder.layers)
    save_networks(nets, tmp_path, config)
    rng = np.random.default_rng(0)
    faces = rng.integers(0, 256, (3, 64, 64, 3), dtype=np.uint8)
    for direction in ("a_to_b", "b_to_a"):
        bgr, alpha = FaceGenerator.load(tmp_path, direction)(faces)
        assert alpha.shape == (3, 64, 64)
        assert np.all(alpha == 1.0)
        assert bgr.std() > 0  # the colour head is still there and depends on its input


def test_learned_mask_is_the_default_and_predicts_alpha(make_config: Callable[..., ModelConfig]) -> None:
    import keras

    from fswap.model.networks import build_networks

    config = make_config(resolution=64, capacity="lite")
    assert config.mask == "learned"
    keras.utils.set_random_seed(0)  # the initial weights decide how far the sigmoid head saturates
    decoder = build_networks(config).decoders["b"]
    head = decoder.get_layer("alpha")
    assert head.kernel.shape[-1] == 1  # a conv head, trained like the colour head
    out = decoder(np.random.default_rng(1).normal(size=(2, *decoder.inputs[0].shape[1:])).astype("float32"))
    alpha = np.asarray(out["abgr"])[..., 0]
    # a sigmoid head: inside [0, 1] (float32 rounds sigmoid(x > 17) to exactly 1.0, seen on a fresh clone),
    # varying with its input, and not the constant 1 of mask = "none"
    assert alpha.min() >= 0.0 and alpha.max() <= 1.0 and alpha.std() > 0.01
    assert np.mean(alpha == 1.0) < 0.5


def test_unknown_mask_mode_names_the_choices(make_config: Callable[..., ModelConfig]) -> None:
    with pytest.raises(ConfigError, match="mask must be one of"):
        make_config(mask="fixed")
