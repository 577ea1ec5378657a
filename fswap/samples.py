"""Sample media for tests, demos and benchmarks: public-domain faces and synthetic videos with known motion.

A synthetic video places a public-domain photo on a textured background and moves it with a smooth,
seeded similarity transform per frame (pan, zoom, small rotation). Because the transform from the photo to
every frame is known, so is where the face is: the "true" landmarks of a frame are the photo's own landmarks
(found once by MTCNN on the still photo and cached in memory) moved by that frame's transform.

Making media needs only numpy and OpenCV; asking for true landmarks runs MTCNN (TensorFlow) once per photo.
"""

from __future__ import annotations

import functools
import math
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from fswap.errors import InputError

FACE_NAMES = ("astronaut", "grace_hopper")
MOTIONS = ("static", "pan", "zoom", "rotate", "mixed")

# Where the face sits in each photo (centre x, centre y, size in px). Only used to frame the photo in the
# synthetic frames; the ground truth itself comes from MTCNN on the still (see `photo_detection`).
_FACE_ANCHORS: dict[str, tuple[float, float, float]] = {
    "astronaut": (223.5, 117.5, 95.0),
    "grace_hopper": (264.5, 220.0, 196.0),
}


def public_domain_face(name: str) -> np.ndarray:
    """A public-domain portrait as BGR uint8: "astronaut" (NASA, 512×512) or "grace_hopper" (US Navy,
    512 wide × 600 high)."""
    return _load_face(name).copy()


@functools.cache
def _load_face(name: str) -> np.ndarray:
    import cv2

    if name == "astronaut":
        import skimage.data

        image = cv2.cvtColor(skimage.data.astronaut(), cv2.COLOR_RGB2BGR)
    elif name == "grace_hopper":
        import matplotlib.cbook

        path = matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise InputError(f"{path}: matplotlib's sample image could not be read")
    else:
        raise ValueError(f"face must be one of {', '.join(FACE_NAMES)}, received {name!r}")
    image.setflags(write=False)
    return image


@functools.cache
def photo_detection(name: str) -> Any:
    """MTCNN's detection (a `fswap.components.Detection`) of the face in a named photo; computed once."""
    from mtcnn import MTCNN

    from fswap.components import Detection

    rgb = np.ascontiguousarray(_load_face(name)[:, :, ::-1])
    rows = MTCNN().detect_faces(rgb, output_type="numpy", box_format="xywh")
    rows = np.asarray(rows, dtype=np.float64).reshape(-1, 16)
    if len(rows) == 0:
        raise InputError(f"MTCNN found no face in the sample photo {name!r}")
    best = rows[np.argmax(rows[:, 5])]
    # numpy rows: [image, x, y, w, h, confidence, 5 x-coordinates, 5 y-coordinates]
    landmarks = np.stack([best[6:11], best[11:16]], axis=1)
    return Detection(box=best[1:5], confidence=best[5], landmarks=landmarks)


def similarity(
    scale: float, angle_deg: float, centre_src: Sequence[float], centre_dst: Sequence[float]
) -> np.ndarray:
    """2×3 similarity matrix that scales/rotates about `centre_src` and moves it onto `centre_dst`."""
    a = math.radians(angle_deg)
    c, s = scale * math.cos(a), scale * math.sin(a)
    rot = np.array([[c, -s], [s, c]])
    t = np.asarray(centre_dst, dtype=np.float64) - rot @ np.asarray(centre_src, dtype=np.float64)
    return np.hstack([rot, t[:, None]])


def apply_transform(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Apply a 2×3 affine matrix to (N, 2) points."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    return pts @ np.asarray(matrix, dtype=np.float64)[:, :2].T + np.asarray(matrix, dtype=np.float64)[:, 2]


def _motion_params(motion: str, frames: int, seed: int) -> np.ndarray:
    """Per frame (dx, dy, zoom, angle): fractions of the frame and degrees; smooth seeded sinusoids."""
    if motion not in MOTIONS:
        raise ValueError(f"motion must be one of {', '.join(MOTIONS)}, received {motion!r}")
    rng = np.random.default_rng(seed)
    phases = rng.uniform(0, 2 * np.pi, size=4)
    t = np.arange(frames, dtype=np.float64) / max(frames - 1, 1)
    wave = [np.sin(2 * np.pi * t + p) for p in phases]
    zero = np.zeros(frames)
    pan = motion in ("pan", "mixed")
    dx = 0.12 * wave[0] if pan else zero
    dy = 0.06 * wave[1] if pan else zero
    zoom = 1.0 + (0.12 * wave[2] if motion in ("zoom", "mixed") else zero)
    angle = 6.0 * wave[3] if motion in ("rotate", "mixed") else zero
    return np.stack([dx, dy, zoom, angle], axis=1)


def _background(size: tuple[int, int], seed: int) -> np.ndarray:
    """A smooth, face-free textured background (low-frequency noise plus a gradient)."""
    import cv2

    w, h = size
    rng = np.random.default_rng(seed + 7919)
    small = rng.uniform(40, 200, size=(max(h // 40, 2), max(w // 40, 2), 3)).astype(np.float32)
    big = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    ramp = np.linspace(-20, 20, w, dtype=np.float32)[None, :, None]
    return np.clip(big + ramp, 0, 255).astype(np.uint8)


def _face_image(face: str | np.ndarray) -> tuple[str | None, np.ndarray, tuple[float, float, float]]:
    if isinstance(face, str):
        return face, _load_face(face), _FACE_ANCHORS[face]
    image = np.asarray(face)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError("face must be a name or a BGR uint8 (H, W, 3) array")
    h, w = image.shape[:2]
    return None, image, (w / 2.0, h / 2.0, min(w, h) / 3.0)


@attrs.frozen(eq=False)
class SyntheticMedia:
    """Frames made from a photo with known per-frame 2×3 transforms (photo pixels → frame pixels)."""

    face: str | None
    size: tuple[int, int]
    transforms: tuple[np.ndarray, ...]
    background: np.ndarray = attrs.field(repr=False)
    photo: np.ndarray = attrs.field(repr=False)

    def __len__(self) -> int:
        return len(self.transforms)

    def render(self, index: int) -> np.ndarray:
        """The exact BGR frame `index` (before any video compression)."""
        return _render(self.photo, self.background, self.transforms[index])

    def photo_detection(self) -> Any:
        """MTCNN's detection on the still photo (the source of the ground truth)."""
        if self.face is None:
            raise ValueError("ground truth is only known for the named public-domain faces")
        return photo_detection(self.face)

    def true_landmarks(self, index: int) -> np.ndarray:
        """The 5 MTCNN landmarks of frame `index` in frame pixels (left eye, right eye, nose, mouth L, R)."""
        return apply_transform(self.transforms[index], self.photo_detection().landmarks)

    def true_box(self, index: int) -> tuple[float, float, float, float]:
        """The photo's detected box moved into frame `index`: (x, y, w, h) around the moved centre, scaled."""
        x, y, w, h = self.photo_detection().box
        m = self.transforms[index]
        scale = math.hypot(m[0, 0], m[1, 0])
        cx, cy = apply_transform(m, np.array([[x + w / 2.0, y + h / 2.0]]))[0]
        return (cx - w * scale / 2.0, cy - h * scale / 2.0, w * scale, h * scale)


@attrs.frozen(eq=False)
class SyntheticVideo(SyntheticMedia):
    """A synthetic video file and its ground truth."""

    path: Path = attrs.field(kw_only=True)
    fps: float = attrs.field(kw_only=True)
    has_audio: bool = attrs.field(kw_only=True, default=False)

    @property
    def frames(self) -> int:
        return len(self.transforms)


@attrs.frozen(eq=False)
class SyntheticImages(SyntheticMedia):
    """A folder of PNG stills (one per transform) and their ground truth."""

    paths: tuple[Path, ...] = attrs.field(kw_only=True)


def _render(photo: np.ndarray, background: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    import cv2

    h, w = background.shape[:2]
    warped = cv2.warpAffine(photo, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    cover = cv2.warpAffine(
        np.full(photo.shape[:2], 255, np.uint8), matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=0
    )
    alpha = (cover.astype(np.float32) / 255.0)[:, :, None]
    return (warped * alpha + background * (1.0 - alpha) + 0.5).astype(np.uint8)


def _transforms(
    anchor: tuple[float, float, float],
    size: tuple[int, int],
    frames: int,
    motion: str,
    seed: int,
    face_frac: float,
) -> tuple[np.ndarray, ...]:
    cx, cy, face_size = anchor
    w, h = size
    base = face_frac * min(w, h) / face_size
    out = []
    for dx, dy, zoom, angle in _motion_params(motion, frames, seed):
        centre = (w / 2.0 + dx * w, h / 2.0 + dy * h)
        matrix = similarity(base * zoom, angle, (cx, cy), centre)
        matrix.setflags(write=False)
        out.append(matrix)
    return tuple(out)


def make_face_video(
    path: Path | str,
    *,
    face: str | np.ndarray = "astronaut",
    frames: int = 30,
    size: tuple[int, int] = (640, 360),
    fps: float = 25.0,
    motion: str = "mixed",
    seed: int = 0,
    audio: bool = False,
    face_frac: float = 0.4,
) -> SyntheticVideo:
    """Write a video of a face moving smoothly over a background; returns its per-frame ground truth.

    `.mp4` is written with the mp4v codec, `.avi` with MJPG. `face_frac` is the face size as a fraction of the
    frame's shorter side. With `audio=True` a 440 Hz sine tone is muxed in with imageio-ffmpeg's ffmpeg.
    """
    import cv2

    if frames < 1:
        raise ValueError(f"frames must be ≥ 1, received {frames}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    name, photo, anchor = _face_image(face)
    size = (int(size[0]), int(size[1]))
    background = _background(size, seed)
    media = SyntheticVideo(
        face=name,
        size=size,
        transforms=_transforms(anchor, size, frames, motion, seed, face_frac),
        background=background,
        photo=photo,
        path=path,
        fps=float(fps),
        has_audio=audio,
    )
    fourcc = "MJPG" if path.suffix.lower() == ".avi" else "mp4v"
    target = path.with_name(f".{path.stem}.noaudio{path.suffix}") if audio else path
    writer = cv2.VideoWriter(str(target), cv2.VideoWriter_fourcc(*fourcc), float(fps), size)
    if not writer.isOpened():
        raise InputError(f"{path}: OpenCV cannot write a {fourcc} video here")
    try:
        for i in range(frames):
            writer.write(media.render(i))
    finally:
        writer.release()
    if audio:
        _mux_sine(target, path, duration=frames / float(fps))
        target.unlink()
    return media


def _mux_sine(video: Path, out: Path, *, duration: float) -> None:
    """Copy the video stream and add a sine tone as AAC audio."""
    import imageio_ffmpeg

    cmd = [
        imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error",
        "-i", str(video),
        "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=44100:duration={duration:.3f}",
        "-c:v", "copy", "-c:a", "aac", "-shortest", str(out),
    ]  # fmt: skip
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise InputError(f"{out}: ffmpeg could not add audio: {result.stderr.strip()[-300:]}")


def make_image_folder(
    path: Path | str,
    *,
    face: str | np.ndarray = "astronaut",
    count: int = 5,
    size: tuple[int, int] = (640, 360),
    motion: str = "mixed",
    seed: int = 0,
    face_frac: float = 0.4,
) -> SyntheticImages:
    """Write `count` PNG stills `000000.png`… (the frames of a synthetic video) into folder `path`."""
    import cv2

    if count < 1:
        raise ValueError(f"count must be ≥ 1, received {count}")
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    name, photo, anchor = _face_image(face)
    size = (int(size[0]), int(size[1]))
    paths = tuple(folder / f"{i:06d}.png" for i in range(count))
    media = SyntheticImages(
        face=name,
        size=size,
        transforms=_transforms(anchor, size, count, motion, seed, face_frac),
        background=_background(size, seed),
        photo=photo,
        paths=paths,
    )
    for i, file in enumerate(paths):
        if not cv2.imwrite(str(file), media.render(i)):
            raise InputError(f"{file}: cannot write PNG")
    return media
