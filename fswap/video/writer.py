"""Output sessions that only appear under their final name when complete.

A session writes to a hidden temporary name beside the target (`.name.partial.ext`), and `close()`
renames it into place; `abort()` (or an exception inside `with`) removes the partial output. Both kinds
always carry provenance metadata (see fswap.video.provenance).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path
from types import TracebackType
from typing import Any

import cv2
import imageio_ffmpeg
import numpy as np

from fswap.errors import InputError, StageError
from fswap.video.audio import AudioSource, mux_audio
from fswap.video.provenance import add_png_text, ffmpeg_metadata_args


def _write_error(path: Path, exc: OSError) -> StageError:
    """One line for a failed write (disk full, no permission); partial output is removed by abort()."""
    reason = " ".join((exc.strerror or str(exc)).split())[:300]
    return StageError(
        f"{path}: cannot write the output ({reason}); the partial output was removed and an earlier file "
        "of that name is unchanged"
    )


def partial_path(path: Path) -> Path:
    """The temporary name used while `path` is being written (same folder, same suffix)."""
    return path.with_name(f".{path.stem}.partial{path.suffix}")


class _Session:
    """Context-manager plumbing shared by the sessions."""

    frames_written: int = 0

    def write(self, frame: np.ndarray) -> None:
        raise NotImplementedError

    def close(self) -> Path:
        raise NotImplementedError

    def abort(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> _Session:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


class VideoSession(_Session):
    """H.264 (yuv420p) MP4 through imageio-ffmpeg's ffmpeg; odd sizes are padded by one pixel."""

    def __init__(
        self,
        path: Path,
        *,
        fps: float,
        size: tuple[int, int],
        audio_source: AudioSource | None = None,
        crf: int = 18,
        preset: str = "medium",
    ) -> None:
        self.path = Path(path)
        self.fps = float(fps)
        self.size = size
        self.audio_source = audio_source
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = partial_path(self.path)
        self._tmp_audio = self.path.with_name(f".{self.path.stem}.partial-audio{self.path.suffix}")
        w, h = size
        self._padded = (w + w % 2, h + h % 2)
        self._gen: Any = imageio_ffmpeg.write_frames(
            str(self._tmp),
            self._padded,
            fps=self.fps,
            codec="libx264",
            pix_fmt_in="bgr24",
            pix_fmt_out="yuv420p",
            quality=None,
            macro_block_size=1,
            ffmpeg_log_level="error",
            output_params=[
                "-crf",
                str(crf),
                "-preset",
                preset,
                "-movflags",
                "+faststart",
                *ffmpeg_metadata_args(),
            ],
        )
        self._gen.send(None)
        self.frames_written = 0
        self.has_audio = False

    def write(self, frame: np.ndarray) -> None:
        h, w = frame.shape[:2]
        if (w, h) != self.size:
            raise ValueError(f"frame size {w}×{h} differs from the session's {self.size[0]}×{self.size[1]}")
        if (w, h) != self._padded:
            frame = cv2.copyMakeBorder(
                frame, 0, self._padded[1] - h, 0, self._padded[0] - w, cv2.BORDER_REPLICATE
            )
        try:
            self._gen.send(np.ascontiguousarray(frame))
        except OSError as exc:  # ffmpeg died, e.g. the disk is full
            raise _write_error(self.path, exc) from exc
        self.frames_written += 1

    def close(self) -> Path:
        """Finish encoding, add the source audio if any, and move the file into place."""
        try:
            self._gen.close()
            if self.audio_source is not None:
                self.has_audio = mux_audio(
                    self._tmp,
                    self.audio_source,
                    self._tmp_audio,
                    video_duration=self.frames_written / self.fps,
                    extra_args=ffmpeg_metadata_args(),
                )
            if self.has_audio:
                os.replace(self._tmp_audio, self.path)
                self._tmp.unlink(missing_ok=True)
            else:
                os.replace(self._tmp, self.path)
        except OSError as exc:
            self.abort()
            raise _write_error(self.path, exc) from exc
        except BaseException:
            self.abort()
            raise
        return self.path

    def abort(self) -> None:
        """Stop ffmpeg and remove partial files."""
        with contextlib.suppress(Exception):  # ffmpeg may already be gone; the file goes anyway
            self._gen.close()
        self._tmp.unlink(missing_ok=True)
        self._tmp_audio.unlink(missing_ok=True)


class ImageSequenceSession(_Session):
    """A folder of `frame_000000.png` … files, each with a provenance iTXt chunk."""

    def __init__(self, path: Path, *, compression: int = 3) -> None:
        self.path = Path(path)
        self._tmp = self.path.with_name(f".{self.path.name}.partial")
        if self._tmp.exists():
            shutil.rmtree(self._tmp)
        self._tmp.mkdir(parents=True)
        self._params = [cv2.IMWRITE_PNG_COMPRESSION, int(compression)]
        self.frames_written = 0

    def write(self, frame: np.ndarray) -> None:
        ok, encoded = cv2.imencode(".png", frame, self._params)
        if not ok:
            raise InputError(f"{self.path}: cannot encode frame {self.frames_written} as PNG")
        try:
            (self._tmp / f"frame_{self.frames_written:06d}.png").write_bytes(add_png_text(encoded.tobytes()))
        except OSError as exc:
            raise _write_error(self.path, exc) from exc
        self.frames_written += 1

    def close(self) -> Path:
        """Replace any previous folder of that name with the finished one."""
        if self.path.exists():
            shutil.rmtree(self.path) if self.path.is_dir() else self.path.unlink()
        os.replace(self._tmp, self.path)
        return self.path

    def abort(self) -> None:
        shutil.rmtree(self._tmp, ignore_errors=True)
