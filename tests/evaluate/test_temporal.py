"""Temporal stability: a jittered video scores higher jitter than its smoothed version; flicker is seen."""

from __future__ import annotations

import json
from pathlib import Path

import attrs
import cv2
import numpy as np
import pytest
from fswap_eval_toys import PHOTO_POINTS

from fswap.components import Detection
from fswap.evaluate import temporal
from fswap.samples import apply_transform, make_face_video
from fswap.video.reader import open_frames


def _landmarks(video: object) -> list[np.ndarray]:
    pts = np.asarray(PHOTO_POINTS["astronaut"])
    return [apply_transform(m, pts) for m in video.transforms]  # type: ignore[attr-defined]


def _box(landmarks: np.ndarray) -> tuple[float, float, float, float]:
    x0, y0 = landmarks.min(axis=0)
    x1, y1 = landmarks.max(axis=0)
    w, h = x1 - x0, y1 - y0
    return (x0 - 0.4 * w, y0 - 0.6 * h, 1.8 * w, 2.0 * h)


def _write_record(path: Path, per_frame: list[np.ndarray]) -> Path:
    frames = [{"frame": i, "faces": [{"track_id": 0, "box": list(_box(lm)), "landmarks": lm.tolist()}]}
              for i, lm in enumerate(per_frame)]
    path.write_text(json.dumps({"frames": frames}))
    return path


def _scores(video: Path, record: Path) -> dict:
    observe = temporal.file_observer(temporal.read_tracks_file(record))
    return temporal.temporal_scores(temporal.collect_tracks(open_frames(video), observe))


def test_jittered_track_scores_higher_than_smooth_and_kalman_smoothed(tmp_path: Path) -> None:
    video = make_face_video(tmp_path / "v.avi", frames=40, motion="mixed", seed=3)
    truth = _landmarks(video)
    rng = np.random.default_rng(0)
    shake = [lm + rng.normal(0, 2.5, 2) + rng.normal(0, 0.8, lm.shape) for lm in truth]
    smooth = _scores(video.path, _write_record(tmp_path / "smooth.json", truth))
    jittered = _scores(video.path, _write_record(tmp_path / "jitter.json", shake))

    # smooth the jittered detections with the convert stage's Kalman tracker
    from fswap_kalman.config import KalmanConfig
    from fswap_kalman.tracker import KalmanTracker

    tracker = KalmanTracker(KalmanConfig())
    smoothed = []
    for i, lm in enumerate(shake):
        faces = tracker.update(i, [Detection(box=_box(lm), confidence=1.0, landmarks=lm)])
        smoothed.append(np.asarray(faces[0].detection.landmarks))
    kalman = _scores(video.path, _write_record(tmp_path / "kalman.json", smoothed))

    assert smooth["tracks"] == jittered["tracks"] == 1
    for key in ("box_jitter_relative", "landmark_jitter_relative", "box_jitter_px", "landmark_jitter_px"):
        assert jittered[key] > 3 * smooth[key], key
        assert jittered[key] > 1.5 * kalman[key], key
    assert jittered["per_track"][0]["frames"] == 40


def test_colour_flicker_sees_brightness_pumping(tmp_path: Path) -> None:
    video = make_face_video(tmp_path / "v.avi", frames=20, motion="pan", seed=1)
    truth = _landmarks(video)
    flicker_path = tmp_path / "flicker.avi"
    writer = cv2.VideoWriter(str(flicker_path), cv2.VideoWriter_fourcc(*"MJPG"), 25.0, video.size)
    for i, lm in enumerate(truth):
        frame = video.render(i).astype(np.int16)
        x, y, w, h = (int(v) for v in _box(lm))
        frame[y:y + h, x:x + w] += 12 if i % 2 else -12  # the face pumps ±12 levels every frame
        writer.write(np.clip(frame, 0, 255).astype(np.uint8))
    writer.release()
    record = _write_record(tmp_path / "t.json", truth)
    steady = _scores(video.path, record)["colour_flicker"]
    pumping = _scores(flicker_path, record)["colour_flicker"]
    assert pumping > 15 > 3 * steady


def test_linker_keeps_ids_and_starts_new_tracks() -> None:
    linker = temporal.IouLinker()
    a = Detection(box=(10, 10, 50, 50), confidence=1, landmarks=np.zeros((5, 2)))
    b = Detection(box=(200, 10, 50, 50), confidence=1, landmarks=np.zeros((5, 2)))
    first = linker.link(0, [a, b])
    moved = attrs.evolve(a, box=(14, 12, 50, 50))
    second = linker.link(1, [b, moved])
    assert [t for t, _ in first] == [0, 1]
    assert [t for t, _ in second] == [1, 0]
    far = Detection(box=(400, 200, 40, 40), confidence=1, landmarks=np.zeros((5, 2)))
    assert linker.link(2, [far])[0][0] == 2


def test_bad_tracks_file_is_an_input_error(tmp_path: Path) -> None:
    from fswap.errors import InputError

    bad = tmp_path / "tracks.json"
    bad.write_text('{"frames": [{"faces": []}]}')
    with pytest.raises(InputError, match="unreadable tracks file"):
        temporal.read_tracks_file(bad)


def _shaken_video(path: Path, video: object, offsets: np.ndarray) -> None:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25.0, video.size)  # type: ignore[attr-defined]
    for i, m in enumerate(video.transforms):  # type: ignore[attr-defined]
        moved = np.array(m, dtype=np.float64)
        moved[:, 2] += offsets[i]
        writer.write(attrs.evolve(video, transforms=(moved,)).render(0))  # type: ignore[misc]
    writer.release()


@pytest.mark.slow
def test_redetected_jittered_video_scores_higher_than_the_smooth_one(tmp_path: Path) -> None:
    from fswap_mtcnn.config import MtcnnConfig
    from fswap_mtcnn.detector import MtcnnDetector

    video = make_face_video(tmp_path / "smooth.avi", frames=24, motion="pan", seed=5)
    offsets = np.random.default_rng(1).normal(0, 3.0, (24, 2))
    _shaken_video(tmp_path / "shaken.avi", video, offsets)
    detector = MtcnnDetector(MtcnnConfig())
    scores = {}
    for name in ("smooth", "shaken"):
        frames = open_frames(tmp_path / f"{name}.avi")
        tracks = temporal.collect_tracks(frames, temporal.detector_observer(detector))
        scores[name] = temporal.temporal_scores(tracks)
    assert scores["smooth"]["tracks"] == scores["shaken"]["tracks"] == 1
    assert scores["shaken"]["landmark_jitter_px"] > 2 * scores["smooth"]["landmark_jitter_px"]
    assert scores["shaken"]["box_jitter_px"] > 1.5 * scores["smooth"]["box_jitter_px"]
