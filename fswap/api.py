"""A small Python API over the pipeline machinery, for scripts and notebooks.

The CLI does three things for every command: it loads the plugins into a catalog, validates a
pipeline.toml into a PipelineConfig, and runs stages with a RunContext. This module wraps those steps so a
script needs one line each::

    from fswap import api

    pipe = api.load("pipeline.toml")          # or api.from_dict({...}, base_dir="project")
    pipe.run("extract", "train")               # StageResult per stage
    detector = api.build("detector", "mtcnn", min_face_size=40)

Everything here raises the same FswapError subclasses as the CLI (ConfigError for a bad table, with the
section named).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from fswap.builder import build as _build_choice
from fswap.catalog import Catalog
from fswap.components import ComponentChoice, Kind
from fswap.config import PipelineConfig, load_pipeline, parse_pipeline
from fswap.context import RunContext, StageResult
from fswap.plugins import PluginManager, make_plugin_manager
from fswap.run import run_pipeline
from fswap.structure import Context, structure_component
from fswap.weights import resolving_weights
from fswap.workdir import Workdir

__all__ = ["Pipeline", "build", "catalog", "choice", "from_dict", "load"]


@functools.cache
def _plugins() -> tuple[PluginManager, Catalog]:
    pm = make_plugin_manager()
    return pm, Catalog.from_plugin_manager(pm)


def catalog() -> Catalog:
    """The catalog of every installed component (built once per process)."""
    return _plugins()[1]


def choice(kind: Kind | str, name: str, /, **options: Any) -> ComponentChoice:
    """Validate `options` for component `name` of `kind`, exactly as a `[… ] use = name` table would be."""
    return _choice(catalog(), Kind(kind), name, options)


def _choice(cat: Catalog, kind: Kind, name: str, options: Mapping[str, Any]) -> ComponentChoice:
    ctx = Context(source="python", base_dir=Path.cwd(), catalog=cat)
    return structure_component(kind, {"use": name, **options}, ctx=ctx, section=f"{kind}.{name}")


def build(kind: Kind | str, name: str, /, **options: Any) -> Any:
    """Build a ready-to-use component (detector, aligner, mask generator, …) from its name and options."""
    with resolving_weights(_plugins()[0]):
        return _build_choice(choice(kind, name, **options))


@attrs.frozen
class Pipeline:
    """A validated pipeline with the plugins it was validated against; `run` executes its stages."""

    config: PipelineConfig
    catalog: Catalog
    pm: PluginManager

    @property
    def workdir(self) -> Workdir:
        """The workdir layout (faces/a, model/export, convert/, evaluate/ …)."""
        return self.config.workdir

    @property
    def stages(self) -> list[str]:
        """The stages this pipeline defines, in file order."""
        return list(self.config.stages)

    def stage_config(self, name: str) -> Any:
        """The validated config object of one stage (e.g. TrainStageConfig), or None when absent."""
        return self.config.stage(name)

    def run(self, *stages: str, resume: bool = True, progress: bool = True) -> list[StageResult]:
        """Run the named stages (all defined ones when none are named) in pipeline order.

        `resume=False` is the CLI's --fresh: earlier work of the stages being run is discarded.
        """
        ctx = RunContext(pipeline=self.config, catalog=self.catalog, pm=self.pm, resume=resume,
                         progress=progress)
        return run_pipeline(ctx, stages)

    def build(self, kind: Kind | str, name: str, /, **options: Any) -> Any:
        """Build one component with this pipeline's plugins (see the module-level `build`)."""
        with resolving_weights(self.pm):
            return _build_choice(_choice(self.catalog, Kind(kind), name, options))


def load(path: str | Path) -> Pipeline:
    """Read and validate a pipeline.toml (relative paths in it are relative to its folder)."""
    pm, cat = _plugins()
    return Pipeline(config=load_pipeline(Path(path), catalog=cat), catalog=cat, pm=pm)


def from_dict(
    data: Mapping[str, Any], *, base_dir: str | Path = ".", name: str = "pipeline.toml"
) -> Pipeline:
    """Validate a pipeline given as nested dicts (the TOML's tables) without writing a file.

    Relative paths (workdir, inputs) resolve against `base_dir`; `name` is used in error messages.
    """
    pm, cat = _plugins()
    source = Path(base_dir).resolve() / name
    return Pipeline(config=parse_pipeline(data, source=source, catalog=cat), catalog=cat, pm=pm)
