"""pipeline.toml problems only `fswap run` can see (missing inputs, outputs over inputs, a batch larger than
the face set) and model files that do not fit (checkpoints of another [train.model]): one line naming the
file and section and what is valid, exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from reliability_kit import image_folder, write_toml

from fswap.cli import main
from fswap.train.toys import make_toy_faceset


def test_missing_inputs_are_one_line_naming_the_section(tmp_path: Path, fswap_cli) -> None:
    toml = write_toml(tmp_path, '[extract.a]\ninput = "in/*.png"\n[extract.b]\ninput = "b.mp4"\n')
    image_folder(tmp_path / "in", 1)
    done = fswap_cli("run", str(toml), "--no-progress")
    assert done.returncode == 2
    (line,) = done.error_lines
    assert line.startswith("fswap: error: pipeline.toml [extract.b]: input ")
    assert f"{tmp_path / 'b.mp4'}: no such file or folder (give a video file, an image folder" in line
    assert not (tmp_path / "work" / "faces").exists()  # failed before any work

    toml = write_toml(tmp_path, '[convert]\ninput = "gone.mp4"\n')
    done = fswap_cli("run", str(toml), "--no-progress")
    assert done.returncode == 2
    (line,) = done.error_lines
    assert line.startswith("fswap: error: pipeline.toml [convert]: input ")
    assert "gone.mp4: no such file" in line


def test_convert_output_may_not_overwrite_an_extract_input(tmp_path: Path, fswap_cli) -> None:
    toml = write_toml(tmp_path, """
        [extract.a]
        input = "inputs/a.mp4"
        [convert]
        input = "inputs/b.mp4"
        output = "inputs/../inputs/a.mp4"
    """)
    done = fswap_cli("validate", str(toml))
    assert done.returncode == 2
    (line,) = done.error_lines
    assert "pipeline.toml [convert]: output" in line and "would overwrite the input of [extract.a]" in line


TRAIN = """
workdir = "work"
[train]
iterations = {iterations}
batch_size = {batch}
checkpoint_every = 2
preview_every = 100
log_every = 1
[train.model]
resolution = {resolution}
capacity = "lite"
width_divisor = 16
[train.model.attention]
use = "none"
[train.losses.reconstruction]
"""


@pytest.fixture
def faces(tmp_path: Path) -> Path:
    make_toy_faceset(tmp_path / "work" / "faces" / "a", "astronaut", count=3)
    make_toy_faceset(tmp_path / "work" / "faces" / "b", "grace_hopper", count=3)
    return tmp_path


def _train(project: Path, capsys: pytest.CaptureFixture[str], **values: int) -> tuple[int, str]:
    settings = {"iterations": 2, "batch": 2, "resolution": 64, **values}
    (project / "pipeline.toml").write_text(TRAIN.format(**settings), encoding="utf-8")
    capsys.readouterr()
    rc = main(["run", str(project / "pipeline.toml"), "--stage", "train", "--no-progress"])
    return rc, capsys.readouterr().err


@pytest.mark.slow
def test_batch_size_larger_than_the_face_set(faces: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, err = _train(faces, capsys, batch=4)
    assert rc == 2
    assert err.strip() == (
        "fswap: error: pipeline.toml [train]: batch_size = 4 does not fit face set a (3 faces); use an even "
        "batch_size ≤ 3 or extract more faces"
    )
    assert not (faces / "work" / "model" / "checkpoints").exists()


@pytest.mark.slow
def test_checkpoints_of_another_resolution_say_what_differs(
    faces: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, err = _train(faces, capsys)
    assert rc == 0, err
    checkpoints = faces / "work" / "model" / "checkpoints"
    before = sorted(p.name for p in checkpoints.iterdir())
    rc, err = _train(faces, capsys, iterations=4, resolution=128)
    assert rc == 2
    (line,) = [x for x in err.splitlines() if x.strip()]
    assert line.startswith("fswap: error: pipeline.toml [train.model]: the checkpoints were written for")
    assert "resolution: checkpoints 64, now 128" in line and "--fresh" in line
    assert sorted(p.name for p in checkpoints.iterdir()) == before  # nothing lost
    assert json.loads((checkpoints / "model_settings.json").read_text())["resolution"] == 64


@pytest.mark.slow
def test_empty_face_set_is_one_line(faces: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from fswap.data.faceset import FaceSet

    empty = FaceSet.open(faces / "work" / "faces" / "b")
    empty.records = []
    empty.save()
    rc, err = _train(faces, capsys)
    assert rc == 2
    (line,) = [x for x in err.splitlines() if x.strip()]
    assert line == (
        f"fswap: error: train: face set b unusable: {faces / 'work' / 'faces' / 'b'}: the face set is empty; "
        "extract faces before training (run the extract stage first)"
    )
