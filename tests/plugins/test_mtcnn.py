"""fswap_mtcnn: config validation, downscaling arithmetic, row parsing, batched = per-frame results."""

from __future__ import annotations

import logging
from pathlib import Path

import attrs
import numpy as np
import pytest
from fswap_mtcnn.config import MtcnnConfig
from fswap_mtcnn.detector import MtcnnDetector, downscale_factor, rows_to_detections

from fswap.samples import make_image_folder, public_domain_face


@pytest.fixture(scope="module")
def detector() -> MtcnnDetector:
    return MtcnnDetector(MtcnnConfig())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"min_face_size": -1}, "min_face_size must be ≥ 8, received -1"),
        ({"thresholds": (0.6, 0.7)}, "thresholds must have 3 items, received 2"),
        ({"thresholds": (0.6, 0.7, 1.2)}, "between 0 and 1"),
        ({"scale_factor": 0.99}, "scale_factor must be between 0.1 and 0.95, received 0.99"),
        ({"max_side": 10}, "max_side must be 0 (off) or ≥ 64, received 10"),
        ({"batch_size": 0}, "batch_size must be ≥ 1, received 0"),
    ],
)
def test_config_validation(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        MtcnnConfig(**kwargs)


def test_downscale_factors() -> None:
    auto = MtcnnConfig(auto_downscale=True, max_side=0)
    assert downscale_factor(1920, 1080, auto) == pytest.approx(1 / 4)
    assert downscale_factor(1280, 720, auto) == pytest.approx(1 / 3)
    assert downscale_factor(858, 480, auto) == pytest.approx(1 / 2)
    assert downscale_factor(640, 360, auto) == 1.0
    capped = MtcnnConfig(max_side=1000)
    assert downscale_factor(4000, 3000, capped) == pytest.approx(0.25)
    assert downscale_factor(800, 600, capped) == 1.0
    assert downscale_factor(8000, 6000, MtcnnConfig(max_side=0)) == 1.0


def test_rows_are_parsed_scaled_and_sorted() -> None:
    rows = np.zeros((2, 16))
    rows[0, 1:6] = [10, 20, 30, 40, 0.80]
    rows[1, 1:6] = [50, 60, 70, 80, 0.95]
    rows[1, 6:11] = [1, 2, 3, 4, 5]
    rows[1, 11:16] = [6, 7, 8, 9, 10]
    found = rows_to_detections(rows, 0.5, 0.0)
    assert [d.confidence for d in found] == [0.95, 0.80]
    assert found[0].box == (100.0, 120.0, 140.0, 160.0)
    np.testing.assert_array_equal(found[0].landmarks, [[2, 12], [4, 14], [6, 16], [8, 18], [10, 20]])
    assert isinstance(found[0].box[0], float) and isinstance(found[0].confidence, float)
    assert len(rows_to_detections(rows, 1.0, 0.9)) == 1


def test_numpy_rows_match_the_packages_json_output(detector: MtcnnDetector) -> None:
    rgb = np.ascontiguousarray(public_domain_face("astronaut")[:, :, ::-1])
    (face,) = detector._mtcnn.detect_faces(rgb)
    ((det,),) = detector.detect([public_domain_face("astronaut")])
    for i, key in enumerate(("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")):
        assert np.abs(det.landmarks[i] - face["keypoints"][key]).max() <= 1.0
    assert np.abs(np.array(det.box) - face["box"]).max() <= 1.0


def test_batches_of_mixed_sizes_equal_single_calls(detector: MtcnnDetector) -> None:
    a, g = public_domain_face("astronaut"), public_domain_face("grace_hopper")
    batch = detector.detect([a, g, a, np.zeros((100, 100, 3), np.uint8)])
    single = [detector.detect([f])[0] for f in (a, g)]
    assert len(batch[3]) == 0
    for got, want in zip(batch[:2], single, strict=True):
        assert len(got) == len(want) == 1
        np.testing.assert_allclose(got[0].landmarks, want[0].landmarks, atol=1e-3)
    np.testing.assert_allclose(batch[0][0].landmarks, batch[2][0].landmarks)


def test_huge_frames_are_detected_downscaled(tmp_path: Path) -> None:
    stills = make_image_folder(tmp_path, count=1, size=(4000, 3000), seed=9, face_frac=0.3)
    detector = MtcnnDetector(attrs.evolve(MtcnnConfig(), max_side=1000))
    (found,) = detector.detect([stills.render(0)])
    assert len(found) == 1
    err = np.linalg.norm(found[0].landmarks - stills.true_landmarks(0), axis=1)
    assert err.max() < 0.025 * stills.true_box(0)[2]  # ~3 px at the ÷4 detection scale (face ≈ 900 px)


def test_large_min_face_size_still_detects_and_filters() -> None:
    """mtcnn 1.0 alone finds nothing once min_face_size > ~20 (its pyramid drops under 12 px); ours shrinks
    the frame instead, so the option keeps its meaning: faces that big are found, smaller ones are not."""
    astronaut = public_domain_face("astronaut")  # face box ≈ 83 × 107 px
    (found,) = MtcnnDetector(MtcnnConfig(min_face_size=60)).detect([astronaut])
    assert len(found) == 1 and abs(found[0].landmarks[0][0] - 203.5) < 3
    (none,) = MtcnnDetector(MtcnnConfig(min_face_size=200)).detect([astronaut])
    assert none == []


class _RetracingMtcnn:
    """Stands in for mtcnn.MTCNN: logs what Keras' predict logs on a new input size, and one other warning."""

    def detect_faces(self, images: list[np.ndarray], **_kwargs: object) -> np.ndarray:
        tf_logger = logging.getLogger("tensorflow")
        tf_logger.warning("5 out of the last 9 calls to <function predict> triggered tf.function retracing.")
        tf_logger.warning("something else went wrong")
        return np.zeros((0, 16))


def test_run_hides_only_the_retracing_warning_and_only_while_mtcnn_runs(
        caplog: pytest.LogCaptureFixture) -> None:
    detector = object.__new__(MtcnnDetector)  # no mtcnn/TensorFlow import: its networks are not needed
    detector._mtcnn, detector._kwargs = _RetracingMtcnn(), {}
    with caplog.at_level(logging.WARNING, logger="tensorflow"):
        rows = detector._run([np.zeros((8, 8, 3), np.uint8)], min_face=20)
        logging.getLogger("tensorflow").warning("later: triggered tf.function retracing")
    assert rows.shape == (0, 16)
    messages = [r.getMessage() for r in caplog.records]
    assert messages == ["something else went wrong", "later: triggered tf.function retracing"]
