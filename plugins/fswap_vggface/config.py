"""Config (declaring the component) and weights spec of the VGGFace perceptual loss (TensorFlow-free)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import attrs

from fswap import Kind, declare
from fswap.options import at_least, length, one_of, option
from fswap.weights import WeightsSpec

BACKBONES = ("auto", "vggface_resnet50", "mtcnn_onet")

VGGFACE_RESNET50 = WeightsSpec(
    name="vggface-resnet50",
    url="https://github.com/rcmalli/keras-vggface/releases/download/v2.0/rcmalli_vggface_tf_notop_resnet50.h5",
    filename="rcmalli_vggface_tf_notop_resnet50.h5",
    licence="keras-vggface conversion (MIT) of the VGGFace2 ResNet-50 by Cao et al. (Oxford VGG); "
    "VGGFace2 is released for non-commercial research use — check its terms before other uses",
    sha256=None,
    summary="VGGFace2 ResNet-50 without the classifier (about 95 MB), for the perceptual loss.",
)


@declare(Kind.LOSS, "vggface", factory="fswap_vggface.loss:VggFacePerceptualLoss")
@attrs.frozen(kw_only=True)
class VggFaceLossConfig:
    """Perceptual loss: standardised VGGFace ResNet-50 (or MTCNN ONet) features, MSE.

    The perceptual loss of the reference (§2.5): feature taps of a frozen face network, per-sample
    standardised, compared with MSE between the target and a mixup of raw and masked output.
    """

    weight: float = option(1.0, help="Overall multiplier (the per-tap weights carry the reference scale).",
                           validator=at_least(0.0))
    tap_weights: tuple[float, float, float, float] = option(
        (0.01, 0.1, 0.3, 0.1),
        help="Weights of the taps from deepest to shallowest (7×7, 28×28, 55×55, 112×112 for ResNet-50).",
        validator=length(4),
    )
    backbone: Literal["auto", "vggface_resnet50", "mtcnn_onet"] = option(
        "auto",
        help="'vggface_resnet50' (needs weights), 'mtcnn_onet' (pretrained face CNN shipped in the mtcnn "
        "package) or 'auto' (VGGFace when its weights are available, else ONet).",
        validator=one_of(BACKBONES),
    )
    weights: Path | None = option(
        None,
        help="Path of rcmalli_vggface_tf_notop_resnet50.h5; default: `fswap weights fetch vggface-resnet50`.",
    )
    before_activation: bool = option(
        False, help="Tap the residual sums before ReLU (ESRGAN-style) instead of the activations."
    )
