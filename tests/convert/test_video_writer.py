"""Writers: H.264 with fps, frame count, audio and provenance metadata; PNG sequences; atomic outputs."""

from __future__ import annotations

import numpy as np
import pytest
from fswap_standard.convert_config import ImageSequenceConfig, VideoWriterConfig
from fswap_standard.writers import ImageSequenceWriter, VideoWriter

from fswap.video.audio import AudioSource, count_frames, ffmpeg_exe, probe, run_ffmpeg
from fswap.video.provenance import LABEL_TEXT, PNG_KEY, STATEMENT, draw_label, read_png_text
from fswap.video.writer import partial_path


def _frames(n: int, size=(96, 64)):
    w, h = size
    for i in range(n):
        frame = np.zeros((h, w, 3), np.uint8)
        frame[:, (i * 3) % w] = 255
        yield frame


@pytest.fixture(scope="module")
def tone(tmp_path_factory):
    """A 2-second sine tone (AAC in MP4) made with imageio-ffmpeg's binary."""
    path = tmp_path_factory.mktemp("audio") / "tone.m4a"
    run_ffmpeg(["-f", "lavfi", "-i", "sine=frequency=440:duration=2", "-c:a", "aac", str(path)])
    return path


def test_video_has_h264_fps_frames_audio_and_metadata(tmp_path, tone):
    out = tmp_path / "out.mp4"
    with VideoWriter(VideoWriterConfig(preset="ultrafast")).open(
        out, fps=12.0, size=(96, 64), audio_source=AudioSource(tone, start=0.5)
    ) as session:
        for frame in _frames(12):
            session.write(frame)
    info = probe(out)
    assert info.video_codec == "h264"
    assert info.audio_codec == "aac"
    assert info.fps == pytest.approx(12.0)
    assert (info.width, info.height) == (96, 64)
    assert count_frames(out) == 12
    assert "fswap" in info.metadata.get("comment", "") and "Synthetic" in info.metadata["comment"]
    assert not partial_path(out).exists()
    assert info.duration == pytest.approx(1.0, abs=0.1)  # audio trimmed to the frame range


def test_video_without_audio_source_and_odd_size(tmp_path):
    out = tmp_path / "odd.mp4"
    with VideoWriter(VideoWriterConfig(preset="ultrafast")).open(
        out, fps=10, size=(95, 63), audio_source=None
    ) as session:
        for frame in _frames(5, (95, 63)):
            session.write(frame)
    info = probe(out)
    assert info.video_codec == "h264" and info.audio_codec is None
    assert count_frames(out) == 5


def test_source_without_audio_gives_video_only(tmp_path):
    silent = tmp_path / "silent.mp4"
    with VideoWriter(VideoWriterConfig(preset="ultrafast")).open(
        silent, fps=10, size=(96, 64), audio_source=None
    ) as s:
        for frame in _frames(4):
            s.write(frame)
    out = tmp_path / "out.mp4"
    with VideoWriter(VideoWriterConfig(preset="ultrafast")).open(
        out, fps=10, size=(96, 64), audio_source=silent
    ) as s:
        for frame in _frames(4):
            s.write(frame)
    assert probe(out).audio_codec is None and count_frames(out) == 4


def test_failure_leaves_no_output(tmp_path):
    out = tmp_path / "broken.mp4"
    with (
        pytest.raises(RuntimeError),
        VideoWriter(VideoWriterConfig(preset="ultrafast")).open(
            out, fps=10, size=(96, 64), audio_source=None
        ) as session,
    ):
        session.write(next(_frames(1)))
        raise RuntimeError("conversion failed")
    assert list(tmp_path.iterdir()) == []


def test_image_sequence_has_text_chunk_and_is_atomic(tmp_path):
    out = tmp_path / "frames"
    writer = ImageSequenceWriter(ImageSequenceConfig())
    with writer.open(out, fps=25, size=(96, 64), audio_source=None) as session:
        for frame in _frames(3):
            session.write(frame)
        assert not out.exists()  # only the partial folder exists while writing
    files = sorted(out.iterdir())
    assert [f.name for f in files] == ["frame_000000.png", "frame_000001.png", "frame_000002.png"]
    assert read_png_text(files[0].read_bytes())[PNG_KEY] == STATEMENT
    import cv2

    decoded = cv2.imread(str(files[1]))
    np.testing.assert_array_equal(decoded, list(_frames(2))[1])


def test_label_is_drawn_small_in_the_corner():
    frame = np.full((360, 640, 3), 128, np.uint8)
    out = draw_label(frame, LABEL_TEXT, "bottom_right")
    changed = np.any(out != frame, axis=2)
    ys, xs = np.nonzero(changed)
    assert changed.sum() > 100
    assert ys.min() > 360 * 0.8 and xs.min() > 640 * 0.5  # bottom-right corner only
    assert changed.mean() < 0.05
    top_left = np.any(draw_label(frame, corner="top_left") != frame, axis=2)
    assert np.nonzero(top_left)[0].max() < 360 * 0.2


def test_ffmpeg_binary_is_available():
    assert ffmpeg_exe()
