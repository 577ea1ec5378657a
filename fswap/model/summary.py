"""Parameter counts per network, the reference's table (§1.6) to compare with, and a text rendering
of a network's layer graph (used by `fswap model summary` and docs/model.md)."""

from __future__ import annotations

from typing import Any

import keras

from fswap.model.networks import Networks

REFERENCE_PARAMS_M: dict[tuple[str, int], dict[str, float]] = {
    ("standard", 64): {"encoder": 59.1, "decoder": 6.30, "discriminator": 0.75, "total": 73.2},
    ("standard", 128): {"encoder": 68.6, "decoder": 6.49, "discriminator": 1.88, "total": 85.3},
    ("standard", 256): {"encoder": 78.0, "decoder": 6.68, "discriminator": 3.01, "total": 97.4},
    ("lite", 64): {"encoder": 10.1, "decoder": 0.42, "discriminator": 0.77, "total": 12.5},
    ("lite", 128): {"encoder": 19.1, "decoder": 0.44, "discriminator": 1.92, "total": 23.8},
    ("lite", 256): {"encoder": 19.7, "decoder": 0.46, "discriminator": 3.06, "total": 26.8},
}
"""Millions of parameters from faceswap-GAN-reference §1.6: standard with the reference default norm
('instancenorm' = per_sample) and PixelShuffle; lite with 'hybrid' and nearest upsampling."""


def parameter_counts(networks: Networks) -> dict[str, int]:
    """Parameters (trainable + non-trainable) of each network, plus generator A and the total."""
    counts = {name: int(model.count_params()) for name, model in networks.all().items()}
    counts["generator_a"] = counts["encoder"] + counts["decoder_a"]
    counts["total"] = sum(int(m.count_params()) for m in networks.all().values())
    return counts


def render_counts(counts: dict[str, int], title: str = "") -> str:
    """A small aligned table of parameter counts."""
    lines = [title] if title else []
    lines += [f"{'network':<18}{'parameters':>14}{'millions':>10}"]
    for name, n in counts.items():
        lines.append(f"{name:<18}{n:>14,}{n / 1e6:>10.2f}")
    return "\n".join(lines)


def _shape(tensors: Any) -> str:
    """Shapes of a (possibly nested) output, e.g. "N×64×64×4"."""
    flat = keras.tree.flatten(tensors)
    return ", ".join("×".join("N" if d is None else str(d) for d in t.shape) for t in flat)


def layer_rows(model: keras.Model) -> list[dict[str, Any]]:
    """One row per layer in graph order: name, class, inputs (layer names), output shape, parameters."""
    rows = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            rows.append({"name": layer.name, "type": "Input", "inputs": [], "output": _shape(layer.output),
                         "params": 0})
            continue
        inputs = keras.tree.flatten(layer.input)
        inbound = [t._keras_history.operation.name for t in inputs if hasattr(t, "_keras_history")]
        rows.append({"name": layer.name, "type": type(layer).__name__, "inputs": inbound,
                     "output": _shape(layer.output), "params": int(layer.count_params())})
    return rows


def render_layers(model: keras.Model) -> str:
    """The layer graph as a Markdown table (a diagram generated from the model itself)."""
    lines = [f"#### {model.name} ({model.count_params():,} parameters)", "",
             "| layer | type | from | output | params |", "|---|---|---|---|---|"]
    for row in layer_rows(model):
        source = ", ".join(row["inputs"])
        lines.append(f"| {row['name']} | {row['type']} | {source} | {row['output']} | {row['params']:,} |")
    return "\n".join(lines)

