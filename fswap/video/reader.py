"""Frames from a video file, an image folder or a glob, as (frame_index, BGR uint8) pairs.

Every image becomes 3-channel BGR uint8 whatever it was stored as (grayscale, BGRA, 16-bit, float), so the
rest of fswap only ever sees one pixel format. Problems are InputErrors that name the file.
"""

from __future__ import annotations

import glob
from collections.abc import Iterator
from pathlib import Path

import attrs
import numpy as np

from fswap import native_stderr
from fswap.errors import InputError

IMAGE_SUFFIXES = frozenset(
    {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".jp2", ".pgm", ".ppm"}
)
VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv"})
_GLOB_CHARS = frozenset("*?[")


def to_bgr_uint8(image: np.ndarray, *, source: str = "image") -> np.ndarray:
    """Convert grayscale / gray+alpha / BGRA / 16-bit / float images to contiguous BGR uint8 (H, W, 3)."""
    import cv2

    arr = np.asarray(image)
    if arr.dtype == np.uint16:
        arr = (arr >> 8).astype(np.uint8)
    elif arr.dtype.kind == "f":
        peak = 1.0 if float(np.nanmax(arr, initial=0.0)) <= 1.0 else 255.0
        arr = np.clip(np.nan_to_num(arr) * (255.0 / peak) + 0.5, 0, 255).astype(np.uint8)
    elif arr.dtype != np.uint8:
        raise InputError(f"{source}: unsupported pixel type {arr.dtype}")
    if arr.ndim == 2:
        return cv2.cvtColor(arr, cv2.COLOR_GRAY2BGR)
    if arr.ndim != 3:
        raise InputError(f"{source}: unsupported image shape {arr.shape}")
    channels = arr.shape[2]
    if channels == 1:
        return cv2.cvtColor(arr[:, :, 0], cv2.COLOR_GRAY2BGR)
    if channels == 2:  # gray + alpha
        return cv2.cvtColor(np.ascontiguousarray(arr[:, :, 0]), cv2.COLOR_GRAY2BGR)
    if channels == 3:
        return np.ascontiguousarray(arr)
    if channels == 4:
        return cv2.cvtColor(arr, cv2.COLOR_BGRA2BGR)
    raise InputError(f"{source}: unsupported number of channels {channels}")


def read_image(path: Path | str) -> np.ndarray:
    """Read one image file as BGR uint8; InputError naming the file when missing or undecodable."""
    import cv2

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such image file")
    # imdecode from bytes so non-ASCII paths work and a truncated file fails cleanly
    data = np.fromfile(str(path), dtype=np.uint8)
    if not data.size:
        raise InputError(f"{path}: unreadable or corrupt image (empty file)")
    with native_stderr.capture() as said:  # libpng/libjpeg print their complaints straight to fd 2
        image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if image is None:
        reason = " ".join(said()[-200:].split())
        raise InputError(f"{path}: unreadable or corrupt image" + (f" ({reason})" if reason else ""))
    return to_bgr_uint8(image, source=str(path))


@attrs.define
class FrameSource:
    """An opened input. Iterating yields `(frame_index, frame)` for frames start, start+every_n, … < stop.

    `fps` is None for image inputs; `frame_count` is the number of frames/images in the input (for a video as
    reported by its container); `selected` how many indices iteration will visit. With `skip_unreadable`,
    unreadable images are recorded in `skipped` as (index, path, reason) instead of raising.
    """

    path: Path
    is_video: bool
    fps: float | None
    frame_count: int
    size: tuple[int, int]
    every_n: int = 1
    start: int = 0
    stop: int | None = None
    files: tuple[Path, ...] = ()
    skip_unreadable: bool = False
    skipped: list[tuple[int, Path, str]] = attrs.field(factory=list)

    @property
    def end(self) -> int:
        return self.frame_count if self.stop is None else min(self.stop, self.frame_count)

    @property
    def selected(self) -> int:
        """How many frame indices iteration visits."""
        return len(range(self.start, self.end, self.every_n))

    def indices(self) -> range:
        return range(self.start, self.end, self.every_n)

    def __iter__(self) -> Iterator[tuple[int, np.ndarray]]:
        return self._iter_video() if self.is_video else self._iter_images()

    def _iter_images(self) -> Iterator[tuple[int, np.ndarray]]:
        for index in self.indices():
            file = self.files[index]
            try:
                frame = read_image(file)
            except InputError as exc:
                if not self.skip_unreadable:
                    raise
                self.skipped.append((index, file, str(exc)))
                continue
            yield index, frame

    def _iter_video(self) -> Iterator[tuple[int, np.ndarray]]:
        import cv2

        cap = _open_capture(self.path)
        try:
            if self.start > 0:
                cap.set(cv2.CAP_PROP_POS_FRAMES, self.start)
            wanted = self.indices()
            index = self.start
            last = wanted[-1] if len(wanted) else self.start - 1
            while index <= last:
                if (index - self.start) % self.every_n == 0:
                    ok, frame = cap.read()
                    if ok and frame is not None:
                        yield index, to_bgr_uint8(frame, source=f"{self.path} frame {index}")
                else:
                    ok = cap.grab()  # skip without decoding to an image
                if not ok:
                    if self.stop is None and index >= self.frame_count - 1:
                        return  # containers sometimes over-report the count by one
                    raise InputError(
                        f"{self.path}: video ends at frame {index} of {self.frame_count} "
                        "(truncated or corrupt)"
                    )
                index += 1
        finally:
            cap.release()


def _open_capture(path: Path) -> object:
    import cv2

    with native_stderr.capture() as said:  # FFmpeg explains a failure on fd 2 (e.g. "moov atom not found")
        cap = cv2.VideoCapture(str(path))
        opened = cap.isOpened()
    if not opened:
        cap.release()
        reason = _ffmpeg_reason(said())
        raise InputError(
            f"{path}: cannot open the video (unsupported, truncated or corrupt file{reason})"
        )
    return cap


def _ffmpeg_reason(text: str) -> str:
    """FFmpeg's last complaint without its "[demuxer @ 0x…]" prefix, as ": reason" (or "")."""
    lines = [line.split("]", 1)[-1].strip() for line in text.splitlines() if line.strip()]
    return f": {lines[-1][:200]}" if lines else ""


def _is_glob(text: str) -> bool:
    return any(ch in _GLOB_CHARS for ch in text)


def _image_files(paths: list[Path]) -> tuple[Path, ...]:
    return tuple(sorted((p for p in paths if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES), key=str))


def open_frames(
    path: Path | str,
    *,
    every_n: int = 1,
    start: int = 0,
    stop: int | None = None,
    skip_unreadable: bool = False,
) -> FrameSource:
    """Open a video file, an image folder or a glob of images for reading.

    Images are ordered by path; their frame index is their position in that order. InputError when the
    input does not exist, holds no images, or the video cannot be opened.
    """
    if every_n < 1:
        raise ValueError(f"every_n must be ≥ 1, received {every_n}")
    if start < 0 or (stop is not None and stop < start):
        raise ValueError(f"need 0 ≤ start ≤ stop, received start={start}, stop={stop}")
    text = str(path)
    target = Path(path)
    common = {"every_n": every_n, "start": start, "stop": stop, "skip_unreadable": skip_unreadable}
    if _is_glob(text) and not target.exists():
        files = _image_files([Path(p) for p in glob.glob(text, recursive=True)])
        if not files:
            raise InputError(
                f"{text}: the pattern matches no image files ({', '.join(sorted(IMAGE_SUFFIXES))})"
            )
        return _image_source(target, files, common)
    if target.is_dir():
        files = _image_files(list(target.iterdir()))
        if not files:
            raise InputError(f"{target}: folder holds no image files ({', '.join(sorted(IMAGE_SUFFIXES))})")
        return _image_source(target, files, common)
    if not target.exists():
        raise InputError(f"{target}: no such file or folder")
    if target.suffix.lower() in IMAGE_SUFFIXES:
        return _image_source(target, (target,), common)
    return _video_source(target, common)


def _image_source(path: Path, files: tuple[Path, ...], common: dict) -> FrameSource:
    size = (0, 0)  # the first readable image's size; images of other sizes are still read as they are
    for file in files:
        try:
            probe = read_image(file)
        except InputError:
            if not common["skip_unreadable"]:
                raise
            continue
        size = (int(probe.shape[1]), int(probe.shape[0]))
        break
    return FrameSource(
        path=path, is_video=False, fps=None, frame_count=len(files), size=size, files=files, **common
    )


def _video_source(path: Path, common: dict) -> FrameSource:
    import cv2

    cap = _open_capture(path)
    try:
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        size = (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
        with native_stderr.capture() as said:
            ok, _ = cap.read()
    finally:
        cap.release()
    if not ok or size[0] <= 0 or size[1] <= 0:
        raise InputError(f"{path}: not a readable video (no decodable frame{_ffmpeg_reason(said())})")
    if count <= 0:
        count = _count_frames(path)
    return FrameSource(
        path=path, is_video=True, fps=fps if fps > 0 else None, frame_count=count, size=size, **common
    )


def _count_frames(path: Path) -> int:
    """Count frames by grabbing them all (for containers that do not report a count)."""
    cap = _open_capture(path)
    n = 0
    try:
        while cap.grab():
            n += 1
    finally:
        cap.release()
    return n
