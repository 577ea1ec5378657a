"""[convert] alignments: reuse the detections extract recorded for the same input instead of detecting again.

Extract writes <workdir>/faces/<side>/detections.json (fswap.data.detections) with every processed frame's
faces. When the convert input is one of the extract inputs, unchanged since (same fingerprint), and convert
uses the same detector, `alignments = "auto"` answers those frames from the record
(fswap.convert.reuse.RecordedDetector); frames extract did not process are still detected. The choice and
the reason are written to the convert summary.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs

from fswap.context import RunContext
from fswap.data.detections import DETECTIONS, DetectionLog, input_fingerprint
from fswap.errors import InputError, StageError
from fswap.stages.convert_config import ConvertConfig
from fswap.stages.extract_config import result_settings


@attrs.frozen
class AlignmentsChoice:
    """The recorded detections convert uses (None: detect every frame) and one line saying why."""

    log: DetectionLog | None
    why: str

    def to_json(self, counts: dict[str, int] | None = None) -> dict[str, Any]:
        return {
            "used": None if self.log is None or self.log.path is None else str(self.log.path),
            "why": self.why,
            **(counts or {}),
        }


def _describe(settings: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in settings.items())


def find_alignments(ctx: RunContext, config: ConvertConfig, source: Any) -> AlignmentsChoice:
    """The detections.json of an extract side that read this very input, per [convert] alignments."""
    if config.alignments == "detect":
        return AlignmentsChoice(None, 'alignments = "detect" set in [convert]')
    wanted = str(Path(source.path).resolve())
    detector = result_settings(config.detector)
    reasons: list[str] = []
    for side in ("a", "b"):
        path = ctx.pipeline.workdir.faceset(side) / DETECTIONS
        if not path.is_file():
            continue
        try:
            log = DetectionLog.open(path)
        except InputError as exc:
            if config.alignments == "reuse":
                raise
            reasons.append(str(exc))
            continue
        if log.input != wanted:
            reasons.append(f"{path} holds the detections of {log.input}")
            continue
        if not log.frames:
            reasons.append(f"{path} holds no frames (the face set was extracted before extract recorded "
                           "detections; run extract again with --fresh to record them)")
            continue
        if log.fingerprint != input_fingerprint(Path(source.path), bool(source.is_video), source.files):
            reasons.append(f"{wanted} changed since extract read it ({path})")
            continue
        if log.detector != detector and config.alignments == "auto":
            reasons.append(f"{path} was made by detector {_describe(log.detector)} but [convert.detector] is "
                           f"{_describe(detector)} (alignments = \"reuse\" uses them anyway)")
            continue
        return AlignmentsChoice(log, f"the detections extract recorded for this input in {path} "
                                     f"({len(log.frames)} frames, detector {log.detector.get('use')})")
    if config.alignments == "reuse":
        why = "; ".join(reasons) or (
            f"no {DETECTIONS} in {ctx.pipeline.workdir.faceset('a')} or {ctx.pipeline.workdir.faceset('b')}")
        raise StageError(f'[convert] alignments = "reuse" but there are no usable detections of '
                         f'{config.input}: {why}; run extract on this input, or use alignments = "auto" or '
                         '"detect"')
    return AlignmentsChoice(None, "detected: " + ("; ".join(reasons) or "extract did not process this input"))


def detection_counts(detector: Any) -> dict[str, int] | None:
    """Frames answered from extract's record and frames detected, when `detector` is the one
    `faces_detector` made from a record (None: every frame went to the detector)."""
    from fswap.convert.reuse import RecordedDetector

    return detector.counts() if isinstance(detector, RecordedDetector) else None


def faces_from(counts: dict[str, int] | None) -> str:
    """Where convert's faces came from, for the summary: the record, the detector, or both."""
    if not counts or not counts.get("frames_from_alignments"):
        return "detector"
    if counts.get("frames_detected"):
        return "detections of extract and detector"
    return "detections of extract"


def faces_detector(choice: AlignmentsChoice, detector: Any) -> Any:
    """The detector convert's FaceTracks asks: the record (and `detector` for the rest), or `detector`."""
    if choice.log is None:
        return detector
    from fswap.convert.reuse import RecordedDetector

    return RecordedDetector(choice.log.frames, detector)
