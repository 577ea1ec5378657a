"""Plugins that break: import errors, failures while built, an exception on one frame (on_frame_error =
"fail" names the plugin and the frame; "skip" skips and counts), a wrong return type (contract check), a
batch retried frame by frame (counted, warned once), and failures inside the convert, evaluate and train
stages. Each is one line naming the component and its distribution, with the FSWAP_DISABLE_PLUGINS switch,
and exit code 1 (a plugin's failure, not the user's and not fswap's "internal error")."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from reliability_kit import extract_toml, image_folder, write_toml

from fswap.catalog import Catalog
from fswap.config import load_pipeline
from fswap.context import RunContext
from fswap.errors import PluginFailure
from fswap.plugins import make_plugin_manager
from fswap.run import run_pipeline


def _summary(project: Path) -> dict:
    return json.loads((project / "work" / "faces" / "a" / "alignments.json").read_text())


SWITCH = "FSWAP_DISABLE_PLUGINS=relfaulty"


def _plugin_line(done, label: str) -> str:
    """The one error line of a run that failed in a plugin: exit 1, the label, the switch, no "internal"."""
    assert done.returncode == 1, done.stderr[-3000:]
    (line,) = done.error_lines
    assert line.startswith("fswap: error: ") and "internal error" not in line
    assert label in line and SWITCH in line, line
    return line


def test_exception_on_one_frame_fails_with_plugin_and_frame_number(tmp_path: Path, fswap_cli) -> None:
    image_folder(tmp_path / "in", 5, marked=(3,))
    toml = extract_toml(tmp_path, "in", mode="raise_on_marked", extra="batch_size = 4")
    done = fswap_cli("run", str(toml), "--stage", "extract", "--no-progress")
    line = _plugin_line(done, "[extract.detector] detector 'faulty' (fswap-rel-faulty 1.0)")
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
    assert summary["frames_retried"] == 2  # frames 0 and 2 of the failing batch 0–3 worked on their own
    assert "a.frames_retried=2" in done.stdout, done.stdout  # the printed summary


def test_wrong_return_type_is_caught_by_the_contract_check(tmp_path: Path, fswap_cli) -> None:
    image_folder(tmp_path / "in", 2)
    toml = extract_toml(tmp_path, "in", mode="wrong_type", extra='on_frame_error = "skip"')
    done = fswap_cli("run", str(toml), "--stage", "extract", "--no-progress")
    line = _plugin_line(done, "detector 'faulty' (fswap-rel-faulty 1.0) broke its contract")
    assert "one list of Detection per frame, received a dict" in line


def test_exception_while_built_names_plugin_and_switch(tmp_path: Path, fswap_cli) -> None:
    image_folder(tmp_path / "in", 1)
    toml = extract_toml(tmp_path, "in", detector="explodes")
    done = fswap_cli("run", str(toml), "--stage", "extract", "--no-progress")
    line = _plugin_line(done, "detector 'explodes' (fswap-rel-faulty 1.0) failed to build")
    assert "failed to build: OSError: libfaulty.so.3" in line


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
    failed_on_2 = r"detector 'faulty' .* failed on frame 2 of .*RuntimeError"
    with pytest.raises(PluginFailure, match=failed_on_2) as info:
        _convert(root, catalog, "fail")
    assert "\n" not in str(info.value)
    assert not list((root / "work" / "convert").glob("in_a_to_b*"))  # no output pretends to be complete
    summary = _convert(root, catalog, "skip")
    assert summary["frames"] == 4 and summary["frames_skipped_on_error"] == 1
    assert summary["frames_retried"] == 3  # the batch 0–3 failed; frames 0, 1 and 3 then worked alone
    stored = json.loads((root / "work" / "convert" / "summary.json").read_text())
    assert stored["frames_retried"] == 3
    frames = sorted(Path(summary["output"]).glob("*.png"))
    assert len(frames) == 4
    import cv2

    passed = cv2.imread(str(frames[2]))
    source = cv2.imread(str(root / "in" / "frame_002.png"))
    assert np.abs(passed.astype(int) - source.astype(int))[:100].max() <= 2  # passed through unchanged


@pytest.mark.slow
def test_blender_raising_is_one_line_naming_it_and_the_frame(convert_project: tuple[Path, Catalog],
                                                               tmp_path: Path, fswap_cli) -> None:
    root, _ = convert_project
    toml = write_toml(tmp_path, f"""
        [convert]
        input = "{root / 'in'}"
        model = "{root / 'work' / 'model' / 'export'}"
        batch_frames = 4
        [convert.detector]
        use = "faulty"
        [convert.blender]
        use = "boom"
        [convert.writer]
        use = "image_sequence"
    """)
    done = fswap_cli("run", str(toml), "--stage", "convert", "--no-progress")
    label = "[convert.blender] blender 'boom' (fswap-rel-faulty 1.0) failed in blend() on frame 2 of"
    line = _plugin_line(done, label)
    assert "ZeroDivisionError: integer division or modulo by zero" in line
    assert not list((tmp_path / "work" / "convert").glob("in_a_to_b*"))


# -- a batch that fails as a whole but works frame by frame -----------------------------------------------


def test_batch_retried_frame_by_frame_is_counted_and_warned_once(tmp_path: Path,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    import fswap_rel_faulty

    pm = make_plugin_manager(extra_plugins=[("relfaulty", fswap_rel_faulty)])
    catalog = Catalog.from_plugin_manager(pm)
    image_folder(tmp_path / "in", 9)
    toml = extract_toml(tmp_path, "in", mode="batch_only", extra="batch_size = 4")
    ctx = RunContext(pipeline=load_pipeline(toml, catalog=catalog), catalog=catalog, pm=pm, progress=False)
    with caplog.at_level("WARNING", logger="fswap.extract"):
        (result,) = run_pipeline(ctx, ["extract"])
    assert result.summary["a.frames_retried"] == 8  # batches 0–3 and 4–7 failed; frame 8 came alone
    assert result.summary["a.faces_kept"] == 9 and result.summary["a.frames_skipped_on_error"] == 0
    assert _summary(tmp_path)["meta"]["extract"]["summary"]["frames_retried"] == 8
    warned = [r.getMessage() for r in caplog.records if "retried one by one" in r.getMessage()]
    assert len(warned) == 1, warned
    assert "[extract.detector] detector 'faulty' (relfaulty local) raised on a batch of 4 frames" in warned[0]
    assert "MemoryError: batch too large" in warned[0]


# -- evaluate: a failing embedder (per batch) and detector (per frame), no TensorFlow ---------------------


def _evaluate_project(tmp_path: Path, embedder_mode: str, detector_mode: str) -> Path:
    from fswap.train.toys import make_toy_faceset

    for side, face in (("a", "astronaut"), ("b", "grace_hopper")):
        make_toy_faceset(tmp_path / "work" / "faces" / side, face, count=4, eyes=False)
    image_folder(tmp_path / "video", 5, marked=(3,))
    return write_toml(tmp_path, f"""
        [evaluate]
        video = "video"
        tracks = "redetect"
        [evaluate.detector]
        use = "faulty"
        mode = "{detector_mode}"
        [evaluate.embedder]
        use = "faulty_embedder"
        mode = "{embedder_mode}"
    """)


def test_evaluate_embedder_raising_on_a_batch_is_one_line(tmp_path: Path, fswap_cli) -> None:
    toml = _evaluate_project(tmp_path, "raise", "ok")
    done = fswap_cli("run", str(toml), "--stage", "evaluate", "--no-progress")
    line = _plugin_line(done, "[evaluate.embedder] embedder 'faulty_embedder' (fswap-rel-faulty 1.0) failed "
                              "in embed() while the evaluate stage scored identity (a batch of")
    assert "KeyError: 'face-0'" in line


def test_evaluate_detector_raising_on_a_frame_names_it(tmp_path: Path, fswap_cli) -> None:
    toml = _evaluate_project(tmp_path, "ok", "raise_on_marked")
    done = fswap_cli("run", str(toml), "--stage", "evaluate", "--no-progress")
    label = "[evaluate.detector] detector 'faulty' (fswap-rel-faulty 1.0) failed in detect() on frame 3 of"
    line = _plugin_line(done, f"{label} {tmp_path / 'video'}")
    assert "RuntimeError: cannot cope with this frame" in line


# -- train: a loss that raises inside the compiled train step ---------------------------------------------


@pytest.mark.slow
def test_loss_raising_inside_the_train_step_is_one_line(tmp_path: Path, fswap_cli) -> None:
    from fswap.train.toys import make_toy_faceset

    make_toy_faceset(tmp_path / "work" / "faces" / "a", "astronaut", count=2)
    make_toy_faceset(tmp_path / "work" / "faces" / "b", "grace_hopper", count=2)
    toml = write_toml(tmp_path, """
        [train]
        iterations = 2
        batch_size = 2
        [train.model]
        resolution = 64
        capacity = "lite"
        width_divisor = 16
        [train.model.attention]
        use = "none"
        [train.losses.reconstruction]
        [train.losses.boom]
        mode = "trace"
    """)
    done = fswap_cli("run", str(toml), "--stage", "train", "--no-progress")
    line = _plugin_line(done, "[train.losses.boom] loss 'boom' (fswap-rel-faulty 1.0) failed in "
                              "generator_loss() for side a while the train step was traced (iteration 1): "
                              "KeyError: 'loss'")
    assert "remove [train.losses.boom]" in line
    assert not list((tmp_path / "work" / "model").glob("checkpoints/ckpt-00000001"))
