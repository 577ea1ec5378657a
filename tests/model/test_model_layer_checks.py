"""check_layer itself: it passes good layers and names the step where a broken layer fails."""

from __future__ import annotations

from typing import Any

import keras
import pytest

from fswap.model.layer_checks import check_layer


@keras.saving.register_keras_serializable(package="fswap_tests")
class Scale(keras.layers.Layer):
    def __init__(self, factor: float = 2.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.factor = factor

    def build(self, shape: tuple) -> None:
        self.w = self.add_weight(shape=(shape[-1],), initializer="ones")

    def call(self, x: Any) -> Any:
        return x * self.w * self.factor

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "factor": self.factor}


@keras.saving.register_keras_serializable(package="fswap_tests")
class ForgetsItsConfig(Scale):
    def get_config(self) -> dict[str, Any]:
        return keras.layers.Layer.get_config(self)  # drops `factor`


class NotRegistered(Scale):
    pass


@keras.saving.register_keras_serializable(package="fswap_tests")
class NoInputGradient(keras.layers.Layer):
    def call(self, x: Any) -> Any:
        return keras.ops.stop_gradient(x)


def test_a_good_layer_passes() -> None:
    result = check_layer(lambda: Scale(3.0), (4, 4, 2), expected_output_shape=(4, 4, 2))
    assert result["reloaded"].layers[-1].factor == 3.0


def test_lost_config_is_caught() -> None:
    with pytest.raises(AssertionError, match="get_config round trip"):
        check_layer(lambda: ForgetsItsConfig(3.0), (4, 4, 2))


def test_unregistered_layer_fails_to_reload() -> None:
    with pytest.raises(Exception, match="NotRegistered"):
        check_layer(lambda: NotRegistered(3.0), (4, 4, 2))


def test_missing_gradient_is_caught() -> None:
    with pytest.raises(AssertionError, match="gradient"):
        check_layer(NoInputGradient(), (3, 3, 1))


def test_wrong_shape_is_caught() -> None:
    with pytest.raises(AssertionError, match="output shape"):
        check_layer(lambda: Scale(), (4, 4, 2), expected_output_shape=(8, 8, 2))


def test_svg_graph_has_a_box_per_layer_and_skip_curves(make_config) -> None:
    import xml.dom.minidom

    from fswap.model.networks import build_networks
    from fswap.model.summary import layer_rows, render_svg

    decoder = build_networks(make_config(resolution=128, width_divisor=32)).decoders["a"]
    svg = render_svg(decoder)
    doc = xml.dom.minidom.parseString(svg)
    assert len(doc.getElementsByTagName("rect")) == len(layer_rows(decoder))
    # residual add, abgr concat and the 64-px side output need curves (their inputs are not the row above)
    assert len(doc.getElementsByTagName("path")) >= 3
    assert "res1_add · Add" in svg and "bgr64 · Conv2D" in svg
