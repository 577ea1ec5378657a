"""Stage states and live numbers derived from a workdir's files (hand-made files: no stage runs here)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from fswap import api
from fswap.studio.jobs import _override_args, last_progress
from fswap.studio.media import evenly_spaced, faceset
from fswap.studio.state import file_url, stage_states, train_info, workdir_state

PIPELINE = """\
workdir = "work"
[extract]
every_n_frames = 2
[extract.a]
input = "a.mp4"
[extract.b]
input = "b_frames"
[train]
iterations = 50
[convert]
input = "a.mp4"
[evaluate]
"""


@pytest.fixture
def pipe(tmp_path: Path):
    """A pipeline whose side b is a folder of 5 images (extract visits 3 of them: every 2nd)."""
    (tmp_path / "pipeline.toml").write_text(PIPELINE)
    (tmp_path / "b_frames").mkdir()
    for i in range(5):
        cv2.imwrite(str(tmp_path / "b_frames" / f"{i}.png"), np.zeros((8, 8, 3), np.uint8))
    return api.load(tmp_path / "pipeline.toml")


def write(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data))


def states(pipe, running: str | None = None) -> dict[str, str]:
    return {s["name"]: s["state"] for s in stage_states(pipe.config, running)}


def test_an_empty_workdir(pipe) -> None:
    assert states(pipe) == {"extract": "not_started", "train": "not_started", "convert": "not_started",
                            "evaluate": "not_started"}
    assert states(pipe, running="train")["train"] == "running"


def test_states_follow_what_the_stages_leave(pipe) -> None:
    wd = pipe.workdir
    faces = [{"file": f"{i:06d}_0.png"} for i in range(3)]
    write(wd.faceset("a") / "alignments.json", {"faces": faces, "meta": {"extract": {"done": [[0, 3]]}}})
    assert states(pipe)["extract"] == "resumable"  # b not started
    write(wd.faceset("b") / "alignments.json", {"faces": faces[:2], "meta": {"extract": {"done": [[0, 2]]}}})
    rows = {s["name"]: s for s in stage_states(pipe.config)}
    assert rows["extract"] == {"name": "extract", "state": "resumable",
                               "detail": "a: 3 faces; b: 2 faces, 2 of 3 frames"}  # saved on the way
    write(wd.faceset("b") / "alignments.json", {"faces": faces[:2], "meta": {"extract": {"done": [[0, 3]]}}})
    rows = {s["name"]: s for s in stage_states(pipe.config)}
    assert rows["extract"] == {"name": "extract", "state": "done", "detail": "a: 3 faces; b: 2 faces"}

    (wd.checkpoints / "ckpt-00000020").mkdir(parents=True)
    (wd.checkpoints / "ckpt-00000010").mkdir()
    (wd.checkpoints / "ckpt-00000030.tmp").mkdir()  # a checkpoint being written is not one
    rows = {s["name"]: s for s in stage_states(pipe.config)}
    assert rows["train"] == {"name": "train", "state": "resumable",
                             "detail": "checkpoint at iteration 20 of 50"}
    write(wd.model / "train_summary.json", {"iteration": 50, "interrupted": False})
    assert states(pipe)["train"] == "done"
    write(wd.model / "train_summary.json", {"iteration": 20, "interrupted": True})
    assert states(pipe)["train"] == "resumable"

    write(wd.convert / "tracks.json", {"tracks": []})
    assert states(pipe)["convert"] == "not_started"  # `fswap tracks` alone converts nothing
    write(wd.convert / "summary.json", {"frames": 9, "faces_swapped": 8, "output": str(wd.convert / "a.mp4")})
    write(wd.convert / "a.mp4", "video")
    write(wd.evaluate / "report.json", {"identity": {"a_to_b": {"closer_to_target": 0.75, "per_face": []}},
                                        "reconstruction": {"b": {"ssim": 0.5, "psnr": 20.0}}})
    state = workdir_state(pipe.config)
    assert {s["name"]: s["state"] for s in state["stages"]} == {
        "extract": "done", "train": "resumable", "convert": "done", "evaluate": "done"}
    assert state["evaluation"] == {"a_to_b_closer_to_target": 0.75, "ssim_b": 0.5, "psnr_b": 20.0}
    assert state["outputs"]["video"].startswith("/files/convert/a.mp4?v=")
    assert state["outputs"]["report"] is None


def test_train_numbers_and_a_preview_url_that_changes_with_the_file(pipe) -> None:
    wd = pipe.workdir
    write(wd.model / "history.csv", "iteration,elapsed_s,phase,images_per_s,a/l1\n10,5.0,0,12.5,0.3\n"
                                    "20,9.0,1,14.0,0.2\n30,12")  # the last line is being written
    preview = wd.previews / "latest.png"
    write(preview, "png")
    os.utime(preview, ns=(1_000_000_000, 1_000_000_000))
    info = train_info(pipe.config)
    assert info == {"iteration": 20, "iterations": 50, "phase": 1, "images_per_s": 14.0, "elapsed_s": 9.0,
                    "preview": "/files/model/previews/latest.png?v=1000000000"}
    os.utime(preview, ns=(2_000_000_000, 2_000_000_000))  # a new preview under the same name
    assert train_info(pipe.config)["preview"] == "/files/model/previews/latest.png?v=2000000000"
    assert file_url(wd.root, wd.root.parent / "pipeline.toml") is None  # outside the workdir


def test_face_sets_show_at_most_48_evenly_spaced(pipe) -> None:
    assert evenly_spaced(5) == [0, 1, 2, 3, 4]
    picked = evenly_spaced(100)
    assert len(picked) == 48 and picked[0] == 0 and picked[-1] == 99 and picked == sorted(set(picked))
    folder = pipe.workdir.faceset("a")
    faces = [{"file": f"{i:06d}_0.png"} for i in range(60)]
    write(folder / "alignments.json", {"faces": faces, "masks": ["eyes5"]})
    for i in range(60):
        write(folder / "faces" / f"{i:06d}_0.png", "x")
    write(folder / "masks" / "eyes5" / "000000_0.png", "x")
    got = faceset(pipe.config, "a")
    assert got["count"] == 60 and len(got["faces"]) == 48
    assert got["faces"][0]["mask"].startswith("/files/faces/a/masks/eyes5/000000_0.png?v=")
    assert got["faces"][1]["mask"] is None and got["faces"][-1]["name"] == "000059_0.png"


def test_job_helpers(tmp_path: Path) -> None:
    assert _override_args({"convert.select": "tracks", "convert.tracks": [0, 2], "x.on": True}) == [
        "--set", 'convert.select="tracks"', "--set", "convert.tracks=[0, 2]", "--set", "x.on=true"]
    path = tmp_path / "p.jsonl"
    assert last_progress(path) is None
    path.write_text('{"desc": "train", "n": 1, "total": 5, "unit": "it", "rate": 2.0, "elapsed": 0.5}\n'
                    '{"desc": "train", "n": 3, "total": 5, "unit": "it", "rate": 2.5, "elapsed": 1.2}\n{"de')
    assert last_progress(path) == {"desc": "train", "n": 3, "total": 5, "unit": "it", "rate": 2.5}
