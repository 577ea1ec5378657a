"""Weights: the cache location, finding configured or cached files, checksummed atomic fetches."""

from __future__ import annotations

import hashlib
import shutil
import sys
from pathlib import Path

import pytest

from fswap.catalog import Catalog
from fswap.errors import PluginError, WeightsError
from fswap.weights import CACHE_ENV, WeightsSpec, cache_dir, cached_path, fetch, find_weights, sha256_of

PAYLOAD = b"fswap-test-weights" * 1000


def spec(sha256: str | None) -> WeightsSpec:
    return WeightsSpec(name="toy-net", url="https://example.invalid/toy.bin", filename="toy.bin",
                       licence="CC0", sha256=sha256)


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setenv(CACHE_ENV, str(root))
    return root


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "download.bin"
    path.write_bytes(PAYLOAD)
    return path


def test_cache_dir_honours_env_then_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "c"))
    assert cache_dir() == tmp_path / "c"
    monkeypatch.delenv(CACHE_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "fswap" / "weights"


def test_fetch_from_local_file_with_matching_checksum(cache: Path, source: Path) -> None:
    good = spec(hashlib.sha256(PAYLOAD).hexdigest())
    path = fetch(good, source=source)
    assert path == cache / "toy-net" / "toy.bin" == cached_path(good)
    assert path.read_bytes() == PAYLOAD
    assert sha256_of(path) == good.sha256
    assert [p.name for p in path.parent.iterdir()] == ["toy.bin"]  # no temporary file left behind
    assert find_weights(good, None) == path


def test_checksum_mismatch_leaves_nothing_in_the_cache(cache: Path, source: Path) -> None:
    bad = spec("0" * 64)
    with pytest.raises(WeightsError) as info:
        fetch(bad, source=source)
    assert "checksum mismatch for 'toy-net'" in str(info.value) and "not kept" in str(info.value)
    assert list((cache / "toy-net").iterdir()) == []


def test_failed_refetch_keeps_the_previous_good_file(cache: Path, source: Path, tmp_path: Path) -> None:
    good = spec(hashlib.sha256(PAYLOAD).hexdigest())
    fetch(good, source=source)
    corrupt = tmp_path / "corrupt.bin"
    corrupt.write_bytes(PAYLOAD[:-1])
    with pytest.raises(WeightsError):
        fetch(good, source=corrupt)
    assert cached_path(good).read_bytes() == PAYLOAD
    assert [p.name for p in cached_path(good).parent.iterdir()] == ["toy.bin"]


def test_missing_source_file(cache: Path, tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match="no such file to import as 'toy-net'"):
        fetch(spec(None), source=tmp_path / "absent.bin")
    assert list((cache / "toy-net").iterdir()) == []


def test_unreachable_url_is_a_weights_error(cache: Path) -> None:
    offline = WeightsSpec(name="toy-net", url="file:///nonexistent/dir/toy.bin", filename="toy.bin",
                          licence="CC0")
    with pytest.raises(WeightsError, match="cannot download 'toy-net' from file:///nonexistent"):
        fetch(offline)
    assert list((cache / "toy-net").iterdir()) == []


def test_find_weights_prefers_configured_then_cache_then_explains(cache: Path, source: Path) -> None:
    unverified = spec(None)
    assert find_weights(unverified, source) == source
    with pytest.raises(WeightsError, match=r"weights file .*absent\.bin does not exist"):
        find_weights(unverified, source.parent / "absent.bin")
    with pytest.raises(WeightsError) as info:
        find_weights(unverified, None)
    message = str(info.value)
    assert "fswap weights fetch toy-net" in message and 'weights = "/path/to/toy.bin"' in message
    assert "licence: CC0" in message


# -- fswap_resolve_weights: asked when a component asks for weights during a run ---------------------------

RESOLVING_PLUGIN = """
from pathlib import Path

import attrs

from fswap import ComponentSpec, hookimpl, option
from fswap.builder import build
from fswap.options import component
from fswap.context import StageResult
from fswap.weights import WeightsSpec, find_weights

SPEC = WeightsSpec(name="toy-net", url="https://example.invalid/toy.bin", filename="toy.bin", licence="CC0")
ANSWER = {answer!r}


@attrs.frozen(kw_only=True)
class WeightedConfig:
    weights: Path | None = option(None, help="Weights file.")


class WeightedDetector:
    def __init__(self, config):
        self.path = find_weights(SPEC, config.weights)  # what a real component does in its factory

    def detect(self, frames):
        return [[] for _ in frames]


@attrs.frozen(kw_only=True)
class BuildStageConfig:
    detector: object = component("detector", help="The component to build.")


def run_build(ctx, config):
    return StageResult("extract", summary={{"weights": str(build(config.detector).path)}})


@hookimpl
def fswap_register_components():
    return [ComponentSpec(kind="detector", name="weighted", factory=__name__ + ":WeightedDetector",
                          config=WeightedConfig)]


@hookimpl
def fswap_register_weights():
    return [SPEC]


@hookimpl
def fswap_resolve_weights(name):
    if ANSWER == "raise":
        raise RuntimeError("the model server is down")
    return Path(ANSWER) if ANSWER and name == SPEC.name else None
"""


@pytest.fixture
def resolving(site, use_entry_points, cache: Path, tmp_path: Path):
    """Install the resolving plugin with a given answer; returns (pipeline for a one-stage run, pm)."""
    from fswap.config import load_pipeline
    from fswap.plugins import make_plugin_manager
    from fswap.stages import StageInfo

    def make(answer: str | None, table: str = "") -> tuple:
        module = site.module(RESOLVING_PLUGIN.format(answer=answer), prefix="fswap_resolving")
        shutil.rmtree(site.root / "fswap_resolving-1.1.dist-info", ignore_errors=True)  # an earlier answer's
        use_entry_points(site.dist("fswap-resolving", "1.1", {"resolving": module}))
        pm = make_plugin_manager(environ={})
        stage = StageInfo("extract", config=f"{module}:BuildStageConfig", runner=f"{module}:run_build",
                          summary="Build the detector.")
        toml = tmp_path / "pipeline.toml"
        toml.write_text(f'workdir = "w"\n[extract]\n[extract.detector]\nuse = "weighted"\n{table}')
        pipeline = load_pipeline(toml, catalog=Catalog.from_plugin_manager(pm), stages=(stage,))
        return pipeline, pm, (stage,), module

    return make


def run_one(pipeline, pm, stages) -> dict:
    from fswap.context import RunContext
    from fswap.run import run_pipeline

    ctx = RunContext(pipeline=pipeline, catalog=None, pm=pm)  # type: ignore[arg-type]
    (result,) = run_pipeline(ctx, (), stages)
    return result.summary


def test_a_plugin_answers_when_a_component_asks_for_weights_during_a_run(resolving, tmp_path: Path) -> None:
    served = tmp_path / "served" / "toy.bin"
    served.parent.mkdir()
    served.write_bytes(PAYLOAD)
    pipeline, pm, stages, module = resolving(str(served))
    assert run_one(pipeline, pm, stages) == {"weights": str(served)}  # the cache is empty: the plugin's file
    with pytest.raises(WeightsError, match="no weights for 'toy-net'"):  # outside a run nobody is asked
        find_weights(sys.modules[module].SPEC, None)


def test_the_configured_file_beats_the_plugin_and_the_cache_answers_when_no_plugin_does(
    resolving, cache: Path, tmp_path: Path, source: Path
) -> None:
    served = tmp_path / "served.bin"
    served.write_bytes(PAYLOAD)
    pipeline, pm, stages, _ = resolving(str(served), table=f'weights = "{source}"\n')
    assert run_one(pipeline, pm, stages) == {"weights": str(source)}
    pipeline, pm, stages, _ = resolving(None)
    cached = fetch(spec(None), source=source)
    assert run_one(pipeline, pm, stages) == {"weights": str(cached)}


def test_a_wrong_answer_or_a_raising_resolver_names_the_plugin(resolving, tmp_path: Path) -> None:
    pipeline, pm, stages, _ = resolving(str(tmp_path / "absent.bin"))
    with pytest.raises(WeightsError) as info:
        run_one(pipeline, pm, stages)
    assert str(info.value) == (
        f"plugin 'resolving' (fswap-resolving 1.1) resolved weights 'toy-net' to {tmp_path / 'absent.bin'}, "
        "which is not a file; fix the plugin or disable it with FSWAP_DISABLE_PLUGINS=resolving"
    )
    pipeline, pm, stages, _ = resolving("raise")
    with pytest.raises(PluginError) as info:
        run_one(pipeline, pm, stages)
    assert str(info.value) == (
        "plugin 'resolving' (fswap-resolving 1.1) raised in fswap_resolve_weights('toy-net'): RuntimeError: "
        "the model server is down. Disable it with FSWAP_DISABLE_PLUGINS=resolving"
    )


def test_api_builds_ask_the_pipelines_plugins(resolving, tmp_path: Path) -> None:
    from fswap.api import Pipeline

    served = tmp_path / "served.bin"
    served.write_bytes(PAYLOAD)
    pipeline, pm, _, _ = resolving(str(served))
    api_pipeline = Pipeline(config=pipeline, catalog=Catalog.from_plugin_manager(pm), pm=pm)
    assert api_pipeline.build("detector", "weighted").path == served
