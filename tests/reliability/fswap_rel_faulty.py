"""A plugin that misbehaves on purpose, registered as a real `fswap.plugins` entry point by the tests.

Its detector `faulty` finds one face per frame at a fixed place (no TensorFlow, so CLI runs are fast) and,
depending on `mode`, raises on (or kills its process at) frames marked with a magenta top-left pixel,
raises on any batch of several frames (`batch_only`: each frame alone works), returns the wrong type, finds
nothing or finds two faces. The `explodes` detector raises while being built. The blender `boom` raises
on the frame marked like the detector's; the embedder `faulty` raises on its first batch; the loss `boom`
raises in its Python code while the train step is traced (`mode = "trace"`) or in an op when the compiled
step runs (`"run"`).
"""

from __future__ import annotations

import os
import signal
from typing import Any

import attrs
import numpy as np

from fswap import ComponentSpec, Kind, hookimpl, option
from fswap.options import one_of

MARK = (255, 0, 255)  # BGR of the top-left pixel of a frame the detector should fail on
MODES = ("ok", "raise_on_marked", "kill_on_marked", "batch_only", "wrong_type", "none", "two")
LOSS_MODES = ("trace", "run")


@attrs.frozen(kw_only=True)
class FaultyConfig:
    """Options of the faulty detector."""

    mode: str = option("ok", help="How it misbehaves.", validator=one_of(MODES))


@attrs.frozen(kw_only=True)
class ExplodesConfig:
    """No options."""


NoOptions = ExplodesConfig


@attrs.frozen(kw_only=True)
class FaultyEmbedderConfig:
    """Options of the faulty embedder."""

    mode: str = option("raise", help="raise: a KeyError on the first batch; ok: one fixed vector per face.",
                       validator=one_of(("raise", "ok")))


@attrs.frozen(kw_only=True)
class BoomLossConfig:
    """Options of the failing loss."""

    weight: float = option(1.0, help="Weight of the term.")
    mode: str = option("trace", help="When it fails.", validator=one_of(LOSS_MODES))


def is_marked(frame: np.ndarray) -> bool:
    """Whether the frame carries the failure mark (lossless inputs only: PNG folders)."""
    return tuple(int(v) for v in frame[0, 0]) == MARK


def face_in(frame: np.ndarray, x0: float = 0.0, scale: float = 1.0) -> Any:
    """A detection with plausible 5 landmarks filling the (horizontal part x0..x0+scale of the) frame."""
    from fswap.components import Detection

    h, w = frame.shape[:2]
    fx = np.array([0.36, 0.64, 0.5, 0.40, 0.60]) * scale + x0
    fy = np.array([0.40, 0.40, 0.55, 0.70, 0.70])
    points = np.stack([fx * w, fy * h], axis=1)
    box = ((0.2 * scale + x0) * w, 0.2 * h, 0.6 * scale * w, 0.65 * h)
    return Detection(box=box, confidence=0.99, landmarks=points)


class FaultyDetector:
    """Detector whose failures are chosen by its config."""

    def __init__(self, config: FaultyConfig) -> None:
        self.config = config

    def detect(self, frames: list[np.ndarray]) -> Any:
        mode = self.config.mode
        if mode == "batch_only" and len(frames) > 1:
            raise MemoryError("batch too large for this detector")
        if mode == "wrong_type":
            return [{"box": (0, 0, 10, 10)} for _ in frames]
        out = []
        for frame in frames:
            if mode == "raise_on_marked" and is_marked(frame):
                raise RuntimeError("cannot cope with\nthis frame")
            if mode == "kill_on_marked" and is_marked(frame):  # a crash or `kill -9` mid-run
                os.kill(os.getpid(), signal.SIGKILL)
            if mode == "none":
                out.append([])
            elif mode == "two":
                out.append([face_in(frame, 0.0, 0.5), face_in(frame, 0.5, 0.5)])
            else:
                out.append([face_in(frame)])
        return out


class Explodes:
    """A detector whose construction fails (e.g. a missing native library)."""

    def __init__(self, config: ExplodesConfig) -> None:
        raise OSError("libfaulty.so.3: cannot open shared object file")


class BoomBlender:
    """A blender that divides by zero on a marked frame (the generated crop keeps no mark, so the frame's
    own top-left pixel decides) and pastes nothing otherwise."""

    def __init__(self, config: NoOptions) -> None:
        self.config = config

    def blend(self, frame: np.ndarray, generated: np.ndarray, alpha: np.ndarray, matrix: np.ndarray) -> Any:
        if is_marked(frame):
            return 1 // 0
        return frame.copy()


class FaultyEmbedder:
    """An embedder whose lookup table lacks every face (a KeyError on the first batch) or, with
    `mode = "ok"`, gives every face the same vector."""

    dim = 4

    def __init__(self, config: FaultyEmbedderConfig) -> None:
        self.table: dict[str, Any] = {}
        self.mode = config.mode

    def embed(self, faces: list[np.ndarray]) -> np.ndarray:
        if self.mode == "ok":
            return np.ones((len(faces), self.dim), np.float32)
        return np.stack([self.table[f"face-{n}"] for n, _ in enumerate(faces)])

    def distance(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.zeros(len(a), np.float32)


class BoomLoss:
    """A loss term that fails inside the compiled train step."""

    uses_discriminator = False

    def __init__(self, config: BoomLossConfig) -> None:
        self.weight = config.weight
        self.mode = config.mode

    def generator_loss(self, x: Any) -> Any:
        import tensorflow as tf

        if self.mode == "trace":
            return {"not": "a tensor"}["loss"]  # a KeyError while the step is traced

        def lookup(values: np.ndarray) -> np.ndarray:  # runs only when the compiled step runs
            raise LookupError(f"no table entry for a batch of {len(values)}")

        value = tf.numpy_function(lookup, [x.alpha], tf.float32, stateful=False)
        return tf.reduce_mean(tf.reshape(value, [-1]))

    def discriminator_loss(self, x: Any) -> None:
        return None


@hookimpl
def fswap_register_components() -> list[ComponentSpec]:
    return [
        ComponentSpec(kind=Kind.BLENDER, name="boom", factory="fswap_rel_faulty:BoomBlender",
                      config=NoOptions, summary="Divides by zero on marked frames (tests)."),
        ComponentSpec(kind=Kind.EMBEDDER, name="faulty_embedder", factory="fswap_rel_faulty:FaultyEmbedder",
                      config=FaultyEmbedderConfig, summary="Raises KeyError on its first batch (tests)."),
        ComponentSpec(kind=Kind.LOSS, name="boom", factory="fswap_rel_faulty:BoomLoss",
                      config=BoomLossConfig, summary="Fails inside the train step (tests)."),
        ComponentSpec(kind=Kind.DETECTOR, name="faulty", factory="fswap_rel_faulty:FaultyDetector",
                      config=FaultyConfig, summary="Misbehaves on purpose (tests)."),
        ComponentSpec(kind=Kind.DETECTOR, name="explodes", factory="fswap_rel_faulty:Explodes",
                      config=ExplodesConfig, summary="Fails while being built (tests)."),
    ]
