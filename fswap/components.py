"""Kinds of components, the spec a plugin registers, plain value types and one Protocol per kind.

Nothing here imports TensorFlow, Keras or OpenCV: plugin discovery and `fswap validate` stay cheap.
Arrays are numpy; images are BGR uint8 (H, W, 3) unless a docstring says otherwise.
"""

from __future__ import annotations

import enum
import importlib
import re
from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import attrs
import numpy as np

from fswap.errors import PluginError


class Kind(enum.StrEnum):
    """What a component does; each kind has its own registration hook and Protocol."""

    DETECTOR = "detector"
    ALIGNER = "aligner"
    MASK_GENERATOR = "mask_generator"
    EMBEDDER = "embedder"
    TRACKER = "tracker"
    LOSS = "loss"
    NORMALIZATION = "normalization"
    ATTENTION = "attention"
    UPSAMPLING = "upsampling"
    BLENDER = "blender"
    COLOR_TRANSFER = "color_transfer"
    WRITER = "writer"
    RECIPE = "recipe"


_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_FACTORY_RE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")


def _check_name(_inst: Any, _attr: attrs.Attribute, value: str) -> None:
    if not _NAME_RE.match(value):
        raise ValueError(f"component name {value!r} must be lower_snake_case")


def _check_factory(_inst: Any, _attr: attrs.Attribute, value: str) -> None:
    if not _FACTORY_RE.match(value):
        raise ValueError(f"factory {value!r} must look like 'package.module:Attribute'")


@attrs.frozen
class ComponentSpec:
    """What a plugin registers: a named component of one kind, its config class and a lazy factory.

    `factory` is a "module:attr" string so registering never imports heavy code; the builder imports it
    and calls `factory(config)` once per pipeline. `default_for` names the slot roles (fswap.options
    `component(..., role=…)`, the kind's own name unless the slot says otherwise) this component fills
    when pipeline.toml names none: the core names no concrete component, the plugins say which is used.
    """

    kind: Kind = attrs.field(converter=Kind)
    name: str = attrs.field(validator=_check_name)
    factory: str = attrs.field(validator=_check_factory)
    config: type = attrs.field()
    summary: str = ""
    aliases: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    default_for: tuple[str, ...] = attrs.field(default=(), converter=tuple)

    @default_for.validator
    def _roles_are_names(self, _attr: attrs.Attribute, value: tuple[str, ...]) -> None:
        for role in value:
            if not isinstance(role, str) or not _NAME_RE.match(role):
                raise ValueError(f"default_for of component {self.name!r}: role {role!r} must be "
                                 "lower_snake_case (a slot role such as the kind's name)")

    @config.validator
    def _config_is_attrs(self, _attr: attrs.Attribute, value: type) -> None:
        if not attrs.has(value):
            raise ValueError(f"config of component {self.name!r} must be an attrs class, got {value!r}")

    def load_factory(self) -> Any:
        """Import and return the factory object (may import TensorFlow)."""
        module_name, _, attr_path = self.factory.partition(":")
        try:
            obj: Any = importlib.import_module(module_name)
            for part in attr_path.split("."):
                obj = getattr(obj, part)
        except Exception as exc:  # any import-time failure of a plugin module
            raise PluginError(
                f"{self.kind} '{self.name}': cannot import its factory {self.factory} "
                f"({type(exc).__name__}: {exc})"
            ) from exc
        return obj


@attrs.frozen
class Provider:
    """Where a component came from: the entry point (plugin) and its distribution."""

    plugin: str
    distribution: str
    version: str

    def __str__(self) -> str:
        return f"{self.distribution} {self.version}"


@attrs.frozen
class ComponentChoice:
    """A component selected in pipeline.toml: its spec, validated config, provider and TOML section."""

    spec: ComponentSpec
    config: Any
    provider: Provider
    section: str

    @property
    def name(self) -> str:
        return self.spec.name


# ---------------------------------------------------------------------------------------------------
# Value types passed between components (plain data, no framework objects)
# ---------------------------------------------------------------------------------------------------


def _as_points(value: Any) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64).reshape(-1, 2)
    arr.setflags(write=False)
    return arr


@attrs.frozen(eq=False)
class Detection:
    """One detected face in frame pixels: box (x, y, w, h), confidence and landmarks.

    `landmarks` has 5 rows for MTCNN in the order left eye, right eye, nose, left mouth corner,
    right mouth corner as seen in the image (image-left first), or 68 rows in iBUG-300W order.
    """

    box: tuple[float, float, float, float] = attrs.field(converter=lambda b: tuple(float(v) for v in b))
    confidence: float = attrs.field(converter=float)
    landmarks: np.ndarray = attrs.field(converter=_as_points)

    @property
    def center(self) -> tuple[float, float]:
        x, y, w, h = self.box
        return (x + w / 2.0, y + h / 2.0)

    def to_json(self) -> dict[str, Any]:
        return {
            "box": [round(v, 3) for v in self.box],
            "confidence": round(self.confidence, 5),
            "landmarks": np.round(self.landmarks, 3).tolist(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Detection:
        return cls(box=data["box"], confidence=data["confidence"], landmarks=data["landmarks"])


@attrs.frozen(eq=False)
class AlignedFace:
    """An aligned face crop and how it was made.

    `image` is the size×size BGR crop; `matrix` the 2×3 affine frame→crop; `landmarks` are in frame pixels
    (5 or 68 points) and `crop_landmarks` the same points in crop pixels.
    """

    image: np.ndarray
    matrix: np.ndarray
    landmarks: np.ndarray = attrs.field(converter=_as_points)
    detection: Detection

    @property
    def size(self) -> int:
        return int(self.image.shape[0])

    @property
    def crop_landmarks(self) -> np.ndarray:
        pts = np.hstack([self.landmarks, np.ones((len(self.landmarks), 1))])
        return pts @ np.asarray(self.matrix, dtype=np.float64).T


@attrs.frozen(eq=False)
class TrackedFace:
    """A face followed across frames: a stable id and the smoothed detection for this frame."""

    track_id: int
    detection: Detection
    observed: bool = True  # False when the tracker predicted it without a detection this frame


# ---------------------------------------------------------------------------------------------------
# Protocols: what the stages call. Factories return objects satisfying these.
# ---------------------------------------------------------------------------------------------------


@runtime_checkable
class Detector(Protocol):
    """Finds faces in whole frames."""

    def detect(self, frames: Sequence[np.ndarray]) -> list[list[Detection]]:
        """Detect the faces of a batch of frames.

        frames: BGR uint8 arrays of shape (H, W, 3), any size, possibly of different sizes; a frame may
            hold no face (fswap's contract check feeds a blank grey frame and expects none). Do not modify
            them.
        returns: one list per frame, in order: that frame's faces as Detections in frame pixels (box
            (x, y, w, h) with w, h > 0; confidence in [0, 1]; 5 or 68 landmarks inside the frame).
        """
        ...


@runtime_checkable
class Aligner(Protocol):
    """Turns a detection into an aligned square crop (and may refine the landmarks, e.g. to 68 points)."""

    size: int
    """Side of the crops it makes, in pixels (e.g. 256)."""

    def align(self, frame: np.ndarray, detection: Detection) -> AlignedFace:
        """Align one detected face.

        frame: the BGR uint8 (H, W, 3) frame the detection was made on (not modified).
        detection: one Detection of that frame, in frame pixels.
        returns: an AlignedFace whose `image` is a `size`×`size` BGR uint8 crop, `matrix` the 2×3 float
            affine frame→crop (crop = matrix · [x, y, 1]), `landmarks` 5 or 68 points in frame pixels.
        """
        ...


@runtime_checkable
class MaskGenerator(Protocol):
    """Makes a mask of an aligned face from its landmarks (e.g. the face hull, the eyes, the mouth)."""

    def generate(self, face: AlignedFace) -> np.ndarray:
        """The mask of one face.

        face: an AlignedFace (crop `face.size` pixels; `face.crop_landmarks` in crop pixels).
        returns: float32 array of shape (face.size, face.size), values in [0, 1] (1 = inside the region).
        """
        ...


@runtime_checkable
class Embedder(Protocol):
    """Identity embeddings of aligned face crops; smaller distance = more likely the same person."""

    dim: int
    """Length of one embedding."""

    def embed(self, faces: Sequence[np.ndarray]) -> np.ndarray:
        """Embed a batch of aligned crops.

        faces: BGR uint8 crops of shape (S, S, 3), as an aligner makes them (any S; resize inside).
        returns: float32 array of shape (len(faces), dim), finite.
        """
        ...

    def distance(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Distances between embeddings.

        a, b: float32 arrays of shape (N, dim) and (N, dim) or (dim,) (broadcast).
        returns: float array of shape (N,), ≥ 0; 0 for identical embeddings.
        """
        ...


@runtime_checkable
class Tracker(Protocol):
    """Follows faces across the frames of one video and smooths their boxes and landmarks."""

    def update(self, frame_index: int, detections: list[Detection] | None) -> list[TrackedFace]:
        """Advance to one frame.

        frame_index: the frame's index in the video; it increases from call to call (a `reset` at a cut does
            not restart it).
        detections: that frame's Detections in frame pixels, or None when detection was skipped on this
            frame (the tracker predicts).
        returns: the faces to swap on this frame, each with a stable `track_id` (the same person keeps
            it across frames) and its smoothed Detection; `observed` is False when predicted.
        """
        ...

    def reset(self) -> None:
        """Forget every track (called before a new video or after a cut)."""
        ...


@runtime_checkable
class ColorTransfer(Protocol):
    """Matches the colours of a generated face to the face it replaces, before blending."""

    def transfer(self, generated: np.ndarray, reference: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Recolour one generated crop.

        generated: the model's BGR uint8 output, shape (R, R, 3) at the model resolution R.
        reference: the source crop it replaces, BGR uint8 (R, R, 3), the same pixels of the frame.
        mask: float32 (R, R) in [0, 1], the model's α (where the generated face will be pasted).
        returns: BGR uint8 (R, R, 3); the inputs are not modified.
        """
        ...


@runtime_checkable
class Blender(Protocol):
    """Composites a generated crop back into its frame."""

    def blend(
        self, frame: np.ndarray, generated: np.ndarray, alpha: np.ndarray, matrix: np.ndarray
    ) -> np.ndarray:
        """Paste one generated face into a frame.

        frame: the BGR uint8 (H, W, 3) frame (already holding earlier faces of this frame); not modified.
        generated: BGR uint8 (R, R, 3) at the model resolution R (after colour transfer).
        alpha: float32 (R, R) in [0, 1], the model's mask (2-D, no channel axis): 1 = use the generated
            pixel, 0 = keep the frame's.
        matrix: 2×3 float64 affine frame→crop of this face at resolution R, with the ROI coverage folded
            in (crop = matrix · [x, y, 1]); warp the crop back with its inverse.
        returns: a new BGR uint8 (H, W, 3) frame, equal to `frame` wherever alpha is 0 (everywhere outside
            the face's crop too).
        """
        ...


@runtime_checkable
class Writer(Protocol):
    """Writes the converted frames to an output (a video file, an image sequence, …)."""

    def open(self, path: Any, *, fps: float, size: tuple[int, int], audio_source: Any | None) -> Any:
        """Start one output.

        path: the final output path (a pathlib.Path).
        fps: frames per second of the source. size: (width, height) of every frame.
        audio_source: the path of the source video whose audio to carry over, or None.
        returns: a session with `write(frame)` (BGR uint8 (height, width, 3)), `close()` (returns the
            final path; the output appears there only now, atomically) and `abort()` (removes the partial
            output).
        """
        ...


@runtime_checkable
class Recipe(Protocol):
    """A named set of `[train]` defaults (`[train] recipe = "<name>"`): what a demanding run of some kind
    needs, chosen with one line."""

    table: Mapping[str, Any]
    """[train] option names → TOML values (sub-tables as dicts, lists of tables as lists of dicts); each
    fills in an option the user's [train] table leaves out (`losses` and `schedule` replace as a whole)."""


@runtime_checkable
class LayerFactory(Protocol):
    """Normalization, attention and upsampling components: a block factory the model builders call while
    they build the Keras networks (see fswap.model.contracts for the extra keyword arguments)."""

    def __call__(self, channels: int, *, name: str) -> Any:
        """Make the block for one place in the network.

        channels: feature channels of the block's input (upsampling: filters of its output).
        name: a unique layer name to use (or prefix) so saved models reload.
        returns: normalization/attention: a Keras layer keeping the input shape, or None for no layer;
            upsampling: a list of layers doubling height and width.
        """
        ...
