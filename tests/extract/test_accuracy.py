"""Done-criterion of the extract stage: on a synthetic video with known motion, MTCNN boxes and the aligned
eye positions land within a few pixels of the truth (the still's own detection moved by the known motion)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fswap_standard.aligners import Umeyama5Aligner
from fswap_standard.extract_config import Umeyama5Config

from fswap.extract.alignment import TEMPLATE_5, alignment_matrix, transform_points
from fswap.samples import make_face_video
from fswap.video.reader import open_frames


@pytest.mark.parametrize(
    ("face", "motion", "seed"),
    [
        ("astronaut", "mixed", 11),
        ("grace_hopper", "mixed", 12),
        ("grace_hopper", "pan", 13),
        ("astronaut", "zoom", 14),
    ],
)
def test_boxes_landmarks_and_aligned_eyes_match_the_truth(
    tmp_path: Path, mtcnn_detector: Any, face: str, motion: str, seed: int
) -> None:
    video = make_face_video(
        tmp_path / "v.mp4", face=face, frames=10, size=(640, 360), motion=motion, seed=seed
    )
    frames = dict(open_frames(video.path))  # decoded: includes the codec's loss
    detections = mtcnn_detector.detect([frames[i] for i in range(10)])
    aligner = Umeyama5Aligner(Umeyama5Config())
    for i, found in enumerate(detections):
        assert len(found) == 1, f"frame {i}: {len(found)} faces"
        det = found[0]
        truth = video.true_landmarks(i)
        assert np.linalg.norm(det.landmarks - truth, axis=1).max() < 3.5
        x, y, w, h = det.box
        tx, ty, tw, th = video.true_box(i)
        if motion != "mixed":  # an upright box of a rotated face has no single "true" size
            # box regression is noisier than the landmarks: a few pixels (≤ 5% of the side)
            assert (
                abs((x + w / 2) - (tx + tw / 2)) < 0.05 * tw and abs((y + h / 2) - (ty + th / 2)) < 0.05 * th
            )
            assert abs(w - tw) < 0.08 * tw and abs(h - th) < 0.08 * th
        face_crop = aligner.align(frames[i], det)
        eyes_in_crop = transform_points(face_crop.matrix, truth[:2])
        ideal = transform_points(alignment_matrix(truth, 256), truth[:2])  # the crop made from the truth
        err = np.linalg.norm(eyes_in_crop - ideal, axis=1).max()
        zoom = float(np.hypot(*face_crop.matrix[:, 0]))  # crop pixels per frame pixel
        assert err < 6.0 and err / zoom < 3.0
        # and the template fit itself leaves the eyes near their template spots (face shape residual)
        assert np.linalg.norm(ideal - TEMPLATE_5[:2] * 256, axis=1).max() < 12.0


def test_downscaled_detection_is_scaled_back(tmp_path: Path) -> None:
    from fswap_mtcnn.config import MtcnnConfig
    from fswap_mtcnn.detector import MtcnnDetector

    video = make_face_video(tmp_path / "hd.avi", frames=3, size=(1280, 720), seed=4, face_frac=0.35)
    detector = MtcnnDetector(MtcnnConfig(auto_downscale=True))  # 1280×720 → ÷3
    found = detector.detect([video.render(i) for i in range(3)])
    for i, faces in enumerate(found):
        assert len(faces) == 1
        err = np.linalg.norm(faces[0].landmarks - video.true_landmarks(i), axis=1)
        assert err.max() < 6.0  # one pixel at ÷3 is three here
