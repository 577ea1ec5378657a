"""Deliberately good and broken components for testing fswap.testing (no heavy imports at module level)."""


from __future__ import annotations

import functools
from typing import Any

import attrs
import numpy as np

from fswap import AlignedFace, ComponentSpec, Detection, NoOptions, TrackedFace, declare, option
from fswap.testing import sample_detection


@attrs.frozen(kw_only=True)
class Cfg:
    mode: str = option("good", help="Which behaviour to show: good or one of the broken ones.")
    weight: float = option(1.0, help="Loss weight.")


@attrs.define
class MutableCfg:
    mode: str = option("good", help="Not frozen.")


@attrs.frozen
class NoHelpCfg:
    mode: str = attrs.field(default="good")


@attrs.frozen
class RequiredCfg:
    path: str = option(help="Required, no default.")


def spec(kind: str, factory: str, config: type = Cfg, name: str = "kit") -> ComponentSpec:
    return ComponentSpec(kind=kind, name=name, factory=f"{__name__}:{factory}", config=config)


class ReplayDetector:
    """Good: finds the known sample faces by looking at the frame size. Broken modes misbehave."""

    def __init__(self, config: Cfg) -> None:
        self.mode = config.mode

    def detect(self, frames: list[np.ndarray]) -> Any:
        out: list[Any] = []
        for frame in frames:
            h, w = frame.shape[:2]
            name = {(512, 512): "astronaut", (600, 512): "grace_hopper"}.get((h, w))
            found = [sample_detection(name)] if name else []
            if self.mode == "tuples":
                found = [(d.box, d.confidence) for d in found]
            elif self.mode == "swapped_eyes":
                found = [Detection(d.box, d.confidence, d.landmarks[[1, 0, 2, 3, 4]]) for d in found]
            elif self.mode == "outside":
                found = [Detection(d.box, d.confidence, d.landmarks + 600.0) for d in found]
            elif self.mode == "rolled":  # the face turned 30° about the frame centre (head roll)
                import cv2

                rotation = cv2.getRotationMatrix2D((w / 2, h / 2), 30.0, 1.0)
                found = [
                    Detection(d.box, d.confidence, np.hstack([d.landmarks, np.ones((5, 1))]) @ rotation.T)
                    for d in found
                ]
            elif self.mode == "blind":
                found = []
            elif self.mode == "elsewhere":  # a plausible face, in the frame's top-left corner
                found = [Detection((4.0, 4.0, 60.0, 60.0), d.confidence,
                                   d.landmarks - d.landmarks.min(axis=0) + 8) for d in found]
            elif self.mode == "shifted_eyes":  # the right box, the landmarks 30 px lower
                found = [Detection(d.box, d.confidence, d.landmarks + np.array([0.0, 30.0])) for d in found]
            elif self.mode == "scribble":
                frame[0, 0] = 255 - frame[0, 0]
            out.append(found)
        return tuple(out) if self.mode == "tuple_result" else out


class CropAligner:
    """Good: a plain box crop resized to `size` (the matrix is the matching scale + shift)."""

    size = 64

    def __init__(self, config: Cfg) -> None:
        self.mode = config.mode

    def align(self, frame: np.ndarray, detection: Detection) -> AlignedFace:
        import cv2

        x, y, w, h = detection.box
        side = max(w, h)
        s = self.size / side
        matrix = np.array([[s, 0.0, -x * s], [0.0, s, -y * s]])
        size = self.size if self.mode == "good" else self.size // 2
        crop = cv2.warpAffine(frame, matrix, (size, size))
        return AlignedFace(image=crop, matrix=matrix, landmarks=detection.landmarks, detection=detection)


class BoxMask:
    def __init__(self, config: Cfg) -> None:
        self.mode = config.mode

    def generate(self, face: AlignedFace) -> np.ndarray:
        mask = np.zeros((face.size, face.size), np.float32)
        mask[face.size // 4 : 3 * face.size // 4, face.size // 4 : 3 * face.size // 4] = 1.0
        if self.mode == "uint8":
            return (mask * 255).astype(np.uint8)
        if self.mode == "empty":
            return mask * 0
        return mask


class PixelEmbedder:
    """Good enough: downsampled grey pixels (a shifted copy stays closer than another person)."""

    dim = 64

    def __init__(self, config: Cfg) -> None:
        self.mode = config.mode

    def embed(self, faces: list[np.ndarray]) -> np.ndarray:
        small = np.stack([f[::32, ::32].mean(axis=2).ravel() for f in faces]).astype(np.float32)
        return small[:, :32] if self.mode == "wrong_dim" else small

    def distance(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        d = np.linalg.norm(a - b, axis=1)
        return -d if self.mode == "inverted" else d


class CopyTracker:
    """Good: passes detections through with id 0; `new_ids` gives every frame a new id."""

    def __init__(self, config: Cfg) -> None:
        self.mode = config.mode
        self.count = 0

    def update(self, frame_index: int, detections: list[Detection] | None) -> list[TrackedFace]:
        self.count += 1
        track_id = self.count if self.mode == "new_ids" else 0
        return [TrackedFace(track_id=track_id, detection=d) for d in detections or []]

    def reset(self) -> None:
        self.count = 0


@declare("tracker", "kit_declared", factory=f"{__name__}:CopyTracker")
@attrs.frozen(kw_only=True)
class DeclaredTracker(Cfg):
    """The good tracker, declared on its config class."""


class NoResetTracker:
    """Broken: follows faces but has no reset()."""

    def __init__(self, config: object) -> None:
        pass

    def update(self, frame_index: int, detections: list[Detection] | None) -> list[TrackedFace]:
        return [TrackedFace(track_id=0, detection=d) for d in detections or []]


@declare("tracker", "kit_no_reset", factory=f"{__name__}:NoResetTracker")
class NoResetConfig(NoOptions):
    """A tracker without reset()."""


class MeanTransfer:
    def __init__(self, config: Cfg) -> None:
        self.mode = config.mode

    def transfer(self, generated: np.ndarray, reference: np.ndarray, mask: np.ndarray) -> np.ndarray:
        sel = mask > 0.5
        out = generated.astype(np.float64)
        out[sel] += reference[sel].mean(axis=0) - generated[sel].mean(axis=0)
        if self.mode == "in_place":
            generated[...] = 0
        if self.mode == "float":
            return out
        return np.clip(out, 0, 255).astype(np.uint8)


class PasteBlender:
    def __init__(self, config: Cfg) -> None:
        self.mode = config.mode

    def blend(
        self, frame: np.ndarray, generated: np.ndarray, alpha: np.ndarray, matrix: np.ndarray
    ) -> np.ndarray:
        import cv2

        h, w = frame.shape[:2]
        inverse = cv2.invertAffineTransform(np.asarray(matrix, np.float64))
        face = cv2.warpAffine(generated, inverse, (w, h)).astype(np.float64)
        a = cv2.warpAffine(alpha.astype(np.float32), inverse, (w, h))[..., None]
        if self.mode == "ignores_alpha":
            a = np.ones_like(a) * 0.5
        out = (a * face + (1 - a) * frame).astype(np.uint8)
        if self.mode == "blacks_a_row":  # far from the face: only a footprint check sees it
            out[2] = 0
        elif self.mode == "plus_one":  # every pixel one level up: small on average, everywhere
            out = np.minimum(out.astype(np.int16) + 1, 255).astype(np.uint8)
        elif self.mode == "face_only_drift":  # alpha 0, yet the face region shifts by 3 levels
            inside = cv2.warpAffine(np.ones(alpha.shape, np.uint8), inverse, (w, h)) > 0
            out[inside] = np.minimum(out[inside].astype(np.int16) + 3, 255).astype(np.uint8)
        return out


class L1Loss:
    """Good: L1 of the masked output against the target; `constant` has no gradient, `vector` no scalar."""

    uses_discriminator = False

    def __init__(self, config: Cfg) -> None:
        self.mode = config.mode
        self.weight = config.weight

    def generator_loss(self, x: Any) -> Any:
        import tensorflow as tf

        if self.mode == "constant":
            return tf.constant(1.0)
        if self.mode == "vector":
            return tf.reduce_mean(tf.abs(x.masked - x.target), axis=[1, 2, 3])
        return tf.reduce_mean(tf.abs(x.masked - x.target))

    def discriminator_loss(self, x: Any) -> Any:
        return None


class NotHeavyAtAll:
    """A factory target for spec-only checks."""

    def __init__(self, config: Any) -> None:
        self.config = config


@functools.cache
def _scale_classes() -> dict[str, type]:
    """Keras layer classes made on first use (so importing this module stays free of Keras)."""
    import keras

    class Scale(keras.layers.Layer):
        def __init__(self, factor: float = 1.0, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.factor = factor

        def call(self, x: Any) -> Any:
            return x * self.factor

        def get_config(self) -> dict[str, Any]:
            return {**super().get_config(), "factor": self.factor}

    class ForgetfulScale(Scale):
        def get_config(self) -> dict[str, Any]:
            config = super().get_config()
            config.pop("factor")
            return config

    unregistered = type("UnregisteredScale", (Scale,), {})
    register = keras.saving.register_keras_serializable(package="fswap_kit_test")
    return {"good": register(Scale), "forgets_config": register(ForgetfulScale), "unregistered": unregistered}


class ScaleNorm:
    """A normalization block factory making a scaling layer (broken variants: `forgets_config`,
    `unregistered`)."""

    def __init__(self, config: Cfg) -> None:
        self.mode = config.mode

    def __call__(self, channels: int, *, name: str) -> Any:
        return _scale_classes()[self.mode](factor=2.5, name=name)


class NpySession:
    def __init__(self, path: Any, mode: str) -> None:
        from pathlib import Path

        self.path = Path(path)
        self.mode = mode
        self.partial = self.path.with_name(f".{self.path.name}.partial")
        self.frames: list[np.ndarray] = []
        if mode == "eager":  # broken: the final name exists while writing
            self.path.write_bytes(b"")

    def write(self, frame: np.ndarray) -> None:
        self.frames.append(frame)
        np.save(self.partial, np.stack(self.frames), allow_pickle=False)

    def close(self) -> Any:
        self.partial.with_suffix(".partial.npy").replace(self.path)
        return self.path

    def abort(self) -> None:
        if self.mode != "leaky":  # broken: the partial file stays
            self.partial.with_suffix(".partial.npy").unlink(missing_ok=True)


class NpyWriter:
    """Frames stacked into one .npy file, written under a temporary name until close()."""

    suffix = ".npy"

    def __init__(self, config: Cfg) -> None:
        self.mode = config.mode

    def open(self, path: Any, *, fps: float, size: tuple[int, int], audio_source: Any | None) -> NpySession:
        return NpySession(path, self.mode)
