"""pipeline.toml → PipelineConfig: the skeleton (workdir, seed, stages) and each stage's own config."""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from fswap.catalog import Catalog
from fswap.errors import ConfigError
from fswap.stages import STAGES, StageInfo
from fswap.structure import Context, _Mismatch, convert_value, describe_type, structure
from fswap.workdir import Workdir


@attrs.frozen
class PipelineConfig:
    """A validated pipeline: where it works, its seed, and the config of each stage it defines."""

    source: Path
    workdir: Workdir
    seed: int
    stages: dict[str, Any]

    def stage(self, name: str) -> Any | None:
        return self.stages.get(name)


TOP_LEVEL = {"workdir": (Path, "Folder for face sets, model, outputs (relative to this file)."),
             "seed": (int, "Random seed for augmentation and initialisation.")}


def _with_position(message: str, raw: bytes) -> str:
    """tomllib says "(at end of document)" where it has no line: give the line and column of the end too."""
    if not message.endswith("(at end of document)"):
        return message
    text = raw.decode("utf-8", errors="replace")
    line = text.count("\n") + 1
    column = len(text) - (text.rfind("\n") + 1) + 1
    return f"{message[: -len('(at end of document)')]}(at line {line}, column {column}: end of document)"


def read_toml(path: Path) -> dict[str, Any]:
    """Read a TOML file; syntax errors name the file with line and column."""
    if path.is_dir():
        raise ConfigError(f"{path}: is a folder; give the pipeline .toml file inside it")
    if not path.is_file():
        raise ConfigError(f"{path}: no such pipeline file")
    try:
        raw = path.read_bytes()
        return tomllib.loads(raw.decode("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path.name}: TOML syntax error: {_with_position(str(exc), raw)}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path.name}: not a UTF-8 text file ({exc.reason})") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror or exc})") from exc


def parse_pipeline(
    data: Mapping[str, Any],
    *,
    source: Path,
    catalog: Catalog,
    stages: tuple[StageInfo, ...] = STAGES,
) -> PipelineConfig:
    """Validate a parsed pipeline table into a PipelineConfig (no TensorFlow is imported)."""
    ctx = Context(source=source.name, base_dir=source.parent.resolve(), catalog=catalog)
    by_name = {s.name: s for s in stages}
    unknown = [k for k in data if k not in TOP_LEVEL and k not in by_name]
    if unknown:
        valid = ", ".join([*TOP_LEVEL, *by_name])
        raise ConfigError(f"{ctx.source}: unknown top-level key or section '{unknown[0]}'; valid: {valid}")
    values: dict[str, Any] = {"workdir": source.parent.resolve() / "fswap-work", "seed": 0}
    for key, (tp, _help) in TOP_LEVEL.items():
        if key in data:
            try:
                values[key] = convert_value(data[key], tp, ctx, "")
            except _Mismatch:
                raise ConfigError(
                    f"{ctx.source}: {key} must be {describe_type(tp)}, received {data[key]!r}"
                ) from None
    stage_configs: dict[str, Any] = {}
    for info in stages:
        if info.name in data:
            stage_configs[info.name] = structure(
                info.config_class(), data[info.name], ctx=ctx, section=info.name
            )
    if not stage_configs:
        valid = ", ".join(f"[{s.name}]" for s in stages) or "none registered"
        raise ConfigError(f"{ctx.source}: defines no stage; add at least one of {valid}")
    pipeline = PipelineConfig(
        source=source.resolve(), workdir=Workdir(values["workdir"]), seed=values["seed"], stages=stage_configs
    )
    for config in stage_configs.values():
        check = getattr(config, "check", None)
        if callable(check):
            check(pipeline)
    return pipeline


def parse_override(text: str) -> tuple[list[str], Any]:
    """`section.key=VALUE` (the CLI's --set) → (["section", "key"], value); VALUE is read as a TOML value
    (`3`, `true`, `[0, 2]`, `"x"`), anything that is not one is taken as a bare string."""
    key, sep, raw = text.partition("=")
    parts = [p.strip() for p in key.strip().split(".")]
    if not sep or not all(parts):
        raise ConfigError(f"--set {text!r}: expected KEY=VALUE with a dotted key, e.g. convert.select=tracks")
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    return parts, value


def apply_overrides(data: dict[str, Any], overrides: Sequence[str], source: str) -> dict[str, Any]:
    """A copy of the pipeline table with each `section.key=VALUE` set (tables made as needed); the result
    is validated like the file itself, so a wrong key or value is reported as for a TOML line."""
    result = copy.deepcopy(data)
    for text in overrides:
        parts, value = parse_override(text)
        table = result
        for i, part in enumerate(parts[:-1]):
            inner = table.setdefault(part, {})
            if not isinstance(inner, dict):
                where = ".".join(parts[: i + 1])
                raise ConfigError(f"{source}: --set {text!r}: {where} is a value, not a table")
            table = inner
        table[parts[-1]] = value
    return result


def load_pipeline(
    path: Path,
    *,
    catalog: Catalog,
    stages: tuple[StageInfo, ...] = STAGES,
    overrides: Sequence[str] = (),
) -> PipelineConfig:
    """Read and validate a pipeline.toml file, with `overrides` (--set section.key=VALUE) applied first."""
    data = read_toml(path)
    if overrides:
        data = apply_overrides(data, overrides, path.name)
    return parse_pipeline(data, source=path, catalog=catalog, stages=stages)
