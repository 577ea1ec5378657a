"""Model-block components that break on purpose, registered as the `fswap-rel-faulty-blocks` distribution.

The normalization `faulty_norm` fails, by `mode`, when its factory creates a layer (`create`), when Keras
builds the layer while the networks are built (`build`), or in a TensorFlow op each time the layer runs
(`run`: the networks build, the compiled train step fails). The attention `faulty_attention` fails the
same ways. A `fswap_pipeline_built` hook raises when FSWAP_REL_HOOK_FAILS is set.
"""

from __future__ import annotations

import os
from typing import Any

import attrs
import keras
import numpy as np

from fswap import ComponentSpec, Kind, hookimpl, option
from fswap.options import one_of

MODES = ("ok", "create", "build", "run")


@attrs.frozen(kw_only=True)
class FaultyBlockConfig:
    """Options of the faulty blocks."""

    mode: str = option("ok", help="When it fails.", validator=one_of(MODES))


@keras.saving.register_keras_serializable(package="fswap_rel_faulty_blocks")
class FaultyLayer(keras.layers.Layer):
    """An identity layer that fails in `build` or, as a TensorFlow op, in `call`."""

    def __init__(self, mode: str = "ok", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mode = mode

    def build(self, input_shape: Any) -> None:
        if self.mode == "build":
            raise ValueError(f"cannot normalise {input_shape[-1]} channels")
        super().build(input_shape)

    def call(self, x: Any) -> Any:
        if self.mode != "run":
            return x
        import tensorflow as tf

        def lookup(values: np.ndarray) -> np.ndarray:  # runs only when the graph runs
            raise LookupError(f"no statistics for a batch of {len(values)}")

        checked = tf.numpy_function(lookup, [x], tf.float32, stateful=True)
        return x + 0.0 * tf.reduce_sum(checked)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "mode": self.mode}


class FaultyBlocks:
    """The block factory of both components: `(channels, *, name) -> FaultyLayer`."""

    def __init__(self, config: FaultyBlockConfig) -> None:
        self.mode = config.mode

    def __call__(self, channels: int, *, name: str) -> FaultyLayer:
        if self.mode == "create":
            return {"channels": channels}["groups"]  # a KeyError while the layer is created
        return FaultyLayer(self.mode, name=name)


@hookimpl
def fswap_register_components() -> list[ComponentSpec]:
    return [
        ComponentSpec(kind=kind, name=name, factory="fswap_rel_faulty_blocks:FaultyBlocks",
                      config=FaultyBlockConfig, summary="Fails when created, built or run (tests).")
        for kind, name in ((Kind.NORMALIZATION, "faulty_norm"), (Kind.ATTENTION, "faulty_attention"))
    ]


@hookimpl
def fswap_pipeline_built(pipeline: Any) -> None:
    if os.environ.get("FSWAP_REL_HOOK_FAILS"):
        raise AttributeError(f"{type(pipeline).__name__} has no attribute 'detectors'")
