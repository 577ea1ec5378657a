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



_COLOURS: dict[str, str] = {
    "Input": "#e0e0e0", "Conv2D": "#cfe3ff", "Dense": "#cfe3ff", "SelfAttention": "#ffd9b3",
    "Spade": "#ffc2c2", "PixelShuffle": "#d5f5d0", "UpSampling2D": "#d5f5d0", "ReflectionPad2D": "#d5f5d0",
    "Concatenate": "#f0e0ff", "Add": "#f0e0ff",
}
_NORM_HINT = "Normalization"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render_svg(model: keras.Model, *, row: int = 24, width: int = 430) -> str:
    """The layer graph as a standalone SVG: one box per layer in graph order, straight arrows between
    consecutive layers and curves on the right for skips (residual adds, condition inputs, side outputs)."""
    rows = layer_rows(model)
    index = {r["name"]: i for i, r in enumerate(rows)}
    height = row * len(rows) + 40
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width + 140}" height="{height}" '
        f'font-family="monospace" font-size="11">',
        '<defs><marker id="arrow" markerWidth="6" markerHeight="6" refX="5" refY="3" orient="auto">'
        '<path d="M0,0 L6,3 L0,6 z" fill="#555"/></marker></defs>',
        f'<text x="8" y="16" font-size="13" font-weight="bold">{_escape(model.name)} '
        f"({model.count_params():,} parameters)</text>",
    ]
    top = 28
    for i, r in enumerate(rows):
        y = top + i * row
        colour = _COLOURS.get(r["type"], "#fff6c2" if _NORM_HINT in r["type"] else "#f7f7f7")
        label = f"{r['name']} · {r['type']} · {r['output']}" + (f" · {r['params']:,}" if r["params"] else "")
        parts.append(f'<rect x="8" y="{y}" width="{width}" height="{row - 8}" rx="3" fill="{colour}" '
                     'stroke="#888"/>')
        parts.append(f'<text x="14" y="{y + row - 12}">{_escape(label)}</text>')
        for depth, source in enumerate(r["inputs"]):
            j = index.get(source)
            if j is None:
                continue
            if j == i - 1:
                parts.append(f'<line x1="{8 + width // 2}" y1="{y - 8}" x2="{8 + width // 2}" y2="{y}" '
                             'stroke="#555" marker-end="url(#arrow)"/>')
            else:
                y0, y1 = top + j * row + (row - 8) // 2, y + (row - 8) // 2
                bend = 8 + width + 24 + min(100, 8 * (i - j)) + 8 * depth
                parts.append(f'<path d="M{8 + width},{y0} C{bend},{y0} {bend},{y1} {8 + width},{y1}" '
                             'fill="none" stroke="#555" marker-end="url(#arrow)"/>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
