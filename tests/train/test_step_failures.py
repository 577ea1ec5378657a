"""A loss term failing inside the compiled train step is one PluginFailure naming the term, its component
and distribution: a Python error while the step is traced, and a TensorFlow op error when it runs (found
through the term's name scope). Errors that are not a loss term's are left as they are."""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np
import pytest
import tensorflow as tf

from fswap.components import ComponentChoice, ComponentSpec, Kind, Provider
from fswap.errors import ConfigError, PluginFailure
from fswap.train.step import TrainStep
from fswap.train.toys import TinyNetworks

RES = 32
SWITCH = "FSWAP_DISABLE_PLUGINS=toyplug"


@attrs.frozen
class FailingConfig:
    """How the term fails."""

    mode: str = "run"


class Reconstruction:
    """mean |bgr − target| (a term that works)."""

    weight = 1.0
    uses_discriminator = False

    def generator_loss(self, x: Any) -> Any:
        return tf.reduce_mean(tf.abs(x.bgr - x.target))

    def discriminator_loss(self, x: Any) -> None:
        return None


class Failing(Reconstruction):
    """Fails while traced ("trace", "user_error"), in an op when run ("run") or when asked for its models."""

    def __init__(self, mode: str) -> None:
        self.mode = mode

    def extra_models(self, networks: Any) -> list[Any]:
        if self.mode == "extra_models":
            raise AttributeError("'Networks' object has no attribute 'critic'")
        return []

    def generator_loss(self, x: Any) -> Any:
        if self.mode == "trace":
            return x.alpha.shape[9]  # IndexError while traced
        if self.mode == "user_error":
            raise ConfigError("[train.losses.failing] threshold must be below 1, received 3")

        def lookup(values: np.ndarray) -> np.ndarray:
            raise LookupError(f"no entry for {values.shape[0]} faces")

        return tf.reduce_mean(tf.numpy_function(lookup, [x.alpha], tf.float32, stateful=False))


def _choice(name: str) -> ComponentChoice:
    spec = ComponentSpec(kind=Kind.LOSS, name=name, factory="toyplug:Failing", config=FailingConfig,
                         summary="Fails on purpose.")
    provider = Provider("toyplug", "fswap-toy", "0.3")
    return ComponentChoice(spec=spec, config=FailingConfig(), provider=provider,
                           section=f"train.losses.{name}")


def _batch(resolution: int = RES) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(0)
    image = lambda: rng.uniform(-1, 1, (2, resolution, resolution, 3)).astype("f4")  # noqa: E731
    eyes = lambda: np.zeros((2, resolution, resolution, 1), "f4")  # noqa: E731
    return (image(), image(), eyes(), image(), image(), eyes())


def _step(mode: str, *, named: bool = True) -> TrainStep:
    losses = {"reconstruction": Reconstruction(), "failing": Failing(mode)}  # the failing term is second
    choices = {"failing": _choice("failing")} if named else None
    return TrainStep(TinyNetworks(RES, seed=0), losses, choices=choices)


def test_an_op_failing_when_the_step_runs_names_the_loss_that_built_it() -> None:
    step = _step("run")
    with pytest.raises(PluginFailure) as info:
        step(_batch(), 0.5, iteration=7)
    assert str(info.value) == (
        "[train.losses.failing] loss 'failing' (fswap-toy 0.3) failed in an op it built, when the compiled "
        "train step ran (iteration 7): UnknownError: LookupError: no entry for 2 faces; remove "
        f"[train.losses.failing] or disable its plugin with {SWITCH}"
    )
    assert isinstance(info.value.__cause__, tf.errors.OpError)  # the traceback with --debug


def test_a_python_error_while_traced_names_the_loss_method_and_side() -> None:
    step = _step("trace")
    with pytest.raises(PluginFailure) as info:
        step(_batch(), 0.5, iteration=1)
    message = str(info.value)
    assert message.startswith("[train.losses.failing] loss 'failing' (fswap-toy 0.3) failed in "
                              "generator_loss() for side a while the train step was traced (iteration 1): "
                              "IndexError: ")
    assert message.endswith(SWITCH) and "\n" not in message
    assert isinstance(info.value.__cause__, IndexError)  # the term's own exception, not TF's rewrapped copy


def test_without_a_pipeline_choice_the_class_is_named() -> None:
    unnamed = (r"^loss 'failing' \([\w.]*test_step_failures\.Failing\) failed in generator_loss\(\) for "
               r"side a while the train step was traced")
    with pytest.raises(PluginFailure, match=unnamed):
        _step("trace", named=False)(_batch(), 0.5)


def test_a_user_error_from_a_loss_passes_through_unchanged() -> None:
    with pytest.raises(ConfigError) as info:
        _step("user_error")(_batch(), 0.5)
    assert str(info.value) == "[train.losses.failing] threshold must be below 1, received 3"


def test_extra_models_failing_while_the_step_is_built() -> None:
    built = (r"^\[train.losses.failing\] loss 'failing' \(fswap-toy 0\.3\) failed in extra_models\(\) "
             r"while the train step was built: AttributeError")
    with pytest.raises(PluginFailure, match=built):
        _step("extra_models")


def test_errors_outside_the_loss_terms_are_not_blamed_on_them() -> None:
    """A batch the networks cannot take fails in the encoder, not in a loss: no PluginFailure."""
    step = _step("run")
    with pytest.raises(Exception) as info:
        step(_batch(resolution=RES + 8), 0.5, iteration=1)
    assert not isinstance(info.value, PluginFailure)


def test_a_step_that_works_after_a_failure_is_not_blamed() -> None:
    """A failure noted while tracing is not carried over to a later, unrelated error."""
    step = _step("trace")
    with pytest.raises(PluginFailure):
        step(_batch(), 0.5)
    with pytest.raises(Exception) as info:
        step(_batch(resolution=RES + 8), 0.5)
    assert not isinstance(info.value, PluginFailure)
