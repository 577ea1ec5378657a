"""`fswap run --stage convert` end to end: a synthetic face video with audio, a tiny randomly initialised
model (saved with save_networks; never trained), every output layout, writers, frame ranges, no-face input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from fswap.catalog import Catalog
from fswap.config import load_pipeline
from fswap.context import RunContext
from fswap.errors import ConfigError, InputError
from fswap.plugins import make_plugin_manager
from fswap.run import run_pipeline
from fswap.samples import make_face_video
from fswap.video.audio import count_frames, probe
from fswap.video.provenance import PNG_KEY, read_png_text

pytestmark = pytest.mark.slow

FRAMES = 10
ONNX_MAX_LEVELS = 2
"""The most an output pixel of the ONNX runtime may differ from the Keras path's: the generator's BGR by one
level, and the colour transfer and blend of that face by at most one more."""


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.from_plugin_manager(make_plugin_manager())


@pytest.fixture(scope="module")
def project(tmp_path_factory, catalog) -> Path:
    """A folder with in.mp4 (faces + a sine tone) and work/model/export holding a tiny random model."""
    from fswap.model.config import parse_model_config
    from fswap.model.io import save_networks
    from fswap.model.networks import build_networks

    root = tmp_path_factory.mktemp("convert")
    make_face_video(root / "in.mp4", frames=FRAMES, size=(320, 180), fps=20, audio=True)
    table = {
        "resolution": 64,
        "capacity": "lite",
        "width_divisor": 16,
        "attention": {"use": "none"},
        "upsampling": {"use": "nearest"},
    }
    config = parse_model_config(table, catalog=catalog)
    save_networks(build_networks(config), root / "work" / "model" / "export", config)
    return root


def run(root: Path, catalog: Catalog, convert_toml: str) -> dict:
    path = root / "pipeline.toml"
    path.write_text(f'workdir = "work"\n[convert]\ninput = "in.mp4"\n{convert_toml}\n', encoding="utf-8")
    ctx = RunContext(pipeline=load_pipeline(path, catalog=catalog), catalog=catalog, pm=None, progress=False)
    (result,) = run_pipeline(ctx, ["convert"])
    assert result.stage == "convert"
    return json.loads(result.outputs["summary"].read_text())


@pytest.mark.parametrize(("layout", "panels"), [("result", 1), ("side_by_side", 2), ("triple", 3)])
def test_video_in_each_layout_keeps_frames_fps_and_audio(project, catalog, layout, panels):
    out = project / f"out_{layout}.mp4"
    summary = run(project, catalog, f'output = "{out.name}"\nlayout = "{layout}"')
    info = probe(out)
    assert info.video_codec == "h264" and info.audio_codec == "aac"
    assert info.fps == pytest.approx(20.0)
    assert (info.width, info.height) == (320 * panels, 180)
    assert count_frames(out) == FRAMES
    assert "Synthetic media" in info.metadata["comment"]
    assert summary["frames"] == FRAMES and summary["faces_swapped"] >= FRAMES - 1
    assert summary["audio"] is True and summary["fps"] > 0
    assert not any(p.name.startswith(".") for p in project.iterdir())  # no partial files left
    tracks = json.loads((project / "work" / "convert" / "tracks.json").read_text())
    assert len(tracks["frames"]) == FRAMES and tracks["layout"] == layout
    assert tracks["frames"][-1]["faces"][0]["box"][0] >= 320 * (panels > 1)


def test_default_output_name_and_frame_range(project, catalog):
    summary = run(project, catalog, 'start = 0.1\nduration = 0.25\ntracker = { use = "ema" }')
    out = project / "work" / "convert" / "in_a_to_b.mp4"
    assert Path(summary["output"]) == out
    assert count_frames(out) == 5 and summary["frames"] == 5
    assert probe(out).duration == pytest.approx(0.25, abs=0.06)
    from fswap.evaluate.temporal import read_tracks_file  # the evaluate stage reads this record

    record = read_tracks_file(project / "work" / "convert" / "tracks.json")
    assert sorted(record) == [0, 1, 2, 3, 4] and all(len(faces) == 1 for faces in record.values())


def test_b_to_a_with_poisson_and_image_sequence(project, catalog):
    toml = (
        'direction = "b_to_a"\noutput = "seq"\nblender = { use = "poisson" }\n'
        'color = { use = "reinhard" }\nwriter = { use = "image_sequence" }\nduration = 0.1'
    )
    summary = run(project, catalog, toml)
    files = sorted((project / "seq").glob("frame_*.png"))
    assert len(files) == 2 == summary["frames"]
    assert "Synthetic media" in read_png_text(files[0].read_bytes())[PNG_KEY]


def test_input_without_faces_passes_through_unchanged(project, catalog):
    folder = project / "plain"
    folder.mkdir()
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 255, (90, 160, 3), dtype=np.uint8) for _ in range(3)]
    for i, image in enumerate(images):
        cv2.imwrite(str(folder / f"{i}.png"), image)
    path = project / "plain.toml"
    path.write_text(
        'workdir = "work"\n[convert]\ninput = "plain"\noutput = "plain_out"\n'
        'writer = { use = "image_sequence" }\nlabel = { enabled = false }\n',
        encoding="utf-8",
    )
    ctx = RunContext(pipeline=load_pipeline(path, catalog=catalog), catalog=catalog, pm=None, progress=False)
    (result,) = run_pipeline(ctx, ["convert"])
    assert result.summary["frames_without_face"] == 3 and result.summary["faces_swapped"] == 0
    for i, image in enumerate(images):
        np.testing.assert_array_equal(cv2.imread(str(project / "plain_out" / f"frame_{i:06d}.png")), image)


def test_onnx_runtime_converts_as_tensorflow_does(project, catalog):
    """[convert] runtime = "onnx" exports the generator on first use and gives the Keras path's frames: the
    generator's BGR may differ by one level where a value rounds the other way (tests/model/
    test_model_deploy.py), and blending passes that on."""
    pytest.importorskip("onnxruntime")
    pytest.importorskip("tf2onnx")
    common = 'writer = { use = "image_sequence" }\nduration = 0.25\nlabel = { enabled = false }\n'
    keras_run = run(project, catalog, f'output = "seq_keras"\n{common}')
    onnx_run = run(project, catalog, f'output = "seq_onnx"\nruntime = "onnx"\n{common}')
    assert (keras_run["runtime"], onnx_run["runtime"]) == ("tensorflow", "onnx")
    assert (project / "work" / "model" / "export" / "onnx" / "generator_a_to_b.onnx").is_file()
    assert onnx_run["faces_swapped"] == keras_run["faces_swapped"] > 0
    names = sorted(p.name for p in (project / "seq_keras").glob("frame_*.png"))
    assert names and names == sorted(p.name for p in (project / "seq_onnx").glob("frame_*.png"))
    diffs = [np.abs(cv2.imread(str(project / "seq_keras" / n)).astype(np.int16)
                    - cv2.imread(str(project / "seq_onnx" / n))) for n in names]
    diff = np.stack(diffs)
    # all but isolated pixels within the rounding of the generator's BGR and what blending makes of it: run
    # alone the largest difference was 1 level, but one parallel run of the suite had pixels 46 levels apart
    # (not reproduced; our reading: a detector box differing in its last float bits moved a blend-edge
    # pixel). A face moved or painted differently fails both bounds.
    assert (diff > ONNX_MAX_LEVELS).mean() < 1e-4, (diff.max(), (diff > ONNX_MAX_LEVELS).sum())
    assert float(diff.mean()) < 0.01


def test_missing_model_is_an_input_error(project, catalog):
    with pytest.raises(InputError, match="no exported model"):
        run(project, catalog, 'model = "nowhere"')


def test_output_over_input_is_rejected(project, catalog):
    path = project / "bad.toml"
    path.write_text('[convert]\ninput = "in.mp4"\noutput = "in.mp4"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="overwrite the input"):
        load_pipeline(path, catalog=catalog)


def test_skipping_detection_without_a_predicting_tracker_is_rejected(project, catalog):
    path = project / "bad_tracker.toml"
    path.write_text(
        '[convert]\ninput = "in.mp4"\ndetect_every_n = 3\ntracker = { use = "none" }\n', encoding="utf-8"
    )
    with pytest.raises(ConfigError, match="needs a tracker that predicts"):
        load_pipeline(path, catalog=catalog)


def test_cli_run_stage_convert(project):
    """The command a user types: `fswap run pipeline.toml --stage convert`."""
    path = project / "cli.toml"
    path.write_text(
        'workdir = "work"\n[convert]\ninput = "in.mp4"\noutput = "cli.mp4"\nlayout = "side_by_side"\n',
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, "-m", "fswap.cli", "run", str(path), "--stage", "convert", "--no-progress"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "[convert] frames=10" in done.stdout and "frames_without_face=" in done.stdout
    out = project / "cli.mp4"
    info = probe(out)
    assert (info.video_codec, info.audio_codec, info.width) == ("h264", "aac", 640)
    assert count_frames(out) == FRAMES
