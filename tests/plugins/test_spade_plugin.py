"""fswap_spade: SPADE normalization, its fallback and its use in the decoder's residual blocks."""

from __future__ import annotations

import numpy as np
import pytest
from fswap_spade.config import SpadeConfig
from fswap_spade.layers import Spade, SpadeNorm

from fswap.model.contracts import is_conditional
from fswap.model.layer_checks import check_layer


def test_spade_layer_round_trips_and_resizes_the_condition() -> None:
    result = check_layer(lambda: Spade(8, hidden=6, weight_decay=1e-4), [(8, 8, 8), (16, 16, 1)],
                         expected_output_shape=(8, 8, 8))
    assert len(result["layer"].losses) == 3


def test_output_depends_on_the_condition_map() -> None:
    layer = Spade(4, hidden=8)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1, 8, 8, 4)).astype(np.float32)
    zeros = np.zeros((1, 8, 8, 1), np.float32)
    mask = zeros.copy()
    mask[:, 2:5, 2:5] = 1.0
    plain, masked = np.asarray(layer([x, zeros])), np.asarray(layer([x, mask]))
    changed = np.abs(plain - masked).max(axis=-1)[0] > 1e-6
    assert changed[3, 3] and not changed[7, 7]  # modulation is local to where the map differs
    # with a zero map, output = instance-normalised x (the conv biases start at 0)
    mean, std = x.mean(axis=(1, 2), keepdims=True), x.std(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(plain, (x - mean) / np.sqrt(std**2 + 1e-5), atol=1e-4)


def test_factory_is_conditional_and_falls_back_elsewhere() -> None:
    bare = SpadeNorm(SpadeConfig(hidden=4))
    assert is_conditional(bare) and bare.condition_channels == 1
    assert bare(8, name="n") is None  # no fallback given (config built without the catalog)
    layer = bare.conditional(8, name="s", weight_decay=1e-4)
    assert isinstance(layer, Spade) and layer.hidden == 4 and layer.channels == 8


def test_only_the_one_channel_map_fswap_provides_is_accepted() -> None:
    """Training, convert and evaluate make a 1-channel map (the face set's eye mask); `fswap validate`
    refuses a decoder asking for more, which the train stage could not feed."""
    with pytest.raises(ValueError, match="condition_channels must be one of 1, received 5"):
        SpadeConfig(condition_channels=5)


def test_fallback_from_the_catalog() -> None:
    import importlib.metadata as md

    import fswap_spade
    import fswap_standard

    from fswap.builder import build
    from fswap.catalog import Catalog
    from fswap.model.config import parse_model_config
    from fswap.plugins import DISABLE_ENV, make_plugin_manager

    installed = ",".join(ep.name for ep in md.entry_points(group="fswap.plugins"))
    import fswap_attention

    extra = [("t_standard", fswap_standard), ("t_spade", fswap_spade), ("t_attention", fswap_attention)]
    pm = make_plugin_manager(extra_plugins=extra, environ={DISABLE_ENV: installed})
    catalog = Catalog.from_plugin_manager(pm)
    config = parse_model_config({"normalization": {"use": "spade", "fallback": {"use": "per_sample"}}},
                                catalog=catalog)
    norm = build(config.normalization)
    assert type(norm(8, name="x")).__name__ == "PerSampleNormalization"
