"""The `[evaluate]` section: what the quality report measures and with which components. No TensorFlow."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

import attrs

from fswap.components import ComponentChoice, Kind
from fswap.errors import ConfigError
from fswap.options import at_least, between, component, option

if TYPE_CHECKING:
    from fswap.catalog import Catalog
    from fswap.config import PipelineConfig


@attrs.frozen(kw_only=True)
class EvaluateConfig:
    """Evaluate the two face sets, the trained model and/or the converted video; writes
    evaluate/report.json and evaluate/report.html."""

    embedder: ComponentChoice = component(
        Kind.EMBEDDER, help="Offline identity embedder for the identity-transfer scores."
    )
    detector: ComponentChoice | None = component(
        Kind.DETECTOR, optional=True,
        help="Detector for re-finding faces in the converted video (absent: the [extract.detector]).",
    )
    aligner: ComponentChoice | None = component(
        Kind.ALIGNER, optional=True, help="Aligner for video face crops (absent: the [extract.aligner])."
    )
    landmarks: ComponentChoice = component(
        Kind.ALIGNER, role="landmarks",
        help="Aligner whose 68 landmarks measure head pose and expression of each swap against its source "
        "(source following, docs/evaluate.md).",
    )
    model: Path | None = option(
        None, help="Exported model folder (absent: <workdir>/model/export)."
    )
    video: Path | None = option(
        None,
        help="Converted video to check (absent: the [convert] output, else the newest video in convert/).",
    )
    tracks: Literal["auto", "record", "redetect"] = option(
        "auto",
        help="Face positions in the video: the convert stage's record (convert/tracks.json), re-detection, "
        "or auto (the record when it exists).",
    )
    holdout_every: int = option(
        10, help="Evaluate every n-th face (record order) when training recorded no held-out faces.",
        validator=at_least(2),
    )
    max_faces: int = option(64, help="At most this many held-out faces per side (evenly spread).",
                            validator=at_least(1))
    max_reference_faces: int = option(
        64, help="At most this many training faces per side build the identity reference.",
        validator=at_least(1),
    )
    max_frames: int = option(0, help="Frames of the video to check (0 = all).", validator=at_least(0))
    identity_every: int = option(
        5, help="Embed the face of every n-th video frame for the video's identity score.",
        validator=at_least(1),
    )
    batch_size: int = option(16, help="Faces per generator/embedder call.", validator=at_least(1))
    roi_coverage: float | None = option(
        None,
        help="Central part of the aligned crop fed to the generator, as in [convert] roi_coverage (absent: "
        "the [convert] value, else 0.85, the framing training uses).",
        validator=between(0.55, 0.995),
    )
    examples: int = option(6, help="Example rows per side in the report's image grid.",
                           validator=between(0, 32))
    comparison_faces: int = option(
        3, help="Held-out faces per direction in evaluate/comparison.png (source | swap | target; 0 = none).",
        validator=between(0, 32),
    )
    empty_mask_below: float = option(0.02, help="A mask whose mean α is below this counts as empty.",
                                     validator=between(0.0, 1.0))
    full_mask_above: float = option(0.98, help="A mask whose mean α is above this counts as full.",
                                    validator=between(0.0, 1.0))

    def check(self, pipeline: PipelineConfig) -> None:
        """Mask thresholds must leave room between empty and full."""
        if self.empty_mask_below >= self.full_mask_above:
            raise ConfigError(
                f"{pipeline.source.name} [evaluate]: empty_mask_below ({self.empty_mask_below}) must be "
                f"smaller than full_mask_above ({self.full_mask_above})"
            )


def with_evaluate_section(pipeline: PipelineConfig, catalog: Catalog) -> PipelineConfig:
    """The pipeline with an [evaluate] section: its own, or one with every default (for `fswap evaluate` on a
    pipeline.toml that has none)."""
    if pipeline.stage("evaluate") is not None:
        return pipeline
    from fswap.structure import Context, structure

    ctx = Context(source=pipeline.source.name, base_dir=pipeline.source.parent, catalog=catalog)
    config = structure(EvaluateConfig, {}, ctx=ctx, section="evaluate")
    config.check(pipeline)
    return attrs.evolve(pipeline, stages={**pipeline.stages, "evaluate": config})
