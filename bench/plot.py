"""Draw docs/images/performance.png from bench/results/*.json (one panel per benchmark that has results).

Usage: python -m bench.plot [--out docs/images/performance.png]
Bars are the measured numbers of the last run of each benchmark; dashed lines are the targets of issue 9.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from bench.common import RESULTS

OUT = Path(__file__).resolve().parent.parent / "docs" / "images" / "performance.png"


def load(name: str) -> dict[str, Any] | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def bars(ax: Any, title: str, labels: list[str], values: list[float], unit: str,
         target: float | None = None) -> None:
    """One horizontal bar per label, value printed at the bar's end, optional dashed target line."""
    ys = range(len(labels))
    ax.barh(list(ys), values, color="#4c72b0")
    ax.set_yticks(list(ys), labels, fontsize=8)
    ax.invert_yaxis()
    for y, v in zip(ys, values, strict=True):
        ax.text(v, y, f" {v:g}", va="center", fontsize=8)
    if target is not None:
        ax.axvline(target, color="#c44e52", linestyle="--", linewidth=1, label=f"target {target:g}")
        ax.legend(loc="lower right", fontsize=7)
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(unit, fontsize=8)
    ax.margins(x=0.25)


def panels() -> list[tuple[str, list[str], list[float], str, float | None]]:
    """(title, labels, values, unit, target) for each benchmark that has results."""
    out = []
    ext = load("extract")
    if ext:
        labels, values = [], []
        for size, modes in ext["results"].items():
            for mode, r in modes.items():
                labels.append(f"{size} {mode}")
                values.append(r["faces_per_s"])
        out.append(("Extraction (MTCNN + align + mask)", labels, values, "faces/s", 15.0))
    conv = load("convert")
    if conv:
        labels = [f"{m} (MAD {r['mad_vs_baseline']:g})" for m, r in conv["modes"].items()]
        out.append(("Conversion 640×360, end to end (64 lite)", labels,
                    [r["fps"] for r in conv["modes"].values()], "frames/s", 25.0))
    rows = [(row, "") for row in (load("train") or {}).get("results", [])]
    rows += [(row, " no attention") for row in (load("train_no_attention") or {}).get("results", [])]
    if rows:
        labels, values = [], []
        for row, suffix in rows:
            if "fswap" not in row:
                continue
            key = f"{row['resolution']} {row['capacity']} {row['precision']}{suffix}"
            labels.append(f"{key} fswap")
            values.append(row["fswap"]["images_per_s"])
            if "baseline" in row:
                labels.append(f"{key} hand-written")
                values.append(row["baseline"]["images_per_s"])
        out.append(("Training step, batch 8 per side", labels, values, "images/s", None))
    att = load("attention")
    if att:
        names = {"plain": "plain N×N (baseline)", "auto": "automatic (query_block 0)"}
        labels = [names.get(str(r["query_block"]), f"blocks of {r['query_block']}")
                  + (" + recompute" if r["recompute"] else "") for r in att["runs"]]
        out.append((f"Self-attention 64×64, batch {att['batch']}: forward + backward", labels,
                    [r["train_step_ms"] for r in att["runs"]], "ms (lower is better)", None))
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    found = panels()
    if not found:
        raise SystemExit(f"no results in {RESULTS}: run `python -m bench` first")
    fig, axes = plt.subplots(len(found), 1, figsize=(8, 2.2 + 0.9 * sum(len(p[1]) for p in found) / 2.2))
    for ax, panel in zip(list(getattr(axes, "flat", [axes])), found, strict=True):
        bars(ax, *panel)
    summary = load("summary")
    if summary and summary.get("machine_at_start"):
        load_avg = summary["machine_at_start"].get("load_average_1_5_15")
        fig.suptitle(f"fswap on {summary['machine_at_start']['cpus']} CPU cores (load average at start "
                     f"{load_avg}); bench/results/*.json", fontsize=9)
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=110)
    print(args.out)


if __name__ == "__main__":
    main()
