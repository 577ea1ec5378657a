"""The train stage: face sets a and b → trained networks, checkpoints, previews, history, export."""

from __future__ import annotations

import contextlib
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fswap.builder import build
from fswap.context import RunContext, StageResult
from fswap.data.faceset import FaceSet
from fswap.data.pipeline import (
    BatchMaker,
    load_faces,
    make_dataset,
    preview_conditions,
    preview_faces,
)
from fswap.data.stores import choose_store
from fswap.errors import ConfigError, InputError, StageError
from fswap.evaluate.holdout import HOLDOUT_FILE, HoldoutRecord, split_for_training, training_set, write_record
from fswap.files import write_json_atomic
from fswap.losses import LossComponent, backbone_name, needs_eye_masks
from fswap.preflight import checkpoint_mismatch, read_model_settings, record_model_settings
from fswap.stages.train_config import TrainStageConfig
from fswap.structure import unstructure
from fswap.train.distribute import Distribution, remove_scratch, scratch_folder
from fswap.train.distribute import start as start_distribution
from fswap.train.schedule import Schedule
from fswap.train.state import PREFIX, STATE
from fswap.train.step import SIDES, TrainStep
from fswap.train.trainer import LoopSettings, Trainer, TrainFolders

log = logging.getLogger("fswap.train")

POLICIES = {"float32": "float32", "bfloat16": "mixed_bfloat16", "float16": "mixed_float16"}


@contextlib.contextmanager
def precision_policy(precision: str) -> Iterator[None]:
    """Set Keras' global dtype policy while the networks are built and trained, then restore it."""
    import keras

    previous = keras.mixed_precision.global_policy().name
    keras.mixed_precision.set_global_policy(POLICIES[precision])
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)


def build_losses(config: TrainStageConfig) -> dict[str, LossComponent]:
    """Build each configured loss component (fswap.builder.build checks the LossComponent protocol)."""
    losses: dict[str, LossComponent] = {choice.name: build(choice) for choice in config.losses}
    if not losses:
        raise StageError("[train.losses]: no loss terms configured; add [train.losses.reconstruction]")
    return losses


def clear_training_outputs(ctx: RunContext) -> None:
    """--fresh: remove checkpoints, previews, logs, history and export of an earlier run."""
    wd = ctx.workdir
    for folder in (wd.checkpoints, wd.previews, wd.logs, wd.model / "export"):
        shutil.rmtree(folder, ignore_errors=True)
    for name in ("history.csv", "loss_plot.png", "train_summary.json", HOLDOUT_FILE):
        (wd.model / name).unlink(missing_ok=True)


def has_checkpoint(folder: Path) -> bool:
    """Whether `folder` holds a complete checkpoint a run would resume from."""
    return folder.is_dir() and any(p.name.startswith(PREFIX) and (p / STATE).is_file()
                                   for p in folder.iterdir())


def _record_holdout(folder: Path, record: HoldoutRecord | None) -> None:
    """Write the held-out split into `folder` (atomically), or remove a stale one when there is none."""
    if record is None:
        (folder / HOLDOUT_FILE).unlink(missing_ok=True)
    else:
        write_record(folder / HOLDOUT_FILE, record)


def run_train(ctx: RunContext, config: TrainStageConfig) -> StageResult:
    """Train on the workdir's face sets; resumable from the latest checkpoint unless --fresh."""
    wd = ctx.workdir
    where = f"{ctx.pipeline.source.name} [train]"
    dist = start_distribution(config.distribute, ctx.pipeline.source.name)  # before any other TF work
    if dist is not None:
        dist.per_replica_batch(config.batch_size, where)
    sets = {}
    for side in SIDES:
        try:
            sets[side] = FaceSet.open(wd.faceset(side))
        except InputError as exc:
            raise StageError(f"train: face set {side} unusable: {exc} (run the extract stage first)") from exc
    resuming = ctx.resume and has_checkpoint(wd.checkpoints)
    holdout, holdout_note = split_for_training(config.holdout, sets, wd.model / HOLDOUT_FILE,
                                               resuming=resuming, where=where)
    faces = {}
    eye_mask = config.eye_mask_name(ctx.catalog)
    training_sets = {side: training_set(sets[side], holdout, side) for side in SIDES}
    store = choose_store(config.face_store, list(training_sets.values()), eye_mask)
    for side in SIDES:
        try:
            faces[side] = load_faces(training_sets[side], eye_mask, store)
        except InputError as exc:
            raise StageError(f"train: face set {side} unusable: {exc} (run the extract stage first)") from exc
    for side in SIDES:
        if len(faces[side]) < config.batch_size:
            held = (f" to train on, {len(holdout.held[side])} more held out by [train] holdout"
                    if holdout and holdout.held[side] else "")
            raise ConfigError(
                f"{ctx.pipeline.source.name} [train]: batch_size = {config.batch_size} does not fit face set "
                f"{side} ({len(faces[side])} faces{held}); use an even batch_size ≤ {len(faces[side])} or "
                "extract more faces"
            )
    chief = dist is None or dist.is_chief
    if not ctx.resume and chief:
        clear_training_outputs(ctx)
    # a run that asked for held-out faces but resumes checkpoints trained without them says so aloud
    (log.warning if holdout is None and config.holdout else log.info)("%s", holdout_note)
    if chief:
        _record_holdout(wd.model, holdout)
    model_settings = unstructure(config.model)
    recorded = read_model_settings(wd.checkpoints)
    if recorded is None and chief:
        wd.checkpoints.mkdir(parents=True, exist_ok=True)
        record_model_settings(wd.checkpoints, model_settings)
    if chief:
        wd.model.mkdir(parents=True, exist_ok=True)
    scratch = scratch_folder(dist)
    try:
        return _train(ctx, config, dist, faces, model_settings, recorded, scratch, holdout)
    finally:
        remove_scratch(scratch)


def _train(ctx: RunContext, config: TrainStageConfig, dist: Distribution | None, faces: dict[str, Any],
           model_settings: dict[str, Any], recorded: Any, scratch: Path | None,
           holdout: HoldoutRecord | None) -> StageResult:
    """Build and run the training (inside the strategy's scope when distributed)."""
    import keras

    from fswap.data.lookalike import prepare_lookalike
    from fswap.model.blocks import ModelBlocks
    from fswap.model.condition import condition_record, write_condition
    from fswap.model.io import save_networks
    from fswap.model.networks import build_networks

    wd = ctx.workdir
    eye_mask = config.eye_mask_name(ctx.catalog)
    chief = scratch is None
    resolution = config.model.resolution
    training_sets = {s: faces[s].faceset or wd.faceset(s) for s in SIDES}  # without the held-out faces
    lookalike = prepare_lookalike(config.lookalike, training_sets, catalog=ctx.catalog,
                                  model_folder=wd.model / "export", progress=ctx.progress)
    maker = BatchMaker(faces=faces, resolution=resolution, batch_size=config.batch_size,
                       augment=config.augment, seed=ctx.pipeline.seed, lookalike=lookalike)
    scope = dist.scope() if dist is not None else contextlib.nullcontext()
    with precision_policy(config.precision), scope:
        keras.utils.set_random_seed(ctx.pipeline.seed)
        networks = build_networks(config.model, ModelBlocks.from_config(config.model))
        cond = int(getattr(networks, "condition_channels", 0))
        if cond not in (0, 1):
            raise StageError(f"[train.model]: the decoder wants a {cond}-channel condition map; training "
                             "provides the 1-channel eye mask (set condition_channels = 1)")
        if cond and not maker.has_eyes:
            log.warning("[train.model]: the decoders are conditioned on the '%s' mask (SPADE) but no face "
                        "set has it: they are trained, and will convert, with an all-zero map",
                        eye_mask)
        losses = build_losses(config)
        if not maker.has_eyes:
            for name in (n for n, term in losses.items() if needs_eye_masks(term)):
                log.warning("no face set has the '%s' mask: the %s loss contributes nothing",
                            eye_mask, name)
        step = TrainStep(
            networks, losses, lr_generator=config.lr_generator, lr_discriminator=config.lr_discriminator,
            beta_1=config.beta_1, beta_2=config.beta_2, use_eye_masks=maker.has_eyes,
            loss_scaling=config.precision == "float16", jit_compile=config.jit_compile,
            strategy=dist.strategy if dist is not None else None,
            choices={choice.name: choice for choice in config.losses},
        )
        schedule = Schedule(config.schedule, config.iterations, config.checkpoint_every // 2)
        settings = LoopSettings(
            iterations=config.iterations, batch_size=config.batch_size,
            checkpoint_every=config.checkpoint_every, keep_checkpoints=config.keep_checkpoints,
            backup_every=config.backup_every, preview_every=config.preview_every, log_every=config.log_every,
            max_nan_restarts=config.max_nan_restarts, nan_lr_backoff=config.nan_lr_backoff,
            mixup_alpha=config.mixup_alpha, reset_optimizers_on_phase=config.reset_optimizers_on_phase,
            seed=ctx.pipeline.seed,
        )
        if scratch is None:
            folders = TrainFolders(wd.checkpoints, wd.previews, wd.logs, wd.model)
        else:  # a non-chief worker reads the chief's checkpoints and logs into its scratch folder
            folders = TrainFolders(wd.checkpoints, scratch / "previews", scratch / "logs", scratch)
        previews = {s: preview_faces(faces[s], resolution) for s in SIDES}
        conditions = ({s: preview_conditions(faces[s], resolution, cond) for s in SIDES} if cond else None)
        if dist is None:
            batches = lambda start: make_dataset(maker, start)  # noqa: E731
        else:
            batches = lambda start: dist.batches(maker, start)  # noqa: E731
        trainer = Trainer(step, schedule, settings, folders, batches, previews,
                          progress=ctx.progress and chief, chief=chief, preview_conditions=conditions)
        try:
            result = trainer.run(resume=ctx.resume)
        except InputError as exc:  # checkpoints of another model: say which settings differ
            where = f"{ctx.pipeline.source.name} [train.model]"
            raise checkpoint_mismatch(exc, recorded, model_settings, where) from exc
        except Exception as exc:  # a distributed step failed because a worker died or timed out
            failure = dist.failure(exc, trainer.state.iteration, wd.checkpoints) if dist is not None else None
            if failure is None:
                raise
            raise failure from exc
        if not chief:
            return StageResult(stage="train", summary={**_short(result), **dist.describe()}, outputs={})
        record_model_settings(wd.checkpoints, model_settings)
        outputs = {"checkpoints": wd.checkpoints, "previews": wd.previews, "history": folders.history,
                   "logs": wd.logs}
        if holdout is not None:
            outputs["holdout"] = wd.model / HOLDOUT_FILE
        condition = (condition_record(cond, eye_mask, {s: faces[s].faceset for s in SIDES})
                     if cond else None)
        if config.export and result["iteration"] > 0:
            outputs["export"] = save_networks(networks, wd.model / "export", config.model)
            if condition is not None:  # what convert and evaluate need to remake the decoder's map
                write_condition(outputs["export"], condition)
            _record_holdout(outputs["export"], holdout)  # the record travels with the exported networks
        for side, augmenter in (lookalike or {}).items():  # which look-alikes were pasted, per source face
            outputs[f"lookalike_{side}"] = wd.logs / f"lookalike_{side}.json"
            augmenter.write_report(outputs[f"lookalike_{side}"])
    if folders.loss_plot.is_file():
        outputs["loss_plot"] = folders.loss_plot
    details: dict[str, Any] = {
        **result,
        "faces": {s: len(faces[s]) for s in SIDES},
        "held_out": {s: len(holdout.held[s]) if holdout else 0 for s in SIDES},
        "holdout_every": holdout.every if holdout else 0,
        "eye_masks": maker.has_eyes,
        **({"condition": condition} if condition is not None else {}),
        "losses": {name: term.weight for name, term in losses.items()},
        "schedule": schedule.describe(),
        "precision": config.precision,
        "backbones": {name: backbone_name(term) for name, term in losses.items() if backbone_name(term)},
        "distribute": dist.describe() if dist is not None else {"strategy": "none", "replicas": 1},
    }
    write_json_atomic(wd.model / "train_summary.json", {"config": unstructure(config), **details})
    final = result["final_losses"]
    summary = {
        **_short(result),
        "held_out": details["held_out"],
        **{f"{s}_reconstruction": round(final[f"{s}/reconstruction"], 4) for s in SIDES
           if f"{s}/reconstruction" in final},
        **({"backbones": details["backbones"]} if details["backbones"] else {}),
    }
    if dist is not None:
        summary.update(dist.describe())
    return StageResult(stage="train", summary=summary, outputs=outputs)


def _short(result: dict[str, Any]) -> dict[str, Any]:
    return {k: result[k] for k in ("iteration", "start_iteration", "interrupted", "phase", "nan_restarts",
                                   "images_per_s")}
