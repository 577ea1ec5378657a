"""Sample media: public-domain faces and synthetic videos whose per-frame ground truth is known."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from fswap.samples import (
    apply_transform,
    make_face_video,
    make_image_folder,
    public_domain_face,
    similarity,
)
from fswap.video.reader import open_frames


@pytest.mark.parametrize(("name", "shape"), [("astronaut", (512, 512, 3)), ("grace_hopper", (600, 512, 3))])
def test_public_domain_faces_are_bgr_uint8(name: str, shape: tuple[int, int, int]) -> None:
    image = public_domain_face(name)
    assert image.shape == shape and image.dtype == np.uint8
    image[0, 0] = 0  # callers get their own writable copy
    assert public_domain_face(name) is not image


def test_astronaut_is_converted_to_bgr() -> None:
    import skimage.data

    np.testing.assert_array_equal(public_domain_face("astronaut")[:, :, ::-1], skimage.data.astronaut())


def test_unknown_face_name() -> None:
    with pytest.raises(ValueError, match="astronaut"):
        public_domain_face("nobody")


def test_similarity_maps_centre_and_scales() -> None:
    m = similarity(2.0, 90.0, (10.0, 0.0), (100.0, 50.0))
    pts = apply_transform(m, np.array([[10.0, 0.0], [11.0, 0.0]]))
    np.testing.assert_allclose(pts[0], [100.0, 50.0], atol=1e-9)
    np.testing.assert_allclose(pts[1], [100.0, 52.0], atol=1e-9)  # +x rotated 90° (y down) and doubled


def test_video_matches_its_rendered_frames(tmp_path: Path) -> None:
    video = make_face_video(tmp_path / "a.mp4", frames=8, size=(320, 180), fps=10, seed=3)
    source = open_frames(video.path)
    assert source.is_video and source.frame_count == 8 and source.size == (320, 180)
    assert source.fps == pytest.approx(10.0)
    frames = dict(source)
    assert sorted(frames) == list(range(8))
    for i in (0, 7):
        diff = np.abs(frames[i].astype(np.int16) - video.render(i).astype(np.int16))
        assert diff.mean() < 6.0  # only codec loss


def test_motion_is_seeded_and_smooth(tmp_path: Path) -> None:
    a = make_face_video(tmp_path / "a.avi", frames=20, size=(160, 90), seed=1)
    b = make_face_video(tmp_path / "b.avi", frames=20, size=(160, 90), seed=1)
    c = make_face_video(tmp_path / "c.avi", frames=20, size=(160, 90), seed=2)
    for ma, mb in zip(a.transforms, b.transforms, strict=True):
        np.testing.assert_array_equal(ma, mb)
    assert not np.allclose(a.transforms[5], c.transforms[5])
    centres = np.array([apply_transform(m, np.array([[223.5, 117.5]]))[0] for m in a.transforms])
    steps = np.linalg.norm(np.diff(centres, axis=0), axis=1)
    assert steps.max() < 0.1 * 160  # smooth: no jumps between consecutive frames
    assert np.ptp(centres[:, 0]) > 5  # but it does move


def test_static_motion_keeps_the_face_still(tmp_path: Path) -> None:
    video = make_face_video(tmp_path / "s.avi", frames=4, size=(160, 90), motion="static")
    for m in video.transforms[1:]:
        np.testing.assert_array_equal(m, video.transforms[0])


def test_audio_track_is_muxed(tmp_path: Path) -> None:
    import imageio_ffmpeg

    video = make_face_video(tmp_path / "sound.mp4", frames=10, size=(160, 90), fps=10, audio=True)
    assert video.has_audio and video.path.is_file()
    assert not list(tmp_path.glob(".*noaudio*"))
    probe = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(video.path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert "Audio: aac" in probe.stderr and "Video:" in probe.stderr


def test_image_folder(tmp_path: Path) -> None:
    stills = make_image_folder(tmp_path / "imgs", face="grace_hopper", count=3, size=(200, 150))
    assert [p.name for p in stills.paths] == ["000000.png", "000001.png", "000002.png"]
    source = open_frames(tmp_path / "imgs")
    frames = dict(source)
    np.testing.assert_array_equal(frames[2], stills.render(2))  # PNG is lossless


@pytest.mark.slow
def test_true_landmarks_are_where_mtcnn_finds_them(tmp_path: Path) -> None:
    """The ground truth is meaningful: MTCNN on a rendered frame lands within a few pixels of it."""
    from mtcnn import MTCNN

    video = make_face_video(tmp_path / "t.avi", frames=12, size=(640, 360), seed=5)
    detector = MTCNN()
    for i in (0, 6, 11):
        rows = detector.detect_faces(np.ascontiguousarray(video.render(i)[:, :, ::-1]), output_type="numpy")
        assert len(rows) == 1
        found = np.stack([rows[0][6:11], rows[0][11:16]], axis=1)
        err = np.linalg.norm(found - video.true_landmarks(i), axis=1)
        assert err.max() < 4.0, err
        box = np.array(video.true_box(i))
        assert np.abs(np.asarray(rows[0][1:5]) - box).max() < 12.0
