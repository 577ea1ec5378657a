"""Cost of the fswap_research components, each variant in a fresh process (own peak memory):

* attention at a 64×64 site (N = 4096): self_attention plain (baseline), chunked self_attention,
  dual_attention with the full matrix and with 256-query blocks: ms per forward and per forward+backward.
* one train step of a tiny 64×64 model: standard losses + mixup_lsgan (baseline) vs wgan_gp with 1 and 5
  critic steps vs mixup_lsgan + aae_latent.

Usage: python -m bench.research_components [--batch 2] [--channels 32] [--reps 5]
Prints JSON (and stores bench/results/research_components.json).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from typing import Any

from bench.common import emit, machine, peak_rss_mb

ATTENTION = [("self_attention", 0), ("self_attention", 256), ("dual_attention", 0), ("dual_attention", 256)]
STEPS = [("mixup_lsgan", {}), ("wgan_gp", {"critic_steps": 1}), ("wgan_gp", {"critic_steps": 5}),
         ("mixup_lsgan+aae_latent", {})]


def _timed(fn: Any, arg: Any, reps: int) -> float:
    fn(arg)
    start = time.perf_counter()
    for _ in range(reps):
        fn(arg)
    return (time.perf_counter() - start) / reps * 1000


def attention(name: str, block: int, batch: int, channels: int, reps: int) -> dict[str, Any]:
    import numpy as np
    import tensorflow as tf
    from fswap_attention.layers import SelfAttention
    from fswap_research.layers import DualAttention

    rng = np.random.default_rng(0)
    x = tf.constant(rng.standard_normal((batch, 64, 64, channels)).astype(np.float32))
    layer = SelfAttention(query_block=block) if name == "self_attention" else DualAttention(query_block=block)
    layer(x)
    forward = tf.function(lambda t: layer(t))

    @tf.function
    def train(t: tf.Tensor) -> tf.Tensor:
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(layer(t)))
        return tf.add_n([tf.reduce_sum(g) for g in tape.gradient(loss, layer.trainable_variables)])

    return {"component": name, "query_block": block, "forward_ms": round(_timed(forward, x, reps), 1),
            "train_ms": round(_timed(train, x, reps), 1), "peak_rss_mb": peak_rss_mb()}


def step(losses: str, options: dict[str, Any], batch: int, reps: int) -> dict[str, Any]:
    import numpy as np

    from fswap.builder import build
    from fswap.catalog import Catalog
    from fswap.model.blocks import ModelBlocks
    from fswap.model.config import ModelConfig
    from fswap.model.networks import build_networks
    from fswap.plugins import make_plugin_manager
    from fswap.structure import Context, structure_component
    from fswap.train.step import TrainStep

    catalog = Catalog.from_plugin_manager(make_plugin_manager())
    ctx = Context(source="bench", catalog=catalog)

    def choice(kind: str, name: str, extra: dict[str, Any] | None = None) -> Any:
        return structure_component(kind, {"use": name, **(extra or {})}, ctx=ctx, section=f"bench.{name}")

    model = ModelConfig(resolution=64, capacity="lite", width_divisor=16,
                        normalization=choice("normalization", "instance"),
                        attention=choice("attention", "none"),
                        upsampling=choice("upsampling", "pixel_shuffle"))
    networks = build_networks(model, ModelBlocks.from_config(model))
    terms = {n: build(choice("loss", n, options if n == "wgan_gp" else None))
             for n in ["reconstruction", "edge", *losses.split("+")]}
    train = TrainStep(networks, terms)
    rng = np.random.default_rng(0)
    data = []
    for _ in "ab":
        target = rng.uniform(-1, 1, (batch, 64, 64, 3)).astype(np.float32)
        data += [np.roll(target, 2, axis=2), target, np.zeros((batch, 64, 64, 1), np.float32)]
    start = time.perf_counter()
    train(data, 0.5)
    first = time.perf_counter() - start
    ms = _timed(lambda b: train(b, 0.5), data, reps)
    return {"losses": losses, **options, "first_step_s": round(first, 1), "step_ms": round(ms, 1),
            "peak_rss_mb": peak_rss_mb()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--channels", type=int, default=32)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        kind, index = args.child.split(":")
        if kind == "attention":
            name, block = ATTENTION[int(index)]
            result = attention(name, block, args.batch, args.channels, args.reps)
        else:
            losses, options = STEPS[int(index)]
            result = step(losses, options, args.batch, args.reps)
        print(json.dumps(result))
        return
    runs: dict[str, list[dict[str, Any]]] = {"attention": [], "train_step": []}
    for kind, count in (("attention", len(ATTENTION)), ("train_step", len(STEPS))):
        for i in range(count):
            out = subprocess.run(
                [sys.executable, "-m", "bench.research_components", "--child", f"{kind}:{i}",
                 "--batch", str(args.batch), "--channels", str(args.channels), "--reps", str(args.reps)],
                capture_output=True, text=True, check=True,
            )
            runs[kind].append(json.loads(out.stdout.strip().splitlines()[-1]))
    for kind, key in (("attention", "train_ms"), ("train_step", "step_ms")):
        base = runs[kind][0][key]
        for run in runs[kind]:
            run["vs_baseline"] = round(run[key] / base, 2)
    emit("research_components", {
        "what": "fswap_research cost; baselines: self_attention plain, standard losses + mixup_lsgan",
        "machine": machine(), "load_average": os.getloadavg(), "batch": args.batch,
        "attention_channels": args.channels, "runs": runs,
    })


if __name__ == "__main__":
    main()
