"""fswap_research: components from the method's reference list, as a plugin like any third party's.

* `dual_attention` (attention): DANet position + channel attention.
* `wgan_gp` (loss): Wasserstein GAN with gradient penalty on the conditional patch discriminator.
* `aae_latent` (loss): adversarial-autoencoder regulariser on the encoder's latent code.

Imports only fswap and the config module; the Keras/TensorFlow code lives in `layers` and `losses`.
"""

from __future__ import annotations

from fswap import ComponentSpec, Kind, hookimpl
from fswap_research.config import AaeLatentConfig, DualAttentionConfig, WganGpConfig

LAYERS: list[ComponentSpec] = [
    ComponentSpec(Kind.ATTENTION, "dual_attention", "fswap_research.layers:DualAttentionBlock",
                  DualAttentionConfig, aliases=("danet",),
                  summary="DANet dual attention: position + channel attention, learned scales start at 0."),
]

LOSSES: list[ComponentSpec] = [
    ComponentSpec(Kind.LOSS, "wgan_gp", "fswap_research.losses:WganGpLoss", WganGpConfig,
                  summary="WGAN-GP: Wasserstein critic with gradient penalty (λ = 10), n critic steps."),
    ComponentSpec(Kind.LOSS, "aae_latent", "fswap_research.losses:AaeLatentLoss", AaeLatentConfig,
                  summary="Adversarial-autoencoder term: a latent discriminator pushes the code toward a "
                          "prior (experiment)."),
]


@hookimpl
def fswap_register_layers() -> list[ComponentSpec]:
    return list(LAYERS)


@hookimpl
def fswap_register_losses() -> list[ComponentSpec]:
    return list(LOSSES)
