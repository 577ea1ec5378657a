"""fswap_vggface: the perceptual loss of faceswap-GAN (VGGFace2 ResNet-50 taps), with an offline
pretrained fallback backbone (MTCNN's ONet). Imports only fswap and its config module."""

from __future__ import annotations

from fswap import ComponentSpec, Kind, hookimpl
from fswap.weights import WeightsSpec
from fswap_vggface.config import VGGFACE_RESNET50, VggFaceLossConfig


@hookimpl
def fswap_register_losses() -> list[ComponentSpec]:
    return [
        ComponentSpec(
            kind=Kind.LOSS,
            name="vggface",
            factory="fswap_vggface.loss:VggFacePerceptualLoss",
            config=VggFaceLossConfig,
            summary="Perceptual loss: standardised VGGFace ResNet-50 (or MTCNN ONet) features, MSE.",
        )
    ]


@hookimpl
def fswap_register_weights() -> list[WeightsSpec]:
    return [VGGFACE_RESNET50]
