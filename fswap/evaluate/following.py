"""Does a swap follow its source? Head pose and expression from 68 landmarks, compared face by face.

Identity alone can be met by a decoder that paints the same face whatever it is given, so the report also
measures, on each held-out source face and the swap made from it:

* **head pose**: yaw, pitch and roll from `cv2.solvePnP` of 12 of the 68 iBUG landmarks on a generic 3D face
  (`MODEL_POINTS`, average adult proportions in millimetres). The pose error of a pair is the angle of the
  rotation between the two head poses (degrees).
* **expression**: mouth opening and width and the opening of each eye, as distances between landmarks divided
  by the inter-ocular distance (eye centre to eye centre); the error of a pair is their mean absolute
  difference.
* **source-following rate**: the share of swaps whose 68 landmarks (crop pixels, RMS) are nearer their own
  source than any other held-out source face; a decoder that ignores its input scores about 1/N.

Camera convention: x to the image's right, y down, z away from the camera; a frontal face has yaw = pitch =
roll = 0. Yaw > 0 turns the nose towards the image's left, pitch > 0 tilts it down, roll > 0 turns the
face clockwise on screen. The camera has a focal length of one crop side and its centre at the crop centre.

Landmarks come from any aligner that returns 68 points (`fswap.components.Aligner`); each crop is handed to it
with a square box placed from the face's 5 alignment points (`face_box`), so a swap and its source are
measured in the same box. Crops smaller than `LANDMARK_SIZE` are enlarged first, so landmark detectors that
return whole pixels still resolve sub-pixel differences of small crops.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from fswap.components import Detection

LANDMARK_SIZE = 256
"""Crops are measured at least at this side (enlarged with bicubic interpolation when smaller)."""

# A generic adult head in millimetres, origin at the nose tip, camera convention (x right, y down, z away from
# the camera), for the 68-point iBUG landmarks that move least with expression. Values are average
# anthropometric proportions (biocular width ≈ 90 mm, intercanthal ≈ 32 mm, mouth ≈ 50 mm, nose tip about
# 45 mm below the nasion and 20–40 mm in front of the eyes and mouth corners).
MODEL_POINTS: dict[int, tuple[float, float, float]] = {
    8: (0.0, 72.0, 26.0),  # chin (menton)
    27: (0.0, -45.0, 24.0),  # top of the nose bridge (nasion)
    30: (0.0, 0.0, 0.0),  # nose tip (pronasale)
    31: (-13.0, 9.0, 19.0),  # nostril, image-left
    33: (0.0, 12.0, 16.0),  # base of the nose (subnasale)
    35: (13.0, 9.0, 19.0),  # nostril, image-right
    36: (-45.0, -36.0, 40.0),  # outer corner of the image-left eye (exocanthion)
    39: (-16.0, -38.0, 30.0),  # inner corner of the image-left eye (endocanthion)
    42: (16.0, -38.0, 30.0),  # inner corner of the image-right eye
    45: (45.0, -36.0, 40.0),  # outer corner of the image-right eye
    48: (-25.0, 30.0, 28.0),  # mouth corner, image-left (cheilion)
    54: (25.0, 30.0, 28.0),  # mouth corner, image-right
}
POSE_INDICES = tuple(sorted(MODEL_POINTS))
EXPRESSION_NAMES = ("mouth_open", "mouth_width", "eye_open_left", "eye_open_right")
ANGLE_NAMES = ("yaw", "pitch", "roll")


# -- measurements on one set of 68 landmarks --------------------------------------------------------------


def _check68(points: np.ndarray) -> np.ndarray:
    pts = np.asarray(points, dtype=np.float64)
    if pts.shape[-2:] != (68, 2):
        raise ValueError(f"need 68 landmarks (x, y) per face, received shape {pts.shape}")
    return pts


def camera_matrix(size: float) -> np.ndarray:
    """A pinhole camera for a size² crop: focal length `size` pixels, centre at the crop centre."""
    c = size / 2.0
    return np.array([[size, 0.0, c], [0.0, size, c], [0.0, 0.0, 1.0]])


def head_rotation(points: np.ndarray, size: float) -> np.ndarray:
    """The head's rotation matrix (3×3, model → camera) from 68 landmarks in a size² crop (solvePnP)."""
    import cv2

    pts = _check68(points)
    image = pts[list(POSE_INDICES)].astype(np.float64)
    model = np.array([MODEL_POINTS[i] for i in POSE_INDICES], dtype=np.float64)
    k = camera_matrix(size)
    # start from a frontal head at the distance where the outer eye corners span what they span in the image
    span = max(float(np.linalg.norm(pts[45] - pts[36])), 1e-3)
    z = size * 90.0 / span
    t0 = np.array([[(pts[30, 0] - k[0, 2]) * z / size], [(pts[30, 1] - k[1, 2]) * z / size], [z]])
    ok, rvec, _tvec = cv2.solvePnP(model, image, k, None, np.zeros((3, 1)), t0, useExtrinsicGuess=True,
                                   flags=cv2.SOLVEPNP_ITERATIVE)
    if not ok:
        raise ValueError("solvePnP found no head pose for these landmarks")
    rotation, _ = cv2.Rodrigues(rvec)
    return rotation


def euler_angles(rotation: np.ndarray) -> np.ndarray:
    """(yaw, pitch, roll) in degrees of R = Rz(roll)·Ry(yaw)·Rx(pitch)."""
    r = np.asarray(rotation, dtype=np.float64)
    yaw = np.arcsin(np.clip(-r[2, 0], -1.0, 1.0))
    pitch = np.arctan2(r[2, 1], r[2, 2])
    roll = np.arctan2(r[1, 0], r[0, 0])
    return np.degrees([yaw, pitch, roll])


def rotation_from_angles(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """R = Rz(roll)·Ry(yaw)·Rx(pitch) from degrees (the inverse of `euler_angles`)."""
    y, p, r = np.radians([yaw, pitch, roll])
    rx = np.array([[1, 0, 0], [0, np.cos(p), -np.sin(p)], [0, np.sin(p), np.cos(p)]])
    ry = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])
    rz = np.array([[np.cos(r), -np.sin(r), 0], [np.sin(r), np.cos(r), 0], [0, 0, 1]])
    return rz @ ry @ rx


def rotation_angle(a: np.ndarray, b: np.ndarray) -> float:
    """The angle (degrees) of the rotation that turns pose `b` into pose `a`."""
    cos = (np.trace(np.asarray(a) @ np.asarray(b).T) - 1.0) / 2.0
    return float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))


def inter_ocular(points: np.ndarray) -> float:
    """Distance between the two eye centres (means of landmarks 36–41 and 42–47)."""
    pts = _check68(points)
    return float(np.linalg.norm(pts[36:42].mean(axis=0) - pts[42:48].mean(axis=0)))


def expression(points: np.ndarray) -> np.ndarray:
    """Mouth opening (62–66), mouth width (48–54) and each eye's opening (mean of its two vertical lid
    distances), divided by the inter-ocular distance: `EXPRESSION_NAMES` in order."""
    pts = _check68(points)
    iod = max(inter_ocular(pts), 1e-6)

    def d(i: int, j: int) -> float:
        return float(np.linalg.norm(pts[i] - pts[j]))

    return np.array([d(62, 66), d(48, 54), (d(37, 41) + d(38, 40)) / 2, (d(43, 47) + d(44, 46)) / 2]) / iod


# -- comparing swaps with their sources -------------------------------------------------------------------


def landmark_distances(swapped: np.ndarray, sources: np.ndarray) -> np.ndarray:
    """(N, M) RMS distance in pixels between the 68 landmarks of swap i and source j."""
    a, b = _check68(swapped), _check68(sources)
    diff = a[:, None] - b[None]
    return np.sqrt((diff**2).sum(axis=-1).mean(axis=-1))


def following_rate(distances: np.ndarray) -> float | None:
    """Share of rows i whose own column i is strictly nearer than every other column (None below 2 faces)."""
    d = np.asarray(distances, dtype=np.float64)
    n = len(d)
    if n < 2:
        return None
    others = d.copy()
    others[np.arange(n), np.arange(n)] = np.inf
    return float(np.mean(np.diag(d) < others.min(axis=1)))


def compare(sources: np.ndarray, others: np.ndarray, size: float,
            files: Sequence[str] | None = None) -> dict[str, Any]:
    """Pose, expression and source-following of faces `others[i]` against `sources[i]` (68 landmarks each,
    pixels of size² crops): mean errors, per-angle errors and signed offsets, and per-face rows."""
    src, oth = _check68(sources), _check68(others)
    if src.shape != oth.shape:
        raise ValueError(f"sources and others differ in shape: {src.shape} and {oth.shape}")
    rot_s = [head_rotation(p, size) for p in src]
    rot_o = [head_rotation(p, size) for p in oth]
    ang_s = np.array([euler_angles(r) for r in rot_s])
    ang_o = np.array([euler_angles(r) for r in rot_o])
    pose_err = np.array([rotation_angle(a, b) for a, b in zip(rot_o, rot_s, strict=True)])
    exp_s = np.array([expression(p) for p in src])
    exp_o = np.array([expression(p) for p in oth])
    exp_err = np.abs(exp_o - exp_s)
    dist = landmark_distances(oth, src)
    nearest = dist.argmin(axis=1)
    names = list(files) if files is not None else [str(i) for i in range(len(src))]
    delta = (ang_o - ang_s + 180.0) % 360.0 - 180.0
    return {
        "faces": len(src),
        "pose_error_deg": float(pose_err.mean()),
        "expression_error": float(exp_err.mean()),
        "following_rate": following_rate(dist),
        "chance_rate": 1.0 / len(src) if len(src) >= 2 else None,
        "angle_error_deg": {n: float(np.abs(delta[:, k]).mean()) for k, n in enumerate(ANGLE_NAMES)},
        "angle_offset_deg": {n: float(delta[:, k].mean()) for k, n in enumerate(ANGLE_NAMES)},
        "expression_errors": {n: float(exp_err[:, k].mean()) for k, n in enumerate(EXPRESSION_NAMES)},
        "landmark_rms_px": float(np.diag(dist).mean()),
        "per_face": [
            {"file": names[i], "source_pose": [round(float(v), 3) for v in ang_s[i]],
             "pose": [round(float(v), 3) for v in ang_o[i]], "pose_error_deg": float(pose_err[i]),
             "expression_error": float(exp_err[i].mean()), "nearest_source": names[int(nearest[i])]}
            for i in range(len(src))
        ],
    }


def spread(points: np.ndarray, size: float) -> dict[str, float]:
    """How much the faces themselves vary: standard deviation of each angle (degrees) and the mean standard
    deviation of the expression measures. Following can only be told apart from noise when faces vary."""
    pts = _check68(points)
    angles = np.array([euler_angles(head_rotation(p, size)) for p in pts])
    expr = np.array([expression(p) for p in pts])
    out = {f"{n}_std_deg": float(angles[:, k].std()) for k, n in enumerate(ANGLE_NAMES)}
    out["expression_std"] = float(expr.std(axis=0).mean())
    return out


# -- landmarks of aligned crops ---------------------------------------------------------------------------


def face_box(points5: np.ndarray) -> tuple[float, float, float, float]:
    """A square box (x, y, w, h) around a face from its 5 points (eyes, nose, mouth corners), placed and
    sized like dlib's frontal face detector places its boxes (measured on the sample portraits: side ≈
    1.1 × (eye distance + eye-to-mouth distance), centre half-way from the eyes to the mouth)."""
    pts = np.asarray(points5, dtype=np.float64).reshape(5, 2)
    eyes, mouth = (pts[0] + pts[1]) / 2, (pts[3] + pts[4]) / 2
    side = 1.1 * (np.linalg.norm(pts[1] - pts[0]) + np.linalg.norm(mouth - eyes))
    cx, cy = eyes + 0.51 * (mouth - eyes)
    return (float(cx - side / 2), float(cy - side / 2), float(side), float(side))


def crop_points5(record: Any, size: int) -> np.ndarray:
    """A face record's 5 alignment points in its crop's pixels (eye centres, nose, mouth corners); the
    alignment template when the record carries no usable points."""
    from fswap.extract.alignment import five_from_68, template_points, transform_points

    pts = np.asarray(record.landmarks, dtype=np.float64).reshape(-1, 2)
    if len(pts) == 68:
        pts = five_from_68(pts)
    if len(pts) == 5:
        crop = transform_points(record.matrix, pts)
        if np.isfinite(crop).all() and np.linalg.norm(crop[1] - crop[0]) > 0.05 * size:
            return crop
    return template_points(size)


def detect_landmarks(aligner: Any, crops: np.ndarray, points5: np.ndarray) -> np.ndarray:
    """68 landmarks (N, 68, 2) in crop pixels of each crop, from `aligner` given a box from its 5 points;
    crops smaller than `LANDMARK_SIZE` are enlarged for the aligner. ValueError when it does not give 68."""
    import cv2

    out = []
    for crop, five in zip(crops, np.asarray(points5, dtype=np.float64), strict=True):
        size = crop.shape[0]
        scale = max(1.0, LANDMARK_SIZE / size)
        image = np.ascontiguousarray(crop)
        if scale > 1.0:
            side = round(size * scale)
            image = cv2.resize(image, (side, side), interpolation=cv2.INTER_CUBIC)
            scale = side / size
        pts5 = five * scale
        detection = Detection(box=face_box(pts5), confidence=1.0, landmarks=pts5)
        points = np.asarray(aligner.align(image, detection).landmarks, dtype=np.float64)
        if points.shape != (68, 2):
            raise ValueError(f"gives {len(points)} landmarks; head pose and expression need 68")
        out.append(points / scale)
    return np.stack(out)


def jittered(crops: np.ndarray, points5: np.ndarray, *, seed: int = 0, max_angle: float = 3.0,
             max_scale: float = 0.03, max_shift: float = 0.02) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each crop moved by a small random similarity (± `max_angle` degrees, 1 ± `max_scale`, ± `max_shift` of
    the side; seeded by (seed, face index)): (moved crops, their 5 points, the 2×3 matrices used)."""
    import cv2

    from fswap.extract.alignment import transform_points

    moved, fives, matrices = [], [], []
    for i, (crop, five) in enumerate(zip(crops, np.asarray(points5, dtype=np.float64), strict=True)):
        rng = np.random.default_rng([seed, i])
        size = crop.shape[0]
        matrix = cv2.getRotationMatrix2D((size / 2, size / 2), float(rng.uniform(-max_angle, max_angle)),
                                         float(rng.uniform(1 - max_scale, 1 + max_scale)))
        matrix[:, 2] += rng.uniform(-max_shift, max_shift, 2) * size
        moved.append(cv2.warpAffine(np.ascontiguousarray(crop), matrix, (size, size), flags=cv2.INTER_LINEAR,
                                    borderMode=cv2.BORDER_REPLICATE))
        fives.append(transform_points(matrix, five))
        matrices.append(matrix)
    return np.stack(moved), np.stack(fives), np.stack(matrices)


def unjitter(points: np.ndarray, matrices: np.ndarray) -> np.ndarray:
    """Landmarks found on `jittered` crops, mapped back into the original crops' pixels."""
    from fswap.extract.alignment import invert, transform_points

    return np.stack([transform_points(invert(m), p) for p, m in zip(points, matrices, strict=True)])


# -- one direction of a model ---------------------------------------------------------------------------


def _headline(section: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in section.items() if k != "per_face"}


def score_direction(aligner: Any, *, sources: np.ndarray, swapped: np.ndarray, reconstructed: np.ndarray,
                    points5: np.ndarray, files: Sequence[str], seed: int = 0) -> dict[str, Any]:
    """Pose, expression and following of `swapped[i]` against `sources[i]` (full aligned crops, the sources
    through the same resampling as the swaps), with two baselines measured the same way:

    * `real_faces`: each real source face against a copy of itself moved by a small random similarity
      (`jittered`; its landmarks mapped back): the landmark pipeline's own noise on real faces, what a swap
      that copied its source's pose and expression perfectly would still score;
    * `reconstruction`: the model's reconstruction of each source (same identity): how well the decoder
      keeps pose and expression when identity does not change.
    """
    size = float(sources.shape[1])
    src = detect_landmarks(aligner, sources, points5)
    section = compare(src, detect_landmarks(aligner, swapped, points5), size, files)
    moved, fives, matrices = jittered(sources, points5, seed=seed)
    real = unjitter(detect_landmarks(aligner, moved, fives), matrices)
    rec = detect_landmarks(aligner, reconstructed, points5)
    section["baseline"] = {"real_faces": _headline(compare(src, real, size)),
                           "reconstruction": _headline(compare(src, rec, size))}
    section["source_spread"] = spread(src, size)
    return section
