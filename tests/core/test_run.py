"""Running stages: selection, order, the resolved config file, atomic JSON; building components."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fswap_core_toys import RAN, TOY_PROVIDER, TOY_STAGES, EmptyConfig, toy_catalog

from fswap import ComponentChoice, ComponentSpec
from fswap.builder import build
from fswap.config import load_pipeline
from fswap.context import RunContext
from fswap.errors import ConfigError, InputError, PluginError
from fswap.files import write_json_atomic
from fswap.plugins import DISABLE_ENV, make_plugin_manager
from fswap.run import run_pipeline, select_stages
from fswap.workdir import Workdir


@pytest.fixture
def pipeline(tmp_path: Path):
    path = tmp_path / "pipeline.toml"
    path.write_text('workdir = "w"\nseed = 3\n[extract.a]\ninput = "a.mp4"\n[train]\niterations = 7\n')
    return load_pipeline(path, catalog=toy_catalog(), stages=TOY_STAGES)


def context(pipeline) -> RunContext:
    return RunContext(pipeline=pipeline, catalog=toy_catalog(), pm=make_plugin_manager(environ={}))


def test_select_stages(pipeline) -> None:
    assert [s.name for s in select_stages(pipeline, (), TOY_STAGES)] == ["extract", "train"]
    assert [s.name for s in select_stages(pipeline, ("all",), TOY_STAGES)] == ["extract", "train"]
    assert [s.name for s in select_stages(pipeline, ("train", "extract"), TOY_STAGES)] == ["extract", "train"]
    path = pipeline.source.with_name("t.toml")
    path.write_text("[train]\n")
    only_train = load_pipeline(path, catalog=toy_catalog(), stages=TOY_STAGES)
    with pytest.raises(ConfigError, match=r"t\.toml: --stage extract but the file has no \[extract\]"):
        select_stages(only_train, ("extract",), TOY_STAGES)


def test_run_pipeline_runs_stages_in_order_and_writes_the_resolved_config(pipeline) -> None:
    RAN.clear()
    results = run_pipeline(context(pipeline), ("train", "extract"), TOY_STAGES)
    assert [name for name, _ in RAN] == ["extract", "train"]
    assert RAN[1][1] is pipeline.stage("train")
    summaries = [(r.stage, r.summary) for r in results]
    assert summaries == [("extract", {"faces": 3}), ("train", {"iterations": 7})]
    resolved = json.loads(pipeline.workdir.resolved_config.read_text())
    assert resolved["seed"] == 3 and resolved["source"] == str(pipeline.source)
    assert resolved["stages"]["train"]["iterations"] == 7
    assert resolved["stages"]["extract"]["detector"]["use"] == "mtcnn"
    assert resolved["stages"]["extract"]["a"]["input"] == str(pipeline.source.parent / "a.mp4")


def test_write_json_atomic_replaces_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "state.json"
    write_json_atomic(target, {"a": 1})
    write_json_atomic(target, {"a": 2})
    assert json.loads(target.read_text()) == {"a": 2}
    with pytest.raises(TypeError):
        write_json_atomic(target, {"bad": object()})
    assert json.loads(target.read_text()) == {"a": 2}  # the old file survives a failed write
    assert [p.name for p in target.parent.iterdir()] == ["state.json"]


def test_workdir_layout() -> None:
    w = Workdir(Path("/w"))
    assert (w.faceset("a"), w.model, w.checkpoints, w.previews, w.logs) == (
        Path("/w/faces/a"), Path("/w/model"), Path("/w/model/checkpoints"), Path("/w/model/previews"),
        Path("/w/model/logs"),
    )
    assert (w.convert, w.evaluate, w.resolved_config) == (
        Path("/w/convert"), Path("/w/evaluate"), Path("/w/pipeline.resolved.json")
    )


class Recorder:
    """A factory target: keeps the config it was built with; `fail` configs raise."""

    def __init__(self, config: object) -> None:
        if getattr(config, "fail", None) == "input":
            raise InputError("weights.bin: unreadable")
        if getattr(config, "fail", None) == "bug":
            raise KeyError("oops")
        self.config = config

    def update(self, frame_index: int, detections: object) -> list:
        return []

    def reset(self) -> None:
        pass


class Untracked(Recorder):
    """Built as a tracker, but without the Protocol's `reset`."""

    reset = None  # type: ignore[assignment]


def choice(config: object, factory: str = "Recorder") -> ComponentChoice:
    spec = ComponentSpec(kind="tracker", name="rec", factory=f"{__name__}:{factory}",
                         config=type(config))
    return ComponentChoice(spec=spec, config=config, provider=TOY_PROVIDER, section="convert.tracker")


def test_build_calls_the_factory_with_its_config_only() -> None:
    config = EmptyConfig()
    built = build(choice(config))
    assert isinstance(built, Recorder) and built.config is config


def test_build_failures_name_the_section_component_provider_and_switch() -> None:
    import attrs

    @attrs.frozen
    class Failing:
        fail: str = "bug"

    with pytest.raises(PluginError) as info:
        build(choice(Failing()))
    assert str(info.value) == (
        "[convert.tracker] tracker 'rec' (fswap-toy 0.3) failed to build: KeyError: 'oops'. Choose another "
        f"component or disable the plugin with {DISABLE_ENV}=toy"
    )
    with pytest.raises(InputError, match=r"weights\.bin: unreadable"):  # user errors pass through unchanged
        build(choice(Failing(fail="input")))


def test_build_checks_the_built_object_against_its_kinds_protocol() -> None:
    with pytest.raises(PluginError) as info:
        build(choice(EmptyConfig(), factory="Untracked"))
    message = str(info.value)
    assert message.startswith("[convert.tracker] tracker 'rec' (fswap-toy 0.3): its factory ")
    assert "built a Untracked without reset, which every tracker must have (fswap.components.Tracker" \
        in message
    assert f"{DISABLE_ENV}=toy" in message
