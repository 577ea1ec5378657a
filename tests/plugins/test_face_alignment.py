"""fswap_face_alignment: the adapter around face-alignment's 2D-FAN, tested without the package or network.

The real package downloads its weights at construction, so these tests drive the adapter with stand-ins
for the package (import failure, download failure) and for the FAN model (its documented call and result).
"""

from __future__ import annotations

import importlib.util
import types
import urllib.error
from typing import Any

import numpy as np
import pytest
from fswap_face_alignment import aligner as fan_module
from fswap_face_alignment.aligner import FanAligner, fan_box, make_backend
from fswap_face_alignment.config import FaceAlignmentConfig

from fswap import Detection
from fswap.errors import PluginError, WeightsError
from fswap.extract.alignment import alignment_matrix, five_from_68

FIVE = np.array([[100.0, 110.0], [140.0, 108.0], [120.0, 130.0], [104.0, 150.0], [138.0, 149.0]])
DETECTION = Detection(box=(90.0, 80.0, 60.0, 90.0), confidence=0.99, landmarks=FIVE)


def face68() -> np.ndarray:
    """68 points whose eye centres, nose tip and mouth corners are FIVE shifted by (+2, +1)."""
    pts = np.zeros((68, 2))
    pts[:, 0], pts[:, 1] = np.linspace(90, 150, 68), np.linspace(80, 170, 68)
    pts[36:42] = FIVE[0] + [2, 1]
    pts[42:48] = FIVE[1] + [2, 1]
    pts[30], pts[48], pts[54] = FIVE[2] + [2, 1], FIVE[3] + [2, 1], FIVE[4] + [2, 1]
    return pts


class RecordingFan:
    """Stands in for face_alignment.FaceAlignment: records calls, returns the given landmarks."""

    def __init__(self, result: Any) -> None:
        self.result = result
        self.calls: list[tuple[np.ndarray, list[np.ndarray]]] = []

    def get_landmarks_from_image(self, image: np.ndarray, detected_faces: list[np.ndarray]) -> Any:
        self.calls.append((image, detected_faces))
        return self.result


def frame() -> np.ndarray:
    image = np.zeros((240, 320, 3), np.uint8)
    image[..., 0] = 10  # blue
    image[..., 2] = 200  # red
    return image


def test_without_the_extra_it_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    if importlib.util.find_spec("face_alignment") is not None:
        monkeypatch.setattr(fan_module.importlib, "import_module", _raise_import_error)
    with pytest.raises(PluginError, match=r'pip install "fswap\[face-alignment\]"'):
        FanAligner(FaceAlignmentConfig())


def _raise_import_error(name: str) -> Any:
    raise ImportError(f"No module named '{name}'")


def test_offline_weight_download_is_a_weights_error(monkeypatch: pytest.MonkeyPatch) -> None:
    made: dict[str, Any] = {}

    def failing(kind: Any, **kwargs: Any) -> Any:
        made.update(kind=kind, **kwargs)
        raise urllib.error.URLError("Temporary failure in name resolution")

    fake = types.SimpleNamespace(LandmarksType=types.SimpleNamespace(TWO_D=1), FaceAlignment=failing)
    monkeypatch.setattr(fan_module, "_import_face_alignment", lambda: fake)
    with pytest.raises(WeightsError, match=r"could not download its 2D-FAN weights.*dlib68"):
        make_backend(FaceAlignmentConfig(device="cuda:1"))
    assert made == {"kind": 1, "device": "cuda:1", "flip_input": False, "face_detector": "folder"}


def test_old_landmarks_type_name_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = types.SimpleNamespace(
        LandmarksType=types.SimpleNamespace(_2D="two"), FaceAlignment=lambda k, **kw: k
    )
    monkeypatch.setattr(fan_module, "_import_face_alignment", lambda: fake)
    assert make_backend(FaceAlignmentConfig()) == "two"


def test_box_conversion() -> None:
    np.testing.assert_allclose(fan_box((10, 20, 40, 60), 1.0), [10, 20, 50, 80])
    np.testing.assert_allclose(fan_box((10, 20, 40, 60), 1.5), [0, 5, 60, 95])


def test_adapter_passes_rgb_and_box_and_returns_68_points() -> None:
    fan = RecordingFan([face68()])
    aligner = FanAligner(FaceAlignmentConfig(box_scale=1.2), backend=fan)
    face = aligner.align(frame(), DETECTION)
    ((image, boxes),) = fan.calls
    assert image[0, 0, 0] == 200 and image[0, 0, 2] == 10  # RGB, as face-alignment expects
    np.testing.assert_allclose(boxes[0], fan_box(DETECTION.box, 1.2))
    np.testing.assert_array_equal(face.landmarks, face68())
    np.testing.assert_allclose(face.matrix, alignment_matrix(FIVE, 256))  # placed by the detector's points
    on68 = FanAligner(FaceAlignmentConfig(align_on="landmarks"), backend=fan).align(frame(), DETECTION)
    np.testing.assert_allclose(on68.matrix, alignment_matrix(five_from_68(face68()), 256))
    assert face.image.shape == (256, 256, 3)


def test_three_column_output_is_trimmed_and_empty_output_rejected() -> None:
    with_depth = np.hstack([face68(), np.ones((68, 1))])
    face = FanAligner(FaceAlignmentConfig(), backend=RecordingFan([with_depth])).align(frame(), DETECTION)
    assert face.landmarks.shape == (68, 2)
    for result in (None, [], [np.zeros((5, 2))]):
        with pytest.raises(ValueError, match="face-alignment returned"):
            FanAligner(FaceAlignmentConfig(), backend=RecordingFan(result)).align(frame(), DETECTION)
