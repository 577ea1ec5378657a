"""A reusable check for custom Keras layers (re-exported by fswap.testing).

`check_layer` builds the layer, runs it forward, takes gradients, round-trips `get_config` and saves a
one-layer model as `.keras`, reloading it with safe_mode=True; every step must give the same outputs.
Failures raise AssertionError with a message naming the step (it is a test helper).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

Shape = Sequence[int]


def _fail(layer: Any, step: str, detail: str) -> AssertionError:
    return AssertionError(f"{type(layer).__name__} '{getattr(layer, 'name', '?')}': {step}: {detail}")


def _as_list(shapes: Shape | Sequence[Shape]) -> tuple[list[tuple[int, ...]], bool]:
    """Normalise one shape or a list of shapes (without the batch axis)."""
    if shapes and isinstance(shapes[0], Sequence):
        return [tuple(int(d) for d in s) for s in shapes], True  # type: ignore[union-attr]
    return [tuple(int(d) for d in shapes)], False  # type: ignore[arg-type]


def _outputs(value: Any) -> list[np.ndarray]:
    return [np.asarray(keras.ops.convert_to_numpy(t)) for t in keras.tree.flatten(value)]


def _compare(layer: Any, step: str, want: list[np.ndarray], got: list[np.ndarray], atol: float) -> None:
    if len(want) != len(got):
        raise _fail(layer, step, f"{len(got)} outputs, expected {len(want)}")
    for i, (a, b) in enumerate(zip(want, got, strict=True)):
        if a.shape != b.shape:
            raise _fail(layer, step, f"output {i} has shape {b.shape}, expected {a.shape}")
        diff = float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64)))) if a.size else 0.0
        if diff > atol:
            raise _fail(layer, step, f"output {i} differs by {diff:.3g} (> {atol:g})")


def check_layer(
    layer_factory_or_layer: keras.layers.Layer | Callable[[], keras.layers.Layer],
    input_shape: Shape | Sequence[Shape],
    *,
    batch: int = 2,
    seed: int = 0,
    atol: float = 1e-6,
    expected_output_shape: Shape | None = None,
    tmp_dir: Path | None = None,
) -> dict[str, Any]:
    """Check a layer end to end; returns {"layer", "inputs", "outputs", "reloaded"} for further asserts.

    `input_shape` excludes the batch axis; give a list of shapes for a layer called on a list of tensors.
    The layer must be fresh (unbuilt) or built for exactly these shapes.
    """
    layer = layer_factory_or_layer if isinstance(layer_factory_or_layer, keras.layers.Layer) \
        else layer_factory_or_layer()
    shapes, multi = _as_list(input_shape)
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal((batch, *s)).astype(np.float32) for s in shapes]
    feed: Any = arrays if multi else arrays[0]

    # build + forward
    out = _outputs(layer(feed))
    if not all(np.all(np.isfinite(o)) for o in out):
        raise _fail(layer, "forward", "non-finite outputs")
    if expected_output_shape is not None and out[0].shape[1:] != tuple(expected_output_shape):
        expected = tuple(expected_output_shape)
        raise _fail(layer, "forward", f"output shape {out[0].shape[1:]}, expected {expected}")

    # gradients w.r.t. inputs and weights
    variables = [tf.convert_to_tensor(a) for a in arrays]
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(variables)
        result = layer(variables if multi else variables[0])
        projection = [tf.constant(rng.standard_normal(o.shape).astype(np.float32)) for o in out]
        loss = tf.add_n([tf.reduce_sum(tf.cast(r, tf.float32) * p)
                         for r, p in zip(keras.tree.flatten(result), projection, strict=True)])
    grads = tape.gradient(loss, [*variables, *[w.value for w in layer.trainable_weights]])
    del tape
    if any(g is None for g in grads[: len(variables)]):
        raise _fail(layer, "gradient", "no gradient reaches an input")
    present = [np.asarray(tf.convert_to_tensor(g)) for g in grads if g is not None]
    if not all(np.all(np.isfinite(g)) for g in present):
        raise _fail(layer, "gradient", "non-finite gradients")
    if not any(np.any(g != 0) for g in present):
        raise _fail(layer, "gradient", "all gradients are zero")

    # get_config / from_config round trip with the same weights
    clone = type(layer).from_config(layer.get_config())
    clone(feed)
    clone.set_weights(layer.get_weights())
    _compare(layer, "get_config round trip", out, _outputs(clone(feed)), atol)

    # .keras save and safe_mode reload inside a one-layer model
    inputs = [keras.Input(s) for s in shapes]
    model = keras.Model(inputs if multi else inputs[0], layer(inputs if multi else inputs[0]))
    want = _outputs(model(feed))
    _compare(layer, "functional model", out, want, atol)
    with tempfile.TemporaryDirectory(dir=tmp_dir) as folder:
        path = Path(folder) / "layer.keras"
        model.save(path)
        reloaded = keras.saving.load_model(path, safe_mode=True, compile=False)
    _compare(layer, ".keras save/load (safe_mode=True)", want, _outputs(reloaded(feed)), atol)
    return {"layer": layer, "inputs": feed, "outputs": out, "reloaded": reloaded}
