"""ModelConfig: TOML structuring, validation messages, component switching, no TensorFlow import."""

from __future__ import annotations

import subprocess
import sys
import tomllib

import pytest

from fswap.catalog import Catalog
from fswap.errors import ComponentNotFoundError, ConfigError
from fswap.model.config import ModelConfig, parse_model_config


def test_defaults_follow_the_reference(catalog: Catalog) -> None:
    config = parse_model_config({}, catalog=catalog)
    assert (config.resolution, config.capacity, config.width_divisor) == (64, "standard", 1)
    assert config.weight_decay == pytest.approx(1e-4)
    assert config.normalization.name == "hybrid"
    assert config.attention.name == "self_attention"
    assert config.upsampling.name == "pixel_shuffle"


def test_one_use_line_switches_a_component(catalog: Catalog) -> None:
    text = """
    resolution = 128
    capacity = "lite"
    [normalization]
    use = "{norm}"
    [attention]
    use = "{att}"
    """
    first = parse_model_config(tomllib.loads(text.format(norm="batch", att="none")), catalog=catalog)
    second = parse_model_config(tomllib.loads(text.format(norm="spade", att="chunked_self_attention")),
                                catalog=catalog)
    assert (first.normalization.name, first.attention.name) == ("batch", "none")
    assert (second.normalization.name, second.attention.name) == ("spade", "chunked_self_attention")
    assert second.normalization.config.fallback.name == "hybrid"  # nested component default
    assert parse_model_config({"normalization": {"use": "instancenorm"}}, catalog=catalog) \
        .normalization.name == "per_sample"  # the reference's name is an alias


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"resolution": 96}, "resolution must be one of 64, 128, 256, received 96"),
        ({"capacity": "huge"}, "capacity must be one of 'standard', 'lite'"),
        ({"width_divisor": 3}, "width_divisor must be a power of two"),
        ({"weight_decay": -1.0}, "weight_decay must be ≥ 0.0"),
        ({"resolutoin": 64}, "unknown option 'resolutoin'"),
        ({"attention": {"use": "self_attention", "query_block": -2}}, "query_block must be ≥ 0"),
    ],
)
def test_errors_name_the_section(catalog: Catalog, table: dict, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_model_config(table, catalog=catalog, source="pipe.toml")
    assert "pipe.toml [train.model" in str(info.value)
    assert message in str(info.value)


def test_unknown_component_lists_the_installed_ones(catalog: Catalog) -> None:
    with pytest.raises(ComponentNotFoundError) as info:
        parse_model_config({"normalization": {"use": "hybird"}}, catalog=catalog)
    text = str(info.value)
    assert "no normalization named 'hybird'" in text
    assert "Did you mean 'hybrid'" in text
    assert "per_sample" in text and "spade" in text


def test_unresolved_config_is_a_clear_error() -> None:
    from fswap.model.blocks import ModelBlocks

    with pytest.raises(ConfigError, match="parse_model_config"):
        ModelBlocks.from_config(ModelConfig())


def test_config_and_specs_import_no_tensorflow() -> None:
    code = (
        "import sys, fswap.model.config, fswap_standard, fswap_attention, fswap_spade;"
        "bad = [m for m in ('tensorflow', 'keras') if m in sys.modules];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
