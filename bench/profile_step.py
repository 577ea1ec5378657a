"""Where a train step's time goes: a TensorFlow profile of fswap's step, aggregated per op type.

For each precision a child process builds the networks and default losses exactly as `bench.train` does,
warms the step up, then records `--steps` steps with TensorFlow's profiler and reads the trace (XPlane)
back: every op event on the host's threads, its *self* time (nested events such as a `While` loop's body
are subtracted from the op that holds them), summed per op type and divided by the steps. The table says
which kernels cost what per step, in which precision, and how much of the step's wall time the ops fill
(with 2 cores, op time can exceed wall time when ops run side by side).

Usage: python -m bench.profile_step [--config 64:standard] [--precisions float32,bfloat16] [--steps 3]
                                    [--attention self_attention] [--top 25] [--name profile_step]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench.common import emit, machine, peak_rss_mb, run_child

_OP_TYPE = re.compile(r"_?[A-Z][A-Za-z0-9_]*")


def op_type(event_name: str) -> str | None:
    """The op type of a TensorFlow op event ("scope/name:Conv2D" -> "Conv2D", oneDNN's "_MklNativeConv2D"
    included); None for executor events ("ExecutorState::Process") and bodies of loops or calls."""
    if "::" in event_name or ":" not in event_name:
        return None
    kind = event_name.rsplit(":", 1)[1].strip()
    return kind if _OP_TYPE.fullmatch(kind) else None


def self_times(events: list[tuple[int, int, str]]) -> dict[str, int]:
    """Self time in ps per op type of one thread's events [(start_ps, duration_ps, op_type)]: an event's
    duration less the time of the events nested in it, so a loop op does not count its body twice."""
    totals: dict[str, int] = defaultdict(int)
    stack: list[list[Any]] = []  # [end, type, self_time]
    for start, dur, kind in sorted(events, key=lambda e: (e[0], -e[1])):
        while stack and stack[-1][0] <= start:
            _end, k, own = stack.pop()
            totals[k] += own
        if stack:
            stack[-1][2] -= min(dur, stack[-1][0] - start)
        stack.append([start + dur, kind, dur])
    for _end, k, own in stack:
        totals[k] += own
    return dict(totals)


def read_trace(logdir: Path) -> dict[str, int]:
    """Op self time in ps per op type over every host thread of the newest XPlane file under `logdir`."""
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    files = sorted(logdir.rglob("*.xplane.pb"), key=lambda p: p.stat().st_mtime)
    space = xplane_pb2.XSpace()
    space.ParseFromString(files[-1].read_bytes())
    totals: dict[str, int] = defaultdict(int)
    for plane in space.planes:
        if not plane.name.startswith("/host:"):
            continue
        names = {k: m.name for k, m in plane.event_metadata.items()}
        for line in plane.lines:
            events = []
            for ev in line.events:
                kind = op_type(names.get(ev.metadata_id, ""))
                if kind is not None:
                    events.append((ev.offset_ps, ev.duration_ps, kind))
            for kind, ps in self_times(events).items():
                totals[kind] += ps
    return dict(totals)


def run_one(spec: dict[str, Any]) -> dict[str, Any]:
    import tensorflow as tf

    from bench.train import build_step
    from fswap.train.report import as_floats

    step, batch, lam = build_step(spec)
    for _ in range(2):
        as_floats(step(batch, lam))
    plain = []
    for _ in range(spec["steps"]):
        t0 = time.perf_counter()
        as_floats(step(batch, lam))
        plain.append(time.perf_counter() - t0)
    with tempfile.TemporaryDirectory() as tmp:
        tf.profiler.experimental.start(tmp)
        t0 = time.perf_counter()
        for _ in range(spec["steps"]):
            as_floats(step(batch, lam))
        wall = (time.perf_counter() - t0) / spec["steps"]
        tf.profiler.experimental.stop()
        totals = read_trace(Path(tmp))
    per_step = {k: v / 1e9 / spec["steps"] for k, v in totals.items()}  # ps → ms per step
    op_ms = sum(per_step.values())
    ranked = sorted(per_step.items(), key=lambda kv: -kv[1])
    return {
        **{k: spec[k] for k in ("resolution", "capacity", "precision", "batch_size", "attention")},
        "step_s_unprofiled_median": round(sorted(plain)[len(plain) // 2], 4),
        "step_s_profiled": round(wall, 4),
        "op_ms_per_step": round(op_ms, 1),
        "ops": [{"op": k, "ms_per_step": round(v, 2), "share": round(v / op_ms, 4)} for k, v in ranked],
        "peak_rss_mb": peak_rss_mb(),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default="64:standard", help="resolution:capacity")
    parser.add_argument("--precisions", default="float32,bfloat16")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--steps", type=int, default=3, help="profiled steps (after 2 warm-up steps)")
    parser.add_argument("--attention", default="self_attention")
    parser.add_argument("--top", type=int, default=25, help="op types printed per precision")
    parser.add_argument("--name", default="profile_step", help="results file bench/results/<name>.json")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(run_one(json.loads(args.one))), flush=True)
        return
    load_before = os.getloadavg()
    res, cap = args.config.split(":")
    results = []
    for prec in args.precisions.split(","):
        spec = {"resolution": int(res), "capacity": cap, "precision": prec, "batch_size": args.batch_size,
                "steps": args.steps, "attention": args.attention}
        row = run_child("bench.profile_step", spec)
        results.append(row)
        if "error" in row:
            continue
        print(f"\n{prec}: step {row['step_s_unprofiled_median']} s unprofiled, {row['step_s_profiled']} s "
              f"profiled, op time {row['op_ms_per_step']} ms/step", file=sys.stderr)
        for op in row["ops"][:args.top]:
            share = 100 * op["share"]
            print(f"  {op['op']:<36} {op['ms_per_step']:>9.1f} ms  {share:5.1f} %", file=sys.stderr)
    load = {"before": [round(x, 2) for x in load_before], "after": [round(x, 2) for x in os.getloadavg()]}
    emit(args.name, {"machine": machine(), "load_average_1_5_15min": load, "results": results})


if __name__ == "__main__":
    main()
