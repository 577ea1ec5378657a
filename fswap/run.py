"""Runs the stages of a validated pipeline in order and reports where their outputs are."""

from __future__ import annotations

from collections.abc import Sequence

from fswap.cluster import cluster_place
from fswap.config import PipelineConfig
from fswap.context import RunContext, StageResult
from fswap.errors import ConfigError
from fswap.files import write_json_atomic
from fswap.lock import workdir_lock
from fswap.stages import STAGES, StageInfo
from fswap.structure import unstructure
from fswap.weights import resolving_weights


def select_stages(
    pipeline: PipelineConfig, requested: Sequence[str], stages: tuple[StageInfo, ...] = STAGES
) -> list[StageInfo]:
    """The stages to run: all defined ones, or the requested ones (each must be defined)."""
    if not requested or "all" in requested:
        return [s for s in stages if s.name in pipeline.stages]
    chosen = []
    for info in stages:
        if info.name in requested:
            if info.name not in pipeline.stages:
                raise ConfigError(
                    f"{pipeline.source.name}: --stage {info.name} but the file has no [{info.name}]"
                )
            chosen.append(info)
    return chosen


def run_pipeline(
    ctx: RunContext, requested: Sequence[str] = (), stages: tuple[StageInfo, ...] = STAGES
) -> list[StageResult]:
    """Run the selected stages in order; each reads and writes the workdir (held locked meanwhile)."""
    chosen = select_stages(ctx.pipeline, requested, stages)
    ctx.pipeline.workdir.root.mkdir(parents=True, exist_ok=True)
    if not _takes_the_lock(ctx, chosen):  # a multi_worker cluster's other workers share the chief's workdir
        return _run_stages(ctx, chosen)
    with workdir_lock(ctx.pipeline.workdir.root):  # a second run on this workdir fails at once
        return _run_stages(ctx, chosen)


def _takes_the_lock(ctx: RunContext, chosen: list[StageInfo]) -> bool:
    """Whether this run takes the workdir lock: every run does, except the non-chief workers of a
    multi_worker train stage, which share the chief's workdir (docs/distributed.md) and write only their
    own scratch folders. The worker index is read as the stage reads it (`fswap.cluster`); an unreadable
    one locks (the stage then fails with the reason)."""
    train = ctx.pipeline.stages.get("train") if any(i.name == "train" for i in chosen) else None
    dist = getattr(train, "distribute", None)
    if getattr(dist, "strategy", "none") != "multi_worker":
        return True
    try:
        return cluster_place(dist.workers, str(ctx.pipeline.source)).is_chief
    except ConfigError:
        return True


def _run_stages(ctx: RunContext, chosen: list[StageInfo]) -> list[StageResult]:
    write_json_atomic(
        ctx.pipeline.workdir.resolved_config,
        {
            "source": str(ctx.pipeline.source),
            "seed": ctx.pipeline.seed,
            "stages": {name: unstructure(cfg) for name, cfg in ctx.pipeline.stages.items()},
        },
    )
    results = []
    with resolving_weights(ctx.pm):  # components that ask for weights get the run's plugins' answer
        for info in chosen:
            runner = info.load_runner()
            results.append(runner(ctx, ctx.pipeline.stages[info.name]))
    return results
