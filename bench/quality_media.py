"""The harder face pair of `bench.quality`: the two public-domain portraits of `fswap.samples`, each made
to vary in head pose, expression and lighting from frame to frame.

`fswap.samples.make_face_video` only moves a still photo (pan, zoom, small roll), so every face of a set has
the same pose, expression and light; a decoder that paints one blurred photo scores well on it. Here every
frame of the photo first gets
  * an **expression**: a smooth displacement field around the 5 MTCNN points of the photo (mouth corners
    out and up for a smile, the lower lip down for an open mouth, the lids together for a squint);
  * a **head pose**: the photo plane rotated in 3D about the face centre (yaw ±`yaw`°, pitch ±`pitch`°) and
    projected with a focal length of 2 face widths (foreshortening of one side of the face), then rolled;
  * **lighting**: a directional ramp across the face (one side up to ±`light` brighter), a gamma and a
    colour-temperature gain;
and is then placed on the textured background with the same smooth pan/zoom as the demo's videos. All
parameters are smooth seeded sinusoids of the frame index, so consecutive frames differ a little and the
held-out frames (every 10th) lie between trained ones, as in real footage.
"""

from __future__ import annotations

import math
from pathlib import Path

import attrs
import numpy as np

from fswap.samples import _FACE_ANCHORS, _background, public_domain_face, similarity
from fswap.train.toys import PHOTO_POINTS


@attrs.frozen
class Variation:
    """Ranges of the per-frame variation (amplitudes of the sinusoids)."""

    yaw: float = 22.0  # degrees
    pitch: float = 12.0  # degrees
    roll: float = 10.0  # degrees
    zoom: float = 0.12  # relative
    pan: float = 0.10  # fraction of the frame
    smile: float = 1.0  # 0..smile, in units of 6% of the inter-ocular distance
    mouth_open: float = 0.7  # 0..mouth_open, in units of 25% of the inter-ocular distance
    squint: float = 0.6  # 0..squint, share of the eye opening closed
    light: float = 0.45  # brightness ramp across the face: 1 ± light
    gamma: float = 0.3  # gamma in 1 ± gamma
    warmth: float = 0.15  # blue/red gains 1 ∓ warmth


def frame_parameters(frames: int, seed: int, var: Variation) -> np.ndarray:
    """Per frame: yaw, pitch, roll, zoom, dx, dy, smile, mouth_open, squint, light, light angle, gamma,
    warmth — smooth sinusoids with seeded phases and 1–3 periods over the clip."""
    rng = np.random.default_rng(seed + 104729)
    t = np.arange(frames, dtype=np.float64) / max(frames - 1, 1)
    n = 13
    phases = rng.uniform(0, 2 * np.pi, size=n)
    periods = rng.integers(1, 4, size=n)

    def wave(i: int) -> np.ndarray:
        return np.sin(2 * np.pi * periods[i] * t + phases[i])

    def unit(i: int) -> np.ndarray:  # 0..1
        return 0.5 + 0.5 * wave(i)

    cols = [
        var.yaw * wave(0), var.pitch * wave(1), var.roll * wave(2), 1.0 + var.zoom * wave(3),
        var.pan * wave(4), 0.5 * var.pan * wave(5),
        var.smile * unit(6), var.mouth_open * unit(7) ** 2, var.squint * unit(8) ** 3,
        var.light * wave(9), np.pi * wave(10), 1.0 + var.gamma * wave(11), var.warmth * wave(12),
    ]
    return np.stack(cols, axis=1)


def _bumps(points: np.ndarray, smile: float, mouth_open: float,
           squint: float) -> list[tuple[np.ndarray, float, np.ndarray]]:
    """The expression as Gaussian bumps of displacement: (centre, radius, shift) in photo pixels."""
    eye_l, eye_r, _nose, mouth_l, mouth_r = (np.asarray(p, np.float64) for p in points)
    iod = float(np.linalg.norm(eye_r - eye_l))
    mouth_c = (mouth_l + mouth_r) / 2.0
    bumps: list[tuple[np.ndarray, float, np.ndarray]] = []  # (centre, radius, shift)
    s = 0.06 * iod * smile
    bumps.append((mouth_l, 0.22 * iod, np.array([-s, -s])))
    bumps.append((mouth_r, 0.22 * iod, np.array([s, -s])))
    o = 0.25 * iod * mouth_open
    bumps.append((mouth_c + np.array([0.0, 0.12 * iod]), 0.25 * iod, np.array([0.0, o])))
    lid = 0.09 * iod * squint
    for eye in (eye_l, eye_r):
        bumps.append((eye + np.array([0.0, -0.08 * iod]), 0.12 * iod, np.array([0.0, lid])))
        bumps.append((eye + np.array([0.0, 0.08 * iod]), 0.12 * iod, np.array([0.0, -0.6 * lid])))
    return bumps


def _expression_maps(shape: tuple[int, int], points: np.ndarray, smile: float, mouth_open: float,
                     squint: float) -> tuple[np.ndarray, np.ndarray]:
    """Backward remap maps (map_x, map_y) that move the face parts: the output pixel p samples the photo at
    p − Σ bump(p)·shift."""
    h, w = shape
    bumps = _bumps(points, smile, mouth_open, squint)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    map_x, map_y = xs.copy(), ys.copy()
    for centre, radius, shift in bumps:
        g = np.exp(-((xs - centre[0]) ** 2 + (ys - centre[1]) ** 2) / (2.0 * radius**2)).astype(np.float32)
        map_x -= g * np.float32(shift[0])
        map_y -= g * np.float32(shift[1])
    return map_x, map_y


def _pose_homography(yaw: float, pitch: float, centre: tuple[float, float], focal: float) -> np.ndarray:
    """3×3 homography of the photo plane rotated by yaw (about the vertical) and pitch (about the
    horizontal) through `centre`, seen by a pinhole camera of focal length `focal` (pixels)."""
    cy_, sy_ = math.cos(math.radians(yaw)), math.sin(math.radians(yaw))
    cp, sp = math.cos(math.radians(pitch)), math.sin(math.radians(pitch))
    r_yaw = np.array([[cy_, 0, sy_], [0, 1, 0], [-sy_, 0, cy_]])
    r_pitch = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
    rot = r_pitch @ r_yaw
    k = np.array([[focal, 0, centre[0]], [0, focal, centre[1]], [0, 0, 1.0]])
    # plane z = focal in camera space; H = K · R · K⁻¹ keeps the centre fixed
    return k @ rot @ np.linalg.inv(k)


def _light(image: np.ndarray, strength: float, angle: float, gamma: float, warmth: float,
           centre: tuple[float, float], face_size: float) -> np.ndarray:
    """A directional brightness ramp across the face, then gamma and a warm/cold colour gain."""
    h, w = image.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    along = ((xs - centre[0]) * math.cos(angle) + (ys - centre[1]) * math.sin(angle)) / face_size
    ramp = np.clip(1.0 + strength * np.clip(along, -1.0, 1.0), 0.2, 2.0)
    out = image.astype(np.float32) / 255.0 * ramp[..., None]
    out = np.clip(out, 0.0, 1.0) ** gamma
    gains = np.array([1.0 - warmth, 1.0, 1.0 + warmth], np.float32)  # B, G, R
    return np.clip(out * gains * 255.0 + 0.5, 0, 255).astype(np.uint8)


def render_frame(name: str, params: np.ndarray, size: tuple[int, int], background: np.ndarray,
                 face_frac: float = 0.4) -> np.ndarray:
    """One BGR frame of photo `name` with the variation `params` (a row of `frame_parameters`)."""
    import cv2

    smile, mouth_open, squint, light, light_angle, gamma, warmth = params[6:]  # pose: in the matrix
    photo = public_domain_face(name)
    points = np.asarray(PHOTO_POINTS[name], np.float64)
    cx, cy, face_size = _FACE_ANCHORS[name]
    map_x, map_y = _expression_maps(photo.shape[:2], points, smile, mouth_open, squint)
    face = cv2.remap(photo, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    face = _light(face, light, light_angle, gamma, warmth, (cx, cy), face_size)
    matrix = _frame_matrix(name, params, size, face_frac)
    w, h = size
    warped = cv2.warpPerspective(face, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    cover = cv2.warpPerspective(np.full(face.shape[:2], 255, np.uint8), matrix, (w, h),
                                flags=cv2.INTER_LINEAR, borderValue=0)
    alpha = (cover.astype(np.float32) / 255.0)[:, :, None]
    return (warped * alpha + background * (1.0 - alpha) + 0.5).astype(np.uint8)


def _frame_matrix(name: str, params: np.ndarray, size: tuple[int, int], face_frac: float) -> np.ndarray:
    """3×3 map from photo pixels to frame pixels: the head pose, then roll, zoom and pan."""
    yaw, pitch, roll, zoom, dx, dy = params[:6]
    cx, cy, face_size = _FACE_ANCHORS[name]
    w, h = size
    base = face_frac * min(w, h) / face_size
    place = np.vstack([similarity(base * zoom, roll, (cx, cy), (w / 2.0 + dx * w, h / 2.0 + dy * h)),
                       [0.0, 0.0, 1.0]])
    return place @ _pose_homography(yaw, pitch, (cx, cy), 2.0 * face_size)


def true_points(name: str, params: np.ndarray, size: tuple[int, int] = (640, 360),
                face_frac: float = 0.4) -> np.ndarray:
    """Where the photo's 5 MTCNN points (`fswap.train.toys.PHOTO_POINTS`) are in the frame `params` makes:
    moved by the expression (to first order) and mapped by the pose and placement. (5, 2) frame pixels."""
    points = np.asarray(PHOTO_POINTS[name], np.float64)
    smile, mouth_open, squint = params[6:9]
    moved = points.copy()
    for centre, radius, shift in _bumps(points, smile, mouth_open, squint):
        moved += np.exp(-np.sum((points - centre) ** 2, axis=1) / (2.0 * radius**2))[:, None] * shift
    homogeneous = np.hstack([moved, np.ones((5, 1))]) @ _frame_matrix(name, params, size, face_frac).T
    return homogeneous[:, :2] / homogeneous[:, 2:]


def write_varied_faceset(path: Path | str, *, face: str, frames: int = 60, seed: int = 0,
                         size: tuple[int, int] = (640, 360), variation: Variation | None = None) -> Path:
    """A face set of `frames` varied frames aligned from their true 5 points, as the demo's extract section
    (umeyama5 crops, eyes5 masks) would write it from a video, without detection: seconds, no TensorFlow."""
    from fswap import api
    from fswap.components import Detection
    from fswap.extract.writer import FaceSetWriter

    aligner = api.build("aligner", "umeyama5")
    eyes = api.build("mask_generator", "eyes5")
    params = frame_parameters(frames, seed, variation or Variation())
    background = _background(size, seed)
    writer = FaceSetWriter(Path(path), size=aligner.size, masks=["eyes5"], settings={"varied": seed},
                           resume=False)
    for index, row in enumerate(params):
        frame = render_frame(face, row, size, background)
        points = true_points(face, row, size)
        low, high = points.min(axis=0), points.max(axis=0)
        side = float(max(high - low)) * 2.2
        centre = (low + high) / 2.0
        box = (centre[0] - side / 2, centre[1] - side / 2, side, side)
        aligned = aligner.align(frame, Detection(box=box, confidence=0.99, landmarks=points))
        writer.add(aligned, source=f"{face}-varied-{seed}", frame=index, face_index=0,
                   masks={"eyes5": eyes.generate(aligned)})
        writer.mark_done([index])
    writer.save()
    return writer.path


def make_varied_video(path: Path | str, *, face: str, frames: int = 120, size: tuple[int, int] = (640, 360),
                      fps: float = 25.0, seed: int = 0, variation: Variation | None = None) -> Path:
    """Write an mp4 (mp4v) of `face` varying in pose, expression and light; returns its path."""
    import cv2

    from fswap.errors import InputError

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    params = frame_parameters(frames, seed, variation or Variation())
    background = _background(size, seed)
    tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")
    writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"mp4v"), float(fps), size)
    if not writer.isOpened():
        raise InputError(f"{path}: OpenCV cannot write an mp4v video here")
    try:
        for row in params:
            writer.write(render_frame(face, row, size, background))
    finally:
        writer.release()
    tmp.replace(path)
    return path
