"""Reuse of extract's detections in convert: the record, when it fits the input, and the detector it feeds.

The stage-level runs (extract, then convert from the record) are in test_alignments_stage.py."""

from __future__ import annotations

import json
import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from fswap.catalog import Catalog
from fswap.components import Detection
from fswap.config import load_pipeline
from fswap.context import RunContext
from fswap.data.detections import DETECTIONS, DetectionLog, input_fingerprint
from fswap.errors import InputError, StageError
from fswap.plugins import make_plugin_manager
from fswap.stages.convert_alignments import faces_detector, find_alignments
from fswap.stages.extract_config import result_settings
from fswap.video.reader import open_frames


def face(x: float) -> Detection:
    return Detection(box=(x, 20.0, 30.0, 30.0), confidence=0.99, landmarks=np.full((5, 2), x + 10.0))


class CountingDetector:
    """A plain Detector that finds one face at x = 100 in every image it is given, and counts the images."""

    def __init__(self) -> None:
        self.images = 0

    def detect(self, frames):
        self.images += len(frames)
        return [[face(100.0)] for _ in frames]


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.from_plugin_manager(make_plugin_manager())


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """clip/ with three 64×48 frames and a pipeline converting it."""
    (tmp_path / "clip").mkdir()
    for i in range(3):
        cv2.imwrite(str(tmp_path / "clip" / f"{i:03d}.png"), np.full((48, 64, 3), 40 * i, np.uint8))
    return tmp_path


def context(root: Path, catalog: Catalog, convert_toml: str = "") -> RunContext:
    path = root / "pipeline.toml"
    path.write_text(f'workdir = "work"\n[convert]\ninput = "clip"\n{convert_toml}\n', encoding="utf-8")
    return RunContext(pipeline=load_pipeline(path, catalog=catalog), catalog=catalog, pm=None, progress=False)


def record(root: Path, ctx: RunContext, side: str = "a", detector: dict | None = None) -> Path:
    """Write the detections.json extract would have written for clip/ (faces at x = 10, 11, 12)."""
    source = open_frames(root / "clip")
    log = DetectionLog(
        input=str(source.path.resolve()),
        fingerprint=input_fingerprint(source.path, source.is_video, source.files),
        detector=detector or result_settings(ctx.pipeline.stage("convert").detector),
    )
    for i in range(3):
        log.record(i, (64, 48), [face(10.0 + i)])
    path = ctx.pipeline.workdir.faceset(side) / DETECTIONS
    log.save(path)
    return path


def test_log_round_trips_every_frame_including_empty_ones(tmp_path):
    log = DetectionLog(input="/clip.mp4", fingerprint={"kind": "video", "bytes": 1, "mtime_ns": 2},
                       detector={"use": "mtcnn"})
    log.record(0, (640, 360), [face(1.5), face(200.25)])
    log.record(3, (640, 360), [])
    log.save(tmp_path / DETECTIONS)
    back = DetectionLog.open(tmp_path / DETECTIONS)
    assert sorted(back.frames) == [0, 3] and back.frames[3].faces == ()
    assert [d.box for d in back.frames[0].faces] == [(1.5, 20.0, 30.0, 30.0), (200.25, 20.0, 30.0, 30.0)]
    assert back.frames[0].size == (640, 360) and back.detector == {"use": "mtcnn"}
    np.testing.assert_array_equal(back.frames[0].faces[1].landmarks, np.full((5, 2), 210.25))


@pytest.mark.parametrize("damage", ["not json", '{"format": "other"}', '{"format": "fswap-detections", '
                                    '"version": 1, "input": "x", "fingerprint": {}, "detector": {}, '
                                    '"frames": {"0": {"faces": []}}}'])
def test_a_damaged_log_is_an_input_error_naming_the_file(tmp_path, damage):
    (tmp_path / DETECTIONS).write_text(damage, encoding="utf-8")
    with pytest.raises(InputError, match=str(tmp_path / DETECTIONS)):
        DetectionLog.open(tmp_path / DETECTIONS)


def test_fingerprint_changes_with_the_content_of_a_folder(project):
    source = open_frames(project / "clip")
    before = input_fingerprint(source.path, False, source.files)
    assert before == input_fingerprint(source.path, False, source.files)
    cv2.imwrite(str(project / "clip" / "001.png"), np.zeros((48, 64, 3), np.uint8))  # other size in bytes
    os.utime(project / "clip" / "001.png", ns=(1, 1))
    assert input_fingerprint(source.path, False, source.files) != before
    video = project / "clip.mp4"
    video.write_bytes(b"0" * 10)
    first = input_fingerprint(video, True)
    os.utime(video, ns=(5, 5))
    assert input_fingerprint(video, True) != first and first["bytes"] == 10


def test_recorded_detector_answers_recorded_frames_and_detects_the_rest(project, catalog):
    ctx = context(project, catalog)
    log = DetectionLog.open(record(project, ctx))
    real = CountingDetector()
    choice = find_alignments(ctx, ctx.pipeline.stage("convert"), open_frames(project / "clip"))
    detector = faces_detector(choice, real)
    frame = np.zeros((48, 64, 3), np.uint8)
    resized = np.zeros((96, 128, 3), np.uint8)
    from fswap.frame_guard import detect_frames

    found = detect_frames(detector, [(0, frame), (1, resized), (2, frame), (7, frame)])
    assert [[d.box[0] for d in faces] for faces in found] == [[10.0], [100.0], [12.0], [100.0]]
    assert real.images == 2  # frame 1 was recorded at another size, frame 7 not at all
    assert detector.counts() == {"frames_from_alignments": 2, "frames_detected": 2}
    assert [d.box[0] for d in detector.detect([frame])[0]] == [100.0]  # e.g. a reference photo: detected
    assert real.images == 3 and log.frames[0].faces[0].box[0] == 10.0


def test_auto_reuses_a_matching_record_of_either_side(project, catalog):
    ctx = context(project, catalog)
    path = record(project, ctx, side="b")
    choice = find_alignments(ctx, ctx.pipeline.stage("convert"), open_frames(project / "clip"))
    assert choice.log is not None and choice.log.path == path
    assert choice.to_json({"frames_from_alignments": 3})["used"] == str(path)
    assert "3 frames" in choice.why


def test_auto_detects_when_the_input_changed_and_reuse_refuses(project, catalog):
    ctx = context(project, catalog)
    record(project, ctx)
    os.utime(project / "clip" / "002.png", ns=(10**9, 10**9))
    choice = find_alignments(ctx, ctx.pipeline.stage("convert"), open_frames(project / "clip"))
    assert choice.log is None and "changed since extract read it" in choice.why
    ctx = context(project, catalog, 'alignments = "reuse"')
    with pytest.raises(StageError, match=r'alignments = "reuse".*changed since extract read it'):
        find_alignments(ctx, ctx.pipeline.stage("convert"), open_frames(project / "clip"))


def test_another_detector_is_reused_only_when_asked(project, catalog):
    ctx = context(project, catalog)
    record(project, ctx, detector={"use": "mtcnn", "min_face_size": 80})
    choice = find_alignments(ctx, ctx.pipeline.stage("convert"), open_frames(project / "clip"))
    assert choice.log is None and "min_face_size=80" in choice.why
    ctx = context(project, catalog, 'alignments = "reuse"')
    assert find_alignments(ctx, ctx.pipeline.stage("convert"), open_frames(project / "clip")).log is not None


def test_detect_ignores_the_record_and_other_inputs_are_not_matched(project, catalog):
    ctx = context(project, catalog, 'alignments = "detect"')
    record(project, ctx)
    assert find_alignments(ctx, ctx.pipeline.stage("convert"), open_frames(project / "clip")).log is None
    ctx = context(project, catalog)
    other = json.loads((ctx.pipeline.workdir.faceset("a") / DETECTIONS).read_text())
    other["input"] = str(project / "elsewhere.mp4")
    (ctx.pipeline.workdir.faceset("a") / DETECTIONS).write_text(json.dumps(other))
    choice = find_alignments(ctx, ctx.pipeline.stage("convert"), open_frames(project / "clip"))
    assert choice.log is None and "elsewhere.mp4" in choice.why


def test_reuse_without_any_record_says_to_run_extract(project, catalog):
    ctx = context(project, catalog, 'alignments = "reuse"')
    with pytest.raises(StageError, match=r"usable detections of .*clip: no detections.json in .*run extract"):
        find_alignments(ctx, ctx.pipeline.stage("convert"), open_frames(project / "clip"))


def test_a_record_without_frames_is_not_used_and_says_how_to_make_one(project, catalog):
    """A face set extracted before detections were recorded, then resumed, has an empty record."""
    ctx = context(project, catalog)
    path = record(project, ctx)
    empty = json.loads(path.read_text())
    empty["frames"] = {}
    path.write_text(json.dumps(empty))
    choice = find_alignments(ctx, ctx.pipeline.stage("convert"), open_frames(project / "clip"))
    assert choice.log is None and "holds no frames" in choice.why and "--fresh" in choice.why


def test_faces_from_names_the_record_only_for_frames_it_answered():
    from fswap.stages.convert_alignments import faces_from

    assert faces_from(None) == "detector"
    assert faces_from({"frames_from_alignments": 0, "frames_detected": 9}) == "detector"
    assert faces_from({"frames_from_alignments": 9, "frames_detected": 0}) == "detections of extract"
    both = faces_from({"frames_from_alignments": 5, "frames_detected": 4})
    assert both == "detections of extract and detector"
