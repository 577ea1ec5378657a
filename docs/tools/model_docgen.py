"""Generates the measured parts of docs/model.md from the built networks (parameter comparison with the
reference table and the layer-graph tables, optionally SVG graphs).
Run: `python docs/tools/model_docgen.py docs/ > /tmp/model-tables.md`."""

from __future__ import annotations

import sys
from pathlib import Path

import keras

from fswap.catalog import Catalog
from fswap.model.config import parse_model_config
from fswap.model.networks import build_networks
from fswap.model.summary import REFERENCE_PARAMS_M, parameter_counts, render_layers, render_svg
from fswap.plugins import make_plugin_manager

REFERENCE_CHOICES: dict[str, tuple[str, str]] = {
    "standard": ("per_sample", "pixel_shuffle"),
    "lite": ("hybrid", "nearest"),
}


def _table(capacity: str, resolution: int, catalog: Catalog, **extra: object) -> dict:
    norm, upsampling = REFERENCE_CHOICES[capacity]
    table = {"resolution": resolution, "capacity": capacity, "normalization": {"use": norm},
             "upsampling": {"use": upsampling}, **extra}
    return parse_model_config(table, catalog=catalog)


def parameter_comparison(catalog: Catalog) -> str:
    """Markdown table: our counts vs the reference §1.6 for the six reference configurations."""
    lines = ["| config | encoder | each decoder | each D | G_A | all 5 | max deviation |",
             "|---|---|---|---|---|---|---|"]
    for (capacity, resolution), ref in sorted(REFERENCE_PARAMS_M.items()):
        counts = parameter_counts(build_networks(_table(capacity, resolution, catalog)))
        ours = {"encoder": counts["encoder"], "decoder": counts["decoder_a"],
                "discriminator": counts["discriminator_a"], "total": counts["total"]}
        worst = max(abs(ours[k] / 1e6 / v - 1) for k, v in ref.items())

        def cell(key: str, ref: dict = ref, ours: dict = ours) -> str:
            return f"{ours[key] / 1e6:.3f} M ({ref[key]})"

        name = f"{capacity}{'+hybrid' if capacity == 'lite' else ''}, R={resolution}"
        lines.append(f"| {name} | {cell('encoder')} | {cell('decoder')} | {cell('discriminator')} | "
                     f"{counts['generator_a'] / 1e6:.3f} M | {cell('total')} | {worst:.2%} |")
        keras.backend.clear_session()
    return "\n".join(lines)


def layer_graph(catalog: Catalog, capacity: str = "lite", resolution: int = 128) -> str:
    """The layer tables of one reference configuration (every network)."""
    networks = build_networks(_table(capacity, resolution, catalog))
    return "\n\n".join(render_layers(m) for m in (networks.encoder, networks.decoders["a"],
                                                   networks.discriminators["a"]))


def write_svgs(catalog: Catalog, folder: Path, capacity: str = "lite", resolution: int = 128) -> list[Path]:
    """SVG layer graphs of encoder, decoder A and discriminator A of one reference configuration."""
    networks = build_networks(_table(capacity, resolution, catalog))
    paths = []
    for model in (networks.encoder, networks.decoders["a"], networks.discriminators["a"]):
        path = folder / f"model-{model.name.replace('_a', '')}.svg"
        path.write_text(render_svg(model), encoding="utf-8")
        paths.append(path)
    return paths


def main() -> None:
    catalog = Catalog.from_plugin_manager(make_plugin_manager())
    if len(sys.argv) > 1:  # a folder: also write the SVG graphs there
        for path in write_svgs(catalog, Path(sys.argv[1])):
            sys.stderr.write(f"wrote {path}\n")
    sys.stdout.write("### Parameter counts (ours, reference §1.6 in parentheses)\n\n")
    sys.stdout.write(parameter_comparison(catalog) + "\n\n")
    sys.stdout.write("### Layer graph: lite + hybrid + nearest, R = 128 (generated from the model)\n\n")
    sys.stdout.write(layer_graph(catalog) + "\n")


if __name__ == "__main__":
    main()
