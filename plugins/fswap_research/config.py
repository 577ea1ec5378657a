"""Options of the research components (dual attention, WGAN-GP, AAE latent loss, side confusion), each class
declaring its component. No TensorFlow."""

from __future__ import annotations

import attrs

from fswap import Kind, declare
from fswap.options import at_least, between, one_of, option


@declare(Kind.ATTENTION, "dual_attention", factory="fswap_research.layers:DualAttentionBlock",
         aliases=("danet",))
@attrs.frozen(kw_only=True)
class DualAttentionConfig:
    """DANet dual attention: position + channel attention, learned scales start at 0.

    Position attention + channel attention, each scaled by a learned 0-init γ.
    """

    key_ratio: int = option(8, help="Query/key width of the position attention is channels / key_ratio "
                            "(DANet uses 8).", validator=at_least(1))
    query_block: int = option(256, help="Position-attention queries per block: the attention matrix held at "
                              "once is query_block × N per sample (0: the full N × N matrix).",
                              validator=at_least(0))


@declare(Kind.LOSS, "wgan_gp", factory="fswap_research.losses:WganGpLoss")
@attrs.frozen(kw_only=True)
class WganGpConfig:
    """WGAN-GP: Wasserstein critic with gradient penalty (λ = 10), n critic steps.

    Wasserstein GAN with gradient penalty on the conditional patch discriminator.
    """

    weight: float = option(0.01, help="Weight of the generator's adversarial term −mean D(fake).",
                           validator=at_least(0.0))
    gp_lambda: float = option(10.0, help="λ of the gradient penalty λ·(‖∇D(x̂)‖₂ − 1)² (the paper's 10).",
                              validator=at_least(0.0))
    critic_steps: int = option(5, help="Critic updates per generator update (the paper's n_critic = 5).",
                               validator=at_least(1))
    fakes: str = option("both", help="Which outputs the critic judges: 'both' (masked and raw, like the "
                        "standard adversarial terms) or 'masked'.", validator=one_of(("both", "masked")))
    drift: float = option(0.0, help="ε·mean(D(real)²) added to the critic loss to keep its values near 0 "
                          "(0 = off; Karras et al. use 0.001).", validator=at_least(0.0))


@declare(Kind.LOSS, "aae_latent", factory="fswap_research.losses:AaeLatentLoss")
@attrs.frozen(kw_only=True)
class AaeLatentConfig:
    """Adversarial-autoencoder term: a latent discriminator pushes the code toward a prior (experiment).

    Adversarial-autoencoder regulariser: a small discriminator pushes the latent code toward a prior.
    """

    weight: float = option(0.01, help="Weight of the encoder's adversarial term on its latent code.",
                           validator=at_least(0.0))
    prior: str = option("gaussian", help="Prior the latent vectors are pushed toward: 'gaussian' "
                        "(N(0, scale²)) or 'uniform' (U(−scale, scale)).",
                        validator=one_of(("gaussian", "uniform")))
    scale: float = option(1.0, help="Standard deviation (gaussian) or half-width (uniform) of the prior.",
                          validator=between(1e-3, 1e3))
    hidden: int = option(64, help="Width of the latent discriminator's hidden layers.", validator=at_least(1))
    layers: int = option(2, help="Hidden layers of the latent discriminator.", validator=between(1, 8))


@declare(Kind.LOSS, "side_confusion", factory="fswap_research.losses:SideConfusionLoss")
@attrs.frozen(kw_only=True)
class SideConfusionConfig:
    """Domain confusion on the shared code: a side classifier learns A's codes from B's, the encoder is
    trained so that it cannot tell them apart (experiment).

    Domain-adversarial term: the encoder's code should not tell which face set a face came from, so that a
    swap gives each decoder a code like those it trained on.
    """

    weight: float = option(0.1, help="Weight of the encoder's confusion term (the classifier's loss gets the "
                           "same weight).", validator=at_least(0.0))
    hidden: int = option(64, help="Width of the side classifier's hidden layer.", validator=at_least(1))
