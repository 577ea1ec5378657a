"""Run every benchmark, each in its own process (own peak RSS), and keep its JSON in bench/results/.

Usage: python -m bench [--quick] [--only convert,train,input_pipeline,...] [--plot]
--quick: fewer frames, steps and repeats (a few minutes in all, for checking that everything runs; its
JSON goes to a temporary folder, not bench/results, and --plot is ignored);
the default is the full pass whose numbers docs/performance.md reports. Each benchmark measures its own
baseline in the same process, interleaved with the candidate. A summary of the headline numbers against
the targets of issue 9, and each goal of issue 19 (`issue19_goals`), is printed at the end and stored
in bench/results/summary.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import RESULTS, machine

FULL: dict[str, list[str]] = {
    "attention": ["--reps", "3", "--rounds", "2"],
    "extract": ["--frames", "32"],
    "convert": ["--frames", "80", "--repeats", "2", "--min-face", "40"],
    "alignments": ["--frames", "40", "--repeats", "2"],
    "train": ["--baseline", "--configs", "64:standard", "--precisions", "float32,bfloat16",
              "--steps", "4", "--rounds", "2"],
    "train_no_attention": ["--baseline", "--configs", "64:standard", "--precisions", "float32,bfloat16",
                           "--steps", "4", "--rounds", "2", "--attention", "none",
                           "--name", "train_no_attention"],
    "memory-fswap-only": ["--configs", "64:standard,128:standard,256:standard", "--precisions", "float32",
                          "--steps", "2", "--rounds", "1", "--warmup", "1", "--name", "memory-fswap-only"],
    "input_pipeline": ["--faces", "5000", "--batches", "60"],
}
QUICK: dict[str, list[str]] = {
    "attention": ["--reps", "2", "--rounds", "1", "--batch", "2"],
    "extract": ["--frames", "12"],
    "convert": ["--frames", "20", "--repeats", "1", "--batch-frames", "8", "--min-face", "40"],
    "alignments": ["--frames", "12", "--repeats", "1"],
    "train": ["--baseline", "--configs", "64:standard", "--precisions", "float32,bfloat16",
              "--steps", "2", "--rounds", "1", "--warmup", "1"],
    "train_no_attention": ["--configs", "64:standard", "--precisions", "float32", "--steps", "2",
                           "--rounds", "1", "--warmup", "1", "--attention", "none",
                           "--name", "train_no_attention"],
    "memory-fswap-only": ["--configs", "64:standard", "--precisions", "float32", "--steps", "1",
                          "--rounds", "1", "--warmup", "1", "--name", "memory-fswap-only"],
    "input_pipeline": ["--faces", "200", "--batches", "8"],
}
MODULES = {"train_no_attention": "train", "memory-fswap-only": "train"}
"""Benchmarks that are another script run with other options (the script writes <name>.json)."""


def run(name: str, args: list[str]) -> dict[str, Any]:
    """Run bench.<name> in a child process; its JSON is read back from bench/results/<name>.json."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", f"bench.{MODULES.get(name, name)}", *args], env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = round(time.perf_counter() - started, 1)
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-5:]
        print(f"bench.{name} failed (exit {proc.returncode}):\n  " + "\n  ".join(tail), file=sys.stderr)
        return {"error": tail, "seconds": seconds}
    print(f"bench.{name}: done in {seconds} s", file=sys.stderr)
    folder = Path(os.environ.get("FSWAP_BENCH_RESULTS") or RESULTS)
    return {"seconds": seconds, **json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))}


def summarize(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The headline number of each target (None where a benchmark did not run or failed)."""
    out: dict[str, Any] = {}
    ext = results.get("extract", {}).get("results", {}).get("640x360", {})
    if ext:
        out["extract_faces_per_s_640x360"] = {m: r["faces_per_s"] for m, r in ext.items()}
    conv = results.get("convert", {}).get("modes", {})
    if conv:
        out["convert_fps_640x360"] = {m: r["fps"] for m, r in conv.items()}
        out["convert_speedup_vs_baseline"] = {m: r["speedup_vs_baseline"] for m, r in conv.items()}
        out["convert_mad_vs_baseline"] = {m: r["mad_vs_baseline"] for m, r in conv.items()}
    reuse = results.get("alignments", {})
    if reuse.get("modes"):
        out["convert_reuse_alignments_speedup"] = reuse["speedup_reuse_vs_detect"]
    rows = [(row, "") for row in results.get("train", {}).get("results", [])]
    rows += [(row, ":no_attention") for row in results.get("train_no_attention", {}).get("results", [])]
    for row, suffix in rows:
        if "fswap" not in row:
            continue
        key = f'{row["resolution"]}:{row["capacity"]}:{row["precision"]}{suffix}'
        out.setdefault("train", {})[key] = {
            "images_per_s": row["fswap"]["images_per_s"],
            "ratio_to_hand_written": row.get("ratio_fswap_to_baseline"),
            "share_of_float32_matmul_peak": row.get("share_of_float32_matmul_peak"),
            "peak_rss_mb": row.get("peak_rss_mb"),
        }
    if results.get("train", {}).get("speedup"):
        out["train_speedup"] = results["train"]["speedup"]
    out["issue19_goals"] = issue19_goals(results)
    return out


INPUT_PIPELINE_KEYS = (
    "png_bytes_held_vs_decoded", "png_peak_rss_vs_decoded", "png_tf_data_batches_per_s_vs_decoded",
    "png_same_batches", "decoded_tensorflow_tf_data_batches_per_s_vs_decoded",
    "decoded_tensorflow_peak_rss_vs_decoded", "png_tensorflow_tf_data_batches_per_s_vs_decoded",
    "png_tensorflow_peak_rss_vs_decoded", "png_same_batches_tensorflow",
)
"""What the summary reports of bench.input_pipeline (ratios to decoded + numpy)."""


def _goal(target: str, measured: Any, baseline: str, met: bool | None, source: str) -> dict[str, Any]:
    return {"target": target, "measured": measured, "baseline": baseline,
            "met": "not measured" if met is None else met, "source": source}


def issue19_goals(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Each goal of issue 19 with its measured number, the baseline it is a ratio to, and whether it is met
    ("not measured" where the benchmark did not run here)."""
    train = results.get("train", {})
    rows = {(r["resolution"], r["capacity"], r["precision"]): r for r in train.get("results", [])}
    float32 = rows.get((64, "standard", "float32"), {})
    bf16 = train.get("speedup", {}).get("64:standard:bfloat16_vs_float32")
    memory = {f'{r["resolution"]}:{r["precision"]}': r.get("peak_rss_mb")
              for r in results.get("memory-fswap-only", {}).get("results", [])}
    share = float32.get("share_of_float32_matmul_peak")
    inputs = results.get("input_pipeline", {})
    conv = results.get("convert", {}).get("modes", {})
    fast = conv.get("every_5", {})
    onnx = conv.get("every_5_onnx", {})
    gpus = results.get("convert", {}).get("machine", {}).get("gpus")
    return {
        "1_bfloat16": _goal("64² standard batch 8: bfloat16 ≥ 1.8× float32 images/s", bf16,
                            "float32 in the same run", None if bf16 is None else bf16 >= 1.8, "train"),
        "2_share_of_peak": _goal("float32 ≥ 50 % of the float32 matmul peak (same run)", share,
                                 "bench.train's matmul peak", None if share is None else share >= 0.5,
                                 "train"),
        "3_input_pipeline": _goal(
            "augmentation in TF ops inside tf.data; faces decoded lazily or stored compactly (10 000 faces)",
            {k: inputs.get(k) for k in INPUT_PIPELINE_KEYS} if inputs.get("stores") else None,
            "the decoded store with the numpy engine in the same run",
            # met when the TensorFlow engine gave the same batches from the compact store as from the decoded
            # one, and its tf.data stream is at least as fast as the numpy engine's in the same run
            None if not inputs.get("stores") else bool(
                inputs.get("png_same_batches_tensorflow")
                and (inputs.get("decoded_tensorflow_tf_data_batches_per_s_vs_decoded") or 0) >= 1.0),
            "input_pipeline"),
        "4_memory": _goal("64² standard float32 ≤ 3 GB peak RSS, fswap's step alone", memory or None,
                          "absolute (MB)", None if "64:float32" not in memory
                          else (memory["64:float32"] or 1e9) <= 3 * 1024, "memory-fswap-only"),
        "5_convert": _goal("≥ 5× the reference design, 640×360, the demo's 64² lite model",
                           {"speedup": fast.get("speedup_vs_baseline"), "fps": fast.get("fps"),
                            "mad_vs_baseline": fast.get("mad_vs_baseline")} if fast else None,
                           "baseline (reference design) in the same run",
                           None if not fast else fast["speedup_vs_baseline"] >= 5, "convert"),
        "6_onnx": _goal("fswap export + [convert] runtime = onnx; fps and MAD against the TensorFlow path",
                        {"fps_vs_tensorflow": round(onnx["fps"] / fast["fps"], 3),
                         "mad_vs_tensorflow": onnx.get("mad_vs_tensorflow")} if onnx and fast else None,
                        "every_5 with the Keras generator in the same run", True if onnx else None,
                        "convert"),
        "7_gpu": _goal("training and conversion on a GPU", gpus or None, "—",
                       None if not gpus else True, "convert (machine.gpus)"),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a fast pass (fewer frames, steps, repeats)")
    parser.add_argument("--only", default="", help="comma-separated subset of " + ",".join(FULL))
    parser.add_argument("--plot", action="store_true", help="then draw docs/images/performance.png")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    names = [n for n in args.only.split(",") if n] or list(plan)
    unknown = sorted(set(names) - set(plan))
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(plan)}")
    if args.quick and not os.environ.get("FSWAP_BENCH_RESULTS"):
        # a quick pass must not overwrite the full results that docs/performance.md reports
        quick_dir = Path(tempfile.gettempdir()) / "fswap-bench-quick"
        os.environ["FSWAP_BENCH_RESULTS"] = str(quick_dir)
        print(f"--quick: results go to {quick_dir}", file=sys.stderr)
    results_dir = Path(os.environ.get("FSWAP_BENCH_RESULTS") or RESULTS)
    start_machine = machine()
    results = {name: run(name, plan[name]) for name in names}
    for name in set(plan) - set(names):  # --only: the others' latest stored results still count
        path = results_dir / f"{name}.json"
        if path.exists():
            results[name] = {"from_earlier_run": True, **json.loads(path.read_text(encoding="utf-8"))}
    summary = {"quick": args.quick,
               "benchmarks": {n: {"seconds": r.get("seconds"), "ok": "error" not in r,
                                  "from_earlier_run": r.get("from_earlier_run", False)}
                              for n, r in results.items()},
               "machine_at_start": start_machine, "machine_at_end": machine(), **summarize(results)}
    (results_dir / "summary.json").parent.mkdir(parents=True, exist_ok=True)
    (results_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(summary, indent=2))
    if args.plot and not args.quick:
        from bench.plot import main as plot

        plot([])
    if any("error" in r for r in results.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
