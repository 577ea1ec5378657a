"""Time-to-swap: train named configurations on a face pair for a fixed wall-clock budget and measure, on faces
training never sees, how soon the swap transfers identity.

For every pair × configuration a child process trains the demo's networks (examples/demo/pipeline.toml,
`[train]`) with that configuration's `[train]` overlay through fswap's own loop
(`fswap.train.trainer.Trainer`: schedule phases, decoder swap, checkpoints, previews), holding out every
10th face of each set as the train stage does. Every `--every` seconds of training (evaluation time
excluded) it measures, on the held-out faces:

* identity transfer in both directions: the share of swapped faces (pasted into their crop as convert and
  `fswap evaluate` do) that dlib's face descriptor puts nearer the target's centroid than the source's, and
  both distances (dlib's same-person threshold is 0.6);
* the swaps' mean α (how much of the generated face is pasted);
* SSIM of the reconstructions (each side's own decoder, raw colour output, against the held-out face);
* source-following (when `fswap.evaluate.following` and a 68-landmark aligner are available): head-pose and
  expression error of each swap against its source, and the share of swaps nearer their own source's
  landmarks than any other held-out source (a decoder that ignores its input scores about 1/N).

Configurations (`CONFIGS`): `default` (fswap's recipe), `reference` (`recipe = "reference"`, the faceswap-GAN
v2.2 behaviour) and `baseline` (a plain shared-encoder autoencoder: no mask, no discriminator, L1 only — the
original deepfakes recipe — as an fswap configuration on the same networks). Pairs (`PAIRS`): `demo` (the
demo's two moving portraits) and `varied` (the same two people with per-frame head pose, expression and
lighting, `bench.quality_media`). Face sets are extracted once into a cache folder.

Usage: python -m bench.quality [--pairs demo,varied] [--configs default,reference,baseline] [--budget 240]
                               [--every 40] [--iterations N] [--name quality] [--no-plot] [--quick]
Writes bench/results/<name>.json (with the machine's load average at every checkpoint), the plot
docs/images/<name>.png (identity transfer against seconds and against iterations, mean α, SSIM) and a
comparison still per pair docs/images/<name>-<pair>.jpg (source | swap of each configuration).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import RESULTS, emit, machine, peak_rss_mb

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "examples" / "demo" / "pipeline.toml"
IMAGES = ROOT / "docs" / "images"
CACHE = Path(os.environ.get("FSWAP_BENCH_CACHE") or Path(tempfile.gettempdir()) / "fswap-bench-quality")
"""Extracted face sets of each pair ($FSWAP_BENCH_CACHE, else a folder in the temporary directory)."""
SIDES = ("a", "b")
OTHER = {"a": "b", "b": "a"}
THRESHOLDS = (0.5, 0.9)
HOLDOUT_EVERY = 10

BASELINE: dict[str, Any] = {
    "recipe": "reference",
    "batch_size": 16,
    "lr_generator": 2e-4,
    "beta_1": 0.9,
    "losses": {"reconstruction": {"multiscale": False}},
    "schedule": [{"start": 0.0}],
    "model": {"mask": "none", "weight_decay": 0.0},
}
"""The minimal baseline: shared encoder, two decoders, L1 of the raw output against the unwarped target, the
mask fixed to 1, no discriminator, one phase (no decoder swap), batch 16, Adam 2e-4 (β1 0.9), no weight
decay."""

CONFIGS: dict[str, dict[str, Any]] = {
    "default": {},
    "reference": {"recipe": "reference"},
    "baseline": BASELINE,
}

PAIRS: dict[str, dict[str, Any]] = {
    "demo": {"kind": "demo", "frames": 90,
             "a": {"face": "astronaut", "seed": 1}, "b": {"face": "grace_hopper", "seed": 2}},
    "varied": {"kind": "varied", "frames": 240,
               "a": {"face": "astronaut", "seed": 11}, "b": {"face": "grace_hopper", "seed": 12}},
}


# ---------------------------------------------------------------------------------------------------
# configuration tables
# ---------------------------------------------------------------------------------------------------


def merge(base: Mapping[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    """`overlay` on `base`, tables merged key by key; `losses` and `schedule` are replaced whole (as a TOML
    `[train.losses]` table replaces the default list)."""
    out = copy.deepcopy(dict(base))
    for key, value in overlay.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping) and key != "losses":
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def demo_tables() -> dict[str, Any]:
    """The demo pipeline's tables (its [extract] and [train] are the bench's starting point)."""
    import tomllib

    return tomllib.loads(DEMO.read_text(encoding="utf-8"))


def train_table(config: str, *, iterations: int | None,
                extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The demo's [train] table with configuration `config`'s overlay (and `extra`) applied."""
    base = demo_tables()["train"]
    overlay = CONFIGS.get(config, {})
    table = merge(merge(base, overlay), extra or {})
    if iterations:
        table["iterations"] = int(iterations)
    return table


# ---------------------------------------------------------------------------------------------------
# face pairs
# ---------------------------------------------------------------------------------------------------


def prepare_pair(name: str, cache: Path = CACHE) -> Path:
    """A workdir holding faces/a and faces/b of pair `name` (made and extracted once, then reused)."""
    from fswap import api

    spec = PAIRS[name]
    root = cache / name
    work = root / "work"
    done = root / "extracted.json"
    if done.is_file() and json.loads(done.read_text(encoding="utf-8")).get("pair") == spec:
        return work
    inputs = root / "inputs"
    inputs.mkdir(parents=True, exist_ok=True)
    for side in SIDES:
        path = inputs / f"{side}.mp4"
        if spec["kind"] == "demo":
            from fswap.samples import make_face_video

            make_face_video(path, frames=spec["frames"], size=(640, 360), fps=25.0, motion="mixed",
                            **spec[side])
        else:
            from bench.quality_media import make_varied_video

            make_varied_video(path, frames=spec["frames"], **spec[side])
    extract = copy.deepcopy(demo_tables()["extract"])
    # every rendered frame is kept (no blur or duplicate gate), so the published curves keep their faces
    # whatever extract's gate defaults become
    extract.setdefault("min_sharpness", 0.0)
    extract.setdefault("dedupe", "off")
    for side in SIDES:
        extract[side] = {**extract.get(side, {}), "input": str(inputs / f"{side}.mp4")}
    pipe = api.from_dict({"workdir": str(work), "seed": 0, "extract": extract}, base_dir=root)
    results = pipe.run("extract", resume=False, progress=False)
    done.write_text(json.dumps({"pair": spec, "summary": results[0].summary}, indent=2, default=str) + "\n",
                    encoding="utf-8")
    return work


# ---------------------------------------------------------------------------------------------------
# measurement on held-out faces
# ---------------------------------------------------------------------------------------------------


def held_out(count: int, every: int = HOLDOUT_EVERY) -> list[int]:
    """Indices of the faces the train stage holds out: the every-th, 2·every-th, … in record order."""
    try:
        from fswap.evaluate.holdout import held_positions
    except ImportError:  # an fswap without the train stage's holdout: the same rule
        return list(range(every - 1, count, every))
    return held_positions(count, every)


class HeldOutFaces:
    """Held-out and reference faces of both sets, the identity centroids and real-face baselines."""

    def __init__(self, work: Path, resolution: int, *, roi: float = 0.85, max_reference: int = 32,
                 following: bool = True) -> None:
        from fswap import api
        from fswap.data.faceset import FaceSet
        from fswap.evaluate import faces as fx

        self.roi, self.resolution = roi, resolution
        self.sets = {s: FaceSet.open(work / "faces" / s) for s in SIDES}
        self.held = {s: held_out(len(f)) for s, f in self.sets.items()}
        self.trained = {s: [i for i in range(len(f)) if i not in set(self.held[s])]
                        for s, f in self.sets.items()}
        self.crops = {s: fx.load_faces(self.sets[s], self.held[s]) for s in SIDES}
        self.inputs = {s: fx.model_inputs(self.crops[s], roi, resolution) for s in SIDES}
        self.files = {s: [self.sets[s].records[i].file for i in self.held[s]] for s in SIDES}
        self.embedder = api.build("embedder", "dlib_resnet")
        refs = {s: fx.roundtrip(fx.load_faces(self.sets[s], fx.spread(self.trained[s], max_reference)), roi,
                                resolution) for s in SIDES}
        self.reference = fx.identity_reference(self.embedder, refs, 16)
        self.real = {s: fx.roundtrip(self.crops[s], roi, resolution) for s in SIDES}
        self.landmarks, self.following_error = _landmark_aligner() if following else (None, "not asked for")
        self.points5 = None
        if self.landmarks is not None:
            from fswap.evaluate import following

            self.points5 = {s: np.stack([following.crop_points5(self.sets[s].records[i], self.sets[s].size)
                                         for i in self.held[s]]) for s in SIDES}

    def measure(self, generators: Mapping[str, Any]) -> dict[str, Any]:
        """Identity transfer, mean α, reconstruction SSIM and (when available) source-following now."""
        from fswap.evaluate import faces as fx
        from fswap.evaluate import metrics

        out: dict[str, Any] = {}
        for side in SIDES:
            other = OTHER[side]
            direction = f"{side}_to_{other}"
            inp = self.inputs[side]
            swap_bgr, swap_alpha = fx.run_generator(generators[direction], inp, 16)
            rec_bgr, rec_alpha = fx.run_generator(generators[f"{other}_to_{side}"], inp, 16)
            swapped = fx.paste_roi(self.crops[side], swap_bgr, swap_alpha, self.roi)
            ident = fx.identity_scores(self.embedder, self.reference, source=side, swapped=swapped,
                                       real_source=self.real[side], real_target=self.real[other],
                                       files=self.files[side], batch_size=16)
            row: dict[str, Any] = {
                "closer_to_target": ident["closer_to_target"],
                "distance_to_target": round(ident["distance_to_target"], 4),
                "distance_to_source": round(ident["distance_to_source"], 4),
                "mean_alpha": round(float(swap_alpha.mean()), 4),
                "reconstruction_ssim": round(float(np.mean(
                    [metrics.ssim(a, b) for a, b in zip(inp, rec_bgr, strict=True)])), 4),
                "reconstruction_alpha": round(float(rec_alpha.mean()), 4),
            }
            if self.landmarks is not None and self.points5 is not None:
                row["following"] = self._following(side, swapped, fx.paste_roi(self.crops[side], rec_bgr,
                                                                               rec_alpha, self.roi))
            out[direction] = row
        return out

    def _following(self, side: str, swapped: np.ndarray, reconstructed: np.ndarray) -> dict[str, Any] | None:
        from fswap.evaluate import following

        try:
            section = following.score_direction(self.landmarks, sources=self.real[side], swapped=swapped,
                                                reconstructed=reconstructed, points5=self.points5[side],
                                                files=self.files[side])
        except ValueError as exc:
            return {"error": str(exc)}
        return _following_headline(section)

    def baselines(self) -> dict[str, Any]:
        """Real faces' distances to the centroids (what 'same person' and 'other person' look like)."""
        from fswap.evaluate import faces as fx

        out = {}
        for side in SIDES:
            emb = fx.embed(self.embedder, self.real[side], 16)
            centroids = self.reference.centroids
            out[side] = {f"to_{s}": round(float(fx.embedder_distance(self.embedder, emb, c).mean()), 4)
                         for s, c in centroids.items()}
        return out

    def comparison(self, generators: Mapping[str, Any], count: int = 3) -> np.ndarray:
        """One strip: for each direction, `count` held-out sources and their swaps (96² each)."""
        import cv2

        from fswap.evaluate import faces as fx

        tiles = []
        for side in SIDES:
            direction = f"{side}_to_{OTHER[side]}"
            picks = np.linspace(0, len(self.crops[side]) - 1, num=min(count, len(self.crops[side]))).round()
            picks = picks.astype(int)
            bgr, alpha = fx.run_generator(generators[direction], self.inputs[side][picks], 16)
            swapped = fx.paste_roi(self.crops[side][picks], bgr, alpha, self.roi)
            for n, i in enumerate(picks):
                tiles.append(cv2.resize(self.crops[side][i], (96, 96), interpolation=cv2.INTER_AREA))
                tiles.append(cv2.resize(swapped[n], (96, 96), interpolation=cv2.INTER_AREA))
        return np.hstack(tiles)


def _following_headline(section: Mapping[str, Any]) -> dict[str, Any]:
    """The few numbers of a following section the curves need (the rest stays in fswap evaluate)."""
    keep = {}
    for key, value in section.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            keep[key] = round(float(value), 4)
        elif key == "baseline" and isinstance(value, Mapping):  # real faces and reconstructions, same way
            keep[key] = {name: {k: round(float(v), 4) for k, v in part.items()
                                if isinstance(v, (int, float)) and not isinstance(v, bool)}
                         for name, part in value.items() if isinstance(part, Mapping)}
    return keep


def _landmark_aligner() -> tuple[Any, str]:
    """A 68-landmark aligner for source-following (None and why when unavailable)."""
    try:
        from fswap.evaluate import following  # noqa: F401
    except ImportError:
        return None, "this fswap has no fswap.evaluate.following"
    try:
        from fswap import api

        return api.build("aligner", "dlib68"), ""
    except Exception as exc:  # no 68-point aligner installed: the curves go without following
        return None, f"no 68-landmark aligner: {exc}"


# ---------------------------------------------------------------------------------------------------
# one training run (child process)
# ---------------------------------------------------------------------------------------------------


CLOCKS = ("seconds", "iterations")
"""What `--budget` and `--every` count: seconds of training (time-to-swap), or iterations (learning per
step, apart from a recipe's speed)."""


class TrainClock:
    """Seconds of training so far: wall time since start minus the time spent measuring."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.paused = 0.0

    def seconds(self) -> float:
        return time.perf_counter() - self.start - self.paused


def run_one(pair: str, config: str, *, budget: float, every: float, iterations: int | None,
            extra: Mapping[str, Any] | None, still: Path | None, seed: int = 0,
            clock: str = "seconds") -> dict[str, Any]:
    """Train `config` on `pair` for `budget` seconds, measuring every `every` seconds of training; `seed`
    draws the networks' initial weights, the batches and their augmentation. With `clock="iterations"`,
    `budget` and `every` count iterations instead: what a recipe learns per step, apart from its speed."""
    import keras

    from fswap import api
    from fswap.data.pipeline import BatchMaker, load_faces, make_dataset, preview_faces
    from fswap.model.blocks import ModelBlocks
    from fswap.model.generator import FaceGenerator
    from fswap.model.networks import build_networks
    from fswap.stages.train import build_losses
    from fswap.train.schedule import Schedule
    from fswap.train.step import TrainStep
    from fswap.train.trainer import LoopSettings, Trainer, TrainFolders

    work = prepare_pair(pair)
    table = train_table(config, iterations=iterations, extra=extra)
    scratch = Path(tempfile.mkdtemp(prefix=f"fswap-quality-{pair}-{config}-"))
    pipe = api.from_dict({"workdir": str(scratch), "seed": seed, "train": table}, base_dir=scratch)
    cfg = pipe.stage_config("train")
    res = cfg.model.resolution
    data = HeldOutFaces(work, res)
    faces = {s: load_faces(_training_subset(data.sets[s], data.trained[s]), cfg.eye_mask) for s in SIDES}
    maker = BatchMaker(faces=faces, resolution=res, batch_size=cfg.batch_size, augment=cfg.augment, seed=seed)
    keras.utils.set_random_seed(seed)
    networks = build_networks(cfg.model, ModelBlocks.from_config(cfg.model))
    losses = build_losses(cfg)
    step = TrainStep(networks, losses, lr_generator=cfg.lr_generator, lr_discriminator=cfg.lr_discriminator,
                     beta_1=cfg.beta_1, beta_2=cfg.beta_2, use_eye_masks=maker.has_eyes)
    schedule = Schedule(cfg.schedule, cfg.iterations, cfg.checkpoint_every // 2)
    settings = LoopSettings(iterations=cfg.iterations, batch_size=cfg.batch_size,
                            checkpoint_every=cfg.checkpoint_every, keep_checkpoints=1, backup_every=0,
                            preview_every=cfg.preview_every, log_every=cfg.log_every,
                            mixup_alpha=cfg.mixup_alpha,
                            reset_optimizers_on_phase=cfg.reset_optimizers_on_phase, seed=seed)
    folders = TrainFolders(scratch / "checkpoints", scratch / "previews", scratch / "logs", scratch)
    generators = {"a_to_b": FaceGenerator(networks.encoder, networks.decoders["b"]),
                  "b_to_a": FaceGenerator(networks.encoder, networks.decoders["a"])}
    if clock not in CLOCKS:
        raise ValueError(f"clock must be one of {', '.join(CLOCKS)}, received {clock!r}")
    by_iterations = clock == "iterations"
    points: list[dict[str, Any]] = []
    train_clock = TrainClock()
    holder: dict[str, Trainer] = {}

    def checkpoint(seconds: float, iteration: int) -> None:
        paused = time.perf_counter()
        row = {"seconds": round(seconds, 1), "iteration": iteration,
               "load_average_1": round(os.getloadavg()[0], 2), **data.measure(generators)}
        points.append(row)
        print(json.dumps({"pair": pair, "config": config, "seed": seed, **_short(row)}), file=sys.stderr,
                         flush=True)
        train_clock.paused += time.perf_counter() - paused

    def progress() -> float:
        return float(holder["trainer"].state.iteration) if by_iterations else train_clock.seconds()

    def batches(start: int) -> Iterator[Any]:
        stream = iter(make_dataset(maker, start))
        due = every
        while True:
            done = progress()
            if done >= due:
                checkpoint(train_clock.seconds(), holder["trainer"].state.iteration)
                due += every * max(1, int((done - due) // every) + 1)
            if progress() >= budget:
                holder["trainer"].request_stop()
            yield next(stream)

    trainer = Trainer(step, schedule, settings, folders, batches,
                      {s: preview_faces(faces[s], res) for s in SIDES}, progress=False)
    holder["trainer"] = trainer
    checkpoint(0.0, 0)
    train_clock = TrainClock()  # the untrained measurement above is not training time
    summary = trainer.run(resume=False)
    final = train_clock.seconds()
    if not points or points[-1]["iteration"] != trainer.state.iteration:
        checkpoint(final, trainer.state.iteration)
    if still is not None:
        import cv2

        still.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(still), data.comparison(generators))
    return {
        "pair": pair, "config": config, "seed": seed, "train_table": table, "budget_s": budget,
        "every_s": every, "clock": clock,
        "faces": {s: len(data.sets[s]) for s in SIDES}, "held_out": {s: len(data.held[s]) for s in SIDES},
        "trained_seconds": round(final, 1), "iterations": trainer.state.iteration,
        "schedule": schedule.describe(), "images_per_s": summary.get("images_per_s"),
        "real_face_distances": data.baselines(), "following": data.following_error or "measured",
        "checkpoints": points, "reached": reached(points), "peak_rss_mb": peak_rss_mb(),
        "load_average_end": [round(v, 2) for v in os.getloadavg()],
    }


def _training_subset(faceset: Any, indices: list[int]) -> Any:
    """The face set restricted to `indices` (what the train stage trains on)."""
    import attrs

    return attrs.evolve(faceset, records=tuple(faceset.records[i] for i in indices))


def _short(row: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: row[k] for k in ("seconds", "iteration", "load_average_1")}
    for d in ("a_to_b", "b_to_a"):
        out[d] = {k: row[d][k] for k in ("closer_to_target", "mean_alpha", "reconstruction_ssim")}
    return out


def reached(points: list[Mapping[str, Any]], thresholds: tuple[float, ...] = THRESHOLDS) -> dict[str, Any]:
    """For each threshold, the first checkpoint (seconds, iteration) where identity transfer is at least the
    threshold in both directions (None when never)."""
    out: dict[str, Any] = {}
    for thr in thresholds:
        hit = next((p for p in points if p["iteration"] > 0
                    and min(p["a_to_b"]["closer_to_target"], p["b_to_a"]["closer_to_target"]) >= thr), None)
        out[f"{thr:g}"] = None if hit is None else {"seconds": hit["seconds"], "iteration": hit["iteration"]}
    return out


# ---------------------------------------------------------------------------------------------------
# several seeds: mean curves and the default-against-baseline verdict
# ---------------------------------------------------------------------------------------------------

CURVE_KEYS = ("closer_to_target", "margin", "mean_alpha", "reconstruction_ssim", "following_rate",
              "pose_error_deg", "expression_error")
"""The per-direction numbers averaged over seeds (`margin`: distance to the source minus to the target)."""


def _direction_numbers(direction: Mapping[str, Any]) -> dict[str, float | None]:
    following = direction.get("following") or {}
    values = {"closer_to_target": direction.get("closer_to_target"), "margin": _margin(direction),
              "mean_alpha": direction.get("mean_alpha"),
              "reconstruction_ssim": direction.get("reconstruction_ssim")}
    for key in ("following_rate", "pose_error_deg", "expression_error"):
        values[key] = following.get(key)
    return values


def mean_curves(result: Mapping[str, Any]) -> dict[str, Any]:
    """Per `pair/config`: the checkpoints averaged over the seeds that ran, aligned by their slot (the
    nearest multiple of `every_s` in seconds, or in iterations under `clock = "iterations"`; a slot counts
    only when every seed measured it)."""
    every = float(result["every_s"])
    measure = "iteration" if result.get("clock") == "iterations" else "seconds"
    grouped: dict[str, list[Mapping[str, Any]]] = {}
    for run in result["runs"].values():
        if "checkpoints" in run:
            grouped.setdefault(f"{run['pair']}/{run['config']}", []).append(run)
    out: dict[str, Any] = {}
    for key, runs in grouped.items():
        by_slot = [{round(p[measure] / every): p for p in run["checkpoints"]} for run in runs]
        slots = sorted(set.intersection(*(set(b) for b in by_slot)))
        rows = []
        for slot in slots:
            points = [b[slot] for b in by_slot]
            row: dict[str, Any] = {"slot": slot}
            for name in ("seconds", "iteration"):
                row[name] = round(float(np.mean([p[name] for p in points])), 1)
            for d in ("a_to_b", "b_to_a"):
                numbers = [_direction_numbers(p[d]) for p in points]
                mean = {}
                for name in CURVE_KEYS:
                    got = [n[name] for n in numbers if n[name] is not None]
                    mean[name] = round(float(np.mean(got)), 4) if len(got) == len(numbers) else None
                closer = [n["closer_to_target"] for n in numbers]
                mean["closer_to_target_range"] = [min(closer), max(closer)]
                row[d] = mean
            rows.append(row)
        out[key] = {"seeds": sorted(int(r.get("seed", 0)) for r in runs), "checkpoints": rows,
                    "reached": reached(rows)}
    return out


def verdict(mean: Mapping[str, Any], pair: str, config: str = "default",
            against: str = "baseline") -> dict[str, Any] | None:
    """Is `config` ahead of `against` on `pair`, on the mean curves? The issue's bar: sharper held-out
    reconstructions (SSIM, both sides) and better source-following (following rate, both directions) at every
    checkpoint after the untrained one, and each identity-transfer threshold reached at least as soon. Pose
    and expression errors are reported beside it."""
    ours, theirs = mean.get(f"{pair}/{config}"), mean.get(f"{pair}/{against}")
    if ours is None or theirs is None:
        return None
    mine = {p["slot"]: p for p in ours["checkpoints"]}
    other = {p["slot"]: p for p in theirs["checkpoints"]}
    rows = []
    for slot in sorted(set(mine) & set(other) - {0}):
        a, b = mine[slot], other[slot]
        row: dict[str, Any] = {"slot": slot, "seconds": a["seconds"]}
        for name, better in (("reconstruction_ssim", "higher"), ("following_rate", "higher"),
                             ("pose_error_deg", "lower"), ("expression_error", "lower")):
            flags = []
            for d in ("a_to_b", "b_to_a"):
                x, y = a[d][name], b[d][name]
                flags.append(None if x is None or y is None else bool(x > y if better == "higher" else x < y))
            row[name] = flags
        rows.append(row)

    def everywhere(name: str) -> bool:
        return bool(rows) and all(flag is True for row in rows for flag in row[name])

    def sooner(threshold: str) -> bool:
        hit, their_hit = ours["reached"].get(threshold), theirs["reached"].get(threshold)
        return their_hit is None or (hit is not None and hit["seconds"] <= their_hit["seconds"])

    return {"config": config, "against": against, "seeds": ours["seeds"], "checkpoints": rows,
            "ssim_ahead_everywhere": everywhere("reconstruction_ssim"),
            "following_ahead_everywhere": everywhere("following_rate"),
            "pose_error_lower_everywhere": everywhere("pose_error_deg"),
            "expression_error_lower_everywhere": everywhere("expression_error"),
            "identity_reached_as_soon": {thr: sooner(thr) for thr in ("0.5", "0.9")}}


# ---------------------------------------------------------------------------------------------------
# the parent: every pair × configuration in its own process, then JSON and plots
# ---------------------------------------------------------------------------------------------------


def run_key(pair: str, config: str, seed: int) -> str:
    """A run's key in the results: `pair/config`, with `/seed<N>` for every seed but 0 (so results of one
    seed read as before)."""
    return f"{pair}/{config}" if seed == 0 else f"{pair}/{config}/seed{seed}"


def run_child(pair: str, config: str, seed: int, args: argparse.Namespace, out: Path,
              still: Path) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "bench.quality", *[f"--define={d}" for d in args.define],
           "--child", pair, config, "--seed", str(seed), "--budget", str(args.budget),
           "--every", str(args.every), "--clock", args.clock, "--out", str(out), "--still", str(still)]
    if args.iterations:
        cmd += ["--iterations", str(args.iterations)]
    if args.extra:
        cmd += ["--extra", args.extra]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    started = time.perf_counter()
    proc = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = round(time.perf_counter() - started, 1)
    for line in proc.stderr.splitlines():
        if line.startswith("{"):
            print(line, file=sys.stderr)
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-6:]
        print(f"bench.quality {run_key(pair, config, seed)} failed (exit {proc.returncode}):\n  "
              + "\n  ".join(tail), file=sys.stderr)
        return {"pair": pair, "config": config, "seed": seed, "error": tail, "wall_s": wall}
    return {**json.loads(out.read_text(encoding="utf-8")), "wall_s": wall}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", default="demo,varied", help="comma-separated: " + ",".join(PAIRS))
    parser.add_argument("--configs", default="default,reference,baseline",
                        help="comma-separated: " + ",".join(CONFIGS))
    parser.add_argument("--budget", type=float, default=240.0,
                        help="training seconds (or iterations) per run")
    parser.add_argument("--every", type=float, default=40.0,
                        help="training seconds (or iterations) between measurements")
    parser.add_argument("--clock", choices=CLOCKS, default="seconds",
                        help="what --budget and --every count: seconds of training, or iterations "
                             "(a recipe's learning per step, apart from its speed)")
    parser.add_argument("--seeds", default="0",
                        help="comma-separated training seeds: each pair × configuration is trained once per "
                             "seed and the tables and verdict use the mean over seeds")
    parser.add_argument("--iterations", type=int, default=0,
                        help="train.iterations of every run (the schedule scales to it); default: the demo's")
    parser.add_argument("--extra", default="", help="a JSON [train] overlay applied to every configuration")
    parser.add_argument("--define", action="append", default=[], metavar="NAME=JSON",
                        help="an extra configuration: a [train] overlay as JSON (repeatable)")
    parser.add_argument("--name", default="quality", help="results file bench/results/<name>.json")
    parser.add_argument("--no-plot", action="store_true", help="skip docs/images/<name>.png and the stills")
    parser.add_argument("--quick", action="store_true", help="30 s runs measured every 15 s (smoke test)")
    parser.add_argument("--table", action="store_true",
                        help="print bench/results/<name>.json as markdown tables (for docs) and exit")
    parser.add_argument("--replot", action="store_true",
                        help="draw docs/images/<name>.png again from bench/results/<name>.json and exit")
    parser.add_argument("--reuse", default="",
                        help="a folder of an interrupted run: runs whose JSON is there are not trained again")
    parser.add_argument("--child", nargs=2, metavar=("PAIR", "CONFIG"), help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--out", default="", help=argparse.SUPPRESS)
    parser.add_argument("--still", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    for item in args.define:
        name, _, overlay = item.partition("=")
        CONFIGS[name] = json.loads(overlay)
    if args.table:
        print(markdown(json.loads((RESULTS / f"{args.name}.json").read_text(encoding="utf-8"))))
        return
    if args.replot:
        print(plot(json.loads((RESULTS / f"{args.name}.json").read_text(encoding="utf-8")),
                   IMAGES / f"{args.name}.png"))
        return
    if args.quick:
        args.budget, args.every = 30.0, 15.0
    if args.child:
        pair, config = args.child
        result = run_one(pair, config, budget=args.budget, every=args.every,
                         iterations=args.iterations or None,
                         extra=json.loads(args.extra) if args.extra else None,
                         still=Path(args.still) if args.still else None, seed=args.seed, clock=args.clock)
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        return
    pairs = [p for p in args.pairs.split(",") if p]
    configs = [c for c in args.configs.split(",") if c]
    unknown = sorted(set(pairs) - set(PAIRS)) + sorted(set(configs) - set(CONFIGS))
    if unknown:
        parser.error(f"unknown pair/configuration {', '.join(unknown)}; pairs: {', '.join(PAIRS)}, "
                     f"configurations: {', '.join(CONFIGS)}")
    for pair in pairs:  # extraction happens here, outside any training budget
        prepare_pair(pair)
    scratch = Path(args.reuse) if args.reuse else Path(tempfile.mkdtemp(prefix="fswap-quality-"))
    print(f"bench.quality: runs are kept in {scratch} (--reuse {scratch} continues an interrupted run)",
          file=sys.stderr)
    runs: dict[str, dict[str, Any]] = {}
    start = machine()
    seeds = [int(n) for n in args.seeds.split(",") if n.strip()]
    for seed in seeds:  # seed by seed, so an interrupted run still holds every configuration of a seed
        for pair in pairs:
            for config in configs:
                key = run_key(pair, config, seed)
                stem = key.replace("/", "-")
                out = scratch / f"{stem}.json"
                if args.reuse and out.is_file():
                    runs[key] = {**json.loads(out.read_text(encoding="utf-8")), "reused": True}
                    continue
                runs[key] = run_child(pair, config, seed, args, out, scratch / f"{stem}.png")
    result = {"budget_s": args.budget, "every_s": args.every, "clock": args.clock,
              "iterations": args.iterations or None,
              "extra": json.loads(args.extra) if args.extra else None, "seeds": seeds,
              "configs": {c: CONFIGS[c] for c in configs}, "pairs": {p: PAIRS[p] for p in pairs},
              "machine_at_start": start, "machine_at_end": machine(), "runs": runs,
              "summary": {key: {"reached": r.get("reached"), "iterations": r.get("iterations"),
                                "trained_seconds": r.get("trained_seconds")} for key, r in runs.items()}}
    result["mean"] = mean_curves(result)
    result["verdict"] = {pair: verdict(result["mean"], pair) for pair in pairs}
    emit(args.name, result)
    if not args.no_plot and not args.quick:
        plot(result, IMAGES / f"{args.name}.png")
        for pair in pairs:
            stills(pair, configs, scratch, IMAGES / f"{args.name}-{pair}.jpg")
    if any("error" in r for r in runs.values()):
        sys.exit(1)


# ---------------------------------------------------------------------------------------------------
# figures and tables
# ---------------------------------------------------------------------------------------------------


def _fmt(value: Any, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _margin(direction: Mapping[str, Any]) -> float | None:
    """Mean identity distance of the swaps to the source minus to the target (> 0: nearer the target); a
    continuous companion of the closer-to-target share, which moves in steps of 1/faces."""
    to_source, to_target = direction.get("distance_to_source"), direction.get("distance_to_target")
    return None if to_source is None or to_target is None else to_source - to_target


def markdown(result: Mapping[str, Any]) -> str:
    """Per pair: when each configuration first reached 0.5 and 0.9 identity transfer both ways, then every
    checkpoint's identity transfer, identity margin, SSIM, mean α and following rate (A→B / B→A)."""
    lines = []
    for pair in result["pairs"]:
        runs = {k.split("/", 1)[1]: r for k, r in result["runs"].items() if k.startswith(f"{pair}/")}
        lines += [f"**{pair}** — seconds (iterations) until identity transfer ≥ 0.5 / ≥ 0.9 both ways", "",
                  "| configuration | ≥ 0.5 | ≥ 0.9 | iterations in the budget | images/s |",
                  "|---|---|---|---|---|"]
        for config, run in runs.items():
            if "checkpoints" not in run:
                lines.append(f"| {config} | failed | | | |")
                continue
            cells = []
            for thr in ("0.5", "0.9"):
                hit = run["reached"].get(thr)
                cells.append("never" if hit is None else f"{hit['seconds']:.0f} s ({hit['iteration']})")
            lines.append(f"| {config} | {cells[0]} | {cells[1]} | {run['iterations']} | "
                         f"{_fmt(run.get('images_per_s'), 1)} |")
        lines += ["", "| configuration | s | it | identity A→B / B→A | margin A→B / B→A | SSIM A / B | "
                  "α A→B / B→A | following A→B / B→A | load |", "|---|---|---|---|---|---|---|---|---|"]
        for config, run in runs.items():
            for p in run.get("checkpoints", []):
                ab, ba = p["a_to_b"], p["b_to_a"]
                fol = [(d.get("following") or {}).get("following_rate") for d in (ab, ba)]
                lines.append(
                    f"| {config} | {p['seconds']:.0f} | {p['iteration']} | {_fmt(ab['closer_to_target'])} / "
                    f"{_fmt(ba['closer_to_target'])} | {_fmt(_margin(ab), 3)} / {_fmt(_margin(ba), 3)} | "
                    f"{_fmt(ab['reconstruction_ssim'])} / "
                    f"{_fmt(ba['reconstruction_ssim'])} | {_fmt(ab['mean_alpha'])} / "
                    f"{_fmt(ba['mean_alpha'])} | "
                    f"{_fmt(fol[0])} / {_fmt(fol[1])} | {p['load_average_1']:.1f} |")
        lines.append("")
        if len(result.get("seeds", [0])) > 1:
            lines += _mean_markdown(result, pair)
    return "\n".join(lines)


def _mean_markdown(result: Mapping[str, Any], pair: str) -> list[str]:
    """The mean-over-seeds table of `pair` and the default-against-baseline verdict."""
    seeds = ", ".join(str(n) for n in result["seeds"])
    lines = [f"**{pair}, mean over seeds {seeds}** — identity transfer (range over seeds), margin, SSIM, "
             "following rate, pose error (°), A→B / B→A", "",
             "| configuration | s | it | identity A→B / B→A | margin | SSIM A / B | following | pose error |",
             "|---|---|---|---|---|---|---|---|"]
    for key, curve in result["mean"].items():
        if not key.startswith(f"{pair}/"):
            continue
        config = key.split("/", 1)[1]
        for p in curve["checkpoints"]:
            ab, ba = p["a_to_b"], p["b_to_a"]

            def both(name: str, digits: int = 2, ab: Mapping = ab, ba: Mapping = ba) -> str:
                return f"{_fmt(ab[name], digits)} / {_fmt(ba[name], digits)}"

            ranges = " / ".join(f"{_fmt(d['closer_to_target'])} ({_fmt(d['closer_to_target_range'][0])}–"
                                f"{_fmt(d['closer_to_target_range'][1])})" for d in (ab, ba))
            lines.append(f"| {config} | {p['seconds']:.0f} | {p['iteration']:.0f} | {ranges} | "
                         f"{both('margin', 3)} | {both('reconstruction_ssim')} | {both('following_rate')} | "
                         f"{both('pose_error_deg', 1)} |")
    lines.append("")
    verdict_ = (result.get("verdict") or {}).get(pair)
    if verdict_:
        def yes(flag: bool) -> str:
            return "yes" if flag else "no"

        reached_ = ", ".join(f"≥ {thr}: {yes(ok)}"
                             for thr, ok in verdict_["identity_reached_as_soon"].items())
        lines += [f"{verdict_['config']} against {verdict_['against']} on the mean curves: "
                  f"SSIM ahead at every checkpoint: {yes(verdict_['ssim_ahead_everywhere'])}; "
                  f"following rate ahead at every checkpoint: {yes(verdict_['following_ahead_everywhere'])}; "
                  f"pose error lower at every checkpoint: {yes(verdict_['pose_error_lower_everywhere'])}; "
                  f"identity threshold reached as soon ({reached_}).", ""]
        parts = {"reconstruction_ssim": ("SSIM A", "SSIM B"),
                 "following_rate": ("following A→B", "following B→A")}
        misses = [f"{row['seconds']:.0f} s {label}" for row in verdict_["checkpoints"]
                  for name, labels in parts.items()
                  for label, flag in zip(labels, row[name], strict=True) if flag is not True]
        if misses:
            lines += ["Checkpoints where it is not ahead: " + "; ".join(misses) + ".", ""]
    return lines

COLOURS = {"default": "#4c72b0", "reference": "#c44e52", "baseline": "#55a868"}
SPARE_COLOURS = ("#dd8452", "#8172b3", "#937860", "#da8bc3", "#8c8c8c")
"""For configurations defined on the command line, in the order they first appear."""


def _colour(config: str, seen: list[str]) -> str:
    if config in COLOURS:
        return COLOURS[config]
    if config not in seen:
        seen.append(config)
    return SPARE_COLOURS[seen.index(config) % len(SPARE_COLOURS)]


def plot(result: Mapping[str, Any], out: Path) -> Path:
    """Per pair one row: identity transfer vs seconds, vs iterations, mean α and SSIM vs seconds."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pairs = list(result["pairs"])
    several = len(result.get("seeds", [0])) > 1 and result.get("mean")
    curves = result["mean"] if several else result["runs"]
    fig, axes = plt.subplots(len(pairs), 5, figsize=(21, 3.6 * len(pairs)), squeeze=False)
    extra: list[str] = []
    for row, pair in enumerate(pairs):
        for key, run in curves.items():
            if not key.startswith(f"{pair}/") or "checkpoints" not in run:
                continue
            config = key.split("/")[1]
            colour = _colour(config, extra)
            pts = run["checkpoints"]
            secs = [p["seconds"] for p in pts]
            its = [p["iteration"] for p in pts]
            for direction, style in (("a_to_b", "-"), ("b_to_a", "--")):
                ident = [p[direction]["closer_to_target"] for p in pts]
                label = f"{config} {direction.replace('_to_', '→')}"
                axes[row][0].plot(secs, ident, style, color=colour, marker="o", ms=3, label=label)
                axes[row][1].plot(its, ident, style, color=colour, marker="o", ms=3, label=label)
                axes[row][2].plot(secs, [p[direction]["mean_alpha"] for p in pts], style, color=colour,
                                  marker="o", ms=3, label=label)
                side = direction[0]
                axes[row][3].plot(secs, [p[direction]["reconstruction_ssim"] for p in pts], style,
                                  color=colour, marker="o", ms=3, label=f"{config} {side.upper()}")
                # a mean row holds the rate itself, a run's checkpoint its following section
                follow = [p[direction]["following_rate"] if several else
                          _direction_numbers(p[direction])["following_rate"] for p in pts]
                if any(v is not None for v in follow):
                    axes[row][4].plot(secs, [np.nan if v is None else v for v in follow], style, color=colour,
                                      marker="o", ms=3, label=label)
        titles = ("identity transfer (closer to target)", "identity transfer", "mean α of the swaps",
                  "SSIM of reconstructions (held out)", "source-following rate (landmarks)")
        for col, title in enumerate(titles):
            ax = axes[row][col]
            ax.set_title(f"{pair}: {title}", fontsize=9)
            ax.set_xlabel("iterations" if col == 1 else "training seconds", fontsize=8)
            ax.set_ylim(-0.05, 1.05)
            ax.grid(alpha=0.3)
            ax.tick_params(labelsize=7)
        axes[row][0].axhline(0.9, color="grey", linewidth=0.8, linestyle=":")
        axes[row][1].axhline(0.9, color="grey", linewidth=0.8, linestyle=":")
        axes[row][0].legend(fontsize=6, loc="lower right")
    load = result["machine_at_start"].get("load_average_1_5_15")
    cpus = result["machine_at_start"]["cpus"]
    seeds = f"mean of seeds {', '.join(map(str, result['seeds']))}; " if several else ""
    unit = "iterations" if result.get("clock") == "iterations" else "s"
    fig.suptitle(f"bench.quality: {result['budget_s']:g} {unit} per run on {cpus} CPUs (load average at "
                 f"start {load}); {seeds}held-out faces; solid A→B, dashed B→A", fontsize=10)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return out


def stills(pair: str, configs: list[str], folder: Path, out: Path) -> Path | None:
    """Stack each configuration's comparison strip (source | swap, both directions) with a label."""
    import cv2

    rows = []
    for config in configs:
        path = folder / f"{pair}-{config}.png"
        image = cv2.imread(str(path)) if path.is_file() else None
        if image is None:
            continue
        label = np.full((20, image.shape[1], 3), 255, np.uint8)
        cv2.putText(label, f"{pair} / {config}: source | swap (A->B x3, B->A x3)", (4, 15),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
        rows.append(np.vstack([label, image]))
    if not rows:
        return None
    out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out), np.vstack(rows), [cv2.IMWRITE_JPEG_QUALITY, 88])
    return out


if __name__ == "__main__":
    main()
