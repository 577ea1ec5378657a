"""Face-part mode with the real dlib68 aligner and parts68 mask on a real face (no TensorFlow): only the
chosen parts change."""

from __future__ import annotations

import numpy as np
from fswap_dlib.aligner import Dlib68Aligner
from fswap_dlib.config import Dlib68Config
from fswap_kalman.config import KalmanConfig
from fswap_kalman.tracker import KalmanTracker
from fswap_standard.blenders import FeatherBlender
from fswap_standard.color import NoTransfer
from fswap_standard.convert_config import FeatherBlendConfig, NoTransferConfig
from fswap_standard.extract_config import Parts68Config
from fswap_standard.masks import Parts68Mask

from fswap.convert.engine import Converter, ConvertOptions
from fswap.extract.alignment import PARTS_68
from fswap.testing import sample_detection, sample_frame


class OneFace:
    def detect(self, frames):
        return [[sample_detection("astronaut")] for _ in frames]


class GreenFace:
    resolution = 64

    def __call__(self, faces):
        n = len(faces)
        face = np.zeros((n, 64, 64, 3), np.uint8)
        face[..., 1] = 255  # pure green: no pixel of the photo is close to it
        return face, np.ones((n, 64, 64), np.float32)


def _changed(parts: Parts68Mask | None) -> tuple[np.ndarray, np.ndarray]:
    frame = sample_frame("astronaut")
    aligner = Dlib68Aligner(Dlib68Config())
    conv = Converter(
        detector=OneFace(),
        aligner=aligner,
        tracker=KalmanTracker(KalmanConfig()),
        generator=GreenFace(),
        color=NoTransfer(NoTransferConfig()),
        blender=FeatherBlender(FeatherBlendConfig()),
        parts=parts,
        options=ConvertOptions(label=False),
    )
    out = next(iter(conv.run([(0, frame)])))
    landmarks = aligner.align(frame, sample_detection("astronaut")).landmarks
    return np.abs(out.astype(int) - frame).sum(axis=2) > 30, landmarks


def _near(points: np.ndarray, shape: tuple[int, int], radius: float) -> np.ndarray:
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
    d = np.min([np.hypot(xx - x, yy - y) for x, y in points], axis=0)
    return d <= radius


def test_only_the_eyes_change():
    whole, _ = _changed(None)
    eyes, landmarks = _changed(Parts68Mask(Parts68Config(parts=("eyes",))))
    eye_points = np.vstack([landmarks[a:b] for a, b in PARTS_68["eyes"]])
    mouth_points = np.vstack([landmarks[a:b] for a, b in PARTS_68["mouth"]])
    assert eyes.sum() > 50  # something was swapped
    assert eyes.sum() < 0.35 * whole.sum()  # far less than the whole face
    assert eyes[_near(eye_points, eyes.shape, 6)].mean() > 0.8  # the eyes are replaced
    assert eyes[_near(mouth_points, eyes.shape, 6)].mean() < 0.05  # the mouth is not
    assert whole[_near(mouth_points, whole.shape, 6)].mean() > 0.5  # (mostly, in whole-face mode)
