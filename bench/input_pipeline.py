"""Benchmark of the training input pipeline with large face sets; prints one JSON object.

Two face sets of `--faces` faces each (256² toy faces of the two public-domain photos, with eye masks; the
records point to a few hundred distinct files, so building the sets is quick while every face is read,
decoded and held on its own) are loaded once per face store (`[train] face_store`), each in its own
process so that its peak RSS is its own:
  * decoded (the baseline, fswap's only store before): every face a uint8 array at 256²;
  * png: lossless PNG bytes, decoded when a sample needs the face (the same batches, bit for bit).
Reported per store: seconds to load, bytes held, the process's peak RSS, and batches/s of the augmentation
(64² targets, batch 8 a side by default) both in one thread (`BatchMaker.make`) and through tf.data's
parallel map (`make_dataset`, as training reads it), after a warm-up. Ratios are against decoded.

Usage: python -m bench.input_pipeline [--faces 10000] [--batches 60] [--resolution 64] [--batch 8]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import emit, machine, peak_rss_mb, run_child

STORES = ("decoded", "png")
DISTINCT = 200
"""Distinct face files per side; the records cycle through them."""


def build_sets(root: Path, faces: int) -> dict[str, Path]:
    """Face sets a and b of `faces` records each, at 256² with eye masks."""
    import attrs

    from fswap.train.toys import make_toy_faceset

    out = {}
    for side, photo, seed in (("a", "astronaut", 0), ("b", "grace_hopper", 1)):
        base = make_toy_faceset(root / side, photo, count=min(DISTINCT, faces), size=256, seed=seed)
        records = [base.records[i % len(base.records)] for i in range(faces)]
        attrs.evolve(base, records=records).save()
        out[side] = root / side
    return out


def measure(spec: dict[str, Any]) -> dict[str, Any]:
    """One store in this process: load both sets, then time batches alone and through tf.data."""
    import numpy as np

    from fswap.data.pipeline import BatchMaker, load_faces, make_dataset
    from fswap.stages.train_config import AugmentConfig

    rss_before = peak_rss_mb()
    start = time.perf_counter()
    sets = spec["sets"]
    faces = {side: load_faces(Path(path), "eyes5", store=spec["store"]) for side, path in sets.items()}
    load_s = time.perf_counter() - start
    rss_loaded = peak_rss_mb()
    maker = BatchMaker(faces=faces, resolution=spec["resolution"], batch_size=spec["batch"],
                       augment=AugmentConfig(), seed=0)
    batches = spec["batches"]
    maker.make(0)
    start = time.perf_counter()
    digest = 0.0
    for k in range(1, batches + 1):
        digest += float(maker.make(k)[0][0, 0, 0, 0])
    serial_s = time.perf_counter() - start
    stream = iter(make_dataset(maker, start=0))
    for _ in range(4):  # warm-up: the map's threads and the autotuner
        next(stream)
    start = time.perf_counter()
    for _ in range(batches):
        first = next(stream)[0]
    parallel_s = time.perf_counter() - start
    return {
        "store": spec["store"],
        "faces_per_side": spec["faces"],
        "load_s": round(load_s, 2),
        "bytes_held": int(sum(f.nbytes for f in faces.values())),
        "peak_rss_mb_before_load": rss_before,
        "peak_rss_mb_after_load": rss_loaded,
        "peak_rss_mb": peak_rss_mb(),
        "batches_per_s_one_thread": round(batches / serial_s, 2),
        "batches_per_s_tf_data": round(batches / parallel_s, 2),
        "check": round(digest + float(np.asarray(first)[0, 0, 0, 0]), 6),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=int, default=10000, help="faces per side")
    parser.add_argument("--batches", type=int, default=60)
    parser.add_argument("--resolution", type=int, default=64)
    parser.add_argument("--batch", type=int, default=8, help="faces per side per batch")
    parser.add_argument("--one", default=None, help=argparse.SUPPRESS)  # a child: one store
    args = parser.parse_args(argv)
    if args.one is not None:
        print(json.dumps(measure(json.loads(args.one))), flush=True)
        os._exit(0)  # tf.data's map threads abort a normal interpreter exit ("terminate called ...")
    at_start = machine()
    root = Path(tempfile.mkdtemp(prefix="fswap-bench-input-"))
    sets = {side: str(path) for side, path in build_sets(root, args.faces).items()}
    rows = {store: run_child("bench.input_pipeline", {"store": store, "sets": sets, "faces": args.faces,
                                                      "resolution": args.resolution, "batch": args.batch,
                                                      "batches": args.batches})
            for store in STORES}
    base = rows["decoded"]
    ratios: dict[str, Any] = {}
    if "error" not in base and "error" not in rows["png"]:
        png = rows["png"]
        ratios = {
            "png_same_batches": png["check"] == base["check"],
            "png_bytes_held_vs_decoded": round(png["bytes_held"] / base["bytes_held"], 3),
            "png_peak_rss_vs_decoded": round(png["peak_rss_mb"] / base["peak_rss_mb"], 3),
            "png_tf_data_batches_per_s_vs_decoded": round(
                png["batches_per_s_tf_data"] / base["batches_per_s_tf_data"], 3),
            "png_one_thread_batches_per_s_vs_decoded": round(
                png["batches_per_s_one_thread"] / base["batches_per_s_one_thread"], 3),
        }
    emit("input_pipeline", {
        "benchmark": "input_pipeline",
        "faces_per_side": args.faces, "distinct_files_per_side": min(DISTINCT, args.faces),
        "resolution": args.resolution, "batch_per_side": args.batch, "batches": args.batches,
        "stores": rows, **ratios,
        "machine_at_start": at_start, "machine": machine(),
    })


if __name__ == "__main__":
    sys.exit(main())
