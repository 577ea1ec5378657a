"""Plugin calls that name the plugin when they fail: per-frame calls under a stage's `on_frame_error`
policy, with a check of what they return, and `Attributed` components for every other call.

A plugin that raises on one frame either fails the stage with an error naming the plugin and the frame
number (`on_frame_error = "fail"`) or has that frame skipped and counted (`"skip"`). A plugin that returns
the wrong type always fails: that is a bug in the plugin, not a bad frame, so skipping would hide it.
Every such failure is one `PluginFailure` line: `[section] kind 'name' (distribution version) failed
<doing what, on what>: <exception>; <what to do, with the FSWAP_DISABLE_PLUGINS switch>`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import attrs
import numpy as np

from fswap.components import AlignedFace, ComponentChoice, Detection, Kind
from fswap.errors import FswapError, PluginFailure
from fswap.plugins import DISABLE_ENV

ON_FRAME_ERROR = ("fail", "skip")


def _one_line(text: str, limit: int = 300) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def plugin_label(choice: ComponentChoice) -> str:
    """`[section] kind 'name' (provider)`: how an error names the plugin."""
    return f"[{choice.section}] {choice.spec.kind} '{choice.spec.name}' ({choice.provider})"


def _type_name(value: Any) -> str:
    return type(value).__name__


def disable_hint(choice: ComponentChoice) -> str:
    """What a user can do about a failing component: another one, or the plugin switched off."""
    plugin = choice.provider.plugin
    instead = (f"remove [{choice.section}]" if choice.spec.kind == Kind.LOSS
               else f"choose another {choice.spec.kind} in [{choice.section}]")
    return f"{instead} or disable its plugin with {DISABLE_ENV}={plugin}"


def exception_line(exc: BaseException) -> str:
    """`Type: message` on one line (at most 300 characters)."""
    return _one_line(f"{_type_name(exc)}: {exc}")


def plugin_failure(
    choice: ComponentChoice, doing: str, exc: BaseException | str, hint: str = ""
) -> PluginFailure:
    """The one-line error for `choice` failing while `doing` ("in blend() on frame 3 of in.mp4")."""
    detail = exc if isinstance(exc, str) else exception_line(exc)
    return PluginFailure(f"{plugin_label(choice)} failed {doing}: {detail}; {hint or disable_hint(choice)}")


@attrs.define
class Activity:
    """What a stage is processing now, read only when a component fails ("on frame 12 of in.mp4")."""

    source: str = ""
    frame: int | None = None

    def __call__(self) -> str:
        if self.frame is None:
            return f"on {self.source}" if self.source else ""
        return f"on frame {self.frame}" + (f" of {self.source}" if self.source else "")


def _doing(method: str, args: tuple[Any, ...], where: str) -> str:
    doing = f"in {method}()" + (f" {where}" if where else "")
    first = args[0] if args else None
    if isinstance(first, list | tuple) and len(first) > 1:
        doing += f" (a batch of {len(first)})"
    return doing


class Attributed:
    """A built component whose method calls, when they raise, become one PluginFailure naming it and what
    it was processing (`where()`, e.g. an `Activity`). FswapErrors and plain attributes pass through.

    The wrapped method is cached on first use, so a call costs one extra Python frame and a `try`."""

    def __init__(self, component: Any, choice: ComponentChoice, where: Callable[[], str] | str = "") -> None:
        self._component = component
        self._choice = choice
        self._where = where if callable(where) else (lambda: where)

    def __getattr__(self, name: str) -> Any:
        if name in ("_component", "_choice", "_where"):
            raise AttributeError(name)
        value = getattr(self._component, name)
        if name.startswith("_") or not callable(value):
            return value
        choice, where = self._choice, self._where

        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return value(*args, **kwargs)
            except FswapError:
                raise
            except Exception as exc:  # the plugin failed: name it and what it was doing
                raise plugin_failure(choice, _doing(name, args, where()), exc) from exc

        self.__dict__[name] = call
        return call

    def __repr__(self) -> str:
        return f"Attributed({self._component!r}, {plugin_label(self._choice)})"


@attrs.define
class FrameGuard:
    """Counts and reports plugin failures of one stage run; `policy` is "fail" or "skip"."""

    stage: str
    policy: str
    source: str = ""
    skipped: list[int] = attrs.field(factory=list)
    errors: list[str] = attrs.field(factory=list)
    retried: list[int] = attrs.field(factory=list)
    """Frames whose batch call raised and whose own call then succeeded (the summary's frames_retried)."""
    _warned: bool = False

    def failed(self, choice: ComponentChoice, index: int, exc: BaseException) -> None:
        """Record a failure on frame `index`; raises PluginFailure unless the policy is "skip"."""
        where = f"on frame {index}" + (f" of {self.source}" if self.source else "")
        detail = exception_line(exc)
        if self.policy != "skip":
            hint = (f'set [{self.stage}] on_frame_error = "skip" to skip such frames and count them, or '
                    f"{disable_hint(choice)}")
            raise plugin_failure(choice, where, detail, hint) from exc
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
                if single is not None:
                    self.retried.append(index)
            self._warn_retried(choice, len(items), exc)
            return out
        return check_detections(choice, found, len(items))

    def _warn_retried(self, choice: ComponentChoice, frames: int, exc: BaseException) -> None:
        """Warn the first time a batch had to be retried frame by frame; later ones are only counted."""
        if self._warned:
            return
        self._warned = True
        source = f" of {self.source}" if self.source else ""
        logging.getLogger(f"fswap.{self.stage}").warning(
            "%s raised on a batch of %d frames%s (%s); its frames were retried one by one (%d succeeded). "
            "Frames retried this way are counted in the summary's frames_retried; this is not repeated",
            plugin_label(choice), frames, source, exception_line(exc), len(self.retried))

    def mask(
        self, generator: Any, choice: ComponentChoice, index: int, face: AlignedFace
    ) -> np.ndarray | None:
        """The mask (a size×size array), None when the generator raised and the policy skips the frame."""
        mask = self.call(choice, index, generator.generate, face)
        if mask is None:
            return None
        if not isinstance(mask, np.ndarray) or mask.shape[:2] != face.image.shape[:2]:
            shape = getattr(mask, "shape", None)
            raise broke_contract(
                choice, f"generate() must return a {face.size}×{face.size} array, received {_type_name(mask)}"
                + (f" of shape {tuple(shape)}" if shape is not None else "")
            )
        return mask


def broke_contract(choice: ComponentChoice, what: str) -> PluginFailure:
    """A component returned something its kind's protocol does not allow: a bug in the plugin."""
    return PluginFailure(f"{plugin_label(choice)} broke its contract: {what}; {disable_hint(choice)}")


def check_aligned(choice: ComponentChoice, face: Any) -> AlignedFace:
    """`face` as returned by an aligner, or a PluginError naming the plugin."""
    if not isinstance(face, AlignedFace):
        raise broke_contract(choice, f"align() must return an AlignedFace, received {_type_name(face)}")
    return face


def check_detections(choice: ComponentChoice, found: Any, frames: int) -> list[list[Detection]]:
    """`found` as returned by a detector for `frames` frames, or a PluginError naming the plugin."""
    where = "detect() must return one list of Detection per frame"
    if not isinstance(found, (list, tuple)):
        raise broke_contract(choice, f"{where}, received {_type_name(found)}")
    if len(found) != frames:
        raise broke_contract(choice, f"{where}, received {len(found)} lists for {frames} frames")
    out = []
    for per_frame in found:
        if not isinstance(per_frame, (list, tuple)):
            raise broke_contract(choice, f"{where}, received a {_type_name(per_frame)} for one frame")
        for item in per_frame:
            if not isinstance(item, Detection):
                raise broke_contract(choice, f"{where}, received a {_type_name(item)} among the detections")
        out.append(list(per_frame))
    return out


class IndexedDetector:
    """A detector that is told which source frame each image is (`detect_frames`), e.g. to name a failing
    frame or to answer from detections recorded for that frame; a plain Detector only sees images."""

    def detect_frames(self, items: Sequence[tuple[int, np.ndarray]]) -> list[list[Detection]]:
        raise NotImplementedError


def detect_frames(detector: Any, items: Sequence[tuple[int, np.ndarray]]) -> list[list[Detection]]:
    """Detections for (frame index, frame) pairs: with the indices when the detector takes them (guarded,
    or answering from recorded detections), else through the plain Detector interface."""
    if isinstance(detector, IndexedDetector):
        return detector.detect_frames(items)
    return detector.detect([frame for _, frame in items])


@attrs.define
class GuardedDetector(IndexedDetector):
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
