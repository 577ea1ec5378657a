"""fswap.examples: the pieces the example scripts and notebooks share, without running a model.

The steps themselves (detect_and_align, eye_masks, the pipelines) run in tests/e2e/test_examples.py and
tests/e2e/test_notebooks.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from fswap import api, examples
from fswap.errors import InputError


def test_importing_the_examples_kit_imports_no_tensorflow_cv2_or_ipython() -> None:
    code = ("import sys, json; import fswap.examples; heavy = ('tensorflow', 'keras', 'cv2', 'IPython'); "
            "print(json.dumps(sorted(m for m in heavy if m in sys.modules)))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []


def test_binary_thresholds_at_one_half() -> None:
    mask = np.array([[0.0, 0.5, 0.51, 1.0]], np.float32)
    assert examples.binary(mask).tolist() == [[0, 0, 255, 255]]
    assert examples.binary(mask).dtype == np.uint8


def test_image_row_scales_to_one_height_and_accepts_masks_and_paths(tmp_path: Path) -> None:
    path = tmp_path / "face.png"
    cv2.imwrite(str(path), np.full((50, 100, 3), 10, np.uint8))
    row = examples.image_row([np.zeros((20, 20, 3), np.uint8), np.ones((40, 40), np.float32), path],
                            height=40, gap=4)
    assert row.shape == (40, 40 + 4 + 40 + 4 + 80, 3)
    assert row[:, 44:84].min() == 255  # the float mask of ones is white
    assert (row[:, 40:44] == 255).all()  # the gap
    assert (row[:, 88:] == 10).all()  # the image read from its path


def test_image_row_names_a_bad_input(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"missing\.png: cannot be read"):
        examples.image_row([tmp_path / "missing.png"])
    with pytest.raises(InputError, match=r"received shape \(4, 4, 4\)"):
        examples.image_row([np.zeros((4, 4, 4), np.uint8)])
    with pytest.raises(InputError, match="at least one image"):
        examples.image_row([])


def test_read_images_by_stem_and_errors(tmp_path: Path) -> None:
    cv2.imwrite(str(tmp_path / "one.png"), np.zeros((8, 8, 3), np.uint8))
    (tmp_path / "notes.txt").write_text("not an image")
    assert list(examples.read_images([tmp_path])) == ["one"]
    (tmp_path / "broken.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(InputError, match=r"broken\.jpg: cannot be read as an image"):
        examples.read_images([tmp_path])
    with pytest.raises(InputError, match="no image files"):
        examples.read_images([tmp_path / "notes.txt"])


def test_pipelines_validate(tmp_path: Path) -> None:
    train = api.from_dict(examples.training_pipeline("a.mp4", "b.mp4", iterations=5), base_dir=tmp_path)
    assert train.stages == ["extract", "train"] and train.stage_config("train").iterations == 5
    data = examples.full_pipeline("a.mp4", "b.mp4", iterations=3)
    data["train"].update(examples.tiny_train_settings())
    full = api.from_dict(data, base_dir=tmp_path)
    assert full.stages == ["extract", "train", "convert", "evaluate"]
    assert full.stage_config("train").model.resolution == 64 and full.stage_config("train").iterations == 2
    table = examples.convert_pipeline(tmp_path / "m", "a.mp4", layout="triple")
    convert = api.from_dict(table, base_dir=tmp_path)
    assert convert.stage_config("convert").layout == "triple"


def test_synthetic_video_names_its_side(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="side must be 'a' or 'b', received 'c'"):
        examples.synthetic_video(tmp_path, "c")
    video = examples.synthetic_video(tmp_path, "b", frames=2)
    assert video.path == tmp_path / "inputs" / "b.mp4" and video.face == "grace_hopper" and video.frames == 2


def test_last_history_line(tmp_path: Path) -> None:
    history = tmp_path / "history.csv"
    assert examples._last_history_line(history) == ""
    history.write_text("iteration,elapsed_s,phase,images_per_s,a/g_total,b/g_total\n"
                       "1,0.5,0,3.0,1.5,1.25\n2,1.0,0,4.5,1.0,0.75\n")
    expected = "iteration 2 · 4.5 images/s · a/g_total 1.0000 · b/g_total 0.7500"
    assert examples._last_history_line(history) == expected
