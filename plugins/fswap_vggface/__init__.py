"""fswap_vggface: the perceptual loss of faceswap-GAN (VGGFace2 ResNet-50 taps), with an offline
pretrained fallback backbone (MTCNN's ONet).

The loss is declared on its config class in `fswap_vggface.config`, next to its weights spec. Imports only
fswap and that config module."""

from __future__ import annotations

from fswap import ComponentSpec, declared, hookimpl
from fswap.weights import WeightsSpec
from fswap_vggface import config


@hookimpl
def fswap_register_components() -> list[ComponentSpec]:
    return declared(config)


@hookimpl
def fswap_register_weights() -> list[WeightsSpec]:
    return [config.VGGFACE_RESNET50]
