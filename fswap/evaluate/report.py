"""Writes the evaluation report: report.json (numbers) and a self-contained report.html (tables, plots
as embedded PNGs drawn with matplotlib's Agg backend, example image grids). Both are written atomically."""

from __future__ import annotations

import base64
import html
import io
import json
import math
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

REPORT_JSON = "report.json"
REPORT_HTML = "report.html"


def json_safe(value: Any) -> Any:
    """Replace NaN/±inf by None and numpy scalars/arrays by Python values, recursively."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return json_safe(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Path):
        return str(value)
    return value


def write_text_atomic(path: Path, text: str) -> None:
    """Write text (UTF-8) atomically, with the usual permissions (see `write_bytes_atomic`)."""
    write_bytes_atomic(path, text.encode("utf-8"))


def write_bytes_atomic(path: Path, payload: bytes) -> None:
    """Write bytes via a temporary file and rename; the file gets the usual permissions (0666 less the
    umask), not mkstemp's private 0600, so a report can be shared."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


# -- images -----------------------------------------------------------------------------------------------


def image_data_uri(image_bgr: np.ndarray, fmt: str = "png") -> str:
    """A BGR uint8 image (or (H, W) grey) as a data: URI: lossless PNG for plots, JPEG (quality 90) for
    photo grids, whose noisy early-training outputs would make a PNG megabytes large."""
    import cv2

    ext, mime, params = {"png": (".png", "image/png", []),
                         "jpeg": (".jpg", "image/jpeg", [cv2.IMWRITE_JPEG_QUALITY, 90])}[fmt]
    ok, buf = cv2.imencode(ext, np.ascontiguousarray(image_bgr), params)
    if not ok:
        raise ValueError(f"could not encode image as {fmt}")
    return f"data:{mime};base64," + base64.b64encode(buf.tobytes()).decode("ascii")


def image_grid(rows: Sequence[Sequence[np.ndarray]], cell: int = 96, pad: int = 2) -> np.ndarray:
    """Tile images into a grid (rows × columns); grey (H, W) or float α maps are shown as grey BGR."""
    import cv2

    n_cols = max(len(r) for r in rows)
    grid = np.full((len(rows) * (cell + pad) + pad, n_cols * (cell + pad) + pad, 3), 255, np.uint8)
    for i, row in enumerate(rows):
        for j, img in enumerate(row):
            tile = np.asarray(img)
            if tile.dtype != np.uint8:
                tile = np.clip(np.round(tile * 255.0), 0, 255).astype(np.uint8)
            if tile.ndim == 2:
                tile = cv2.cvtColor(tile, cv2.COLOR_GRAY2BGR)
            tile = cv2.resize(tile, (cell, cell), interpolation=cv2.INTER_AREA)
            y, x = pad + i * (cell + pad), pad + j * (cell + pad)
            grid[y:y + cell, x:x + cell] = tile
    return grid


def comparison_still(crops: dict[str, dict[str, Any]], count: int, cell: int = 160,
                     pad: int = 4) -> np.ndarray:
    """A labelled still a person can open: for each direction, `count` held-out faces as rows of
    source | swap | a real face of the target identity (`crops[side]` holds "real" and "swapped" crops)."""
    import cv2

    label_h = 26
    width = 3 * cell + 4 * pad
    blocks = []
    for side, other in (("a", "b"), ("b", "a")):
        if side not in crops or other not in crops:
            continue
        sources, swaps, targets = crops[side]["real"], crops[side]["swapped"], crops[other]["real"]
        rows = min(count, len(sources))
        if rows == 0 or len(targets) == 0:
            continue
        block = np.full((label_h + rows * (cell + pad) + pad, width, 3), 255, np.uint8)
        labels = (f"source {side.upper()}", f"swap {side.upper()}->{other.upper()}", f"real {other.upper()}")
        for j, text in enumerate(labels):
            cv2.putText(block, text, (pad + j * (cell + pad) + 4, label_h - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.5,
                        (0, 0, 0), 1, cv2.LINE_AA)
        for i in range(rows):
            y = label_h + i * (cell + pad)
            for j, img in enumerate((sources[i], swaps[i], targets[i % len(targets)])):
                tile = cv2.resize(np.ascontiguousarray(img), (cell, cell), interpolation=cv2.INTER_AREA)
                x = pad + j * (cell + pad)
                block[y:y + cell, x:x + cell] = tile
        blocks.append(block)
    if not blocks:
        raise ValueError("no held-out faces for the comparison still")
    return np.concatenate(blocks, axis=0)


# -- plots ------------------------------------------------------------------------------------------------


def _figure_uri(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def identity_plot(direction: str, section: dict[str, Any], embedder: str) -> str:
    """Per swapped face: distance to the target identity vs to the source identity (scatter)."""
    plt = _pyplot()
    rows = section["per_face"]
    fig, ax = plt.subplots(figsize=(4.2, 3.6))
    xs = [r["to_source"] for r in rows]
    ys = [r["to_target"] for r in rows]
    ax.scatter(xs, ys, s=14, alpha=0.8)
    hi = max([*xs, *ys, 1e-6]) * 1.05
    ax.plot([0, hi], [0, hi], color="grey", lw=0.8, ls="--")
    ax.set_xlim(0, hi)
    ax.set_ylim(0, hi)
    src, tgt = direction.split("_to_")
    ax.set_xlabel(f"distance to identity {src.upper()} (source)")
    ax.set_ylabel(f"distance to identity {tgt.upper()} (target)")
    ax.set_title(f"{direction}: below the line = closer to {tgt.upper()}\n({embedder})", fontsize=9)
    return _figure_uri(fig)


def reconstruction_plot(sections: dict[str, dict[str, Any]]) -> str:
    """Histograms of per-face PSNR and SSIM for each side."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(7.5, 3.0))
    for side, sec in sections.items():
        psnr = [r["psnr"] for r in sec["per_face"] if r["psnr"] is not None and math.isfinite(r["psnr"])]
        axes[0].hist(psnr, bins=15, alpha=0.6, label=f"side {side.upper()}")
        axes[1].hist([r["ssim"] for r in sec["per_face"]], bins=15, alpha=0.6, label=f"side {side.upper()}")
    axes[0].set_xlabel("PSNR (dB, higher is better)")
    axes[1].set_xlabel("SSIM (1 = identical)")
    for ax in axes:
        ax.set_ylabel("faces")
        ax.legend(fontsize=8)
    return _figure_uri(fig)


def temporal_plot(series: dict[str, np.ndarray]) -> str:
    """Face centre (x, y) and mean face colour over the frames of the main track."""
    plt = _pyplot()
    frames = series["frames"]
    fig, axes = plt.subplots(1, 2, figsize=(8.0, 3.0))
    axes[0].plot(frames, series["cx"], label="centre x")
    axes[0].plot(frames, series["cy"], label="centre y")
    axes[0].set_xlabel("frame")
    axes[0].set_ylabel("pixels")
    axes[0].legend(fontsize=8)
    for c, name, colour in ((2, "R", "tab:red"), (1, "G", "tab:green"), (0, "B", "tab:blue")):
        axes[1].plot(frames, series["colour"][:, c], color=colour, label=name)
    axes[1].set_xlabel("frame")
    axes[1].set_ylabel("mean face colour (0–255)")
    axes[1].legend(fontsize=8)
    return _figure_uri(fig)


def mask_plot(per_face: dict[str, Sequence[float]]) -> str:
    """Histogram of each face's mean α per group of faces."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(4.5, 3.0))
    for label, values in per_face.items():
        ax.hist(values, bins=20, range=(0, 1), alpha=0.6, label=label)
    ax.set_xlabel("mean α of a face (0 = nothing pasted, 1 = whole crop)")
    ax.set_ylabel("faces")
    ax.legend(fontsize=8)
    return _figure_uri(fig)


# -- HTML -------------------------------------------------------------------------------------------------


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        if math.isinf(value):
            return "∞"
        return f"{value:.4g}"
    return html.escape(str(value))


def _table(rows: Sequence[tuple[str, Any]]) -> str:
    body = "".join(f"<tr><th>{html.escape(k)}</th><td>{_fmt(v)}</td></tr>" for k, v in rows)
    return f"<table>{body}</table>"


_STYLE = """
body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:.6em 0}th,td{border:1px solid #ddd;padding:.25em .6em;text-align:left}
th{background:#f5f5f5;font-weight:600}.note{color:#555;font-size:.92em}.skip{color:#a40}
img{max-width:100%}.by{font-size:.85em;color:#06c}
"""


def render_html(report: dict[str, Any], images: dict[str, str]) -> str:
    """The report as one HTML page; `images` maps figure names to data: URIs."""
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>fswap evaluation</title>",
        f"<style>{_STYLE}</style></head><body><h1>fswap evaluation report</h1>",
        f"<p class='note'>Created {_fmt(report.get('created'))}. Outputs of this model are synthetic media. "
        "How to read this page: docs/evaluate.md.</p>",
    ]
    inputs = report.get("inputs", {})
    parts.append("<h2>Inputs</h2>" + _table([(k, v) for k, v in inputs.items() if not isinstance(v, dict)]))
    for side, hold in inputs.get("holdout", {}).items():
        text = html.escape(hold["description"])
        parts.append(f"<p class='note'>Held-out faces of {side.upper()}: {text}</p>")
    for name, reason in report.get("skipped", {}).items():
        parts.append(f"<p class='skip'>{html.escape(name)} not evaluated: {html.escape(reason)}</p>")

    identity = report.get("identity")
    if identity:
        parts.append("<h2>Identity transfer</h2>")
        parts.append(f"<p class='by'>by {html.escape(identity['by'])}; distance: "
                     f"{html.escape(identity['distance'])}</p>")
        for direction in ("a_to_b", "b_to_a", "video"):
            sec = identity.get(direction)
            if not sec:
                continue
            rows = [(k, v) for k, v in sec.items() if not isinstance(v, list | dict)]
            rows += [(f"baseline: {k}", v) for k, v in sec.get("baseline", {}).items()]
            parts.append(f"<h3>{direction}</h3>" + _table(rows))
            if f"identity_{direction}" in images:
                parts.append(f"<img alt='identity {direction}' src='{images[f'identity_{direction}']}'>")
    recon = report.get("reconstruction")
    if recon:
        parts.append("<h2>Reconstruction on held-out faces</h2>")
        parts.append(f"<p class='by'>by {html.escape(recon['by'])}</p>")
        for side in ("a", "b"):
            sec = recon.get(side)
            if sec:
                rows = [(k, v) for k, v in sec.items() if not isinstance(v, list | dict)]
                parts.append(f"<h3>side {side.upper()}</h3>" + _table(rows))
        if "reconstruction" in images:
            parts.append(f"<img alt='reconstruction histograms' src='{images['reconstruction']}'>")
    following = report.get("following")
    if following:
        parts.append(_following_html(following))
    if "comparison" in images:
        parts.append("<h2>Comparison</h2><p class='note'>Held-out faces: source, its swap (composited as "
                     "convert pastes it), and a real face of the target identity.</p>")
        parts.append(f"<img alt='comparison' src='{images['comparison']}'>")
    if "examples" in images:
        parts.append("<h2>Examples</h2><p class='note'>Columns: held-out input, reconstruction, its α, "
                     "swap, its α, swap composited onto the input.</p>")
        parts.append(f"<img alt='examples' src='{images['examples']}'>")
    temporal = report.get("temporal")
    if temporal:
        parts.append("<h2>Temporal stability of the converted video</h2>")
        parts.append(f"<p class='by'>face positions from {html.escape(temporal['by'])}</p>")
        rows = [(k, v) for k, v in temporal.items() if not isinstance(v, list | dict) and k != "by"]
        parts.append(_table(rows))
        if temporal.get("per_track"):
            head = ["track_id", "frames", "box_jitter_relative", "landmark_jitter_relative", "colour_flicker"]
            body = "".join("<tr>" + "".join(f"<td>{_fmt(t.get(h))}</td>" for h in head) + "</tr>"
                           for t in temporal["per_track"])
            parts.append("<table><tr>" + "".join(f"<th>{h}</th>" for h in head) + f"</tr>{body}</table>")
        if "temporal" in images:
            parts.append(f"<img alt='temporal' src='{images['temporal']}'>")
    leak = report.get("leak")
    if leak:
        parts.append(_leak_html(leak))
    masks = report.get("masks")
    if masks:
        parts.append("<h2>Mask sanity</h2>")
        parts.append(f"<p class='by'>by {html.escape(masks['by'])}; empty: mean α &lt; "
                     f"{_fmt(masks['empty_below'])}, full: mean α &gt; {_fmt(masks['full_above'])}</p>")
        head = ["count", "mean_alpha", "empty_fraction", "full_fraction"]
        body = "".join(
            f"<tr><th>{html.escape(name)}</th>" + "".join(f"<td>{_fmt(g.get(h))}</td>" for h in head)
            + "</tr>"
            for name, g in masks["groups"].items()
        )
        header = "".join(f"<th>{h}</th>" for h in head)
        parts.append(f"<table><tr><th>faces</th>{header}</tr>{body}</table>")
        if "masks" in images:
            parts.append(f"<img alt='mask histogram' src='{images['masks']}'>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _leak_html(leak: dict[str, Any]) -> str:
    """The leak section: other people's face pixels convert changed (should be 0), or why it was not
    measured."""
    parts = ["<h2>Leak: other people's faces left unchanged</h2>"]
    if leak.get("leak") is None:
        why = html.escape(str(leak.get("why", "no faces left")))
        parts.append(f"<p class='note'>not measured: {why}</p>")
        return "\n".join(parts)
    rows = [("leak (share of pixels changed)", leak["leak"]), ("faces left", leak.get("faces_left")),
            ("pixels", leak.get("pixels")), ("pixels changed", leak.get("pixels_changed")),
            ("tolerance (levels)", leak.get("tolerance"))]
    frames = leak.get("frames_with_leak") or []
    if frames:
        rows.append(("frames with a leak", ", ".join(str(f) for f in frames)))
    parts.append(_table(rows))
    if leak.get("measured"):
        parts.append(f"<p class='note'>{html.escape(str(leak['measured']))}</p>")
    return "\n".join(parts)


FOLLOWING_ROWS = (
    ("pose error (°)", "pose_error_deg"),
    ("expression error (× eye distance)", "expression_error"),
    ("source-following rate", "following_rate"),
    ("chance rate", "chance_rate"),
    ("landmark RMS (px)", "landmark_rms_px"),
)


def _following_html(section: dict[str, Any]) -> str:
    """The source-following section: swap, real-face baseline and reconstruction baseline side by side."""
    parts = ["<h2>Source following: pose and expression</h2>",
             f"<p class='by'>by {html.escape(str(section.get('by', '')))}</p>",
             f"<p class='note'>{html.escape(str(section.get('measured', '')))}. Baselines: "
             f"{html.escape(str(section.get('baselines', '')))}. A swap follows its source when its errors "
             "are near the real-face baseline and its following rate is near the baseline's rate, well above "
             "chance.</p>"]
    for direction in ("a_to_b", "b_to_a"):
        sec = section.get(direction)
        if not sec:
            continue
        base = sec.get("baseline", {})
        real, recon = base.get("real_faces", {}), base.get("reconstruction", {})
        body = "".join(f"<tr><th>{html.escape(label)}</th><td>{_fmt(sec.get(key))}</td>"
                       f"<td>{_fmt(real.get(key))}</td><td>{_fmt(recon.get(key))}</td></tr>"
                       for label, key in FOLLOWING_ROWS)
        for name in ("yaw", "pitch", "roll"):
            body += (f"<tr><th>{name} error (°)</th><td>{_fmt(sec['angle_error_deg'][name])}</td>"
                     f"<td>{_fmt(real.get('angle_error_deg', {}).get(name))}</td>"
                     f"<td>{_fmt(recon.get('angle_error_deg', {}).get(name))}</td></tr>")
        spread = sec.get("source_spread", {})
        src, tgt = direction.split("_to_")
        parts.append(f"<h3>{src.upper()}→{tgt.upper()}</h3><table><tr><th></th><th>swap</th><th>real faces"
                     "</th><th>reconstruction</th></tr>" + body + "</table>")
        parts.append("<p class='note'>How much the held-out source faces vary: yaw/pitch/roll std "
                     f"{_fmt(spread.get('yaw_std_deg'))}° / {_fmt(spread.get('pitch_std_deg'))}° / "
                     f"{_fmt(spread.get('roll_std_deg'))}°, expression std "
                     f"{_fmt(spread.get('expression_std'))} (following rates mean little when faces barely "
                     "vary).</p>")
    return "\n".join(parts)


def headline(report: dict[str, Any]) -> str:
    """One line saying what the main numbers mean, per direction, e.g. "A→B: 9/10 held-out swaps are
    closer to B than to A; pose follows the source within 3.1° (real faces: 2.4°); …"."""
    out = []
    identity = report.get("identity", {})
    following = report.get("following", {})
    holdouts = report.get("inputs", {}).get("holdout", {}).values()
    recorded = bool(holdouts) and all(h.get("recorded_by_training") for h in holdouts)
    for direction in ("a_to_b", "b_to_a"):
        src, tgt = (x.upper() for x in direction.split("_to_"))
        ident, follow = identity.get(direction), following.get(direction)
        bits = []
        if ident and ident.get("closer_to_target") is not None:
            n = int(ident["faces"])
            closer = round(ident["closer_to_target"] * n)
            kind = "held-out" if recorded else "evaluated (maybe trained-on)"
            bits.append(f"{closer}/{n} {kind} swaps are closer to {tgt} than to {src}")
        if follow:
            real = follow["baseline"]["real_faces"]
            bits.append(f"pose follows the source within {follow['pose_error_deg']:.1f}° (real faces: "
                        f"{real['pose_error_deg']:.1f}°)")
            if follow.get("following_rate") is not None:
                n = int(follow["faces"])
                own = round(follow["following_rate"] * n)
                base = real.get("following_rate")
                bits.append(f"{own}/{n} are nearest their own source (real faces: "
                            f"{round((base or 0.0) * n)}/{n}, chance 1/{n})")
        if bits:
            out.append(f"{src}→{tgt}: " + "; ".join(bits))
    return " | ".join(out)


def write_data_uri(path: Path, uri: str) -> Path:
    """Write the bytes of a base64 data: URI (e.g. a PNG figure) to `path` atomically; returns `path`."""
    _head, _, data = uri.partition(";base64,")
    write_bytes_atomic(path, base64.b64decode(data))
    return path


def write_report(folder: Path, report: dict[str, Any], images: dict[str, str]) -> tuple[Path, Path]:
    """Write report.json and report.html into `folder` (atomically); returns both paths."""
    data = json_safe(report)
    json_path, html_path = folder / REPORT_JSON, folder / REPORT_HTML
    write_text_atomic(json_path, json.dumps(data, indent=2, allow_nan=False) + "\n")
    write_text_atomic(html_path, render_html(data, images))
    return json_path, html_path
