"""Extract records every processed frame's faces; convert (and `fswap tracks`) of the same input reuses them.

A synthetic face clip is extracted once (MTCNN, side a) and converted with a tiny random model, once from the
record and once detecting again; a record with every face moved by a known offset shows convert really
takes its faces from the record."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from fswap.catalog import Catalog
from fswap.config import load_pipeline
from fswap.context import RunContext
from fswap.data.detections import DETECTIONS
from fswap.data.faceset import FaceSet
from fswap.plugins import make_plugin_manager
from fswap.run import run_pipeline
from fswap.samples import make_face_video, make_image_folder

pytestmark = pytest.mark.slow

FRAMES = 12
SHIFT = 8.0  # px added to every recorded face of the moved record


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.from_plugin_manager(make_plugin_manager())


def write(root: Path, workdir: str, convert_toml: str = "") -> Path:
    path = root / f"{workdir}.toml"
    path.write_text(
        f'workdir = "{workdir}"\n[extract.a]\ninput = "in.mp4"\n[extract.b]\ninput = "b"\n'
        f'[convert]\ninput = "in.mp4"\nmodel = "work/model/export"\nlabel = {{ enabled = false }}\n'
        f"{convert_toml}\n",
        encoding="utf-8",
    )
    return path


def run(path: Path, catalog: Catalog, stage: str) -> tuple[dict, dict]:
    ctx = RunContext(pipeline=load_pipeline(path, catalog=catalog), catalog=catalog, pm=make_plugin_manager(),
                     progress=False)
    (result,) = run_pipeline(ctx, [stage])
    full = json.loads(result.outputs["summary"].read_text()) if "summary" in result.outputs else {}
    return result.summary, full


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, catalog: Catalog) -> Path:
    """in.mp4 (a moving face), b/ (three stills and one image without a face), extracted; a tiny model."""
    from fswap.model.config import parse_model_config
    from fswap.model.io import save_networks
    from fswap.model.networks import build_networks

    root = tmp_path_factory.mktemp("reuse")
    make_face_video(root / "in.mp4", frames=FRAMES, size=(320, 180), fps=20, seed=3)
    make_image_folder(root / "b", face="grace_hopper", count=3, size=(320, 240), seed=2)
    cv2.imwrite(str(root / "b" / "zz_no_face.png"), np.full((240, 320, 3), 90, np.uint8))
    table = {"resolution": 64, "capacity": "lite", "width_divisor": 16, "attention": {"use": "none"},
             "upsampling": {"use": "nearest"}}
    config = parse_model_config(table, catalog=catalog)
    save_networks(build_networks(config), root / "work" / "model" / "export", config)
    run(write(root, "work"), catalog, "extract")
    return root


def boxes(tracks_file: Path) -> np.ndarray:
    frames = json.loads(tracks_file.read_text())["frames"]
    assert all(len(f["faces"]) == 1 for f in frames), frames
    return np.array([f["faces"][0]["box"] for f in frames])


def test_extract_records_every_processed_frame(project: Path) -> None:
    record = json.loads((project / "work" / "faces" / "a" / DETECTIONS).read_text())
    assert record["input"] == str((project / "in.mp4").resolve())
    assert record["fingerprint"]["kind"] == "video" and record["detector"]["use"] == "mtcnn"
    assert sorted(int(k) for k in record["frames"]) == list(range(FRAMES))
    assert all(len(f["faces"]) == 1 and f["size"] == [320, 180] for f in record["frames"].values())
    faceset = FaceSet.open(project / "work" / "faces" / "a")
    assert faceset.records  # each kept face is one of the recorded ones
    for r in faceset.records:
        recorded = record["frames"][str(r.frame)]["faces"][0]["box"]
        np.testing.assert_allclose(recorded, r.detection.box, atol=1e-3)
    side_b = json.loads((project / "work" / "faces" / "b" / DETECTIONS).read_text())
    assert side_b["fingerprint"]["kind"] == "images" and side_b["fingerprint"]["images"] == 4
    assert [len(side_b["frames"][k]["faces"]) for k in ("0", "1", "2", "3")] == [1, 1, 1, 0]


def frames(folder: Path) -> list[np.ndarray]:
    files = sorted(folder.glob("frame_*.png"))
    assert len(files) == FRAMES
    return [cv2.imread(str(f)) for f in files]


def test_convert_of_the_extract_input_reuses_its_detections(project: Path, catalog: Catalog) -> None:
    """From the record, convert makes the very frames that detecting again makes (full-precision record)."""
    sequence = 'writer = { use = "image_sequence" }\noutput = '
    short, summary = run(write(project, "work", sequence + '"from_record"'), catalog, "convert")
    assert short["faces_from"] == "detections of extract"
    assert summary["alignments"]["used"] == str(project / "work" / "faces" / "a" / DETECTIONS)
    assert summary["alignments"]["frames_from_alignments"] == FRAMES
    assert summary["alignments"]["frames_detected"] == 0
    reused = boxes(project / "work" / "convert" / "tracks.json")
    toml = sequence + '"detected"\nalignments = "detect"'
    short, summary = run(write(project, "work", toml), catalog, "convert")
    assert short["faces_from"] == "detector" and summary["alignments"]["used"] is None
    assert "detect" in summary["alignments"]["why"]
    np.testing.assert_array_equal(reused, boxes(project / "work" / "convert" / "tracks.json"))
    for made, again in zip(frames(project / "from_record"), frames(project / "detected"), strict=True):
        np.testing.assert_array_equal(made, again)


def test_convert_takes_its_faces_from_the_record(project: Path, catalog: Catalog) -> None:
    """Every recorded face moved by SHIFT px moves every converted track by SHIFT px (the tracker is
    linear), so the faces came from the record and not from the detector."""
    moved = project / "moved"
    shutil.rmtree(moved, ignore_errors=True)
    (moved / "faces" / "a").mkdir(parents=True)
    record = json.loads((project / "work" / "faces" / "a" / DETECTIONS).read_text())
    for frame in record["frames"].values():
        for face in frame["faces"]:
            face["box"][0] += SHIFT
            face["landmarks"] = [[x + SHIFT, y] for x, y in face["landmarks"]]
    (moved / "faces" / "a" / DETECTIONS).write_text(json.dumps(record))
    _, summary = run(write(project, "moved"), catalog, "convert")
    assert summary["alignments"]["frames_from_alignments"] == FRAMES
    shifted = boxes(moved / "convert" / "tracks.json")
    _, _ = run(write(project, "work", 'alignments = "detect"'), catalog, "convert")
    detected = boxes(project / "work" / "convert" / "tracks.json")
    np.testing.assert_allclose(shifted[:, 0] - detected[:, 0], SHIFT, atol=0.01)
    np.testing.assert_allclose(shifted[:, 1:], detected[:, 1:], atol=0.01)


def test_fswap_tracks_reuses_the_detections_too(project: Path, catalog: Catalog) -> None:
    from fswap.stages.convert_select import review_tracks

    path = write(project, "work")
    ctx = RunContext(pipeline=load_pipeline(path, catalog=catalog), catalog=catalog, pm=None, progress=False)
    result = review_tracks(ctx, ctx.pipeline.stage("convert"))
    assert result["faces_from"] == "detections of extract"
    record = json.loads(result["tracks_file"].read_text())
    assert record["dry_run"] is True and record["alignments"]["used"].endswith(DETECTIONS)
