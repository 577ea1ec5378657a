"""fswap_research: components from the method's reference list, as a plugin like any third party's.

* `dual_attention` (attention): DANet position + channel attention.
* `wgan_gp` (loss): Wasserstein GAN with gradient penalty on the conditional patch discriminator.
* `aae_latent` (loss): adversarial-autoencoder regulariser on the encoder's latent code.
* `side_confusion` (loss): domain confusion on the shared code (the encoder hides which side a face is from).

Each is declared on its config class in `fswap_research.config`; the one registration hook returns them.
Imports only fswap and the config module; the Keras/TensorFlow code lives in `layers` and `losses`.
"""

from __future__ import annotations

from fswap import ComponentSpec, declared, hookimpl
from fswap_research import config


@hookimpl
def fswap_register_components() -> list[ComponentSpec]:
    return declared(config)
