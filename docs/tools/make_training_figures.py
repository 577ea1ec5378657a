"""Make the training guide's figures: preview grids at several iterations and the loss curves.

They come from a short CPU run on the demo's faces (two public-domain portraits moving in synthetic
videos, fswap.samples) with the demo's small model (64×64 lite, half widths) — not from a trained model:
a few hundred iterations show how previews and losses evolve early in training, nothing more.

    python docs/tools/make_training_figures.py                   # train (resumable) and write the PNGs
    python docs/tools/make_training_figures.py --workdir /tmp/w  # keep the run somewhere else

Writes docs/images/training-previews.png and docs/images/training-losses.png (palette PNGs, small).
The run is resumable: running again with the same --workdir only redraws the figures (as does --no-train).
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[2]
IMAGES = REPO / "docs" / "images"
RESOLUTION = 64
COLUMNS = (0, 1, 4, 5)  # two faces of A, two of B (the preview grid has four of each)
ROWS = ("input", "reconstruction", "swap", "swap mask")


def demo_run(workdir: Path, iterations: int, every: int) -> Path:
    """Extract the demo faces and train the demo's model for `iterations`; returns the model folder."""
    from fswap import api
    from fswap.samples import make_face_video

    inputs = workdir / "inputs"
    clips = {"a": ("astronaut", 1), "b": ("grace_hopper", 2)}  # the demo's faces and seeds
    for side, (face, seed) in clips.items():
        if not (inputs / f"{side}.mp4").is_file():
            make_face_video(inputs / f"{side}.mp4", face=face, frames=90, size=(640, 360), seed=seed)
    data = {
        "workdir": "work",
        "seed": 0,
        "extract": {"a": {"input": "inputs/a.mp4"}, "b": {"input": "inputs/b.mp4"}, "masks": {"eyes5": {}}},
        "train": {
            "recipe": "reference",  # the figures show early training with the reference recipe
            "iterations": iterations, "batch_size": 8, "checkpoint_every": every, "preview_every": every,
            "log_every": 5, "backup_every": 0,
            "model": {"resolution": RESOLUTION, "capacity": "lite", "width_divisor": 2,
                      "normalization": {"use": "hybrid"}, "attention": {"use": "self_attention"},
                      "upsampling": {"use": "nearest"}},
        },
    }
    pipe = api.from_dict(data, base_dir=workdir)
    pipe.run("extract", "train")
    return pipe.workdir.model


def preview_figure(previews: Path, iterations: list[int], out: Path) -> None:
    """Preview grids of the chosen iterations side by side, with labels, as a palette PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = []
    for it in iterations:
        grid = cv2.imread(str(previews / f"preview_{it:08d}.png"))
        if grid is None:
            raise SystemExit(f"no preview for iteration {it} in {previews}; run the training first")
        cols = [grid[:, c * RESOLUTION:(c + 1) * RESOLUTION] for c in COLUMNS]
        panels.append(cv2.cvtColor(np.concatenate(cols, axis=1), cv2.COLOR_BGR2RGB))
    fig, axes = plt.subplots(1, len(panels), figsize=(2.9 * len(panels) + 0.8, 3.5), dpi=100)
    for ax, panel, it in zip(np.atleast_1d(axes), panels, iterations, strict=True):
        ax.imshow(panel, interpolation="nearest")
        ax.set_title(f"iteration {it}", fontsize=9)
        ax.set_xticks([RESOLUTION * 1, RESOLUTION * 3], ["A faces", "B faces"], fontsize=7)
        ax.set_yticks([RESOLUTION * (r + 0.5) for r in range(len(ROWS))], ROWS if ax is axes[0] else [],
                      fontsize=7)
        ax.axvline(2 * RESOLUTION - 0.5, color="white", lw=1)
    fig.suptitle("Short CPU run on the demo faces (64×64 lite, half widths): not a trained model", fontsize=8)
    fig.tight_layout()
    save_palette_png(fig, out)
    plt.close(fig)


def loss_figure(history: Path, out: Path) -> None:
    """Reconstruction, adversarial and discriminator losses per side over the run."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with history.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    it = np.array([float(r["iteration"]) for r in rows])
    fig, axes = plt.subplots(1, 3, figsize=(9, 2.6), dpi=100)
    for ax, term in zip(axes, ("reconstruction", "mixup_lsgan", "d_total"), strict=True):
        for side, colour in (("a", "tab:blue"), ("b", "tab:orange")):
            key = f"{side}/{term}"
            if key in rows[0]:
                ax.plot(it, [float(r[key]) for r in rows], color=colour, lw=1, label=f"side {side}")
        ax.set_title(term, fontsize=9)
        ax.set_xlabel("iteration", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.suptitle("Unweighted losses of the same short CPU run (history.csv)", fontsize=8)
    fig.tight_layout()
    save_palette_png(fig, out)
    plt.close(fig)


def save_palette_png(fig: object, out: Path) -> None:
    """Render a figure and store it as an optimised 256-colour PNG (keeps the committed files small)."""
    from io import BytesIO

    from PIL import Image

    buffer = BytesIO()
    fig.savefig(buffer, format="png")  # type: ignore[attr-defined]
    buffer.seek(0)
    image = Image.open(buffer).convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    out.parent.mkdir(parents=True, exist_ok=True)
    image.save(out, format="PNG", optimize=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, default=REPO / "build" / "training-figures")
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--every", type=int, default=50, help="Preview (and checkpoint) interval.")
    parser.add_argument("--show", type=int, nargs="+", default=[50, 100, 200, 300],
                        help="Iterations shown in the preview figure.")
    parser.add_argument("--out", type=Path, default=IMAGES)
    parser.add_argument("--no-train", action="store_true",
                        help="Only draw the figures from the previews and history already in --workdir.")
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    if args.no_train:
        model = args.workdir.resolve() / "work" / "model"
    else:
        model = demo_run(args.workdir.resolve(), args.iterations, args.every)
    preview_figure(model / "previews", args.show, args.out / "training-previews.png")
    loss_figure(model / "history.csv", args.out / "training-losses.png")
    for name in ("training-previews.png", "training-losses.png"):
        path = args.out / name
        print(f"wrote {path} ({path.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
