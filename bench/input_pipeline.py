"""Benchmark of the training input pipeline with large face sets; prints one JSON object.

Two face sets of `--faces` faces each (256² toy faces of the two public-domain photos, with eye masks; the
records point to a few hundred distinct files, so building the sets is quick while every face is read,
decoded and held on its own) are loaded once per face store (`[train] face_store`) and augmentation
engine (`[train.augment] engine`), each pair in its own process so that its peak RSS is its own:
  * decoded (the baseline, fswap's only store before): every face a uint8 array at 256²;
  * png: lossless PNG bytes, decoded when a sample needs the face (the same batches, bit for bit);
  * numpy (the baseline engine): NumPy/OpenCV per face, inside tf.numpy_function;
  * tensorflow: the same steps as TensorFlow ops over the batch, PNG decoding included (other draws, so
    other batches: its check differs; each engine's two stores must agree).
Reported per row: seconds to load, bytes held, the process's peak RSS, and batches/s of the augmentation
(64² targets, batch 8 a side by default, colour match at its default probability) both one batch at a time
(`BatchMaker.make` in Python for numpy, one call of the batch graph for tensorflow) and through tf.data's
parallel map (`make_dataset`, as training reads it), after a warm-up. Ratios are against decoded + numpy.

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

ROWS = (("decoded", "numpy"), ("png", "numpy"), ("decoded", "tensorflow"), ("png", "tensorflow"))
"""(face store, augmentation engine) pairs; the first is the baseline."""


def row_name(store: str, engine: str) -> str:
    """The row's key in the JSON: the store alone for the numpy engine (as before), else store+engine."""
    return store if engine == "numpy" else f"{store}+{engine}"
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
    """One store and engine in this process: load both sets, then time batches alone and through tf.data."""
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
                       augment=AugmentConfig(engine=spec["engine"]), seed=0)
    batches = spec["batches"]
    make = maker.make
    if spec["engine"] == "tensorflow":
        import tensorflow as tf

        from fswap.data import augment_tf

        graph = augment_tf.BatchGraph(maker)  # one copy of the PNG bytes in TensorFlow, as training has
        batch = tf.function(graph.batch)
        make = lambda k: [np.asarray(t) for t in batch(tf.constant(k, tf.int64))]  # noqa: E731
    make(0)
    start = time.perf_counter()
    digest = 0.0
    for k in range(1, batches + 1):
        digest += float(make(k)[0][0, 0, 0, 0])
    serial_s = time.perf_counter() - start
    stream = iter(make_dataset(maker, start=0) if spec["engine"] == "numpy" else
                  augment_tf.dataset(maker, start=0, graph=graph))
    for _ in range(4):  # warm-up: the map's threads and the autotuner
        next(stream)
    start = time.perf_counter()
    for _ in range(batches):
        first = next(stream)[0]
    parallel_s = time.perf_counter() - start
    return {
        "store": spec["store"],
        "engine": spec["engine"],
        "faces_per_side": spec["faces"],
        "load_s": round(load_s, 2),
        "bytes_held": int(sum(f.nbytes for f in faces.values())),
        "peak_rss_mb_before_load": rss_before,
        "peak_rss_mb_after_load": rss_loaded,
        "peak_rss_mb": peak_rss_mb(),
        "batches_per_s_one_thread": round(batches / serial_s, 2),  # tensorflow: one graph call at a time
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
    rows = {row_name(store, engine): run_child(
        "bench.input_pipeline", {"store": store, "engine": engine, "sets": sets, "faces": args.faces,
                                 "resolution": args.resolution, "batch": args.batch, "batches": args.batches})
            for store, engine in ROWS}
    emit("input_pipeline", {
        "benchmark": "input_pipeline",
        "faces_per_side": args.faces, "distinct_files_per_side": min(DISTINCT, args.faces),
        "resolution": args.resolution, "batch_per_side": args.batch, "batches": args.batches,
        "stores": rows, **ratios_to_baseline(rows),
        "machine_at_start": at_start, "machine": machine(),
    })


def ratios_to_baseline(rows: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Each row's bytes, peak RSS and batches/s as ratios to decoded + numpy's, and whether each engine's
    two stores gave the same batches; rows that failed are left out."""
    base = rows.get("decoded", {})
    if "error" in base or not base:
        return {}
    out: dict[str, Any] = {}
    for name, row in rows.items():
        if name == "decoded" or "error" in row:
            continue
        key = name.replace("+", "_")
        out[f"{key}_bytes_held_vs_decoded"] = round(row["bytes_held"] / base["bytes_held"], 3)
        out[f"{key}_peak_rss_vs_decoded"] = round(row["peak_rss_mb"] / base["peak_rss_mb"], 3)
        out[f"{key}_tf_data_batches_per_s_vs_decoded"] = round(
            row["batches_per_s_tf_data"] / base["batches_per_s_tf_data"], 3)
        out[f"{key}_one_thread_batches_per_s_vs_decoded"] = round(
            row["batches_per_s_one_thread"] / base["batches_per_s_one_thread"], 3)
    for engine, decoded, png in (("numpy", "decoded", "png"),
                                 ("tensorflow", "decoded+tensorflow", "png+tensorflow")):
        if decoded in rows and png in rows and "error" not in rows[decoded] and "error" not in rows[png]:
            out[f"png_same_batches{'' if engine == 'numpy' else '_tensorflow'}"] = (
                rows[png]["check"] == rows[decoded]["check"])
    return out


if __name__ == "__main__":
    sys.exit(main())
