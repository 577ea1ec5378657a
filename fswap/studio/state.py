"""What a workdir holds, read from its files: stage states, training's live numbers, evaluation, outputs.

Only the files the stages write (and resume from) are read; nothing here imports TensorFlow or a web
framework, so it is tested on its own. URLs point at the app's /files/ route and carry the file's
modification time, so a new preview written under the same name gets a new URL.
"""

from __future__ import annotations

import csv
import functools
import json
import re
from pathlib import Path
from typing import Any

from fswap.config import PipelineConfig

STAGE_ORDER = ("extract", "train", "convert", "evaluate")
_CKPT = re.compile(r"^ckpt-(\d+)$")


def file_url(root: Path, path: Path) -> str | None:
    """/files/<path relative to the workdir>?v=<mtime in ns>, or None when the file is missing."""
    try:
        stamp = path.stat().st_mtime_ns
        rel = path.resolve().relative_to(root.resolve())
    except (OSError, ValueError):
        return None
    return f"/files/{rel.as_posix()}?v={stamp}"


def read_json(path: Path) -> Any:
    """A JSON file's content, or None when it is missing or not (yet) valid JSON."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


@functools.lru_cache(maxsize=16)
def _frames_to_do(path: str, stamp: int, every_n: int) -> int | None:
    """How many frames extract visits in `path` (cached per file version; opening a video imports cv2)."""
    from fswap.errors import FswapError
    from fswap.video.reader import open_frames

    try:
        return open_frames(Path(path), every_n=every_n).selected
    except (FswapError, OSError):
        return None


def _side_total(config: PipelineConfig, side: str) -> int | None:
    extract = config.stage("extract")
    source = getattr(getattr(extract, side, None), "input", None)
    if source is None:
        return None
    try:
        stamp = Path(source).stat().st_mtime_ns
    except OSError:
        return None
    return _frames_to_do(str(source), stamp, int(getattr(extract, "every_n_frames", 1)))


def _extract_state(config: PipelineConfig) -> tuple[str, str]:
    parts, states = [], []
    for side in ("a", "b"):
        data = read_json(config.workdir.faceset(side) / "alignments.json")
        if not isinstance(data, dict):
            states.append("not_started")
            parts.append(f"{side}: not extracted")
            continue
        faces = len(data.get("faces") or [])
        done = (data.get("meta") or {}).get("extract", {}).get("done") or []
        frames_done = sum(int(stop) - int(start) for start, stop in done)
        total = _side_total(config, side)
        if total is None or frames_done >= total:  # extract saves along the way: done = every frame seen
            states.append("done")
            parts.append(f"{side}: {faces} faces")
        else:
            states.append("resumable")
            parts.append(f"{side}: {faces} faces, {frames_done} of {total} frames")
    if all(s == "done" for s in states):
        state = "done"
    elif all(s == "not_started" for s in states):
        state = "not_started"
    else:
        state = "resumable"
    return state, "; ".join(parts)


def latest_checkpoint(config: PipelineConfig) -> int | None:
    """The iteration of the newest checkpoint (ckpt-NNNNNNNN folders), or None without one."""
    try:
        names = [p.name for p in config.workdir.checkpoints.iterdir() if p.is_dir()]
    except OSError:
        return None
    found = [int(m.group(1)) for m in map(_CKPT.match, names) if m]
    return max(found) if found else None


def _train_state(config: PipelineConfig) -> tuple[str, str]:
    total = getattr(config.stage("train"), "iterations", None)
    summary = read_json(config.workdir.model / "train_summary.json")
    checkpoint = latest_checkpoint(config)
    if isinstance(summary, dict) and not summary.get("interrupted") and total is not None \
            and int(summary.get("iteration", 0)) >= total:
        return "done", f"{summary['iteration']} of {total} iterations"
    if checkpoint is not None:
        return "resumable", f"checkpoint at iteration {checkpoint} of {total}"
    return "not_started", f"0 of {total} iterations"


def _convert_state(config: PipelineConfig) -> tuple[str, str]:
    summary = read_json(config.workdir.convert / "summary.json")
    if isinstance(summary, dict):
        frames, swapped = summary.get("frames", "?"), summary.get("faces_swapped", "?")
        return "done", f"{frames} frames, {swapped} faces swapped"
    return "not_started", "no converted video yet"


def _evaluate_state(config: PipelineConfig) -> tuple[str, str]:
    if read_json(config.workdir.evaluate / "report.json") is not None:
        return "done", "report written"
    return "not_started", "no report yet"


_STATES = {"extract": _extract_state, "train": _train_state, "convert": _convert_state,
           "evaluate": _evaluate_state}


def stage_states(config: PipelineConfig, running: str | None = None) -> list[dict[str, str]]:
    """Each stage the pipeline defines, in run order: {"name", "state", "detail"}."""
    rows = []
    for name in STAGE_ORDER:
        if name not in config.stages:
            continue
        state, detail = _STATES[name](config)
        if name == running:
            state = "running"
        rows.append({"name": name, "state": state, "detail": detail})
    return rows


def read_history(config: PipelineConfig) -> dict[str, Any]:
    """model/history.csv as {"columns": [...], "rows": [[numbers], ...]} (empty when there is none)."""
    path = config.workdir.model / "history.csv"
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            table = list(csv.reader(fh))
    except OSError:
        return {"columns": [], "rows": []}
    if not table:
        return {"columns": [], "rows": []}
    columns, rows = table[0], []
    for row in table[1:]:
        if len(row) != len(columns):  # a line being written right now
            continue
        try:
            rows.append([float(v) if v != "" else None for v in row])
        except ValueError:
            continue
    return {"columns": columns, "rows": rows}


def train_info(config: PipelineConfig) -> dict[str, Any] | None:
    """Training's live numbers from the last history.csv row, and the latest preview's URL."""
    if "train" not in config.stages:
        return None
    root = config.workdir.root
    history = read_history(config)
    last = dict(zip(history["columns"], history["rows"][-1], strict=True)) if history["rows"] else {}
    iteration = last.get("iteration")
    if iteration is None:
        iteration = latest_checkpoint(config) or 0
    preview = config.workdir.previews / "latest.png"
    return {
        "iteration": int(iteration),
        "iterations": getattr(config.stage("train"), "iterations", None),
        "phase": None if last.get("phase") is None else int(last["phase"]),
        "images_per_s": last.get("images_per_s"),
        "elapsed_s": last.get("elapsed_s"),
        "preview": file_url(root, preview),
    }


def evaluation_info(config: PipelineConfig) -> dict[str, Any] | None:
    """The headline numbers of evaluate/report.json, flat: identity per direction, quality per side."""
    report = read_json(config.workdir.evaluate / "report.json")
    if not isinstance(report, dict):
        return None
    flat: dict[str, Any] = {}
    # identity numbers are named direction first (a_to_b_closer_to_target), quality numbers side last (ssim_a)
    sections = (("identity", ("a_to_b", "b_to_a"), "{part}_{key}"),
                ("reconstruction", ("a", "b"), "{key}_{part}"))
    for section, parts, name in sections:
        found = report.get(section) or {}
        for part in parts:
            for key, value in (found.get(part) or {}).items():
                if isinstance(value, int | float) and not isinstance(value, bool):
                    flat[name.format(part=part, key=key)] = value
    return flat


def outputs_info(config: PipelineConfig) -> dict[str, str | None]:
    """URLs of the converted video, the evaluation report and its comparison image (None when absent)."""
    root = config.workdir.root
    video = None
    summary = read_json(config.workdir.convert / "summary.json")
    if isinstance(summary, dict) and summary.get("output"):
        video = file_url(root, Path(summary["output"]))
    return {
        "video": video,
        "report": file_url(root, config.workdir.evaluate / "report.html"),
        "comparison": file_url(root, config.workdir.evaluate / "comparison.png"),
    }


def workdir_state(config: PipelineConfig, running: str | None = None) -> dict[str, Any]:
    """The file-derived part of /api/state for a loaded pipeline."""
    return {
        "stages": stage_states(config, running),
        "train": train_info(config),
        "evaluation": evaluation_info(config),
        "outputs": outputs_info(config),
    }
