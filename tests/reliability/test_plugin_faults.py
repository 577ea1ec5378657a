"""Plugins that break: import errors, failures while built, an exception on one frame (on_frame_error =
"fail" names the plugin and the frame; "skip" skips and counts), and a wrong return type (contract check)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from reliability_kit import extract_toml, image_folder, write_toml

from fswap.catalog import Catalog
from fswap.config import load_pipeline
from fswap.errors import StageError
from fswap.plugins import make_plugin_manager
from fswap.run import RunContext, run_pipeline


def _summary(project: Path) -> dict:
    return json.loads((project / "work" / "faces" / "a" / "alignments.json").read_text())


def test_exception_on_one_frame_fails_with_plugin_and_frame_number(tmp_path: Path, fswap_cli) -> None:
    image_folder(tmp_path / "in", 5, marked=(3,))
    toml = extract_toml(tmp_path, "in", mode="raise_on_marked", extra="batch_size = 4")
    done = fswap_cli("run", str(toml), "--stage", "extract", "--no-progress")
    assert done.returncode == 2, done.stderr
    (line,) = done.error_lines
    assert "[extract.detector] detector 'faulty' (fswap-rel-faulty 1.0)" in line
    assert "failed on frame 3 of" in line and "RuntimeError: cannot cope with this frame" in line
    assert 'on_frame_error = "skip"' in line


def test_exception_on_one_frame_is_skipped_and_counted(tmp_path: Path, fswap_cli) -> None:
    image_folder(tmp_path / "in", 5, marked=(1, 3))
    extra = 'on_frame_error = "skip"\nbatch_size = 4'
    toml = extract_toml(tmp_path, "in", mode="raise_on_marked", extra=extra)
    done = fswap_cli("run", str(toml), "--stage", "extract", "--no-progress")
    assert done.returncode == 0, done.stderr
    data = _summary(tmp_path)
    assert sorted(face["frame"] for face in data["faces"]) == [0, 2, 4]
    summary = data["meta"]["extract"]["summary"]
    assert summary["frames_skipped_on_error"] == 2 and summary["frames"] == 5
    assert any("frame 3: RuntimeError" in e for e in summary["errors"])


def test_wrong_return_type_is_caught_by_the_contract_check(tmp_path: Path, fswap_cli) -> None:
    image_folder(tmp_path / "in", 2)
    toml = extract_toml(tmp_path, "in", mode="wrong_type", extra='on_frame_error = "skip"')
    done = fswap_cli("run", str(toml), "--stage", "extract", "--no-progress")
    assert done.returncode == 2, done.stderr
    (line,) = done.error_lines
    assert "detector 'faulty' (fswap-rel-faulty 1.0) broke its contract" in line
    assert "one list of Detection per frame, received a dict" in line


def test_exception_while_built_names_plugin_and_switch(tmp_path: Path, fswap_cli) -> None:
    image_folder(tmp_path / "in", 1)
    toml = extract_toml(tmp_path, "in", detector="explodes")
    done = fswap_cli("run", str(toml), "--stage", "extract", "--no-progress")
    assert done.returncode == 2, done.stderr
    (line,) = done.error_lines
    assert "detector 'explodes' (fswap-rel-faulty 1.0) failed to build: OSError: libfaulty.so.3" in line
    assert "FSWAP_DISABLE_PLUGINS=relfaulty" in line


def test_disabled_plugin_is_not_imported(tmp_path: Path, fswap_cli) -> None:
    """FSWAP_DISABLE_PLUGINS blocks the entry point before import: its detector is then unknown."""
    image_folder(tmp_path / "in", 1)
    toml = extract_toml(tmp_path, "in")
    done = fswap_cli("validate", str(toml), env={"FSWAP_DISABLE_PLUGINS": "relfaulty"})
    assert done.returncode == 2
    (line,) = done.error_lines
    assert "[extract.detector]" in line and "'faulty'" in line


# -- convert: the same policy, in-process with a tiny random model (TensorFlow) --------------------------


@pytest.fixture(scope="module")
def convert_project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Catalog]:
    import fswap_rel_faulty

    from fswap.model.config import parse_model_config
    from fswap.model.io import save_networks
    from fswap.model.networks import build_networks

    pm = make_plugin_manager(extra_plugins=[("relfaulty", fswap_rel_faulty)])
    catalog = Catalog.from_plugin_manager(pm)
    root = tmp_path_factory.mktemp("convert")
    image_folder(root / "in", 4, marked=(2,))
    table = {"resolution": 64, "capacity": "lite", "width_divisor": 16, "attention": {"use": "none"},
             "upsampling": {"use": "nearest"}}
    config = parse_model_config(table, catalog=catalog)
    save_networks(build_networks(config), root / "work" / "model" / "export", config)
    return root, catalog


def _convert(root: Path, catalog: Catalog, policy: str) -> dict:
    toml = write_toml(root, f"""
        [convert]
        input = "in"
        on_frame_error = "{policy}"
        batch_frames = 4
        [convert.detector]
        use = "faulty"
        mode = "raise_on_marked"
        [convert.writer]
        use = "image_sequence"
    """)
    ctx = RunContext(pipeline=load_pipeline(toml, catalog=catalog), catalog=catalog, pm=None, progress=False)
    (result,) = run_pipeline(ctx, ["convert"])
    return result.summary


@pytest.mark.slow
def test_convert_exception_on_one_frame_fails_or_is_skipped(convert_project: tuple[Path, Catalog]) -> None:
    root, catalog = convert_project
    with pytest.raises(StageError, match=r"detector 'faulty' .* failed on frame 2 of .*RuntimeError") as info:
        _convert(root, catalog, "fail")
    assert "\n" not in str(info.value)
    assert not list((root / "work" / "convert").glob("in_a_to_b*"))  # no output pretends to be complete
    summary = _convert(root, catalog, "skip")
    assert summary["frames"] == 4 and summary["frames_skipped_on_error"] == 1
    frames = sorted(Path(summary["output"]).glob("*.png"))
    assert len(frames) == 4
    import cv2

    passed = cv2.imread(str(frames[2]))
    source = cv2.imread(str(root / "in" / "frame_002.png"))
    assert np.abs(passed.astype(int) - source.astype(int))[:100].max() <= 2  # passed through unchanged
