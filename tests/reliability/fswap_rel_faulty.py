"""A plugin that misbehaves on purpose, registered as a real `fswap.plugins` entry point by the tests.

Its detector `faulty` finds one face per frame at a fixed place (no TensorFlow, so CLI runs are fast) and,
depending on `mode`, raises on (or kills its process at) frames marked with a magenta top-left pixel,
returns the wrong type, finds nothing or finds two faces. The `explodes` detector raises while being built.
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
MODES = ("ok", "raise_on_marked", "kill_on_marked", "wrong_type", "none", "two")


@attrs.frozen(kw_only=True)
class FaultyConfig:
    """Options of the faulty detector."""

    mode: str = option("ok", help="How it misbehaves.", validator=one_of(MODES))


@attrs.frozen(kw_only=True)
class ExplodesConfig:
    """No options."""


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


@hookimpl
def fswap_register_detectors() -> list[ComponentSpec]:
    return [
        ComponentSpec(kind=Kind.DETECTOR, name="faulty", factory="fswap_rel_faulty:FaultyDetector",
                      config=FaultyConfig, summary="Misbehaves on purpose (tests)."),
        ComponentSpec(kind=Kind.DETECTOR, name="explodes", factory="fswap_rel_faulty:Explodes",
                      config=ExplodesConfig, summary="Fails while being built (tests)."),
    ]
