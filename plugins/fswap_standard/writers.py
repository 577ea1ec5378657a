"""Writer components: H.264 video with audio, or a PNG sequence (both with provenance metadata)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fswap.video.audio import AudioSource
from fswap.video.writer import ImageSequenceSession, VideoSession
from fswap_standard.convert_config import ImageSequenceConfig, VideoWriterConfig


def _audio(source: Any | None) -> AudioSource | None:
    if source is None or isinstance(source, AudioSource):
        return source
    return AudioSource(Path(source))


class VideoWriter:
    """`video`: an MP4 (H.264, yuv420p) at the source's fps with its audio re-encoded as AAC."""

    suffix = ".mp4"

    def __init__(self, config: VideoWriterConfig) -> None:
        self.config = config

    def open(self, path: Any, *, fps: float, size: tuple[int, int], audio_source: Any | None) -> VideoSession:
        audio = _audio(audio_source) if self.config.audio else None
        return VideoSession(
            Path(path), fps=fps, size=size, audio_source=audio, crf=self.config.crf, preset=self.config.preset
        )


class ImageSequenceWriter:
    """`image_sequence`: a folder of PNG frames; fps and audio are not stored."""

    suffix = ""

    def __init__(self, config: ImageSequenceConfig) -> None:
        self.config = config

    def open(
        self, path: Any, *, fps: float, size: tuple[int, int], audio_source: Any | None
    ) -> ImageSequenceSession:
        return ImageSequenceSession(Path(path), compression=self.config.compression)
