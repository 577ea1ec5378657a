"""fswap.reference: the one reader of identity references (extract's policy = "identity", convert's
select = "identity")."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fswap.components import AlignedFace, Detection
from fswap.errors import InputError
from fswap.reference import reference_embedding


class _Detector:
    def __init__(self, faces: list[Detection]) -> None:
        self.faces = faces

    def detect(self, images: list[np.ndarray]) -> list[list[Detection]]:
        return [self.faces for _ in images]


class _Aligner:
    def align(self, image: np.ndarray, det: Detection) -> AlignedFace:
        x, y, w, h = (int(v) for v in det.box)
        crop = np.ascontiguousarray(image[y : y + h, x : x + w])
        return AlignedFace(image=crop, matrix=np.eye(2, 3), landmarks=det.landmarks, detection=det)


class _MeanEmbedder:
    """Embeds a face as its mean BGR colour, so the test can tell which face was embedded."""

    def embed(self, faces: list[np.ndarray]) -> list[np.ndarray]:
        return [f.reshape(-1, 3).mean(axis=0) for f in faces]


def _image(path: Path) -> Path:
    import cv2

    image = np.zeros((40, 80, 3), np.uint8)
    image[:, :40] = (10, 20, 30)
    image[:, 40:] = (200, 100, 50)
    cv2.imwrite(str(path), image)
    return path


def _det(x: int, confidence: float) -> Detection:
    return Detection(box=(x, 0, 40, 40), confidence=confidence, landmarks=np.zeros((5, 2)))


def test_the_most_confident_face_of_the_image_is_embedded(tmp_path: Path) -> None:
    path = _image(tmp_path / "ref.png")
    detector = _Detector([_det(0, 0.7), _det(40, 0.99)])
    got = reference_embedding(path, detector, _Aligner(), _MeanEmbedder(), where="[convert] reference")
    np.testing.assert_array_equal(got, np.array([200, 100, 50], np.float32))
    assert got.dtype == np.float32


def test_a_npy_reference_is_read_as_a_vector(tmp_path: Path) -> None:
    np.save(tmp_path / "ref.npy", np.arange(6, dtype=np.float64).reshape(2, 3))
    got = reference_embedding(tmp_path / "ref.npy", None, None, None, where="[extract] reference")
    np.testing.assert_array_equal(got, np.arange(6, dtype=np.float32))


@pytest.mark.parametrize("case", ["missing", "bad_npy", "no_face"])
def test_errors_name_the_option_and_the_file(tmp_path: Path, case: str) -> None:
    path = {"missing": tmp_path / "nobody.png", "bad_npy": tmp_path / "bad.npy",
            "no_face": tmp_path / "empty.png"}[case]
    if case == "bad_npy":
        path.write_bytes(b"not numpy")
    if case == "no_face":
        _image(path)
    with pytest.raises(InputError) as caught:
        reference_embedding(path, _Detector([]), _Aligner(), _MeanEmbedder(), where="[convert] reference")
    message = str(caught.value)
    assert message.startswith(f"[convert] reference {path}")
    expected = {"missing": "does not exist", "bad_npy": "not a readable .npy", "no_face": "no face found"}
    assert expected[case] in message
