"""Benchmark of the train step; prints JSON (and stores bench/results/train.json).

For each configuration (resolution:capacity) and precision, a child process builds the real networks
(fswap.model) and the standard default losses and measures:
  * fswap: images/s of `fswap.train.step.TrainStep` (D_A, D_B, G_A, G_B updated per iteration, both sides'
    batches count as images) on fixed in-memory batches, reading back every loss each step as the loop does;
  * baseline (--baseline): a minimal hand-written tf.function train step for the *same* networks and the
    same loss math with plain Adam optimisers, timed step-by-step alternating with fswap in the same
    process; ratio = fswap / baseline images/s (target ≥ 0.95), also as the median of paired steps and
    from the best step of each (robust to other load on the machine);
  * pipeline: batches/s the augmentation + tf.data pipeline delivers on its own (toy public-domain faces);
  * FLOPs per step (TensorFlow's profiler over the compiled step's graph) and the share of the float32
    matmul peak measured in the parent at the start of the run;
  * the child's peak RSS.

Usage: python -m bench.train [--configs 64:lite,64:standard,128:lite] [--precisions float32,bfloat16]
                             [--batch-size 8] [--steps 8] [--rounds 2] [--baseline]
                             [--attention none --name train_no_attention]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import emit, machine, peak_rss_mb, run_child

DEFAULT_LOSSES = ("reconstruction", "edge", "eyes", "mixup_lsgan", "mask_l1", "mask_hinge", "mask_tv")
POLICIES = {"float32": "float32", "bfloat16": "mixed_bfloat16", "float16": "mixed_float16"}


def matmul_peak(dtype: str, n: int = 2048, repeats: int = 10) -> float:
    """Best sustained GFLOP/s of an n×n matmul in TensorFlow for `dtype`."""
    import tensorflow as tf

    a = tf.random.normal((n, n), dtype=tf.float32)
    b = tf.random.normal((n, n), dtype=tf.float32)
    a, b = tf.cast(a, dtype), tf.cast(b, dtype)
    mm = tf.function(lambda x, y: tf.reduce_sum(tf.cast(tf.matmul(x, y), tf.float32)))
    float(mm(a, b))
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        float(mm(a, b))
        best = min(best, time.perf_counter() - t0)
    return 2 * n**3 / best / 1e9


def graph_flops(concrete: Any) -> int | None:
    """Floating-point operations of one call of a concrete function, per TensorFlow's op statistics."""
    from tensorflow.python.profiler import model_analyzer, option_builder

    opts = option_builder.ProfileOptionBuilder(option_builder.ProfileOptionBuilder.float_operation())
    opts = opts.with_empty_output().build()
    try:
        info = model_analyzer.profile(graph=concrete.graph, options=opts)
    except Exception:  # the profiler is best-effort; the JSON says null
        return None
    return int(info.total_float_ops) if info is not None else None


# ---------------------------------------------------------------------------------------------------
# the hand-written baseline: same networks, same loss math, no framework
# ---------------------------------------------------------------------------------------------------


def baseline_step(nets: Any, lr_g: float = 1e-4, lr_d: float = 2e-4) -> Any:
    import keras
    import tensorflow as tf

    sides = ("a", "b")
    g_vars = {s: nets.encoder.trainable_variables + nets.decoders[s].trainable_variables for s in sides}
    d_vars = {s: nets.discriminators[s].trainable_variables for s in sides}
    g_opt = {s: keras.optimizers.Adam(lr_g, beta_1=0.5) for s in sides}
    d_opt = {s: keras.optimizers.Adam(lr_d, beta_1=0.5) for s in sides}

    def l1(a: Any, b: Any) -> Any:
        return tf.reduce_mean(tf.abs(a - b))

    def grads(x: Any) -> tuple[Any, Any]:
        return tf.abs(x[:, 1:, :-1] - x[:, :-1, :-1]), tf.abs(x[:, :-1, 1:] - x[:, :-1, :-1])

    def reg(*models: Any) -> Any:
        losses = [tf.cast(v, tf.float32) for m in models for v in m.losses]
        return tf.add_n(losses) if losses else 0.0

    @tf.function
    def step(batch: tuple[Any, ...], lam: Any) -> dict[str, Any]:
        data = {"a": batch[0:3], "b": batch[3:6]}
        out: dict[str, Any] = {}
        with tf.GradientTape(persistent=True) as tape:
            res = {}
            for s in sides:
                warped, target, eyes = data[s]
                o = nets.decoders[s](nets.encoder(warped, training=True), training=True)
                abgr = tf.cast(o["abgr"], tf.float32)
                alpha, bgr = abgr[..., :1], abgr[..., 1:]
                masked = alpha * bgr + (1 - alpha) * warped
                res[s] = (warped, target, eyes, alpha, bgr, masked, [tf.cast(x, tf.float32)
                                                                     for x in o["side_outputs"]])
            for s in sides:
                warped, target, eyes, alpha, bgr, masked, _ = res[s]
                disc = nets.discriminators[s]
                real = tf.concat([target, warped], -1)
                fake = tf.stop_gradient(tf.concat([masked, warped], -1))
                raw = tf.stop_gradient(tf.concat([bgr, warped], -1))
                d_fake = tf.cast(disc(lam * real + (1 - lam) * fake), tf.float32)
                d_raw = tf.cast(disc(lam * real + (1 - lam) * raw), tf.float32)
                d_loss = 0.1 * tf.reduce_mean(tf.square(d_fake - lam))
                d_loss += 0.1 * tf.reduce_mean(tf.square(d_raw - lam)) + reg(disc)
                out[f"{s}/d"] = d_loss
                with tape.stop_recording():
                    d_opt[s].apply(tape.gradient(d_loss, d_vars[s]), d_vars[s])
            g_loss = {}
            for s in sides:
                warped, target, eyes, alpha, bgr, masked, side_outs = res[s]
                disc = nets.discriminators[s]
                loss = l1(bgr, target)
                for so in side_outs:
                    loss += l1(so, tf.image.resize(target, so.shape[1:3], antialias=True))
                oy, ox = grads(bgr)
                ty, tx = grads(target)
                loss += 0.1 * (l1(oy, ty) + l1(ox, tx))
                small = tf.image.resize(eyes, (bgr.shape[1] - 1, bgr.shape[2] - 1), antialias=True)
                loss += 30.0 * (tf.reduce_mean(tf.abs(eyes * (bgr - target)))
                                + tf.reduce_mean(tf.abs(small * (oy - ty)))
                                + tf.reduce_mean(tf.abs(small * (ox - tx))))
                fake = tf.concat([masked, warped], -1)
                raw = tf.concat([bgr, warped], -1)
                loss += 0.1 * (tf.reduce_mean(tf.square(tf.cast(disc(fake), tf.float32) - 1))
                               + tf.reduce_mean(tf.square(tf.cast(disc(raw), tf.float32) - 1)))
                ay, ax = grads(alpha)
                loss += 0.01 * tf.reduce_mean(tf.abs(alpha)) + 0.1 * (tf.reduce_mean(ay) + tf.reduce_mean(ax))
                loss += reg(nets.encoder, nets.decoders[s])
                out[f"{s}/g"] = loss
                g_loss[s] = loss
        for s in sides:
            g_opt[s].apply(tape.gradient(g_loss[s], g_vars[s]), g_vars[s])
        return out

    return step


# ---------------------------------------------------------------------------------------------------
# one configuration (child process)
# ---------------------------------------------------------------------------------------------------


def build_step(spec: dict[str, Any]) -> tuple[Any, tuple[Any, ...], float]:
    """(fswap's TrainStep, one fixed batch, mixup λ) for `spec`: the real networks of resolution:capacity
    under the precision's Keras policy, the default losses, phase 0 of the reference schedule."""
    import keras
    import numpy as np
    import tensorflow as tf

    from fswap.catalog import Catalog
    from fswap.model.blocks import ModelBlocks
    from fswap.model.config import parse_model_config
    from fswap.model.networks import build_networks
    from fswap.plugins import make_plugin_manager
    from fswap.train.step import TrainStep

    res, prec, n = spec["resolution"], spec["precision"], spec["batch_size"]
    keras.mixed_precision.set_global_policy(POLICIES[prec])
    keras.utils.set_random_seed(0)
    catalog = Catalog.from_plugin_manager(make_plugin_manager())
    choice = spec.get("attention", "self_attention")  # a component name, or its table as JSON
    attention = json.loads(choice) if choice.lstrip().startswith("{") else {"use": choice}
    config = parse_model_config({"resolution": res, "capacity": spec["capacity"], "attention": attention},
                                catalog=catalog)
    nets = build_networks(config, ModelBlocks.from_config(config))
    specs = {e.spec.name: e.spec for e in catalog if e.spec.kind == "loss"}
    losses = {name: specs[name].load_factory()(specs[name].config()) for name in DEFAULT_LOSSES}
    step = TrainStep(nets, losses, loss_scaling=prec == "float16")
    step.set_factors({"mask_hinge": 0.0})  # phase 0 of the reference schedule

    rng = np.random.default_rng(0)
    img = lambda: tf.constant(rng.uniform(-1, 1, (n, res, res, 3)).astype("f4"))  # noqa: E731
    eye = lambda: tf.constant((rng.uniform(0, 1, (n, res, res, 1)) > 0.9).astype("f4"))  # noqa: E731
    return step, (img(), img(), eye(), img(), img(), eye()), 0.3


def run_one(spec: dict[str, Any]) -> dict[str, Any]:
    import tensorflow as tf

    from fswap.train.report import as_floats

    res, cap, prec, n = spec["resolution"], spec["capacity"], spec["precision"], spec["batch_size"]
    step, batch, lam = build_step(spec)
    nets = step.networks
    params = {k: int(m.count_params()) for k, m in nets.all().items()}

    def fswap_once() -> None:
        as_floats(step(batch, lam))

    runners = {"fswap": fswap_once}
    if spec["baseline"]:
        base = baseline_step(nets)
        lam_t = tf.constant(lam)
        runners["baseline"] = lambda: {k: float(v) for k, v in base(batch, lam_t).items()}
    compile_s = {}
    for name, fn in runners.items():
        t0 = time.perf_counter()
        for _ in range(spec["warmup"]):
            fn()
        compile_s[name] = round(time.perf_counter() - t0, 2)
    times: dict[str, list[float]] = {k: [] for k in runners}
    for _ in range(spec["rounds"] * spec["steps"]):  # interleaved, so load changes hit both alike
        for name, fn in runners.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    images = 2 * n
    out: dict[str, Any] = {
        "resolution": res, "capacity": cap, "precision": prec, "batch_size": n, "parameters": params,
        "warmup_s": compile_s,
    }
    for name, ts in times.items():
        med = statistics.median(ts)
        out[name] = {"step_s_median": round(med, 4), "step_s_min": round(min(ts), 4),
                     "images_per_s": round(images / med, 2)}
    if "baseline" in out:
        ratio = out["fswap"]["images_per_s"] / out["baseline"]["images_per_s"]
        out["ratio_fswap_to_baseline"] = round(ratio, 3)
        paired = [b / f for f, b in zip(times["fswap"], times["baseline"], strict=True)]
        out["ratio_paired_median"] = round(statistics.median(paired), 3)
        out["ratio_best_steps"] = round(min(times["baseline"]) / min(times["fswap"]), 3)
    concrete = step._step.get_concrete_function(batch, tf.constant(lam, tf.float32))
    flops = graph_flops(concrete)
    out["flops_per_step"] = flops
    if flops:
        out["achieved_gflops"] = round(flops / out["fswap"]["step_s_median"] / 1e9, 1)
    out["pipeline_batches_per_s"] = pipeline_rate(res, n)
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def pipeline_rate(resolution: int, batch_size: int, batches: int = 12) -> float:
    """Batches/s the augmentation + tf.data pipeline produces alone (toy public-domain face sets)."""
    from fswap.data.pipeline import BatchMaker, load_faces, make_dataset
    from fswap.stages.train_config import AugmentConfig
    from fswap.train.toys import make_toy_faceset

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_toy_faceset(root / "a", "astronaut", count=8, size=256)
        make_toy_faceset(root / "b", "grace_hopper", count=8, size=256)
        faces = {"a": load_faces(root / "a", "eyes5"), "b": load_faces(root / "b", "eyes5")}
    maker = BatchMaker(faces=faces, resolution=resolution, batch_size=batch_size, augment=AugmentConfig())
    stream = iter(make_dataset(maker))
    next(stream)
    t0 = time.perf_counter()
    for _ in range(batches):
        next(stream)
    return round(batches / (time.perf_counter() - t0), 2)


# ---------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configs", default="64:lite,64:standard,128:lite")
    parser.add_argument("--precisions", default="float32,bfloat16")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--steps", type=int, default=6, help="timed steps per round and runner")
    parser.add_argument("--rounds", type=int, default=2, help="rounds (steps × rounds timed per runner)")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--baseline", action="store_true", help="also time a hand-written train step")
    parser.add_argument("--attention", default="self_attention",
                        help="attention component of the model ('none': the convolutions alone), or its "
                        "table as JSON, e.g. '{\"use\": \"chunked_self_attention\", \"recompute\": true}'")
    parser.add_argument("--name", default="train", help="results file bench/results/<name>.json")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(run_one(json.loads(args.one))), flush=True)
        return

    load_before = os.getloadavg()
    peak = {"float32": round(matmul_peak("float32"), 1), "bfloat16": round(matmul_peak("bfloat16"), 1)}
    results = []
    for cfg in args.configs.split(","):
        res, cap = cfg.split(":")
        for prec in args.precisions.split(","):
            spec = {"resolution": int(res), "capacity": cap, "precision": prec,
                    "batch_size": args.batch_size, "steps": args.steps, "rounds": args.rounds,
                    "warmup": args.warmup, "baseline": args.baseline, "attention": args.attention}
            row = run_child("bench.train", spec)
            if "error" in row:
                results.append(row)
                continue
            if row.get("achieved_gflops"):
                row["share_of_float32_matmul_peak"] = round(row["achieved_gflops"] / peak["float32"], 3)
            results.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
    by_key = {(r.get("resolution"), r.get("capacity"), r.get("precision")): r for r in results}
    speedups = {}
    for (res, cap, prec), row in by_key.items():
        ref = by_key.get((res, cap, "float32"))
        if prec != "float32" and ref and "fswap" in row and "fswap" in ref:
            speedups[f"{res}:{cap}:{prec}_vs_float32"] = round(
                row["fswap"]["images_per_s"] / ref["fswap"]["images_per_s"], 3)
    # other processes on the machine distort every number: the load averages say how busy it was
    load = {"before": [round(x, 2) for x in load_before], "after": [round(x, 2) for x in os.getloadavg()]}
    emit(args.name, {"machine": machine(), "load_average_1_5_15min": load, "matmul_peak_gflops": peak,
                     "attention": args.attention, "results": results, "speedup": speedups})


if __name__ == "__main__":
    main()
