"""The model's TOML section (`[train.model]`): resolution, capacity and the three pluggable block kinds.

TensorFlow-free so `fswap validate` stays cheap; the train stage config embeds :class:`ModelConfig`.
"""

from __future__ import annotations

from typing import Any, Literal

import attrs

from fswap.components import ComponentChoice, Kind
from fswap.options import at_least, at_most, between, component, one_of, option

RESOLUTIONS: tuple[int, ...] = (64, 128, 256)
CAPACITIES: tuple[str, ...] = ("standard", "lite")
MASKS: tuple[str, ...] = ("learned", "none")


def _power_of_two(_inst: Any, attribute: attrs.Attribute, value: int) -> None:
    if value < 1 or value & (value - 1):
        raise ValueError(f"{attribute.name} must be a power of two (1, 2, 4, …), received {value!r}")


@attrs.frozen(kw_only=True)
class ModelConfig:
    """Shared encoder + one decoder and one conditional patch discriminator per identity (faceswap-GAN v2.2).

    `normalization`, `attention` and `upsampling` are components chosen with `use = "…"`; every other
    architectural number follows the reference (docs/model.md).
    """

    resolution: int = option(
        64, help="Face size the networks work at (pixels): 64, 128 or 256.", validator=one_of(RESOLUTIONS)
    )
    capacity: Literal["standard", "lite"] = option(
        "standard",
        help="'standard' (reference widths) or 'lite' (about half the filters, capped at 256; ~1/4 params).",
        validator=one_of(CAPACITIES),
    )
    width_divisor: int = option(
        1,
        help="Divide every filter count and the latent size by this (same topology, fewer parameters); "
        "1 = reference widths. Used for tests and quick demos.",
        validator=_power_of_two,
    )
    latent_dim: int | None = option(
        None,
        help="Size of the dense bottleneck; default is the reference's (1024, or 2048 for lite at R>64).",
        validator=at_least(8),
    )
    mask: Literal["learned", "none"] = option(
        "learned",
        help="'learned': the decoders predict an attention mask α (reference); 'none': α is fixed to 1, so "
        "the whole generated face is pasted (the plain deepfakes autoencoder).",
        validator=one_of(MASKS),
    )
    mask_init: float | None = option(
        None,
        help="Initial α of the learned mask head (its bias starts at logit(mask_init), so the decoders paste "
        "their face from the first iteration); default: the reference's zero bias (α ≈ 0.5).",
        validator=between(0.01, 0.99),
    )
    weight_decay: float = option(
        1e-4,
        help="L2 kernel regularisation factor of the conv/attention blocks (reference 1e-4; 0 disables).",
        validator=[at_least(0.0), at_most(1.0)],
    )
    normalization: ComponentChoice = component(
        Kind.NORMALIZATION, help="Normalization used where the reference normalises."
    )
    attention: ComponentChoice = component(
        Kind.ATTENTION, help="Attention block (use = \"none\" for none)."
    )
    upsampling: ComponentChoice = component(
        Kind.UPSAMPLING,
        help="Upsampling block doubling the spatial size (docs/model.md compares the installed ones).",
    )


def parse_model_config(
    table: dict[str, Any], *, catalog: Any, source: str = "pipeline.toml", section: str = "train.model"
) -> ModelConfig:
    """Structure a `[train.model]` table (components resolved through `catalog`) into a ModelConfig."""
    from fswap.structure import Context, structure

    return structure(ModelConfig, table, ctx=Context(source=source, catalog=catalog), section=section)


def model_table_from_pipeline(path: Any) -> dict[str, Any]:
    """The `[train.model]` table of a pipeline file ({} when [train] has none)."""
    from pathlib import Path

    from fswap.config import read_toml
    from fswap.errors import ConfigError

    path = Path(path)
    data = read_toml(path)
    train = data.get("train")
    if not isinstance(train, dict):
        raise ConfigError(f"{path.name}: no [train] section; the model is configured in [train.model]")
    table = train.get("model", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path.name} [train]: model must be a table ([train.model]), received {table!r}")
    return table
