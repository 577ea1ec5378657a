"""Benchmark: convert of an extracted clip from extract's recorded detections vs. detecting again.

One synthetic 640×360 clip is extracted once (the extract stage, MTCNN, side a; side b a few stills); then
the convert stage (`fswap run --stage convert` as a user runs it: reading, detecting or not, generating,
blending, H.264 writing) converts it with `alignments = "detect"` (the baseline) and `alignments = "auto"`
(the record reused), interleaved, after one untimed warm-up run of each. Reported per mode: median wall
seconds of the stage, frames/s, the stage's own seconds_detecting, and the speed-up of reuse over
detecting; the mean absolute difference between the two modes' output frames (0–255; the record keeps
full precision, so it should be 0) next to the difference between two runs that both detect (the
run-to-run floor); the load average at start and end.

Usage: python -m bench.alignments [--frames 40] [--repeats 2] [--attention none]
The model is random (never trained): speed does not depend on its weights.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import emit, machine, peak_rss_mb

MODES = {"detect": "detect", "reuse": "auto"}  # reported name → [convert] alignments


def _pipeline(root: Path, alignments: str, output: str) -> Path:
    path = root / f"{output}.toml"
    path.write_text(
        'workdir = "work"\n[extract.a]\ninput = "clip.mp4"\n[extract.b]\ninput = "b"\n'
        f'[convert]\ninput = "clip.mp4"\noutput = "{output}.mp4"\nalignments = "{alignments}"\n',
        encoding="utf-8",
    )
    return path


def _frames(path: Path) -> np.ndarray:
    import cv2

    capture = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame.astype(np.float32))
    capture.release()
    return np.stack(frames)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=2, help="timed runs per mode, interleaved")
    parser.add_argument("--attention", default="none", help="attention block of the model (or none)")
    args = parser.parse_args(argv)
    start_machine = machine()

    from fswap.catalog import Catalog
    from fswap.config import load_pipeline
    from fswap.context import RunContext
    from fswap.model.config import parse_model_config
    from fswap.model.io import save_networks
    from fswap.model.networks import build_networks
    from fswap.plugins import make_plugin_manager
    from fswap.run import run_pipeline
    from fswap.samples import make_face_video, make_image_folder

    catalog = Catalog.from_plugin_manager(make_plugin_manager())
    root = Path(tempfile.mkdtemp(prefix="fswap-bench-alignments-"))
    make_face_video(root / "clip.mp4", frames=args.frames, size=(640, 360), fps=25, seed=5)
    make_image_folder(root / "b", face="grace_hopper", count=3, size=(320, 240), seed=2)
    table = {"resolution": 64, "capacity": "lite", "attention": {"use": args.attention}}
    model = parse_model_config(table, catalog=catalog)
    save_networks(build_networks(model), root / "work" / "model" / "export", model)

    def stage(path: Path, name: str) -> tuple[float, dict[str, Any]]:
        ctx = RunContext(pipeline=load_pipeline(path, catalog=catalog), catalog=catalog,
                         pm=make_plugin_manager(), progress=False)
        tick = time.perf_counter()
        (result,) = run_pipeline(ctx, [name])
        seconds = time.perf_counter() - tick
        summary = json.loads(result.outputs["summary"].read_text()) if "summary" in result.outputs else {}
        return seconds, summary

    extract_seconds, _ = stage(_pipeline(root, "detect", "unused"), "extract")
    timed: dict[str, list[float]] = {m: [] for m in MODES}
    last: dict[str, dict[str, Any]] = {}
    for repeat in range(args.repeats + 1):  # repeat 0 warms up (traces the generator and MTCNN)
        for mode, value in MODES.items():
            seconds, summary = stage(_pipeline(root, value, f"{mode}_{repeat}"), "convert")
            last[mode] = summary
            if repeat:
                timed[mode].append(seconds)
    modes = {}
    for mode in MODES:
        median = statistics.median(timed[mode])
        modes[mode] = {
            "seconds_median": round(median, 3),
            "seconds_all": [round(s, 3) for s in timed[mode]],
            "fps": round(args.frames / median, 2),
            "seconds_detecting_last": last[mode]["seconds_detecting"],
            "faces_from": last[mode]["faces_from"],
            "alignments": last[mode]["alignments"],
        }
    last_run = args.repeats
    detect, reuse = _frames(root / f"detect_{last_run}.mp4"), _frames(root / f"reuse_{last_run}.mp4")
    warm_up = _frames(root / "detect_0.mp4")
    result = {
        "benchmark": "alignments",
        "clip": {"size": [640, 360], "frames": args.frames, "fps": 25},
        "model": {"resolution": 64, "capacity": "lite", "attention": args.attention, "random_weights": True},
        "extract_seconds": round(extract_seconds, 3),
        "modes": modes,
        "speedup_reuse_vs_detect": round(
            modes["detect"]["seconds_median"] / modes["reuse"]["seconds_median"], 2),
        "mad_reuse_vs_detect": round(float(np.mean(np.abs(detect - reuse))), 4),
        "mad_detect_vs_detect_again": round(float(np.mean(np.abs(detect - warm_up))), 4),  # run-to-run floor
        "peak_rss_mb": peak_rss_mb(),
        "machine_at_start": start_machine,
        "machine_at_end": machine(),
        "load_average_1_5_15": [round(v, 2) for v in os.getloadavg()],
    }
    emit("alignments", result)


if __name__ == "__main__":
    main()
