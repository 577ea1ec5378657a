"""Made-to-order inputs for the extract gates, and the measurement that chose their defaults.

* `gaussian_blur` / `motion_blur`: degraded copies of a frame (out of focus; a face moving during the
  exposure).
* `turn_face`: the sample photo with its head turned (yaw) or tilted (pitch) by a 2.5-D relief: the face is
  given a depth bump centred on the nose tip (height and width from the generic head of `fswap.extract.pose`)
  and every pixel is moved by depth × sin(angle), so the nose tip really moves against the eyes and the mouth,
  as on a turning head (a rotated flat photo would only be foreshortened).
* `calibrate()` / `python -m fswap.extract.calibration`: extracts the faces of sharp frames of both sample
  portraits (several motions, decoded from mp4 like the demo's inputs) and of Gaussian-blurred (σ = 1.5 and
  2.5 px of a 640×360 frame with a 144 px face) and motion-blurred (9 and 15 px at 20°, 9 px at 60°)
  copies, and prints the `sharpness` of each group and the `face_distance` between consecutive faces of
  moving and of frozen clips.
  The defaults of `[extract] min_sharpness` and `dedupe_threshold` sit between the groups (docs/extract.md).
"""

from __future__ import annotations

import itertools
import math
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from fswap.extract.pose import EYE_DISTANCE, NOSE_DEPTH_EYES, NOSE_DEPTH_MOUTH


def gaussian_blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """The image out of focus: a Gaussian blur of `sigma` pixels."""
    import cv2

    return cv2.GaussianBlur(image, (0, 0), sigmaX=float(sigma))


def motion_blur(image: np.ndarray, length: int, angle: float = 0.0) -> np.ndarray:
    """The image smeared along a line of `length` pixels at `angle` degrees (0 = horizontal)."""
    import cv2

    length = max(int(length), 1)
    kernel = np.zeros((length, length), np.float32)
    kernel[length // 2, :] = 1.0
    rot = cv2.getRotationMatrix2D(((length - 1) / 2.0, (length - 1) / 2.0), float(angle), 1.0)
    kernel = cv2.warpAffine(kernel, rot, (length, length))
    kernel /= max(float(kernel.sum()), 1e-6)
    return cv2.filter2D(image, -1, kernel)


def _relief(shape: tuple[int, int], nose: np.ndarray, eye_distance: float) -> np.ndarray:
    """Depth in front of the face plane (pixels) of a bump on the nose tip: the generic head's nose depth."""
    h, w = shape
    height = (NOSE_DEPTH_EYES + NOSE_DEPTH_MOUTH) / 2.0 / EYE_DISTANCE * eye_distance
    sigma = 0.55 * eye_distance
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    r2 = (xs - nose[0]) ** 2 + (ys - nose[1]) ** 2
    return height * np.exp(-r2 / (2.0 * sigma**2))


def turn_face(image: np.ndarray, points5: np.ndarray, yaw: float = 0.0, pitch: float = 0.0) -> np.ndarray:
    """`image` (a photo whose 5 landmarks are `points5`) with the head turned by `yaw` and tilted by `pitch`
    degrees (conventions of `fswap.extract.pose`): each pixel moves by its relief depth × sin(angle), the face
    plane is foreshortened by cos(angle). BGR uint8 of the same size."""
    import cv2

    pts = np.asarray(points5, dtype=np.float64).reshape(5, 2)
    nose = pts[2]
    eye_distance = float(np.hypot(*(pts[1] - pts[0])))
    h, w = image.shape[:2]
    depth = _relief((h, w), nose, eye_distance).astype(np.float32)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    out = image
    for axis, angle in ((0, yaw), (1, pitch)):
        if angle == 0.0:
            continue
        a = math.radians(angle)
        c, s = math.cos(a), math.sin(a)
        centre = float(nose[axis])
        target = xs if axis == 0 else ys
        # forward: v' = centre + (v − centre)·cos + sign·depth(v)·sin, solved for v by fixed-point iteration
        sign = -1.0 if axis == 0 else 1.0  # yaw > 0 moves the nose left, pitch > 0 moves it down
        source = centre + (target - centre) / c
        for _ in range(6):
            if axis == 0:
                d = cv2.remap(depth, source, ys, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            else:
                d = cv2.remap(depth, xs, source, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            source = centre + (target - centre - sign * d * s) / c
        map_x, map_y = (source, ys) if axis == 0 else (xs, source)
        out = cv2.remap(out, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        depth = cv2.remap(depth, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return np.ascontiguousarray(out)


def _faces(detector: Any, aligner: Any, frames: list[np.ndarray]) -> list[Any]:
    """The aligned crop of the most confident face of each frame (frames without a face add nothing)."""
    out = []
    for frame in frames:
        found = detector.detect([frame])[0]
        if found:
            out.append(aligner.align(frame, max(found, key=lambda d: d.confidence)))
    return out


def _scale(face: Any) -> float:
    return float(np.hypot(face.matrix[0, 0], face.matrix[1, 0]))


def default_components(folder: Path) -> tuple[Any, Any]:
    """The default [extract] detector and aligner, built through the plugin catalog."""
    from fswap.builder import build
    from fswap.catalog import Catalog
    from fswap.config import load_pipeline
    from fswap.plugins import make_plugin_manager

    toml = folder / "calibration.toml"
    toml.write_text('workdir = "work"\n[extract.a]\ninput = "none.mp4"\n', encoding="utf-8")
    config = load_pipeline(toml, catalog=Catalog.from_plugin_manager(make_plugin_manager())).stage("extract")
    return build(config.detector), build(config.aligner)


def _stats(values: list[float], limit: float) -> dict[str, float]:
    arr = np.asarray(values, dtype=np.float64)
    return {
        "n": len(arr),
        "share_below_default": round(float((arr < limit).mean()), 3),
        "min": round(float(arr.min()), 4),
        "median": round(float(np.median(arr)), 4),
        "max": round(float(arr.max()), 4),
    }


def calibrate(frames: int = 24) -> dict[str, Any]:
    """Sharpness of sharp / blurred faces and distances of moving / frozen consecutive faces (see above)."""
    from fswap.extract.quality import face_distance, sharpness, thumbnail
    from fswap.samples import make_face_video
    from fswap.video.reader import open_frames

    groups: dict[str, list[float]] = {}
    distances: dict[str, list[float]] = {"moving": [], "frozen": []}
    with tempfile.TemporaryDirectory() as tmp:
        detector, aligner = default_components(Path(tmp))
        for face, seed in (("astronaut", 1), ("grace_hopper", 2)):
            for motion in ("mixed", "static"):
                video = make_face_video(
                    Path(tmp) / f"{face}_{motion}.mp4", face=face, frames=frames, size=(640, 360),
                    motion=motion, seed=seed,
                )  # fmt: skip
                decoded = [frame for _, frame in open_frames(video.path)]
                variants = {
                    "sharp": decoded,
                    "gauss_1.5": [gaussian_blur(f, 1.5) for f in decoded],
                    "gauss_2.5": [gaussian_blur(f, 2.5) for f in decoded],
                    "motion_9": [motion_blur(f, 9, 20.0) for f in decoded],
                    "motion_15": [motion_blur(f, 15, 20.0) for f in decoded],
                    "motion_9_at_60": [motion_blur(f, 9, 60.0) for f in decoded],
                }
                for name, group in variants.items():
                    faces = _faces(detector, aligner, group)
                    groups.setdefault(name, []).extend(sharpness(f.image, _scale(f)) for f in faces)
                    if name == "sharp":
                        thumbs = [thumbnail(f.image) for f in faces]
                        key = "moving" if motion == "mixed" else "frozen"
                        distances[key].extend(face_distance(a, b) for a, b in itertools.pairwise(thumbs))
    from fswap.extract.defaults import DEDUPE_THRESHOLD, MIN_SHARPNESS

    return {
        "sharpness": {k: _stats(v, MIN_SHARPNESS) for k, v in groups.items()},
        "distance": {k: _stats(v, DEDUPE_THRESHOLD) for k, v in distances.items()},
    }


if __name__ == "__main__":
    import json

    print(json.dumps(calibrate(), indent=2))
