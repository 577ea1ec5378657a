"""Third-party normalization plugins, the reference parameter table, and `fswap model summary`."""

from __future__ import annotations

import importlib.metadata as md
import sys
import textwrap
import types
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fswap_model_plugins import model_plugin_manager

from fswap.catalog import Catalog
from fswap.model.config import parse_model_config
from fswap.model.io import load_networks, save_networks
from fswap.model.networks import build_networks
from fswap.model.summary import REFERENCE_PARAMS_M, parameter_counts
from fswap.plugins import DISABLE_ENV

THIRD_PARTY = "fswap_thirdparty_scale_norm"
THIRD_PARTY_SOURCE = f'''
import attrs
import keras
from fswap import ComponentSpec, hookimpl, option


@attrs.frozen(kw_only=True)
class ScaleConfig:
    init: float = option(0.5, help="Initial per-channel scale.")


@keras.saving.register_keras_serializable(package="{THIRD_PARTY}")
class ChannelScale(keras.layers.Layer):
    def __init__(self, init=0.5, **kwargs):
        super().__init__(**kwargs)
        self.init = float(init)

    def build(self, shape):
        self.scale = self.add_weight(shape=(shape[-1],), initializer=keras.initializers.Constant(self.init))

    def call(self, x):
        return x * keras.ops.cast(self.scale, x.dtype)

    def get_config(self):
        return {{**super().get_config(), "init": self.init}}


class ScaleNorm:  # follows fswap.LayerFactory: (channels, *, name) only
    def __init__(self, config):
        self.config = config

    def __call__(self, channels, *, name):
        return ChannelScale(self.config.init, name=name)


@hookimpl
def fswap_register_components():
    return [ComponentSpec(kind="normalization", name="channel_scale", factory="{THIRD_PARTY}:ScaleNorm",
                          config=ScaleConfig, summary="A learned per-channel scale (test plugin).")]
'''


@pytest.fixture
def third_party_module() -> Iterator[types.ModuleType]:
    module = types.ModuleType(THIRD_PARTY)
    exec(compile(textwrap.dedent(THIRD_PARTY_SOURCE), f"<{THIRD_PARTY}>", "exec"), module.__dict__)
    sys.modules[THIRD_PARTY] = module
    yield module
    sys.modules.pop(THIRD_PARTY, None)


def test_third_party_normalization_is_picked_up_by_one_use_line(
    third_party_module: types.ModuleType, tmp_path: Path
) -> None:
    catalog = Catalog.from_plugin_manager(model_plugin_manager(extra=[("myplug", third_party_module)]))
    assert catalog.get("normalization", "channel_scale").provider.plugin == "myplug"
    table = {"width_divisor": 32, "normalization": {"use": "channel_scale", "init": 0.25}}
    config = parse_model_config(table, catalog=catalog)
    networks = build_networks(config)
    scales = [layer for m in networks.all().values() for layer in m.layers
              if type(layer).__name__ == "ChannelScale"]
    assert len(scales) >= 8 and all(layer.init == 0.25 for layer in scales)
    save_networks(networks, tmp_path, config)
    loaded, metadata = load_networks(tmp_path)
    assert metadata["components"]["normalization"]["plugin"] == "myplug"
    face = np.random.default_rng(0).uniform(-1, 1, (1, 64, 64, 3)).astype(np.float32)
    np.testing.assert_array_equal(np.asarray(networks.encoder(face)), np.asarray(loaded.encoder(face)))


@pytest.mark.parametrize(("capacity", "resolution"), sorted(REFERENCE_PARAMS_M))
def test_reference_parameter_counts_within_one_percent(
    catalog: Catalog, capacity: str, resolution: int
) -> None:
    # the reference table: standard with its default norm ('instancenorm' = per_sample) and PixelShuffle,
    # lite with 'hybrid' and nearest upsampling (docs/model.md)
    norm, upsampling = ("per_sample", "pixel_shuffle") if capacity == "standard" else ("hybrid", "nearest")
    config = parse_model_config({"resolution": resolution, "capacity": capacity,
                                 "normalization": {"use": norm}, "upsampling": {"use": upsampling}},
                                catalog=catalog)
    counts = parameter_counts(build_networks(config))
    reference = REFERENCE_PARAMS_M[(capacity, resolution)]
    ours = {"encoder": counts["encoder"], "decoder": counts["decoder_a"],
            "discriminator": counts["discriminator_a"], "total": counts["total"]}
    for key, millions in reference.items():
        assert abs(ours[key] / 1e6 - millions) <= 0.01 * millions, (key, ours[key], millions)


@pytest.fixture
def only_model_plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    ours = {"standard", "attention", "spade"}
    others = [ep.name for ep in md.entry_points(group="fswap.plugins") if ep.name not in ours]
    monkeypatch.setenv(DISABLE_ENV, ",".join(others))


def test_model_summary_command(
    only_model_plugins: None, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    from fswap.cli import main

    pipeline = tmp_path / "pipeline.toml"
    text = textwrap.dedent("""
        [train.model]
        resolution = 128
        capacity = "lite"
        width_divisor = 16
        [train.model.normalization]
        use = "{norm}"
        [train.model.upsampling]
        use = "nearest"
    """)
    pipeline.write_text(text.format(norm="hybrid"))
    assert main(["model", "summary", str(pipeline)]) == 0
    first = capsys.readouterr().out
    for name in ("encoder", "decoder_a", "decoder_b", "discriminator_a", "discriminator_b", "total"):
        assert name in first
    assert "normalization hybrid" in first and "upsampling nearest" in first

    pipeline.write_text(text.format(norm="none"))  # one `use =` line changed
    assert main(["model", "summary", str(pipeline), "--layers"]) == 0
    second = capsys.readouterr().out
    assert "normalization none" in second
    assert "HybridNormalization" not in second and "| upscale1_up | UpSampling2D |" in second

    def total(out: str) -> int:
        line = next(li for li in out.splitlines() if li.startswith("total"))
        return int(line.split()[1].replace(",", ""))

    assert total(first) > total(second)  # hybrid's 1×1 convs add parameters

    pipeline.write_text("[train.model]\nresolution = 100\n")
    assert main(["model", "summary", str(pipeline)]) == 2
    assert "resolution must be one of 64, 128, 256" in capsys.readouterr().err
