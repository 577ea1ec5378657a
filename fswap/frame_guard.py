"""Per-frame plugin calls under a stage's `on_frame_error` policy, with a check of what they return.

A plugin that raises on one frame either fails the stage with an error naming the plugin and the frame
number (`on_frame_error = "fail"`) or has that frame skipped and counted (`"skip"`). A plugin that returns
the wrong type always fails: that is a bug in the plugin, not a bad frame, so skipping would hide it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import attrs
import numpy as np

from fswap.components import AlignedFace, ComponentChoice, Detection
from fswap.errors import FswapError, PluginError, StageError

ON_FRAME_ERROR = ("fail", "skip")


def _one_line(text: str, limit: int = 300) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def plugin_label(choice: ComponentChoice) -> str:
    """`[section] kind 'name' (provider)`: how an error names the plugin."""
    return f"[{choice.section}] {choice.spec.kind} '{choice.spec.name}' ({choice.provider})"


def _type_name(value: Any) -> str:
    return type(value).__name__


@attrs.define
class FrameGuard:
    """Counts and reports plugin failures of one stage run; `policy` is "fail" or "skip"."""

    stage: str
    policy: str
    source: str = ""
    skipped: list[int] = attrs.field(factory=list)
    errors: list[str] = attrs.field(factory=list)

    def failed(self, choice: ComponentChoice, index: int, exc: BaseException) -> None:
        """Record a failure on frame `index`; raises StageError unless the policy is "skip"."""
        what = f"{plugin_label(choice)} failed on frame {index}"
        if self.source:
            what += f" of {self.source}"
        detail = _one_line(f"{_type_name(exc)}: {exc}")
        if self.policy != "skip":
            raise StageError(
                f'{what}: {detail}; set [{self.stage}] on_frame_error = "skip" to skip such frames and count '
                "them"
            ) from exc
        if index not in self.skipped:
            self.skipped.append(index)
        self.errors.append(f"frame {index}: {detail}")

    def call(self, choice: ComponentChoice, index: int, func: Callable[..., Any], *args: Any) -> Any:
        """`func(*args)` for frame `index`; None when it raised and the policy skips the frame."""
        try:
            return func(*args)
        except FswapError:
            raise
        except Exception as exc:  # any failure inside a plugin
            self.failed(choice, index, exc)
            return None

    def detect(
        self, detector: Any, choice: ComponentChoice, items: Sequence[tuple[int, np.ndarray]]
    ) -> list[list[Detection]]:
        """Detections per (frame index, frame); a failing batch is retried frame by frame to find it."""
        if not items:
            return []
        try:
            found = detector.detect([frame for _, frame in items])
        except FswapError:
            raise
        except Exception as exc:  # a plugin failure: find which frame causes it
            if len(items) == 1:
                self.failed(choice, items[0][0], exc)
                return [[]]
            out = []
            for index, frame in items:
                single = self.call(choice, index, detector.detect, [frame])
                out.append([] if single is None else check_detections(choice, single, 1)[0])
            return out
        return check_detections(choice, found, len(items))

    def mask(
        self, generator: Any, choice: ComponentChoice, index: int, face: AlignedFace
    ) -> np.ndarray | None:
        """The mask (a size×size array), None when the generator raised and the policy skips the frame."""
        mask = self.call(choice, index, generator.generate, face)
        if mask is None:
            return None
        if not isinstance(mask, np.ndarray) or mask.shape[:2] != face.image.shape[:2]:
            shape = getattr(mask, "shape", None)
            raise PluginError(
                f"{plugin_label(choice)} broke its contract: generate() must return a "
                f"{face.size}×{face.size} array, received {_type_name(mask)}"
                + (f" of shape {tuple(shape)}" if shape is not None else "")
            )
        return mask


def check_aligned(choice: ComponentChoice, face: Any) -> AlignedFace:
    """`face` as returned by an aligner, or a PluginError naming the plugin."""
    if not isinstance(face, AlignedFace):
        raise PluginError(
            f"{plugin_label(choice)} broke its contract: align() must return an AlignedFace, "
            f"received {_type_name(face)}"
        )
    return face


def check_detections(choice: ComponentChoice, found: Any, frames: int) -> list[list[Detection]]:
    """`found` as returned by a detector for `frames` frames, or a PluginError naming the plugin."""
    where = f"{plugin_label(choice)} broke its contract: detect() must return one list of Detection per frame"
    if not isinstance(found, (list, tuple)):
        raise PluginError(f"{where}, received {_type_name(found)}")
    if len(found) != frames:
        raise PluginError(f"{where}, received {len(found)} lists for {frames} frames")
    out = []
    for per_frame in found:
        if not isinstance(per_frame, (list, tuple)):
            raise PluginError(f"{where}, received a {_type_name(per_frame)} for one frame")
        for item in per_frame:
            if not isinstance(item, Detection):
                raise PluginError(f"{where}, received a {_type_name(item)} among the detections")
        out.append(list(per_frame))
    return out


def detect_frames(detector: Any, items: Sequence[tuple[int, np.ndarray]]) -> list[list[Detection]]:
    """Detections for (frame index, frame) pairs: through the guard when the detector is guarded."""
    if isinstance(detector, GuardedDetector):
        return detector.detect_frames(items)
    return detector.detect([frame for _, frame in items])


@attrs.define
class GuardedDetector:
    """A detector bound to its choice and the stage's guard (still usable as a plain Detector)."""

    detector: Any
    choice: ComponentChoice
    guard: FrameGuard

    def detect_frames(self, items: Sequence[tuple[int, np.ndarray]]) -> list[list[Detection]]:
        return self.guard.detect(self.detector, self.choice, items)

    def detect(self, frames: Sequence[np.ndarray]) -> list[list[Detection]]:
        return self.detect_frames(list(enumerate(frames)))

    def __getattr__(self, name: str) -> Any:  # other attributes of the wrapped detector (e.g. batch hints)
        if name in ("detector", "choice", "guard"):
            raise AttributeError(name)
        return getattr(self.detector, name)
