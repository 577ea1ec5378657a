"""ffmpeg helpers (imageio-ffmpeg's bundled binary): probe a file, count frames, remux source audio."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Sequence
from pathlib import Path

import attrs
import imageio_ffmpeg

from fswap.errors import InputError


@attrs.frozen
class AudioSource:
    """Audio to copy into an output: a media file, from `start` seconds for `duration` seconds (None: all)."""

    path: Path
    start: float = 0.0
    duration: float | None = None


@attrs.frozen
class MediaInfo:
    """What `ffmpeg -i` reports about a file."""

    video_codec: str | None
    audio_codec: str | None
    width: int
    height: int
    fps: float
    duration: float
    metadata: dict[str, str]

    @property
    def has_audio(self) -> bool:
        return self.audio_codec is not None


def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary shipped with imageio-ffmpeg (it includes libx264)."""
    return imageio_ffmpeg.get_ffmpeg_exe()


def run_ffmpeg(args: Sequence[str]) -> None:
    """Run ffmpeg quietly; failures raise InputError with ffmpeg's last message lines."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y", *args]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = " | ".join(result.stderr.strip().splitlines()[-3:])
        raise InputError(f"ffmpeg failed ({' '.join(args[-1:])}): {tail}")


_STREAM_RE = re.compile(r"Stream #\d+:\d+(?:\[\w+\])?(?:\(\w+\))?: (Video|Audio): (\w+)(.*)")
_DURATION_RE = re.compile(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)")
_META_RE = re.compile(r"^\s{4}(\w+)\s*: (.*)$")


def probe(path: Path | str) -> MediaInfo:
    """Parse `ffmpeg -i` output: codecs, size, fps, duration and the container's metadata."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such media file")
    result = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    text = result.stderr
    video = audio = None
    width = height = 0
    fps = 0.0
    for kind, codec, rest in _STREAM_RE.findall(text):
        if kind == "Video" and video is None:
            video = codec
            size = re.search(r", (\d{2,5})x(\d{2,5})", rest)
            if size:
                width, height = int(size.group(1)), int(size.group(2))
            rate = re.search(r", ([\d.]+) fps", rest)
            if rate:
                fps = float(rate.group(1))
        elif kind == "Audio" and audio is None:
            audio = codec
    if video is None and audio is None:
        raise InputError(f"{path}: ffmpeg finds no audio or video stream")
    d = _DURATION_RE.search(text)
    duration = int(d.group(1)) * 3600 + int(d.group(2)) * 60 + float(d.group(3)) if d else 0.0
    metadata: dict[str, str] = {}
    lines = text.splitlines()
    if "  Metadata:" in lines:  # the container's block (indent 2); stream blocks are indented deeper
        for line in lines[lines.index("  Metadata:") + 1 :]:
            m = _META_RE.match(line)
            if not m:
                break
            metadata[m.group(1)] = m.group(2).strip()
    return MediaInfo(video, audio, width, height, fps, duration, metadata)


def count_frames(path: Path | str) -> int:
    """Number of video frames, counted by decoding the whole stream."""
    frames, _seconds = imageio_ffmpeg.count_frames_and_secs(str(path))
    return int(frames)


def mux_audio(
    video: Path, audio: AudioSource, out: Path, *, video_duration: float, extra_args: Sequence[str] = ()
) -> bool:
    """Write `out` = `video`'s stream (copied) + the source's first audio stream (AAC), trimmed to the
    frame range. Returns False (and writes nothing) when the source has no audio."""
    if not probe(audio.path).has_audio:
        return False
    length = video_duration if audio.duration is None else min(audio.duration, video_duration)
    run_ffmpeg(
        [
            "-i",
            str(video),
            "-ss",
            f"{audio.start:.6f}",
            "-t",
            f"{length:.6f}",
            "-i",
            str(audio.path),
            "-map",
            "0:v:0",
            "-map",
            "1:a:0",
            "-c:v",
            "copy",
            "-c:a",
            "aac",
            "-b:a",
            "160k",
            *extra_args,
            str(out),
        ]
    )
    return True
