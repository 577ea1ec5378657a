"""The `[train]` section: iterations, batch, the model, weighted losses, schedule, augmentation, state.

TensorFlow-free so `fswap validate` stays cheap. Option defaults follow the reference (§2.1, §3); the loss
terms and the schedule come from the recipe (fswap.train.recipes), which a plugin declares.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import attrs

from fswap.components import ComponentChoice, Kind
from fswap.data.lookalike_config import LookalikeConfig
from fswap.data.stores import AUGMENT_ENGINES, FACE_STORES
from fswap.model.config import ModelConfig
from fswap.options import at_least, at_most, between, component_list, component_name, one_of, option
from fswap.train.distribute_config import DistributeConfig
from fswap.train.recipes import apply_recipe
from fswap.train.schedule import PhaseConfig

PRECISIONS: tuple[str, ...] = ("float32", "bfloat16", "float16")


def _even(_inst: Any, attribute: attrs.Attribute, value: int) -> None:
    if value < 2 or value % 2:
        raise ValueError(f"{attribute.name} must be an even number ≥ 2, received {value!r}")


def _holdout(_inst: Any, attribute: attrs.Attribute, value: int) -> None:
    if value == 1 or value < 0:
        raise ValueError(f"{attribute.name} must be 0 (train on every face) or a whole number ≥ 2 (hold out "
                         f"every n-th face), received {value!r}")


@attrs.frozen(kw_only=True)
class AugmentConfig:
    """Random augmentation of training faces (reference §3.3); geometry also applies to the eye masks."""

    rotation: float = option(10.0, help="Maximum rotation in degrees (uniform ±).", validator=between(0, 180))
    zoom: float = option(0.1, help="Maximum relative zoom (uniform 1 ± zoom).", validator=between(0, 0.9))
    shift: float = option(0.05, help="Maximum shift as a fraction of the size.", validator=between(0, 0.5))
    flip: float = option(0.5, help="Probability of a horizontal flip.", validator=between(0, 1))
    color_match: float = option(
        0.5, help="Probability of matching colours to a random face of either set.", validator=between(0, 1)
    )
    motion_blur: float = option(
        0.0, help="Probability of motion blur (reference: off; 0.25 when on).", validator=between(0, 1)
    )
    warp_sigma: tuple[float, float] = option(
        (5.0, 6.2), help="Range of the warp grid noise σ in pixels of a 256² face."
    )
    engine: str = option(
        "numpy", help="What computes the augmentation: numpy = NumPy/OpenCV per face (the curves in "
        "docs/training.md were measured with it); tensorflow = the same steps as TensorFlow ops over the "
        "whole batch inside tf.data (no Python, no GIL, PNG faces decoded there too; it draws its own random "
        "numbers, so its batches differ; no [train.lookalike]). docs/performance.md compares them.",
        validator=one_of(AUGMENT_ENGINES),
    )


@attrs.frozen(kw_only=True)
class TrainStageConfig:
    """Train the shared encoder, both decoders and both discriminators on face sets A and B."""

    recipe: str | None = component_name(
        Kind.RECIPE,
        help="Named defaults for what this table leaves out, declared by a plugin (`fswap plugins list "
        "--kind recipe`): the built-in 'fast' (the default: learns a visible swap in short CPU runs) or "
        "'reference' (faceswap-GAN v2.2's losses and eight-phase schedule). `fswap plugins show recipe "
        "<name>` prints what it sets; docs/training.md measures both.",
    )
    iterations: int = option(40000, help="Total training iterations (each trains D and G of both sides).",
                             validator=at_least(1))
    batch_size: int = option(8, help="Faces per side per iteration (even).", validator=_even)
    holdout: int = option(
        10, help="Hold out every n-th face of each set (the n-th, 2n-th, … in record order): never trained "
        "on, recorded in model/holdout.json for evaluate; 0 = train on every face.", validator=_holdout,
    )
    face_store: str = option(
        "auto", help="How training holds the face sets in memory: decoded = BGR arrays at 256² (196 kB a "
        "face, 262 kB with eye masks); png = lossless PNG bytes, decoded when a sample needs one (the same "
        "batches, about 1 ms more per face read); auto = decoded while both sets fit 2 GiB, else png.",
        validator=one_of(FACE_STORES),
    )
    model: ModelConfig = option(help="The networks ([train.model]).")
    losses: tuple[ComponentChoice, ...] = component_list(
        Kind.LOSS, absent="the recipe's terms",
        help="Weighted loss terms, one table each: [train.losses.<name>] with weight = … (absent: the "
        "recipe's).",
    )

    @losses.validator
    def _some_loss(self, _attr: attrs.Attribute, value: tuple[ComponentChoice, ...]) -> None:
        if not value:
            raise ValueError("no loss terms: add [train.losses.<name>] tables (`fswap plugins list --kind "
                             "loss`) or choose a recipe that gives them")
    schedule: tuple[PhaseConfig, ...] = option(
        (),
        help="Phase table ([[train.schedule]] rows with start, off, ramp, mask_margin, lr_factor, "
        "swap_decoders); absent: the recipe's; empty: one phase with every loss on.",
    )
    augment: AugmentConfig = option(help="Augmentation ([train.augment]).")
    lr_generator: float = option(1e-4, help="Adam learning rate of the generators.", validator=at_least(0.0))
    lr_discriminator: float = option(2e-4, help="Adam learning rate of the discriminators.",
                                     validator=at_least(0.0))
    beta_1: float = option(0.5, help="Adam β1.", validator=between(0.0, 0.9999))
    beta_2: float = option(0.999, help="Adam β2.", validator=between(0.0, 0.99999))
    mixup_alpha: float = option(0.2, help="λ ~ Beta(α, α) for mixup (adversarial and perceptual).",
                                validator=at_least(0.01))
    reset_optimizers_on_phase: bool = option(
        False, help="Reset Adam moments when a schedule phase begins (the reference's behaviour)."
    )
    precision: Literal["float32", "bfloat16", "float16"] = option(
        "float32", help="float32, or mixed precision: bfloat16 (CPU) or float16 (GPU).",
        validator=one_of(PRECISIONS),
    )
    jit_compile: bool = option(False, help="Compile the train step with XLA (slower on CPUs).")
    eye_mask: str | None = option(
        None, help="Face-set mask (masks/<name>/) used for eye-region weighting; absent: the one of the mask "
        "generator an installed plugin declares default for eye_mask; '' = none.")
    checkpoint_every: int = option(300, help="Save a checkpoint every N iterations.", validator=at_least(1))
    keep_checkpoints: int = option(3, help="How many recent checkpoints to keep.", validator=at_least(1))
    backup_every: int = option(5000, help="Keep a permanent backup every N iterations (0 = never).",
                               validator=at_least(0))
    preview_every: int = option(300, help="Write a preview PNG every N iterations.", validator=at_least(1))
    log_every: int = option(10, help="Append losses to history.csv and TensorBoard every N iterations.",
                            validator=at_least(1))
    max_nan_restarts: int = option(3, help="Non-finite losses tolerated (each restores the last checkpoint).",
                                   validator=at_least(0))
    nan_lr_backoff: float = option(0.5, help="Learning-rate multiplier applied after each non-finite loss.",
                                   validator=[at_least(0.01), at_most(1.0)])
    export: bool = option(True, help="Export the trained networks to model/export for convert.")
    distribute: DistributeConfig = option(
        help="Several GPUs or machines ([train.distribute], docs/distributed.md); batch_size stays the "
        "global batch."
    )
    lookalike: LookalikeConfig = option(
        help="Look-alike part-swap augmentation ([train.lookalike]): paste parts of the most similar face of "
        "the other set onto a training face (off by default; docs/evaluate.md)."
    )

    def __attrs_post_init__(self) -> None:
        if self.augment.engine == "tensorflow" and self.lookalike.enabled:
            raise ValueError('augment.engine = "tensorflow" cannot run [train.lookalike] (its part pastes '
                             'are NumPy/OpenCV code): set engine = "numpy" or lookalike.enabled = false')

    @classmethod
    def prepare_table(cls, table: Mapping[str, Any], where: str, catalog: Any) -> dict[str, Any]:
        """The [train] table with its recipe's defaults filled in (called before the table is structured)."""
        return apply_recipe(table, where, catalog)

    def eye_mask_name(self, catalog: Any) -> str:
        """The face-set mask of the eye regions: `eye_mask`, or the table name of the mask generator
        declared default for eye_mask ('' when none is)."""
        return self.eye_mask if self.eye_mask is not None else catalog.sole_default(Kind.MASK_GENERATOR,
                                                                                       "eye_mask")

    def loss_names(self) -> list[str]:
        return [choice.name for choice in self.losses]
