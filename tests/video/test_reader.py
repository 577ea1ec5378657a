"""open_frames: videos, folders, globs, pixel formats and the errors users see."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from fswap.errors import InputError
from fswap.samples import make_face_video, make_image_folder
from fswap.video.reader import open_frames, read_image, to_bgr_uint8


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_face_video(tmp_path_factory.mktemp("v") / "clip.avi", frames=12, size=(160, 96), fps=12).path


def test_video_every_n_start_stop(video: Path) -> None:
    source = open_frames(video, every_n=3, start=1, stop=10)
    assert source.is_video and source.frame_count == 12 and source.size == (160, 96)
    assert source.selected == 3
    got = list(source)
    assert [i for i, _ in got] == [1, 4, 7]
    full = dict(open_frames(video))
    for i, frame in got:
        assert frame.dtype == np.uint8 and frame.shape == (96, 160, 3)
        np.testing.assert_array_equal(frame, full[i])  # skipping by grab() lands on the same frames


def test_video_can_be_iterated_twice(video: Path) -> None:
    source = open_frames(video, every_n=5)
    assert [i for i, _ in source] == [0, 5, 10]
    assert [i for i, _ in source] == [0, 5, 10]


def test_folder_glob_and_single_image(tmp_path: Path) -> None:
    make_image_folder(tmp_path / "imgs", count=4, size=(64, 48))
    (tmp_path / "imgs" / "notes.txt").write_text("not an image")
    folder = open_frames(tmp_path / "imgs", every_n=2)
    assert not folder.is_video and folder.fps is None and folder.frame_count == 4 and folder.size == (64, 48)
    assert [i for i, _ in folder] == [0, 2]
    glob_source = open_frames(str(tmp_path / "imgs" / "00000[13].png"))
    assert glob_source.frame_count == 2 and [f.name for f in glob_source.files] == [
        "000001.png",
        "000003.png",
    ]
    single = open_frames(tmp_path / "imgs" / "000002.png")
    assert single.frame_count == 1 and len(list(single)) == 1


def test_pixel_formats_become_bgr_uint8(tmp_path: Path) -> None:
    gray = np.arange(64 * 48, dtype=np.uint8).reshape(48, 64)
    cv2.imwrite(str(tmp_path / "gray.png"), gray)
    bgra = np.dstack([np.full((48, 64), c, np.uint8) for c in (10, 20, 30, 128)])
    cv2.imwrite(str(tmp_path / "rgba.png"), bgra)
    deep = np.full((48, 64, 3), 40000, np.uint16)
    cv2.imwrite(str(tmp_path / "deep.png"), deep)
    g = read_image(tmp_path / "gray.png")
    assert g.shape == (48, 64, 3) and g.dtype == np.uint8
    np.testing.assert_array_equal(g[:, :, 1], gray)
    np.testing.assert_array_equal(read_image(tmp_path / "rgba.png")[0, 0], [10, 20, 30])
    np.testing.assert_array_equal(read_image(tmp_path / "deep.png")[0, 0], [40000 >> 8] * 3)
    floats = to_bgr_uint8(np.full((2, 2, 3), 0.5, np.float32))
    assert floats.dtype == np.uint8 and int(floats[0, 0, 0]) == 128
    assert to_bgr_uint8(np.zeros((3, 3, 2), np.uint8)).shape == (3, 3, 3)


def test_missing_and_empty_inputs(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nowhere\.mp4: no such file"):
        open_frames(tmp_path / "nowhere.mp4")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="empty: folder holds no image files"):
        open_frames(tmp_path / "empty")
    with pytest.raises(InputError, match="matches no image files"):
        open_frames(str(tmp_path / "*.png"))


def test_garbage_and_truncated_videos(tmp_path: Path, video: Path) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00not a video" * 100)
    with pytest.raises(InputError, match=r"junk\.mp4"):
        open_frames(junk)
    cut = tmp_path / "cut.avi"
    cut.write_bytes(video.read_bytes()[: video.stat().st_size // 2])
    with pytest.raises(InputError, match=r"cut\.avi"):  # at open or when the frames run out
        list(open_frames(cut))


def test_unreadable_image_fails_or_is_skipped(tmp_path: Path) -> None:
    make_image_folder(tmp_path, count=3, size=(32, 32))
    bad = tmp_path / "000001.png"
    bad.write_bytes(bad.read_bytes()[:40])
    with pytest.raises(InputError, match=r"000001\.png: unreadable"):
        list(open_frames(tmp_path))
    source = open_frames(tmp_path, skip_unreadable=True)
    assert [i for i, _ in source] == [0, 2]
    assert [(i, p.name) for i, p, _ in source.skipped] == [(1, "000001.png")]


def test_bad_arguments(video: Path) -> None:
    with pytest.raises(ValueError, match="every_n"):
        open_frames(video, every_n=0)
    with pytest.raises(ValueError, match="start"):
        open_frames(video, start=5, stop=2)


def test_seeking_an_mp4_lands_on_the_exact_frame(tmp_path: Path) -> None:
    """Resuming starts mid-video: the frames from a seek must equal those of a full decode."""
    path = make_face_video(tmp_path / "seek.mp4", frames=30, size=(160, 96)).path
    full = dict(open_frames(path))
    for start in (1, 13, 29):
        for i, frame in open_frames(path, start=start, every_n=3):
            np.testing.assert_array_equal(frame, full[i])
