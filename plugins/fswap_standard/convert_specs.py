"""Specs of the standard conversion components (trackers, blenders, colour transfers, writers)."""

from __future__ import annotations

import attrs

from fswap import ComponentSpec, Kind
from fswap_standard.convert_config import (
    EmaTrackerConfig,
    FeatherBlendConfig,
    ImageSequenceConfig,
    NoOptionsConfig,
    PoissonBlendConfig,
    StatsTransferConfig,
    VideoWriterConfig,
)


@attrs.frozen
class NoTrackerConfig:
    """The `none` tracker has no options."""


TRACKERS: list[ComponentSpec] = [
    ComponentSpec(
        kind=Kind.TRACKER,
        name="none",
        factory="fswap_standard.trackers:PassThroughTracker",
        config=NoTrackerConfig,
        summary="No smoothing: every detection is its own face; frames without detection get none.",
    ),
    ComponentSpec(
        kind=Kind.TRACKER,
        name="ema",
        factory="fswap_standard.ema:EmaTracker",
        config=EmaTrackerConfig,
        summary="Exponential moving average of boxes and landmarks (reference weight 0.65), multi-face.",
    ),
]

BLENDERS: list[ComponentSpec] = [
    ComponentSpec(
        kind=Kind.BLENDER,
        name="feather",
        factory="fswap_standard.blenders:FeatherBlender",
        config=FeatherBlendConfig,
        summary="Reference blend: model alpha × Gaussian-feathered rectangle, warped back and composited.",
        aliases=("alpha",),
    ),
    ComponentSpec(
        kind=Kind.BLENDER,
        name="poisson",
        factory="fswap_standard.blenders:PoissonBlender",
        config=PoissonBlendConfig,
        summary="Poisson blending (cv2.seamlessClone) inside the mask, then the model alpha.",
    ),
]

COLOR_TRANSFERS: list[ComponentSpec] = [
    ComponentSpec(
        kind=Kind.COLOR_TRANSFER,
        name="hist_match",
        factory="fswap_standard.color:HistogramMatch",
        config=StatsTransferConfig,
        summary="Per-channel histogram (CDF) matching to the source face (reference default).",
    ),
    ComponentSpec(
        kind=Kind.COLOR_TRANSFER,
        name="adain",
        factory="fswap_standard.color:AdaIN",
        config=StatsTransferConfig,
        summary="Per-channel mean/std transfer in BGR.",
    ),
    ComponentSpec(
        kind=Kind.COLOR_TRANSFER,
        name="adain_xyz",
        factory="fswap_standard.color:AdaINXYZ",
        config=StatsTransferConfig,
        summary="Per-channel mean/std transfer in CIE XYZ.",
    ),
    ComponentSpec(
        kind=Kind.COLOR_TRANSFER,
        name="reinhard",
        factory="fswap_standard.color:ReinhardLab",
        config=StatsTransferConfig,
        summary="Reinhard colour transfer: mean/std matching in CIE L*a*b*.",
    ),
    ComponentSpec(
        kind=Kind.COLOR_TRANSFER,
        name="none",
        factory="fswap_standard.color:NoTransfer",
        config=NoOptionsConfig,
        summary="Keep the generated colours.",
    ),
]

WRITERS: list[ComponentSpec] = [
    ComponentSpec(
        kind=Kind.WRITER,
        name="video",
        factory="fswap_standard.writers:VideoWriter",
        config=VideoWriterConfig,
        summary="H.264 MP4 with the source's fps and audio, provenance metadata (imageio-ffmpeg).",
    ),
    ComponentSpec(
        kind=Kind.WRITER,
        name="image_sequence",
        factory="fswap_standard.writers:ImageSequenceWriter",
        config=ImageSequenceConfig,
        summary="A folder of PNG frames, each with a provenance text chunk.",
    ),
]
