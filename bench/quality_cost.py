"""What one iteration of each `bench.quality` configuration costs: seconds to make a batch (augmentation,
both sides) and seconds of the train step, measured in one process on the same faces.

bench.quality compares configurations at equal training seconds, so a configuration whose iteration costs
more gets fewer iterations into each checkpoint; this says how many fewer and which losses cost what.

Usage: python -m bench.quality_cost [--pair varied] [--configs default,baseline,...] [--steps 9]
                                   [--onednn inherit|both] [--name quality_cost]
Writes bench/results/<name>.json (with the load average). `--onednn both` times every configuration twice,
in child processes with TensorFlow's oneDNN kernels off, then on (TF_ENABLE_ONEDNN_OPTS=0, then 1), and
reports the speed-up of each (fswap.tensorflow_env turns them on by default on x86-64).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from typing import Any

from bench import quality
from bench.common import emit, machine

VARIANTS: dict[str, dict[str, Any]] = {
    "without_structure": {"losses": {"reconstruction": {}, "edge": {}, "eyes": {"weight": 3.0},
                                     "mask_hinge": {}, "mask_tv": {}}},
    "without_eyes": {"losses": {"reconstruction": {}, "structure": {}, "edge": {}, "mask_hinge": {},
                                "mask_tv": {}}},
    "without_edge": {"losses": {"reconstruction": {}, "structure": {}, "eyes": {"weight": 3.0},
                                "mask_hinge": {}, "mask_tv": {}}},
    "l1_and_mask_terms": {"losses": {"reconstruction": {}, "mask_hinge": {}, "mask_tv": {}}},
}
"""The default recipe with one or more of its loss terms left out."""


def cost(pair: str, config: str, steps: int, warmup: int = 3) -> dict[str, Any]:
    """Mean seconds per batch made and per train step of `config` (after `warmup` untimed steps)."""
    import keras

    from fswap import api
    from fswap.data.pipeline import BatchMaker, load_faces
    from fswap.model.blocks import ModelBlocks
    from fswap.model.networks import build_networks
    from fswap.stages.train import build_losses
    from fswap.train.step import TrainStep

    work = quality.prepare_pair(pair)
    table = quality.train_table(config, iterations=450)
    cfg = api.from_dict({"workdir": "unused", "seed": 0, "train": table}).stage_config("train")
    data = quality.HeldOutFaces(work, cfg.model.resolution, following=False)
    faces = {s: load_faces(quality._training_subset(data.sets[s], data.trained[s]), cfg.eye_mask)
             for s in quality.SIDES}
    maker = BatchMaker(faces=faces, resolution=cfg.model.resolution, batch_size=cfg.batch_size,
                       augment=cfg.augment, seed=0)
    keras.utils.set_random_seed(0)
    networks = build_networks(cfg.model, ModelBlocks.from_config(cfg.model))
    step = TrainStep(networks, build_losses(cfg), lr_generator=cfg.lr_generator,
                     lr_discriminator=cfg.lr_discriminator, beta_1=cfg.beta_1, beta_2=cfg.beta_2,
                     use_eye_masks=maker.has_eyes)
    started = time.perf_counter()
    batches = [maker.make(k) for k in range(warmup + steps)]
    make_s = (time.perf_counter() - started) / len(batches)
    for batch in batches[:warmup]:  # tracing and first-call allocations
        step(batch, 0.0, iteration=1)
    started = time.perf_counter()
    for batch in batches[warmup:]:
        step(batch, 0.0, iteration=warmup + 1)
    step_s = (time.perf_counter() - started) / steps
    return {"losses": cfg.loss_names(), "batch_size": cfg.batch_size, "mask": cfg.model.mask,
            "batch_make_s": round(make_s, 3), "step_s": round(step_s, 3),
            "load_average_1": round(os.getloadavg()[0], 2)}


def cost_in_child(pair: str, config: str, steps: int, onednn: str) -> dict[str, Any]:
    """`cost` in a fresh process whose TensorFlow starts with TF_ENABLE_ONEDNN_OPTS=`onednn`."""
    env = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": onednn, "TF_CPP_MIN_LOG_LEVEL": "2"}
    done = subprocess.run([sys.executable, "-m", "bench.quality_cost", "--child", config, "--pair", pair,
                           "--steps", str(steps)], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"bench.quality_cost child {config} (oneDNN {onednn}) failed:\n"
                         f"{done.stderr[-3000:]}")
    return {**json.loads(done.stdout.strip().splitlines()[-1]), "onednn": onednn}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pair", default="varied", choices=list(quality.PAIRS))
    parser.add_argument("--configs", default="default,baseline," + ",".join(VARIANTS))
    parser.add_argument("--steps", type=int, default=9)
    parser.add_argument("--onednn", default="inherit", choices=("inherit", "both"),
                        help="inherit: as this process; both: each configuration with oneDNN off, then on")
    parser.add_argument("--name", default="quality_cost", help="results file bench/results/<name>.json")
    parser.add_argument("--child", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    quality.CONFIGS.update(VARIANTS)
    if args.child:
        print(json.dumps(cost(args.pair, args.child, args.steps)))
        return
    start = machine()
    results: dict[str, dict[str, Any]] = {}
    for config in args.configs.split(","):
        if args.onednn == "both":
            off = cost_in_child(args.pair, config, args.steps, "0")
            on = cost_in_child(args.pair, config, args.steps, "1")
            results[f"{config}@onednn_off"], results[config] = off, on
            on["onednn_speedup"] = round(off["step_s"] / on["step_s"], 2)
            print(config, off, on, flush=True)
        else:
            results[config] = cost(args.pair, config, args.steps)
            print(config, results[config], flush=True)
    base = results.get("baseline", {}).get("step_s")
    base_off = results.get("baseline@onednn_off", {}).get("step_s")
    for key, row in results.items():
        ref = base_off if key.endswith("@onednn_off") else base
        row["step_vs_baseline"] = round(row["step_s"] / ref, 2) if ref else None
    emit(args.name, {"pair": args.pair, "steps": args.steps, "onednn": args.onednn, "configs": results,
                     "machine_at_start": start, "machine_at_end": machine()})


if __name__ == "__main__":
    main()
