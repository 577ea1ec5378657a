"""Benchmark of face extraction (decode → detect → align → eye mask) on synthetic videos; prints JSON.

For 640×360 and 1280×720 clips of a public-domain face with known motion, three detector settings are
measured in the same run on the same frames:
  * baseline: MTCNN at full resolution, one frame per call, the reference settings (min_face_size 20);
  * batched: full resolution, frames stacked into batched calls;
  * fast: batched, frames shrunk to --max-side and faces under --min-face px (at that scale) ignored,
    the settings to use when faces are big enough for 256² crops anyway.
Reported per mode: faces/s end to end (the clip is decoded inside the timing), the mean and worst landmark
error against the known truth in frame pixels, faces found, and the process's peak RSS. A warm-up call per
mode is not timed.

Usage: python -m bench.extract [--frames 48] [--max-side 480] [--min-face 40]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import emit, machine, peak_rss_mb


def measure(video: Any, detector: Any, aligner: Any, mask: Any, batch: int) -> dict[str, Any]:
    from fswap.video.reader import open_frames

    first = next(iter(open_frames(video.path)))[1]
    detector.detect([first] * min(batch, 2))  # warm-up: builds the TF graphs for this shape
    faces = 0
    errors = []
    started = time.perf_counter()
    pending: list[tuple[int, np.ndarray]] = []

    def flush() -> None:
        nonlocal faces
        found = detector.detect([f for _, f in pending])
        for (index, frame), dets in zip(pending, found, strict=True):
            for det in dets:
                face = aligner.align(frame, det)
                mask.generate(face)
                faces += 1
            if dets:
                errors.append(
                    float(np.linalg.norm(dets[0].landmarks - video.true_landmarks(index), axis=1).max())
                )
        pending.clear()

    for index, frame in open_frames(video.path):
        pending.append((index, frame))
        if len(pending) >= batch:
            flush()
    if pending:
        flush()
    seconds = time.perf_counter() - started
    return {
        "faces_per_s": round(faces / seconds, 2),
        "frames_per_s": round(video.frames / seconds, 2),
        "faces": faces,
        "frames": video.frames,
        "seconds": round(seconds, 2),
        "landmark_error_px_mean": round(float(np.mean(errors)), 2) if errors else None,
        "landmark_error_px_max": round(float(np.max(errors)), 2) if errors else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=48)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--max-side", type=int, default=480)
    parser.add_argument("--min-face", type=int, default=40)
    args = parser.parse_args()

    from fswap_mtcnn.config import MtcnnConfig
    from fswap_mtcnn.detector import MtcnnDetector
    from fswap_standard.aligners import Umeyama5Aligner
    from fswap_standard.extract_config import Eyes5Config, Umeyama5Config
    from fswap_standard.masks import Eyes5Mask

    from fswap.samples import make_face_video

    modes = {
        "baseline": (MtcnnConfig(batch_size=1, max_side=0), 1),
        "batched": (MtcnnConfig(batch_size=args.batch, max_side=0), args.batch),
        "fast": (
            MtcnnConfig(batch_size=args.batch, max_side=args.max_side, min_face_size=args.min_face),
            args.batch,
        ),
    }
    aligner, mask = Umeyama5Aligner(Umeyama5Config()), Eyes5Mask(Eyes5Config())
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for width, height in ((640, 360), (1280, 720)):
            video = make_face_video(
                Path(tmp) / f"{width}x{height}.mp4", frames=args.frames, size=(width, height), seed=7
            )
            video.true_landmarks(0)  # the ground truth's one MTCNN run happens outside the timings
            row: dict[str, Any] = {}
            for name, (config, batch) in modes.items():
                row[name] = measure(video, MtcnnDetector(config), aligner, mask, batch)
            base = row["baseline"]["faces_per_s"]
            for name in ("batched", "fast"):
                row[name]["speedup_vs_baseline"] = round(row[name]["faces_per_s"] / base, 2) if base else None
            results[f"{width}x{height}"] = row
    emit(
        "extract",
        {
            "benchmark": "extract",
            "settings": {
                "frames": args.frames,
                "batch": args.batch,
                "fast_max_side": args.max_side,
                "fast_min_face_size": args.min_face,
                "aligner": "umeyama5 256",
                "mask": "eyes5",
            },
            "results": results,
            "target_faces_per_s_640x360": 15,
            "peak_rss_mb": peak_rss_mb(),
            "machine": machine(),
        },
    )


if __name__ == "__main__":
    main()
