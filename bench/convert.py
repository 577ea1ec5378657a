"""Benchmark of the convert engine on a 640×360 synthetic clip; prints one JSON object.

Modes, measured in the same run on the same clip and the same randomly initialised model:
  * baseline: the reference design: the detector on every frame, one frame at a time, and one
    single-face generator call per face;
  * every_frame: the detector on every frame, batched frames and one generator call per batch;
  * every_n: the detector on every Nth frame, the Kalman tracker predicting in between, batched, with
    frames decoded ahead and encoded behind in two threads (`[convert] overlap_io`, the default);
  * every_n_sequential_io: every_n with decoding, converting and encoding in one thread (as before);
  * every_n_onnx (when onnxruntime and tf2onnx are installed): every_n with the generator exported to ONNX
    and run by ONNX Runtime (`[convert] runtime = "onnx"`); its MAD against every_n is reported too.
Each mode reads the clip, converts and writes H.264 (end to end). Reported: frames/s (after a warm-up
pass that is not timed), speed-up over the baseline, mean absolute difference of each mode's output frames
against the baseline's (0–255 scale), and the process's peak RSS.

Usage: python -m bench.convert [--frames 60] [--every-n 5] [--model-from PIPELINE] [--attention none]
The model is the demo pipeline's [train.model] (64² lite, no attention) unless told otherwise.
The model is random (never trained): speed does not depend on the weights, and the MAD compares the
pipelines, not the swap quality.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import emit, machine


def force_plain_attention(model: Any) -> bool:
    """Make every SelfAttention layer in `model` (nested models too) use one N×N matrix, before its first
    call traces it; True when there was one. The baseline for the automatic query blocks."""
    from fswap_attention.layers import SelfAttention

    found = False
    for layer in getattr(model, "layers", []):
        if isinstance(layer, SelfAttention):
            layer.query_block = 1 << 30
            found = True
        else:
            found = force_plain_attention(layer) or found
    return found


def mean_abs_difference(frames: list[np.ndarray], reference: list[np.ndarray]) -> float:
    """Mean absolute difference of two runs' output frames, 0–255 scale."""
    pairs = zip(frames, reference, strict=True)
    return float(np.mean([np.abs(a.astype(np.int16) - b).mean() for a, b in pairs]))


CLIP_SIZE = (640, 360)
"""Width and height of the benchmark clip."""
DEMO_PIPELINE = Path(__file__).resolve().parents[1] / "examples" / "demo" / "pipeline.toml"


def model_table_of(pipeline: Path, args: argparse.Namespace) -> dict[str, Any]:
    """The [train.model] table of `pipeline`, with the options given on the command line in its place."""
    import tomllib

    table = dict(tomllib.loads(pipeline.read_text(encoding="utf-8")).get("train", {}).get("model", {}))
    for key in ("resolution", "capacity", "width_divisor"):
        if getattr(args, key) is not None:
            table[key] = getattr(args, key)
    if args.attention is not None:
        table["attention"] = {"use": args.attention}
    return table


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=3, help="timed passes per mode, interleaved")
    parser.add_argument("--every-n", type=int, default=5)
    parser.add_argument("--batch-frames", type=int, default=None,
                        help="frames per batch (default: the engine's automatic size, frames_per_batch)")
    parser.add_argument("--model-from", default=str(DEMO_PIPELINE),
                        help="a pipeline TOML whose [train.model] table is the model (default: the demo's)")
    parser.add_argument("--resolution", type=int, default=None, help="overrides the table's")
    parser.add_argument("--capacity", default=None, help="overrides the table's")
    parser.add_argument("--width-divisor", type=int, default=None, help="overrides the table's")
    parser.add_argument("--attention", default=None, help="attention block (or none); overrides the table's")
    parser.add_argument("--detector-batch", type=int, default=8, help="MTCNN frames per network call")
    parser.add_argument("--min-face", type=int, default=20, help="MTCNN min_face_size (pyramid start)")
    parser.add_argument("--no-onnx", action="store_true", help="skip the ONNX Runtime mode")
    args = parser.parse_args(argv)

    load_at_start = [round(v, 2) for v in os.getloadavg()]
    import keras
    import tensorflow as tf

    from fswap.builder import build
    from fswap.catalog import Catalog
    from fswap.config import parse_pipeline
    from fswap.convert.batching import frames_per_batch
    from fswap.convert.engine import Converter, ConvertOptions
    from fswap.model.config import parse_model_config
    from fswap.model.generator import FaceGenerator
    from fswap.model.io import save_networks
    from fswap.model.networks import build_networks
    from fswap.plugins import make_plugin_manager
    from fswap.samples import make_face_video
    from fswap.video.overlap import WriteBehind, read_ahead
    from fswap.video.reader import open_frames
    from fswap.video.writer import VideoSession

    keras.utils.set_random_seed(0)
    catalog = Catalog.from_plugin_manager(make_plugin_manager())
    tmp = Path(tempfile.mkdtemp(prefix="fswap-bench-convert-"))
    clip = tmp / "clip.mp4"
    make_face_video(clip, frames=args.frames, size=CLIP_SIZE, fps=25, motion="mixed", seed=0)
    model_table = model_table_of(Path(args.model_from), args)
    model_config = parse_model_config(model_table, catalog=catalog)
    save_networks(build_networks(model_config), tmp / "model", model_config)
    generator = FaceGenerator.load(tmp / "model", "a_to_b", batch_size=64)

    toml = {
        "convert": {
            "input": str(clip),
            "detector": {"use": "mtcnn", "batch_size": args.detector_batch, "min_face_size": args.min_face},
        }
    }
    pipeline = parse_pipeline(toml, source=tmp / "pipeline.toml", catalog=catalog)
    cfg = pipeline.stages["convert"]

    frame_shape = (CLIP_SIZE[1], CLIP_SIZE[0], 3)

    def converter_for(options: ConvertOptions, gen: FaceGenerator) -> Converter:
        return Converter(
            detector=build(cfg.detector),
            aligner=build(cfg.aligner),
            tracker=build(cfg.tracker),
            generator=gen,
            color=build(cfg.color),
            blender=build(cfg.blender),
            options=options,
        )

    def convert(converter: Converter, frames: int | None = None, overlap: bool = True) -> tuple[list, float]:
        """Read, convert and write H.264: the end-to-end time of `frames` frames; with `overlap`, frames
        are decoded a batch ahead and encoded a batch behind in threads, as the convert stage does."""
        start = time.perf_counter()
        source: Any = open_frames(clip, stop=frames)
        outputs = []
        session: Any = VideoSession(tmp / "out.mp4", fps=25.0, size=source.size, preset="veryfast")
        if overlap:
            options = converter.options
            depth = frames_per_batch(options.batch_frames, options.detect_every_n, frame_shape)
            source, session = read_ahead(source, depth), WriteBehind(session, depth)
        for frame in converter.run(source):
            session.write(frame)
            outputs.append(frame)
        session.close()
        return outputs, time.perf_counter() - start

    fast = f"every_{args.every_n}"
    modes = {
        "baseline": (ConvertOptions(detect_every_n=1, batch_frames=1, single_face_calls=True), generator),
        "every_frame": (ConvertOptions(detect_every_n=1, batch_frames=args.batch_frames), generator),
        fast: (ConvertOptions(detect_every_n=args.every_n, batch_frames=args.batch_frames), generator),
    }
    modes[f"{fast}_sequential_io"] = modes[fast]  # decode, convert and encode in one thread, as before
    sequential = {"baseline", f"{fast}_sequential_io"}
    if args.batch_frames is None:  # the fixed 16-frame batches fswap used before the automatic size
        modes[f"{fast}_batch16"] = (ConvertOptions(detect_every_n=args.every_n, batch_frames=16), generator)
    plain = FaceGenerator.load(tmp / "model", "a_to_b", batch_size=64)
    if force_plain_attention(plain.model):  # the same weights with one N×N matrix per attention site
        modes[f"{fast}_plain_attention"] = (modes[fast][0], plain)
    onnx_error = None
    if not args.no_onnx:
        try:
            from fswap.model.deploy import load_onnx_generator

            onnx_generator = load_onnx_generator(tmp / "model", "a_to_b", batch_size=64)
            modes[f"{fast}_onnx"] = (modes[fast][0], onnx_generator)
        except Exception as exc:  # no onnxruntime/tf2onnx, or a model the exporter cannot convert
            onnx_error = f"{type(exc).__name__}: {exc}"
    converters = {name: converter_for(options, gen) for name, (options, gen) in modes.items()}
    batch_sizes = {name: frames_per_batch(options.batch_frames, options.detect_every_n, frame_shape)
                   for name, (options, _) in modes.items()}
    for name, converter in converters.items():  # warm-up: tracing, caches
        convert(converter, frames=min(args.frames, 2 * batch_sizes[name]), overlap=name not in sequential)
    timings: dict[str, list[float]] = {name: [] for name in modes}
    outputs: dict[str, list] = {}
    for _ in range(args.repeats):  # interleaved, so load from other processes hits every mode alike
        for name, converter in converters.items():
            converter.stats = type(converter.stats)()
            outputs[name], seconds = convert(converter, overlap=name not in sequential)
            timings[name].append(seconds)
    reference = outputs["baseline"]
    results: dict[str, dict] = {}
    for name, converter in converters.items():
        frames = outputs[name]
        mad = mean_abs_difference(frames, reference)
        seconds = statistics.median(timings[name])
        stats = converter.stats
        results[name] = {
            "frames": len(frames),
            "seconds_median": round(seconds, 3),
            "seconds_all": [round(t, 3) for t in timings[name]],
            "fps": round(len(frames) / seconds, 2),
            "fps_best": round(len(frames) / min(timings[name]), 2),
            "mad_vs_baseline": round(mad, 3),
            "seconds_detecting_last": round(stats.detect_seconds, 3),
            "seconds_generating_last": round(stats.generate_seconds, 3),
            "generator_calls_last": stats.generator_calls,
            "batch_frames": batch_sizes[name],
        }
    if f"{fast}_onnx" in outputs:  # the runtime alone: the same pipeline with the Keras generator
        results[f"{fast}_onnx"]["mad_vs_tensorflow"] = round(
            mean_abs_difference(outputs[f"{fast}_onnx"], outputs[fast]), 4)
    base = results["baseline"]["fps"]
    for r in results.values():
        r["speedup_vs_baseline"] = round(r["fps"] / base, 2)
    for name, r in results.items():
        paired = [b / t for t, b in zip(timings[name], timings["baseline"], strict=True)]
        r["speedup_vs_baseline_paired_median"] = round(statistics.median(paired), 2)
    emit(
        "convert",
        {
            "benchmark": "convert",
            "clip": {"size": list(CLIP_SIZE), "frames": args.frames, "fps": 25},
            "model": {"from": args.model_from, **model_table, "random_weights": True},
            "every_n": args.every_n,
            "detector": {"batch_size": args.detector_batch, "min_face_size": args.min_face},
            "batch_frames": "auto" if args.batch_frames is None else args.batch_frames,
            "modes": results,
            "onnx_error": onnx_error,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "target_issue9": {"fps": 25, "speedup_vs_baseline": 3},
            "load_average_1_5_15": [round(v, 2) for v in os.getloadavg()],
            "load_average_at_start": load_at_start,
            "machine_at_end": machine(),
            "machine": {
                "python": platform.python_version(),
                "tensorflow": tf.__version__,
                "cpus": len(os.sched_getaffinity(0)),
                "gpus": [d.name for d in tf.config.list_physical_devices("GPU")],
            },
        },
    )


if __name__ == "__main__":
    sys.exit(main())
