"""Options of the SPADE normalization, declaring the component. No TensorFlow."""

from __future__ import annotations

import attrs

from fswap import declare
from fswap.components import ComponentChoice, Kind
from fswap.options import at_least, between, component, one_of, option


@declare("normalization", "spade", factory="fswap_spade.layers:SpadeNorm")
@attrs.frozen(kw_only=True)
class SpadeConfig:
    """SPADE in the decoder's residual blocks, conditioned on a map (e.g. the eye mask); the fallback
    normalization everywhere else."""

    condition_channels: int = option(
        1, help="Channels of the condition map the decoder takes: 1, the face set's mask named by [train] "
        "eye_mask, which convert and evaluate remake from each aligned face (the only map fswap provides).",
        validator=one_of((1,)))
    hidden: int = option(128, help="Width of the shared conv that embeds the condition map.",
                         validator=at_least(1))
    kernel_size: int = option(3, help="Kernel size of the condition convs.", validator=at_least(1))
    epsilon: float = option(1e-5, help="Epsilon of the parameter-free instance normalization.",
                            validator=between(1e-12, 1.0))
    fallback: ComponentChoice | None = component(
        Kind.NORMALIZATION,
        help="Normalization used where there is no condition map (encoder, upsamplers, discriminators); "
        "default: the installed default normalization.")
