"""[extract] of pipeline.toml: inputs of sides a and b, sampling, keep policy and the components. No TF."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from fswap.components import ComponentChoice, Kind
from fswap.errors import ConfigError
from fswap.extract.defaults import DEDUPE_THRESHOLD, MIN_SHARPNESS
from fswap.options import at_least, between, component, component_list, one_of, option
from fswap.structure import unstructure

if TYPE_CHECKING:
    from fswap.config import PipelineConfig

POLICIES = ("single", "all", "identity")
# options that change speed, not results: a resumed run may use other values, recorded detections still fit
SPEED_ONLY = ("batch_size", "device")


def result_settings(choice: ComponentChoice) -> dict[str, Any]:
    """A component choice as TOML data without its speed-only options: what decides its results."""
    return {k: v for k, v in unstructure(choice).items() if k not in SPEED_ONLY}


DEFAULT_CUT_THRESHOLD = 0.30  # fswap.video.cuts.DEFAULT_THRESHOLD (not imported: no cv2/numpy at validate)
ON_ERROR = ("fail", "skip")
DEDUPE = ("video", "always", "off")


@attrs.frozen(kw_only=True)
class ExtractSide:
    """One identity's input: a video file, an image folder or a glob; optionally a reference of the person."""

    input: Path | None = option(
        None, help="Video file, image folder or glob of images (relative to the TOML)."
    )
    reference: Path | None = option(
        None,
        help='Image of the wanted person (or a .npy embedding) for policy = "identity".',
    )
    reference_not: tuple[Path, ...] = option(
        (),
        help='Images (or .npy embeddings) of people who must not enter this face set, for policy = '
        '"identity": a track is left out when its faces are on average nearer one of them than the '
        "reference.",
    )


@attrs.frozen(kw_only=True)
class ExtractConfig:
    """Detect, align and mask faces of sides a and b into the face sets workdir/faces/a and faces/b."""

    a: ExtractSide = option(help="Side a (the identity that is replaced).")
    b: ExtractSide = option(help="Side b (the identity that is put in).")
    every_n_frames: int = option(1, help="Use every Nth frame (or image).", validator=at_least(1))
    policy: str = option(
        "single",
        help="Which faces to keep: single = only frames with exactly one face (the reference behaviour), "
        "all = every face, identity = faces close to the side's reference.",
        validator=one_of(POLICIES),
    )
    identity_threshold: float = option(
        0.6,
        help="Largest embedding distance to the reference still counted as the same person (policy = "
        '"identity": the mean over a track\'s faces).',
        validator=at_least(0.0),
    )
    identity_margin: float = option(
        0.05,
        help='Hysteresis of policy = "identity" between the segments of one long track (max_track_faces): '
        "after an accepted segment the next may reach identity_threshold + margin, after a rejected one it "
        "must stay below identity_threshold - margin.",
        validator=at_least(0.0),
    )
    other_side_not: bool = option(
        True,
        help='With policy = "identity" and both sides given: the other side\'s reference also counts as '
        '"not this person" for this side (a two-person clip gives two clean sets).',
    )
    max_track_faces: int = option(
        200,
        help='Policy = "identity" holds a track\'s faces in memory until it is decided; a track longer than '
        "this is decided in segments of this many faces.",
        validator=at_least(1),
    )
    cut_threshold: float = option(
        DEFAULT_CUT_THRESHOLD,
        help='Policy = "identity": colour-histogram distance between consecutive frames that counts as a '
        "shot cut, ending every track (fswap.video.cuts); 1 = only complete changes.",
        validator=between(0.01, 1.0),
    )
    min_sharpness: float = option(
        MIN_SHARPNESS,
        help="Skip blurry faces: the least sharpness a face must have (second differences of the grey levels "
        "in the weakest of four directions over the grey levels' spread, on the inner face at 128 px, or at "
        "its own size in the frame when smaller); 0 keeps every face. The default lies between sharp faces "
        "of the sample portraits decoded from mp4 and copies blurred by a Gaussian of σ 1.5 px or smeared "
        "9 px at 20° (`python -m fswap.extract.calibration`, docs/extract.md). Skipped faces count as "
        "skipped_blurry.",
        validator=at_least(0.0),
    )
    dedupe: str = option(
        "video",
        help="Skip near-duplicate faces: one nearer than dedupe_threshold to the last kept face of the same "
        "person (its track, or the most overlapping kept box of the last 25 frames) adds nothing to train "
        "on and counts as skipped_duplicate. video = in video inputs (consecutive frames), always = also in "
        "image folders and globs (stills are usually chosen by hand), off = keep every face.",
        validator=one_of(DEDUPE),
    )
    dedupe_threshold: float = option(
        DEDUPE_THRESHOLD,
        help="Largest difference that is still a duplicate: the mean absolute difference of the two inner "
        "faces as 32 px grey thumbnails, each standardised to zero mean and unit variance. The default lies "
        "between consecutive faces of frozen clips (codec noise only) and of the moving demo clips "
        "(`python -m fswap.extract.calibration`).",
        validator=at_least(0.0),
    )
    contact_sheet: bool = option(
        True,
        help="Write contact_sheet.png in each face set: thumbnails, the yaw/pitch coverage grid and the "
        "skipped counts, so you see which poses the set lacks.",
    )
    store_embeddings: bool = option(False, help="Also store each kept face's embedding (needs an embedder).")
    save_raw: bool = option(False, help="Also save the unaligned square crop of each face under raw/.")
    on_error: str = option(
        "fail",
        help="Unreadable or truncated input: fail = stop with an error naming the file, "
        "skip = count it and go on.",
        validator=one_of(ON_ERROR),
    )
    on_frame_error: str = option(
        "fail",
        help="A component (detector, aligner, mask generator, embedder) raising on one frame: fail = stop "
        "with an error naming the component and the frame number, skip = skip that frame and count it.",
        validator=one_of(ON_ERROR),
    )
    batch_size: int = option(8, help="Frames read and detected together.", validator=at_least(1))
    save_every: int = option(
        200, help="Write alignments.json every this many frames (resume points).", validator=at_least(1)
    )
    detector: ComponentChoice = component(Kind.DETECTOR, help="Face detector.")
    aligner: ComponentChoice = component(Kind.ALIGNER, help="Aligner making the crops.")
    masks: tuple[ComponentChoice, ...] = component_list(
        Kind.MASK_GENERATOR, help="Mask generators; each writes masks/<table name>/."
    )
    embedder: ComponentChoice | None = component(
        Kind.EMBEDDER, optional=True,
        help='Identity embedder (needed by policy = "identity" and store_embeddings).'
    )
    tracker: ComponentChoice = component(
        Kind.TRACKER,
        help='Tracker that links faces over frames for policy = "identity" (faces of a track share one '
        "verdict); the same components as [convert.tracker].",
    )

    def sides(self) -> dict[str, ExtractSide]:
        """The sides that have an input, by name."""
        return {name: side for name, side in (("a", self.a), ("b", self.b)) if side.input is not None}

    def check(self, pipeline: PipelineConfig) -> None:
        """Cross-field checks `fswap validate` runs."""
        where = f"{pipeline.source.name} [extract]"
        if not self.sides():
            raise ConfigError(
                f'{where}: give at least one input: [extract.a] input = "video.mp4" (or [extract.b])'
            )
        if self.policy == "identity":
            if self.embedder is None:
                raise ConfigError(
                    f'{where}: policy = "identity" needs an embedder: '
                    'add [extract.embedder] use = "dlib_resnet"'
                )
            missing = [name for name, side in self.sides().items() if side.reference is None]
            if missing:
                raise ConfigError(
                    f'{where}: policy = "identity" needs reference = "image.png" in [extract.{missing[0]}]'
                )
        if self.store_embeddings and self.embedder is None:
            raise ConfigError(f"{where}: store_embeddings = true needs an [extract.embedder]")
        names = mask_names(self.masks)
        if len(set(names)) != len(names):
            raise ConfigError(f"{where}: mask names must be unique, received {', '.join(names)}")
        workdir = pipeline.workdir.root.resolve()
        for name, side in self.sides().items():
            if _inside(side.input, workdir / "faces"):
                raise ConfigError(
                    f"{where}.{name}: input {side.input} lies inside the output folder {workdir}/faces"
                )


def mask_names(masks: tuple[ComponentChoice, ...]) -> list[str]:
    """The folder name of each mask: its table name in [extract.masks.<name>]."""
    return [choice.section.rsplit(".", 1)[-1] for choice in masks]


def _inside(path: Any, folder: Path) -> bool:
    try:
        Path(path).resolve().relative_to(folder)
    except (ValueError, OSError):
        return False
    return True
