"""[convert] of pipeline.toml: the input to convert, the direction and every conversion option. No TF."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

import attrs

from fswap.components import ComponentChoice, Kind
from fswap.errors import ConfigError
from fswap.options import at_least, between, component, one_of, option
from fswap.stages.extract_config import DEFAULT_CUT_THRESHOLD

if TYPE_CHECKING:
    from fswap.config import PipelineConfig

DIRECTIONS = ("a_to_b", "b_to_a")
LAYOUTS = ("result", "side_by_side", "triple")
ON_FRAME_ERROR = ("fail", "skip")
CORNERS = ("bottom_right", "bottom_left", "top_right", "top_left")
SELECT = ("identity", "all", "tracks")
ALIGNMENTS = ("auto", "reuse", "detect")
RUNTIMES = ("tensorflow", "onnx")


def _select_choice(_inst: object, attribute: attrs.Attribute, value: object) -> None:
    if value is not None and value not in SELECT:
        valid = ", ".join(repr(c) for c in SELECT)
        raise ValueError(f"{attribute.name} must be one of {valid}, received {value!r}")


@attrs.frozen(kw_only=True)
class LabelConfig:
    """The visible provenance label (file metadata marking the output synthetic is always written)."""

    enabled: bool = option(True, help="Draw a small 'SYNTHETIC • fswap' label on every output frame.")
    text: str = option("SYNTHETIC • fswap", help="Label text ('•' is drawn as a dot).")
    corner: str = option(
        "bottom_right", help="Where the label goes: " + ", ".join(CORNERS) + ".", validator=one_of(CORNERS)
    )


@attrs.frozen(kw_only=True)
class ConvertConfig:
    """Swap the faces of a video (or image folder/glob) with the trained model and write the result."""

    input: Path = option(help="Video file, image folder or glob of images to convert (relative to the TOML).")
    output: Path | None = option(
        None,
        help="Output file (video writer) or folder (image_sequence). Default: "
        "<workdir>/convert/<input name>_<direction>.mp4 (or a folder of that name).",
    )
    model: Path | None = option(None, help="Exported model folder. Default: <workdir>/model/export.")
    runtime: Literal["tensorflow", "onnx"] = option(
        "tensorflow",
        help="What runs the generator: tensorflow (Keras) or onnx (ONNX Runtime, `pip install "
        "'fswap[onnx]'`; the model's ONNX export, made by `fswap export` or here when missing or older than "
        "the networks).",
        validator=one_of(RUNTIMES),
    )
    direction: Literal["a_to_b", "b_to_a"] = option(
        "a_to_b",
        help="a_to_b: faces of identity A are replaced by B (encoder + decoder B); b_to_a uses decoder A.",
        validator=one_of(DIRECTIONS),
    )
    detect_every_n: int = option(
        1,
        help="Run the detector on every Nth frame; the tracker predicts the frames in between.",
        validator=at_least(1),
    )
    roi_coverage: float = option(
        0.875,
        help="Central part of the aligned crop fed to the generator: inset int(size·(1 − roi_coverage)) "
        "per side. 0.875 keeps ±96 px of a 256 crop: the wide end of the framing the training targets use "
        "(±78–97 px), so more of the mouth is swapped; the reference used 0.9 on its own crops "
        "(suggested 0.85–0.95).",
        validator=between(0.55, 0.995),
    )
    color_smoothing: float = option(
        0.0,
        help="Temporal smoothing of the colour correction per face: weight of the previous frames in an "
        "exponential moving average of the colour shift (0: off, e.g. 0.8 against flicker).",
        validator=between(0.0, 0.99),
    )
    enhance: float = option(
        0.0,
        help="Contrast boost of the swapped face: out = (1+e)·out − e·input (reference, suggested 0–0.4).",
        validator=between(0.0, 1.0),
    )
    min_face_size: int = option(
        35,
        help="Faces whose box is smaller than this (pixels, either side) are "
        "left unchanged (reference min_face_area 35·35).",
        validator=at_least(1),
    )
    layout: Literal["result", "side_by_side", "triple"] = option(
        "result",
        help="Output frames: result, side_by_side (source | result), triple (source | result | "
        "mask heat-map).",
        validator=one_of(LAYOUTS),
    )
    select: str | None = option(
        None,
        help='Which faces to swap, decided once per track: "identity" = tracks of the person the direction '
        "replaces (side a for a_to_b: mean embedding distance to its face set's centroid, or to reference, "
        '≤ identity_threshold); "all" = every face; "tracks" = the track ids listed in tracks (see `fswap '
        'tracks`). Default: "identity" when an embedder is set ([convert.embedder] or [extract.embedder]), '
        'else "all".',
        validator=_select_choice,
    )
    tracks: tuple[int, ...] = option(
        (), help='Track ids to swap with select = "tracks" (from tracks.json or the contact sheet).'
    )
    reference: Path | None = option(
        None,
        help='The person to replace for select = "identity": an image of them or a .npy embedding. '
        "Default: the centroid of the replaced side's face set (stored embeddings, else its faces embedded).",
    )
    identity_threshold: float = option(
        0.6,
        help="Largest mean embedding distance of a track to the reference still counted as that person "
        "(dlib_resnet: 0.6 is dlib's own same-person threshold).",
        validator=at_least(0.0),
    )
    identity_every: int = option(
        1, help="Embed every Nth frame of each track for its identity distance.", validator=at_least(1)
    )
    cut_threshold: float = option(
        DEFAULT_CUT_THRESHOLD,
        help="Shot cuts (tracks never span one): colour-histogram distance of consecutive frames (0–1) that "
        "counts as a cut; 1 turns cut detection off.",
        validator=between(0.01, 1.0),
    )
    alignments: str = option(
        "auto",
        help="Where the faces of each frame come from: auto = the detections extract recorded for this same "
        "input (<workdir>/faces/<side>/detections.json, reused when the input is unchanged and "
        "[convert.detector] is the detector extract used), else the detector; reuse = those detections "
        "even from another detector (an error when there are none for this input); detect = always run "
        "the detector. Frames extract did not process are always detected.",
        validator=one_of(ALIGNMENTS),
    )
    start: float = option(0.0, help="Start of the converted range in seconds.", validator=at_least(0.0))
    duration: float | None = option(
        None, help="Length of the converted range in seconds (default: to the end).", validator=at_least(0.0)
    )
    fps: float = option(
        25.0,
        help="Frame rate used for image-folder inputs (videos keep their own).",
        validator=between(1.0, 240.0),
    )
    batch_frames: int | None = option(
        None,
        help="Frames processed together: one detector call for the batch's detected frames and one "
        "generator call (per 32 faces) for its faces. Default: 8 detected frames per batch (8 × "
        "detect_every_n frames, at least 16), as far as 512 MB of decoded frames allow.",
        validator=at_least(1),
    )
    overlap_io: bool = option(
        True,
        help="Decode frames ahead and encode them behind in two threads (about a batch of frames each), so "
        "the detector and generator do not wait for frame I/O; false = one thread, as before. The output "
        "is the same either way (docs/performance.md measures both).",
    )
    on_frame_error: str = option(
        "fail",
        help="The detector raising on one frame: fail = stop with an error naming it and the frame number, "
        "skip = pass that frame through unchanged and count it.",
        validator=one_of(ON_FRAME_ERROR),
    )
    label: LabelConfig = option(help="Visible provenance label.")
    detector: ComponentChoice = component(Kind.DETECTOR, help="Face detector.")
    aligner: ComponentChoice = component(
        Kind.ALIGNER, help="Aligner; use the one the face sets were extracted with."
    )
    tracker: ComponentChoice = component(Kind.TRACKER, help="Smoothing of boxes and landmarks.")
    embedder: ComponentChoice | None = component(
        Kind.EMBEDDER,
        optional=True,
        help='Identity embedder for select = "identity" (default: [extract.embedder]); use the one the face '
        "sets were extracted with.",
    )
    color: ComponentChoice = component(
        Kind.COLOR_TRANSFER,
        help="Colour correction of the generated face toward the source face.",
    )
    blender: ComponentChoice = component(Kind.BLENDER, help="How the face is composited.")
    writer: ComponentChoice = component(Kind.WRITER, help="Output format.")
    parts: ComponentChoice | None = component(
        Kind.MASK_GENERATOR,
        optional=True,
        help="Face-part mode: replace only the parts this mask generator covers, e.g. [convert.parts] "
        'use = "parts68", parts = ["eyes", "mouth"] (needs an aligner with 68 landmarks).',
    )

    def embedder_choice(self, pipeline: PipelineConfig) -> ComponentChoice | None:
        """[convert.embedder], else [extract.embedder], else None."""
        if self.embedder is not None:
            return self.embedder
        extract = pipeline.stages.get("extract")
        return getattr(extract, "embedder", None) if extract is not None else None

    def selection(self, pipeline: PipelineConfig) -> str:
        """The select mode in effect: as set, else "identity" with an embedder, else "all"."""
        if self.select is not None:
            return self.select
        return "identity" if self.embedder_choice(pipeline) is not None else "all"

    def check(self, pipeline: PipelineConfig) -> None:
        """Cross-field checks `fswap validate` runs."""
        where = f"{pipeline.source.name} [convert]"
        if self.output is not None and self.input.resolve() == self.output.resolve():
            raise ConfigError(f"{where}: output {self.output} would overwrite the input")
        extract = pipeline.stages.get("extract")
        if self.output is not None and extract is not None and hasattr(extract, "sides"):
            for name, side in extract.sides().items():
                for used in (side.input, getattr(side, "reference", None)):
                    if used is not None and Path(used).resolve() == self.output.resolve():
                        raise ConfigError(
                            f"{where}: output {self.output} would overwrite the input of [extract.{name}]"
                        )
        if self.detect_every_n > 1 and self.tracker is not None and self.tracker.name == "none":
            raise ConfigError(
                f"{where}: detect_every_n = {self.detect_every_n} needs a tracker that predicts the frames "
                'in between; use [convert.tracker] use = "kalman" (or "ema"), or detect_every_n = 1'
            )
        if self.select == "tracks" and not self.tracks:
            raise ConfigError(
                f'{where}: select = "tracks" needs tracks = [ids] (run `fswap tracks` to see the track ids)'
            )
        if self.tracks and self.select != "tracks":
            raise ConfigError(f'{where}: tracks = {list(self.tracks)} is only used with select = "tracks"')
        wants_identity = self.select == "identity" or self.reference is not None
        if wants_identity and self.embedder_choice(pipeline) is None:
            raise ConfigError(
                f'{where}: select = "identity" (and reference) need an embedder: add [convert.embedder] '
                'use = "dlib_resnet" (or [extract.embedder]), or use select = "all"'
            )
        if self.duration is not None and self.duration == 0:
            raise ConfigError(f"{where}: duration = 0 converts nothing; leave it out to convert to the end")
