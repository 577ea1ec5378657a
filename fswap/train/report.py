"""What users watch during training: history.csv, TensorBoard, preview grids and the final loss plot."""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

HISTORY_FIELDS = ("iteration", "elapsed_s", "phase", "images_per_s")


class History:
    """Appends one row of losses per logged iteration to `history.csv` (columns fixed at creation)."""

    def __init__(self, path: Path, metric_names: Sequence[str], *, resume_from: int | None = None) -> None:
        self.path = path
        self.columns = [*HISTORY_FIELDS, *sorted(metric_names)]
        path.parent.mkdir(parents=True, exist_ok=True)
        rows: list[dict[str, str]] = []
        if resume_from is not None and path.is_file():
            with path.open(newline="", encoding="utf-8") as fh:
                reader = csv.DictReader(fh)
                if reader.fieldnames == self.columns:
                    rows = [r for r in reader if int(r["iteration"]) <= resume_from]
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=self.columns)
            writer.writeheader()
            writer.writerows(rows)

    def append(self, iteration: int, elapsed: float, phase: int, images_per_s: float,
               metrics: Mapping[str, float]) -> None:
        row = {"iteration": iteration, "elapsed_s": f"{elapsed:.3f}", "phase": phase,
               "images_per_s": f"{images_per_s:.3f}"}
        row.update({k: f"{metrics[k]:.6g}" for k in self.columns[len(HISTORY_FIELDS):] if k in metrics})
        with self.path.open("a", newline="", encoding="utf-8") as fh:
            csv.DictWriter(fh, fieldnames=self.columns).writerow(row)

    def read(self) -> dict[str, np.ndarray]:
        """Columns as float arrays."""
        with self.path.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        return {c: np.array([float(r[c]) if r.get(c) else np.nan for r in rows]) for c in self.columns}


def to_uint8(images: np.ndarray) -> np.ndarray:
    """[-1, 1] floats → uint8 (masks in [0, 1] are handled by the caller)."""
    return np.clip((np.asarray(images, np.float32) + 1.0) * 127.5, 0, 255).astype(np.uint8)


def preview_grid(columns: Sequence[Mapping[str, np.ndarray]]) -> np.ndarray:
    """A BGR uint8 grid: one column per face, rows input / reconstruction / swap / swap mask.

    Each column maps "input", "reconstruction", "swap" (BGR in [-1, 1], R×R×3) and "mask" ([0, 1], R×R)."""
    cells = []
    for col in columns:
        mask = np.repeat(np.clip(col["mask"], 0, 1)[..., None] * 255, 3, axis=-1).astype(np.uint8)
        cells.append(np.concatenate(
            [to_uint8(col["input"]), to_uint8(col["reconstruction"]), to_uint8(col["swap"]), mask], axis=0))
    return np.concatenate(cells, axis=1)


def write_png(path: Path, image: np.ndarray) -> None:
    """Write a PNG via a temporary name (a viewer never sees a half-written file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    if not cv2.imwrite(str(tmp), image):
        raise OSError(f"cannot write {path}")
    tmp.replace(path)


def plot_losses(history: Mapping[str, np.ndarray], path: Path) -> None:
    """Save a PNG of the generator/discriminator totals and reconstruction losses over iterations."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    it = history["iteration"]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for name, values in history.items():
        if "/" not in name or not np.isfinite(values).any():
            continue
        ax = axes[0] if name.endswith(("g_total", "d_total")) else axes[1]
        ax.plot(it, values, label=name, linewidth=1)
    for ax, title in zip(axes, ("totals", "terms (unweighted)"), strict=True):
        ax.set_title(title)
        ax.set_xlabel("iteration")
        ax.set_yscale("log")
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


class TensorBoard:
    """Scalars and preview images for `tensorboard --logdir <workdir>/model/logs`."""

    def __init__(self, folder: Path) -> None:
        import tensorflow as tf

        self._tf = tf
        self.writer = tf.summary.create_file_writer(str(folder))

    def scalars(self, iteration: int, metrics: Mapping[str, float]) -> None:
        with self.writer.as_default(step=iteration):
            for name, value in metrics.items():
                self._tf.summary.scalar(name, value)

    def image(self, iteration: int, name: str, bgr: np.ndarray) -> None:
        with self.writer.as_default(step=iteration):
            self._tf.summary.image(name, bgr[None, ..., ::-1].copy(), max_outputs=1)

    def close(self) -> None:
        self.writer.flush()
        self.writer.close()


def as_floats(metrics: Mapping[str, Any]) -> dict[str, float]:
    return {k: float(v) for k, v in metrics.items()}
