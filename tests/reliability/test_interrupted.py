"""Interrupted runs: an extraction killed mid-way (SIGKILL, as a crash would) leaves a face set that says
which frames are done, and the re-run resumes from there; a conversion killed mid-way leaves no file under
the output name, and the re-run writes the complete output."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import cv2
import pytest
from reliability_kit import FSWAP, HERE, extract_toml, face_image, image_folder, write_toml

from fswap.extract.writer import from_ranges


def test_killed_extraction_resumes_where_it_stopped(tmp_path: Path, fswap_cli) -> None:
    folder = image_folder(tmp_path / "in", 10, marked=(7,))
    toml = extract_toml(tmp_path, "in", mode="kill_on_marked", extra="batch_size = 2\nsave_every = 2")
    done = fswap_cli("run", str(toml), "--stage", "extract", "--no-progress")
    assert done.returncode == -9
    data = json.loads((tmp_path / "work" / "faces" / "a" / "alignments.json").read_text())
    finished = from_ranges(data["meta"]["extract"]["done"])
    assert finished and max(finished) < 7  # only what was really written counts as done
    assert {face["frame"] for face in data["faces"]} == finished
    assert not list((tmp_path / "work" / "faces" / "a").glob(".*.tmp"))  # no half-written alignments

    cv2.imwrite(str(folder / "frame_007.png"), face_image(seed=7))  # the frame that "crashed" is fine now
    done = fswap_cli("run", str(toml), "--stage", "extract", "--no-progress")
    assert done.returncode == 0, done.stderr
    data = json.loads((tmp_path / "work" / "faces" / "a" / "alignments.json").read_text())
    assert sorted(face["frame"] for face in data["faces"]) == list(range(10))
    summary = data["meta"]["extract"]["summary"]
    assert summary["resumed_frames"] == len(finished) and summary["frames"] == 10 - len(finished)


@pytest.mark.slow
def test_killed_conversion_leaves_no_output_and_the_rerun_completes(
    tmp_path: Path, plugin_site: Path
) -> None:
    import os

    from fswap.catalog import Catalog
    from fswap.model.config import parse_model_config
    from fswap.model.io import save_networks
    from fswap.model.networks import build_networks
    from fswap.plugins import make_plugin_manager

    catalog = Catalog.from_plugin_manager(make_plugin_manager())
    table = {"resolution": 64, "capacity": "lite", "width_divisor": 16, "attention": {"use": "none"},
             "upsampling": {"use": "nearest"}}
    config = parse_model_config(table, catalog=catalog)
    save_networks(build_networks(config), tmp_path / "work" / "model" / "export", config)
    folder = image_folder(tmp_path / "in", 6, marked=(4,))
    toml = write_toml(tmp_path, """
        [convert]
        input = "in"
        output = "out.mp4"
        batch_frames = 2
        [convert.detector]
        use = "faulty"
        mode = "kill_on_marked"
    """)
    env = {**os.environ, "PYTHONPATH": f"{plugin_site}:{HERE}"}
    cmd = [str(FSWAP), "run", str(toml), "--stage", "convert", "--no-progress"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == -9, done.stderr[-2000:]
    assert not (tmp_path / "out.mp4").exists()  # only a hidden partial file may remain

    cv2.imwrite(str(folder / "frame_004.png"), face_image(seed=4))
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    from fswap.video.audio import count_frames

    assert count_frames(tmp_path / "out.mp4") == 6
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    assert json.loads((tmp_path / "work" / "convert" / "summary.json").read_text())["frames"] == 6
