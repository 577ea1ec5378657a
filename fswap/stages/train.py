"""The train stage: face sets a and b → trained networks, checkpoints, previews, history, export."""

from __future__ import annotations

import contextlib
import logging
import shutil
from collections.abc import Iterator
from typing import Any

from fswap.builder import build
from fswap.data.pipeline import BatchMaker, load_faces, make_dataset, preview_faces
from fswap.errors import ConfigError, InputError, PluginError, StageError
from fswap.preflight import checkpoint_mismatch, read_model_settings, record_model_settings
from fswap.run import RunContext, StageResult, write_json_atomic
from fswap.stages.train_config import TrainStageConfig
from fswap.structure import unstructure
from fswap.train.loss_api import LossComponent
from fswap.train.schedule import Schedule
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
    """Build each configured loss component; each must satisfy the LossComponent protocol."""
    losses: dict[str, LossComponent] = {}
    for choice in config.losses:
        term = build(choice)
        if not isinstance(term, LossComponent):
            raise PluginError(
                f"[{choice.section}] loss '{choice.name}' ({choice.provider}) does not provide weight, "
                "uses_discriminator, generator_loss and discriminator_loss (fswap.train.loss_api)"
            )
        losses[choice.name] = term
    if not losses:
        raise StageError("[train.losses]: no loss terms configured; add [train.losses.reconstruction]")
    return losses


def clear_training_outputs(ctx: RunContext) -> None:
    """--fresh: remove checkpoints, previews, logs, history and export of an earlier run."""
    wd = ctx.workdir
    for folder in (wd.checkpoints, wd.previews, wd.logs, wd.model / "export"):
        shutil.rmtree(folder, ignore_errors=True)
    for name in ("history.csv", "loss_plot.png", "train_summary.json"):
        (wd.model / name).unlink(missing_ok=True)


def run_train(ctx: RunContext, config: TrainStageConfig) -> StageResult:
    """Train on the workdir's face sets; resumable from the latest checkpoint unless --fresh."""
    import keras

    from fswap.model.blocks import ModelBlocks
    from fswap.model.io import save_networks
    from fswap.model.networks import build_networks

    wd = ctx.workdir
    faces = {}
    for side in SIDES:
        try:
            faces[side] = load_faces(wd.faceset(side), config.eye_mask)
        except InputError as exc:
            raise StageError(f"train: face set {side} unusable: {exc} (run the extract stage first)") from exc
    for side in SIDES:
        if len(faces[side]) < config.batch_size:
            raise ConfigError(
                f"{ctx.pipeline.source.name} [train]: batch_size = {config.batch_size} does not fit face set "
                f"{side} ({len(faces[side])} faces); use an even batch_size ≤ {len(faces[side])} or extract "
                "more faces"
            )
    if not ctx.resume:
        clear_training_outputs(ctx)
    model_settings = unstructure(config.model)
    recorded = read_model_settings(wd.checkpoints)
    if recorded is None:
        wd.checkpoints.mkdir(parents=True, exist_ok=True)
        record_model_settings(wd.checkpoints, model_settings)
    wd.model.mkdir(parents=True, exist_ok=True)
    resolution = config.model.resolution
    maker = BatchMaker(faces=faces, resolution=resolution, batch_size=config.batch_size,
                       augment=config.augment, seed=ctx.pipeline.seed)
    if not maker.has_eyes and "eyes" in config.loss_names():
        log.warning("no face set has the '%s' mask: the eyes loss contributes nothing", config.eye_mask)
    with precision_policy(config.precision):
        keras.utils.set_random_seed(ctx.pipeline.seed)
        networks = build_networks(config.model, ModelBlocks.from_config(config.model))
        cond = int(getattr(networks, "condition_channels", 0))
        if cond not in (0, 1):
            raise StageError(f"[train.model]: the decoder wants a {cond}-channel condition map; training "
                             "provides the 1-channel eye mask (set condition_channels = 1)")
        losses = build_losses(config)
        step = TrainStep(
            networks, losses, lr_generator=config.lr_generator, lr_discriminator=config.lr_discriminator,
            beta_1=config.beta_1, beta_2=config.beta_2, use_eye_masks=maker.has_eyes,
            loss_scaling=config.precision == "float16", jit_compile=config.jit_compile,
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
        folders = TrainFolders(wd.checkpoints, wd.previews, wd.logs, wd.model)
        previews = {s: preview_faces(faces[s], resolution) for s in SIDES}
        trainer = Trainer(step, schedule, settings, folders, lambda start: make_dataset(maker, start),
                          previews, progress=ctx.progress)
        try:
            result = trainer.run(resume=ctx.resume)
        except InputError as exc:  # checkpoints of another model: say which settings differ
            where = f"{ctx.pipeline.source.name} [train.model]"
            raise checkpoint_mismatch(exc, recorded, model_settings, where) from exc
        record_model_settings(wd.checkpoints, model_settings)
        outputs = {"checkpoints": wd.checkpoints, "previews": wd.previews, "history": folders.history,
                   "logs": wd.logs}
        if config.export and result["iteration"] > 0:
            outputs["export"] = save_networks(networks, wd.model / "export", config.model)
    if folders.loss_plot.is_file():
        outputs["loss_plot"] = folders.loss_plot
    details: dict[str, Any] = {
        **result,
        "faces": {s: len(faces[s]) for s in SIDES},
        "eye_masks": maker.has_eyes,
        "losses": {name: term.weight for name, term in losses.items()},
        "schedule": schedule.describe(),
        "precision": config.precision,
        "backbones": {name: term.backbone_name for name, term in losses.items()
                      if getattr(term, "backbone_name", None)},
    }
    write_json_atomic(wd.model / "train_summary.json", {"config": unstructure(config), **details})
    final = result["final_losses"]
    summary = {
        **{k: result[k] for k in ("iteration", "start_iteration", "interrupted", "phase", "nan_restarts",
                                  "images_per_s")},
        **{f"{s}_reconstruction": round(final[f"{s}/reconstruction"], 4) for s in SIDES
           if f"{s}/reconstruction" in final},
        **({"backbones": details["backbones"]} if details["backbones"] else {}),
    }
    return StageResult(stage="train", summary=summary, outputs=outputs)
