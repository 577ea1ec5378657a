"""What every stage runner receives (`RunContext`) and returns (`StageResult`). A low module: stages,
libraries and the runner import it; it imports only the config and plugin layers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs

from fswap.catalog import Catalog
from fswap.config import PipelineConfig
from fswap.plugins import PluginManager


@attrs.frozen
class RunContext:
    """What a stage runner receives besides its own config."""

    pipeline: PipelineConfig
    catalog: Catalog
    pm: PluginManager
    resume: bool = True  # False (--fresh) discards earlier work of the stages being run
    progress: bool = True

    @property
    def workdir(self) -> Any:
        return self.pipeline.workdir


@attrs.frozen
class StageResult:
    """A finished stage: numbers for its summary and the files people will want to open."""

    stage: str
    summary: dict[str, Any] = attrs.field(factory=dict)
    outputs: dict[str, Path] = attrs.field(factory=dict)
    headline: str = ""  # one line saying what the numbers mean (printed below the summary)
