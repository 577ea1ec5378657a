"""FaceGenerator (convert's view of a saved model) and the generator(side) chain."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from fswap.errors import ConfigError, InputError, PluginError
from fswap.model.config import ModelConfig
from fswap.model.generator import FaceGenerator
from fswap.model.io import load_networks, save_networks
from fswap.model.networks import build_networks


@pytest.fixture
def saved(make_config: Callable[..., ModelConfig], tmp_path: Path):
    config = make_config(resolution=64, width_divisor=32)
    networks = build_networks(config)
    save_networks(networks, tmp_path / "export", config)
    return networks, tmp_path / "export"


def test_directions_use_the_other_sides_decoder(saved) -> None:
    networks, folder = saved
    faces = np.random.default_rng(0).integers(0, 256, (5, 64, 64, 3), dtype=np.uint8)
    x = faces.astype(np.float32) / 127.5 - 1.0
    for direction, side in (("a_to_b", "b"), ("b_to_a", "a")):
        gen = FaceGenerator.load(folder, direction, batch_size=2)
        bgr, alpha = gen(faces)
        assert gen.resolution == 64
        assert bgr.shape == (5, 64, 64, 3) and bgr.dtype == np.uint8
        assert alpha.shape == (5, 64, 64) and alpha.dtype == np.float32
        want = np.asarray(networks.generator(side)(x, training=False)["abgr"])
        np.testing.assert_allclose(alpha, want[..., 0], atol=1e-5)
        np.testing.assert_array_less(np.abs(bgr.astype(np.float32) - (want[..., 1:] + 1) * 127.5), 0.5 + 1e-3)


def test_bad_inputs_are_clear_errors(saved) -> None:
    _, folder = saved
    gen = FaceGenerator.load(folder, "a_to_b")
    with pytest.raises(InputError, match=r"\(N, 64, 64, 3\)"):
        gen(np.zeros((1, 32, 32, 3), np.uint8))
    with pytest.raises(ConfigError, match="a_to_b, b_to_a"):
        FaceGenerator.load(folder, "sideways")
    with pytest.raises(InputError, match=r"model\.json"):
        FaceGenerator.load(folder / "missing", "a_to_b")


def test_missing_plugin_names_what_to_install(saved) -> None:
    _, folder = saved
    meta = json.loads((folder / "model.json").read_text())
    meta["components"]["attention"].update(factory="fswap_not_installed.layers:Block", plugin="notinstalled",
                                           distribution="fswap-not-installed", version="9.9")
    (folder / "model.json").write_text(json.dumps(meta))
    with pytest.raises(PluginError) as info:
        load_networks(folder)
    text = str(info.value)
    assert "plugin 'notinstalled'" in text and "install fswap-not-installed" in text


def test_spade_generator_needs_its_condition(make_config: Callable[..., ModelConfig], tmp_path: Path) -> None:
    spade = {"use": "spade", "hidden": 4}
    config = make_config(width_divisor=32, normalization=spade)
    networks = build_networks(config)
    save_networks(networks, tmp_path, config)
    gen = FaceGenerator.load(tmp_path, "a_to_b")
    faces = np.full((2, 64, 64, 3), 128, np.uint8)
    with pytest.raises(InputError, match="1-channel map"):
        gen(faces)
    zeros, ones = np.zeros((2, 64, 64, 1), np.float32), np.ones((2, 64, 64, 1), np.float32)
    _, alpha0 = gen(faces, zeros)
    _, alpha1 = gen(faces, ones)
    assert not np.allclose(alpha0, alpha1)  # the condition map reaches the output
