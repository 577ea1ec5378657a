"""The standard conversion components (trackers, blenders, colour transfers, writers), declared on their
option classes (attrs only: no numpy-heavy or cv2 imports)."""

from __future__ import annotations

from typing import Literal

import attrs

from fswap import Kind, NoOptions, declare, option
from fswap.options import at_least, between, one_of


@declare(Kind.TRACKER, "none", factory="fswap_standard.trackers:PassThroughTracker")
class NoTrackerConfig(NoOptions):
    """No smoothing: every detection is its own face; frames without detection get none."""


@declare(Kind.TRACKER, "ema", factory="fswap_standard.ema:EmaTracker")
@attrs.frozen(kw_only=True)
class EmaTrackerConfig:
    """Exponential moving average of boxes and landmarks (reference weight 0.65), multi-face.

    Smoothed per coordinate: each frame keeps `weight` of the previous smoothed value."""

    weight: float = option(
        0.65, help="Weight of the previous smoothed value (0: no smoothing).", validator=between(0.0, 0.99)
    )
    iou_threshold: float = option(
        0.2, help="Minimum IoU between a track's last box and a detection.", validator=between(0.0, 1.0)
    )
    max_missed: int = option(
        5, help="Detection frames a track survives without a match.", validator=at_least(0)
    )
    max_faces: int = option(
        0, help="Keep at most this many most confident faces per frame (0: all).", validator=at_least(0)
    )


@declare(Kind.BLENDER, "feather", factory="fswap_standard.blenders:FeatherBlender", aliases=("alpha",),
         default_for=["blender"])
@attrs.frozen(kw_only=True)
class FeatherBlendConfig:
    """Reference blend: model alpha × Gaussian-feathered rectangle, warped back and composited.

    Sizes are fractions of the crop side so they mean the same at 64, 128 or 256 pixels. The reference
    used a 15×15 kernel with σ = 10 on a crop of about 200 pixels (0.075 and 0.05)."""

    feather_margin: float = option(
        0.1,
        help="Inset of the feather rectangle from the crop border "
        "(fraction of the side; reference 1 − roi_coverage).",
        validator=between(0.0, 0.45),
    )
    feather_kernel: float = option(
        0.075, help="Gaussian kernel size of the feather (fraction of the side).", validator=between(0.0, 1.0)
    )
    feather_sigma: float = option(
        0.05, help="Gaussian σ of the feather (fraction of the side).", validator=between(0.0, 1.0)
    )
    erode: float = option(
        0.0,
        help="Erode the mask by this fraction of the side (negative values dilate).",
        validator=between(-0.25, 0.25),
    )
    blur: float = option(
        0.0,
        help="Extra Gaussian blur of the mask, kernel as a fraction of the side.",
        validator=between(0.0, 0.5),
    )


@declare(Kind.BLENDER, "poisson", factory="fswap_standard.blenders:PoissonBlender")
@attrs.frozen(kw_only=True)
class PoissonBlendConfig(FeatherBlendConfig):
    """Poisson blending (cv2.seamlessClone) inside the mask, then the model alpha.

    The mask is thresholded before cloning; the feather options shape the alpha it is composited with."""

    mode: Literal["normal", "mixed"] = option(
        "normal",
        help="seamlessClone mode: 'normal' keeps the generated texture, 'mixed' keeps the stronger gradient.",
        validator=one_of(("normal", "mixed")),
    )
    threshold: float = option(
        0.5, help="Mask value above which pixels are cloned.", validator=between(0.0, 0.99)
    )
    keep_alpha: bool = option(
        True,
        help="Composite the cloned result with the model alpha × feather "
        "(keeps the model's occlusion handling).",
    )


@attrs.frozen(kw_only=True)
class StatsTransferConfig:
    """Options of the colour transfers that match statistics inside the mask (the base of their configs)."""

    mask_threshold: float = option(
        0.5,
        help="Pixels whose mask value is above this count toward the colour statistics "
        "(all pixels when too few pass).",
        validator=between(0.0, 0.99),
    )


@declare(Kind.COLOR_TRANSFER, "hist_match", factory="fswap_standard.color:HistogramMatch",
         default_for=["color_transfer"])
@attrs.frozen(kw_only=True)
class HistMatchConfig(StatsTransferConfig):
    """Per-channel histogram (CDF) matching to the source face (reference default)."""


@declare(Kind.COLOR_TRANSFER, "adain", factory="fswap_standard.color:AdaIN")
@attrs.frozen(kw_only=True)
class AdaINConfig(StatsTransferConfig):
    """Per-channel mean/std transfer in BGR."""


@declare(Kind.COLOR_TRANSFER, "adain_xyz", factory="fswap_standard.color:AdaINXYZ")
@attrs.frozen(kw_only=True)
class AdaINXYZConfig(StatsTransferConfig):
    """Per-channel mean/std transfer in CIE XYZ."""


@declare(Kind.COLOR_TRANSFER, "reinhard", factory="fswap_standard.color:ReinhardLab")
@attrs.frozen(kw_only=True)
class ReinhardConfig(StatsTransferConfig):
    """Reinhard colour transfer: mean/std matching in CIE L*a*b*."""


@declare(Kind.COLOR_TRANSFER, "none", factory="fswap_standard.color:NoTransfer")
class NoTransferConfig(NoOptions):
    """Keep the generated colours."""


@declare(Kind.WRITER, "video", factory="fswap_standard.writers:VideoWriter", default_for=["writer"])
@attrs.frozen(kw_only=True)
class VideoWriterConfig:
    """H.264 MP4 with the source's fps and audio, provenance metadata (imageio-ffmpeg).

    Encoded with x264 through imageio-ffmpeg's ffmpeg binary."""

    crf: int = option(18, help="x264 constant rate factor (0 lossless … 51 worst).", validator=between(0, 51))
    preset: str = option(
        "medium",
        help="x264 preset (ultrafast … veryslow).",
        validator=one_of(
            ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")
        ),
    )
    audio: bool = option(True, help="Copy the source's audio track (re-encoded as AAC) into the output.")


@declare(Kind.WRITER, "image_sequence", factory="fswap_standard.writers:ImageSequenceWriter")
@attrs.frozen(kw_only=True)
class ImageSequenceConfig:
    """A folder of PNG frames, each with a provenance text chunk.

    One PNG per frame (frame_000000.png, …)."""

    compression: int = option(3, help="PNG compression level 0–9.", validator=between(0, 9))
