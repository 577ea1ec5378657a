"""Extract's gates on made-to-order input: blurry faces and near-duplicates are skipped and counted, pose
coverage is stored per face and summarised, and each face set gets a contact sheet."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from test_stage import run, write_pipeline

from fswap.catalog import Catalog
from fswap.data.faceset import FaceSet
from fswap.extract.calibration import gaussian_blur, motion_blur, turn_face
from fswap.samples import make_face_video, make_image_folder, photo_detection, public_domain_face
from fswap.stages.extract_config import MIN_SHARPNESS


def extract(tmp_path: Path, catalog: Catalog, source: Path, options: str = "") -> tuple[dict, FaceSet]:
    path = write_pipeline(tmp_path, f'[extract]\n{options}\n[extract.a]\ninput = "{source}"\n')
    summary = run(path, catalog, resume=False)
    return summary, FaceSet.open(tmp_path / "work" / "faces" / "a")


def turned_folder(folder: Path, name: str, yaws: list[float], pitches: list[float] | None = None) -> Path:
    """The sample photo with the head turned to each yaw (and pitch), one PNG per pose."""
    folder.mkdir(parents=True, exist_ok=True)
    photo, points = public_domain_face(name), photo_detection(name).landmarks
    for i, yaw in enumerate(yaws):
        pitch = 0.0 if pitches is None else pitches[i]
        cv2.imwrite(str(folder / f"{i:03d}.png"), turn_face(photo, points, yaw=yaw, pitch=pitch))
    return folder


def test_blurred_frames_are_skipped_sharp_ones_kept(tmp_path: Path, catalog: Catalog) -> None:
    media = make_image_folder(tmp_path / "in", count=4, size=(640, 360), seed=5)
    blurred = {1: gaussian_blur(media.render(1), 2.0), 3: motion_blur(media.render(3), 13, 30.0)}
    for i, image in blurred.items():
        cv2.imwrite(str(media.paths[i]), image)
    summary, faceset = extract(tmp_path, catalog, tmp_path / "in", 'dedupe = "off"')
    assert summary["a.faces_found"] == 4 and summary["a.skipped_blurry"] == 2
    assert [r.frame for r in faceset.records] == [0, 2]
    quality = faceset.meta["extract"]["faces"]
    assert sorted(quality) == ["000000_0.png", "000002_0.png"]
    assert all(q["sharpness"] >= MIN_SHARPNESS for q in quality.values())
    # the gate switched off keeps them all
    summary, faceset = extract(tmp_path, catalog, tmp_path / "in", 'dedupe = "off"\nmin_sharpness = 0.0')
    assert summary["a.skipped_blurry"] == 0 and len(faceset) == 4


def test_a_frozen_shot_is_deduplicated_a_moving_head_kept(tmp_path: Path, catalog: Catalog) -> None:
    frozen = make_face_video(tmp_path / "frozen.mp4", frames=6, size=(640, 360), motion="static", seed=3)
    summary, faceset = extract(tmp_path, catalog, frozen.path)
    assert summary["a.faces_found"] == 6 and summary["a.skipped_duplicate"] == 5 and len(faceset) == 1
    summary, faceset = extract(tmp_path, catalog, frozen.path, 'dedupe = "off"')
    assert summary["a.skipped_duplicate"] == 0 and len(faceset) == 6
    turning = turned_folder(tmp_path / "turning", "astronaut", [-24.0, -16.0, -8.0, 0.0, 8.0, 16.0, 24.0])
    summary, faceset = extract(tmp_path, catalog, turning, 'dedupe = "always"')
    assert summary["a.skipped_duplicate"] == 0 and len(faceset) == 7
    still = turned_folder(tmp_path / "still", "astronaut", [8.0, 8.0, 8.0])  # the same still three times
    summary, faceset = extract(tmp_path, catalog, still, 'dedupe = "always"')
    assert summary["a.skipped_duplicate"] == 2 and len(faceset) == 1
    summary, faceset = extract(tmp_path, catalog, still)  # by default, stills are taken as chosen
    assert summary["a.skipped_duplicate"] == 0 and len(faceset) == 3


def test_pose_coverage_of_a_frontal_and_a_turned_set(tmp_path: Path, catalog: Catalog) -> None:
    frontal = make_image_folder(tmp_path / "frontal", face="grace_hopper", count=5, size=(640, 480), seed=2)
    summary, faceset = extract(tmp_path, catalog, frontal.paths[0].parent, 'dedupe = "off"')
    assert len(faceset) == 5
    assert -10.0 < summary["a.pose.yaw_min"] <= summary["a.pose.yaw_max"] < 10.0
    assert summary["a.pose.cells_covered"] == 1 and summary["a.pose.yaw_histogram"][3] == 5
    sheet = cv2.imread(str(faceset.path / "contact_sheet.png"))
    assert sheet is not None and sheet.shape[0] > 200 and sheet.shape[1] > 600

    yaws = [-35.0, -20.0, 0.0, 20.0, 35.0, 0.0, 0.0]
    pitches = [0.0, 0.0, 0.0, 0.0, 0.0, -20.0, 20.0]
    turned = turned_folder(tmp_path / "turned", "grace_hopper", yaws, pitches)
    summary, faceset = extract(tmp_path, catalog, turned, 'dedupe = "off"')
    assert len(faceset) == 7
    # MTCNN's 5 points follow a turn only partly (the estimate reads about 0.4 of the rendered ±35°)
    assert summary["a.pose.yaw_min"] < -10.0 and summary["a.pose.yaw_max"] > 5.0
    assert summary["a.pose.pitch_max"] - summary["a.pose.pitch_min"] > 15.0
    assert summary["a.pose.cells_covered"] >= 4
    stored = faceset.meta["extract"]["faces"]
    order = [stored[r.file]["yaw"] for r in faceset.records[:5]]
    assert order == sorted(order)  # the estimate follows the rendered turn, sign included
    assert (faceset.path / "contact_sheet.png").is_file()


def test_contact_sheet_can_be_switched_off(tmp_path: Path, catalog: Catalog) -> None:
    media = make_image_folder(tmp_path / "in", count=2, size=(320, 240), seed=1)
    options = "contact_sheet = false"
    summary, faceset = extract(tmp_path, catalog, media.paths[0].parent, options)
    assert len(faceset) == 2 and not (faceset.path / "contact_sheet.png").exists()
    assert summary["a.pose.cells_covered"] >= 1  # the summary still reports the coverage


@pytest.mark.parametrize("option", ["min_sharpness = -1.0", "dedupe_threshold = -0.1"])
def test_gate_options_are_validated(tmp_path: Path, catalog: Catalog, option: str) -> None:
    from fswap.config import load_pipeline
    from fswap.errors import ConfigError

    path = write_pipeline(tmp_path, f'[extract]\n{option}\n[extract.a]\ninput = "a.mp4"\n')
    with pytest.raises(ConfigError, match=rf"{option.split()[0]} must be ≥ 0"):
        load_pipeline(path, catalog=catalog)
    assert np.isfinite(MIN_SHARPNESS)
