"""Kinds of components, the spec a plugin registers, plain value types and one Protocol per kind.

Nothing here imports TensorFlow, Keras or OpenCV: plugin discovery and `fswap validate` stay cheap.
Arrays are numpy; images are BGR uint8 (H, W, 3) unless a docstring says otherwise.
"""

from __future__ import annotations

import enum
import importlib
import re
from collections.abc import Sequence
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
    and calls `factory(config)` once per pipeline.
    """

    kind: Kind = attrs.field(converter=Kind)
    name: str = attrs.field(validator=_check_name)
    factory: str = attrs.field(validator=_check_factory)
    config: type = attrs.field()
    summary: str = ""
    aliases: tuple[str, ...] = attrs.field(default=(), converter=tuple)

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
    """Finds faces. `detect` takes a batch of BGR uint8 frames and returns, per frame, its detections."""

    def detect(self, frames: Sequence[np.ndarray]) -> list[list[Detection]]: ...


@runtime_checkable
class Aligner(Protocol):
    """Turns a detection into an aligned crop (and may refine landmarks, e.g. to 68 points)."""

    size: int

    def align(self, frame: np.ndarray, detection: Detection) -> AlignedFace: ...


@runtime_checkable
class MaskGenerator(Protocol):
    """Makes a float32 mask in [0, 1] of shape (size, size) for an aligned face from its landmarks."""

    def generate(self, face: AlignedFace) -> np.ndarray: ...


@runtime_checkable
class Embedder(Protocol):
    """Identity embeddings of aligned face crops: (N, dim) float32; smaller `distance` = same person."""

    dim: int

    def embed(self, faces: Sequence[np.ndarray]) -> np.ndarray: ...

    def distance(self, a: np.ndarray, b: np.ndarray) -> np.ndarray: ...


@runtime_checkable
class Tracker(Protocol):
    """Follows faces over a video. `update` is called once per frame with that frame's detections
    (None when detection was skipped on this frame) and returns the faces to use."""

    def update(self, frame_index: int, detections: list[Detection] | None) -> list[TrackedFace]: ...

    def reset(self) -> None: ...


@runtime_checkable
class ColorTransfer(Protocol):
    """Matches the colours of `generated` to `reference` (both BGR uint8 crops) inside `mask`."""

    def transfer(self, generated: np.ndarray, reference: np.ndarray, mask: np.ndarray) -> np.ndarray: ...


@runtime_checkable
class Blender(Protocol):
    """Composites a generated crop into the frame.

    `generated` is the BGR uint8 crop, `alpha` the model's (size, size) float mask in [0, 1], `matrix`
    the 2×3 frame→crop transform. Returns the new frame (the input frame is not modified).
    """

    def blend(
        self, frame: np.ndarray, generated: np.ndarray, alpha: np.ndarray, matrix: np.ndarray
    ) -> np.ndarray: ...


@runtime_checkable
class Writer(Protocol):
    """Writes frames to an output; `open` returns a session that writes to a temporary name and only
    appears under the final name when `close()` succeeds (`abort()` removes the partial output)."""

    def open(self, path: Any, *, fps: float, size: tuple[int, int], audio_source: Any | None) -> Any: ...


@runtime_checkable
class LayerFactory(Protocol):
    """Normalization, attention and upsampling components: the builders call the factory object with the
    channel count and a unique layer name and get a Keras layer (see fswap.model for the exact contract)."""

    def __call__(self, channels: int, *, name: str) -> Any: ...


@runtime_checkable
class LossTerm(Protocol):
    """A weighted training loss (see fswap.train.losses for the context object it receives)."""

    weight: float
