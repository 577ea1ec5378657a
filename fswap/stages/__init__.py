"""The stages a pipeline runs, in order. Each names its (TensorFlow-free) config class and its runner
as "module:attr" strings so `fswap validate` never imports the heavy runner."""

from __future__ import annotations

import importlib
from typing import Any

import attrs


@attrs.frozen
class StageInfo:
    """A stage: its TOML section name, its config class and the function that runs it."""

    name: str
    config: str
    runner: str
    summary: str

    def config_class(self) -> type:
        return _load(self.config)

    def load_runner(self) -> Any:
        return _load(self.runner)


def _load(path: str) -> Any:
    module, _, attr = path.partition(":")
    return getattr(importlib.import_module(module), attr)


STAGES: tuple[StageInfo, ...] = (
    StageInfo("extract", "fswap.stages.extract_config:ExtractConfig", "fswap.stages.extract:run_extract",
              "Detect, align and mask the faces of sides a and b into face sets."),
    StageInfo("train", "fswap.stages.train_config:TrainStageConfig", "fswap.stages.train:run_train",
              "Train the shared encoder, both decoders and discriminators; export the model."),
    StageInfo("convert", "fswap.stages.convert_config:ConvertConfig", "fswap.stages.convert:run_convert",
              "Swap the faces of a video or image folder with the exported model."),
    StageInfo("evaluate", "fswap.stages.evaluate_config:EvaluateConfig", "fswap.stages.evaluate:run_evaluate",
              "Report identity transfer, reconstruction, temporal stability and mask sanity."),
)
"""Registered stages in run order (extended as stages land)."""


def stage_names(stages: tuple[StageInfo, ...] = STAGES) -> list[str]:
    return [s.name for s in stages]
