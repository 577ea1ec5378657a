"""Self-attention cost at the decoder's 64×64 site (N = 4096 positions): plain (full N×N matrix, the
baseline) vs query-chunked evaluation, including the automatic choice of `self_attention` (query_block 0).
Each variant runs in a fresh process so peak memory is its own; the variants run in turn for --rounds
rounds (interleaved, so load from other processes hits all alike) and the medians are reported.

Usage: python -m bench.attention [--batch 4] [--channels 64] [--size 64] [--reps 5] [--rounds 2]
Prints JSON (ms per forward, per forward+backward, peak RSS MiB, max |difference| to the baseline).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from typing import Any

from bench.common import emit, machine, peak_rss_mb


def measure(query_block: int, batch: int, channels: int, size: int, reps: int,
            recompute: bool) -> dict[str, Any]:
    """Run inside a child process: time one SelfAttention layer and report its outputs' checksum."""
    import numpy as np
    import tensorflow as tf
    from fswap_attention.layers import SelfAttention

    rng = np.random.default_rng(0)
    x = tf.constant(rng.standard_normal((batch, size, size, channels)).astype(np.float32))
    layer = SelfAttention(query_block=query_block, recompute=recompute)
    layer(x)
    weights = layer.get_weights()
    weights = [rng.standard_normal(w.shape).astype(np.float32) * 0.1 for w in weights]
    layer.set_weights(weights)

    forward = tf.function(lambda t: layer(t))

    @tf.function
    def train_step(t: tf.Tensor) -> tf.Tensor:
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(layer(t)))
        grads = tape.gradient(loss, layer.trainable_variables)
        return loss + tf.add_n([tf.reduce_sum(g) for g in grads]) * 0.0

    y = forward(x).numpy()
    train_step(x)
    start = time.perf_counter()
    for _ in range(reps):
        forward(x)
    fwd = (time.perf_counter() - start) / reps
    start = time.perf_counter()
    for _ in range(reps):
        train_step(x)
    step = (time.perf_counter() - start) / reps
    return {"query_block": query_block, "recompute": recompute, "forward_ms": round(fwd * 1000, 1),
            "train_step_ms": round(step * 1000, 1), "peak_rss_mb": peak_rss_mb(),
            "output_sum": float(np.sum(y, dtype=np.float64)),
            "output_sample": y[0, :2, :2, :4].ravel().tolist()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--channels", type=int, default=64)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--recompute", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        result = measure(args.child, args.batch, args.channels, args.size, args.reps, args.recompute)
        print(json.dumps(result))
        return
    n = args.size * args.size
    plain = 1 << 30  # any block ≥ N forces the plain N×N product
    variants = [(plain, False), (0, False), (1024, False), (256, False), (128, False), (256, True)]
    rounds: list[list[dict[str, Any]]] = [[] for _ in variants]
    for _ in range(args.rounds):
        for i, (block, recompute) in enumerate(variants):
            out = subprocess.run(
                [sys.executable, "-m", "bench.attention", "--child", str(block), "--batch", str(args.batch),
                 "--channels", str(args.channels), "--size", str(args.size), "--reps", str(args.reps),
                 *(["--recompute"] if recompute else [])],
                capture_output=True, text=True, check=True,
            )
            rounds[i].append(json.loads(out.stdout.strip().splitlines()[-1]))
    runs = []
    for (block, _), per_round in zip(variants, rounds, strict=True):
        run = dict(per_round[0])
        run["query_block"] = "plain" if block == plain else ("auto" if block == 0 else block)
        for key in ("forward_ms", "train_step_ms", "peak_rss_mb"):
            run[key] = round(statistics.median(r[key] for r in per_round), 1)
            run[f"{key}_all"] = [r[key] for r in per_round]
        runs.append(run)
    baseline = runs[0]["output_sample"]
    for run in runs:
        sample = run.pop("output_sample")
        run["max_abs_diff_vs_plain"] = max(abs(a - b) for a, b in zip(sample, baseline, strict=True))
        run["rel_output_sum_diff_vs_plain"] = abs(run["output_sum"] / runs[0]["output_sum"] - 1.0)
    emit("attention", {
        "what": "SelfAttention layer, plain (baseline) vs query-chunked",
        "machine": machine(), "batch": args.batch, "channels": args.channels, "positions": n,
        "attention_matrix_mb_plain": round(args.batch * n * n * 4 / 2**20, 1),
        "runs": runs,
        "speedup_auto_vs_plain": {
            key: round(runs[0][f"{key}_ms"] / runs[1][f"{key}_ms"], 2) for key in ("forward", "train_step")
        },
    })


if __name__ == "__main__":
    main()
