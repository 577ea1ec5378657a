"""The public loss API: what every loss component receives (:class:`LossInputs`), the protocol it satisfies
(:class:`LossComponent`) and a base class for plain terms (:class:`LossTerm`). TensorFlow-free at import.

A loss component is built from its frozen config (`Class(config)`) and satisfies :class:`LossComponent`.
The training loop calls it once per side inside the compiled train step, multiplies the unweighted value
by the component's configured `weight` and the schedule's runtime factor, and sums the terms.

Optional members (plain losses need none of them) let a term own more training or tell the loop what it
needs; the last three are read through the functions at the end of this module:

* `critic_steps: int` (default 1): how many discriminator updates per iteration this term's
  `discriminator_loss` takes part in (e.g. 5 for WGAN-GP). Updates repeat on the same batch and the same
  (stop-gradient) generator outputs; the generator then updates once against the updated critics.
* `extra_models(networks) -> Sequence[keras.Model]`: called once when the train step is built, with the
  model's networks (so a term can size its models, e.g. from `networks.encoder`); the models must be built
  (have their variables) when returned. Their trainable variables join each side's discriminator variables:
  the side's discriminator optimiser updates them from that side's `discriminator_loss`, their Keras
  regularisation losses are added to it, and they are saved in the training checkpoints.
* `needs_eye_masks: bool` (default False): the term reads `LossInputs.eye_mask`; the train stage warns
  when no face set has the eye mask, since the term then contributes nothing (`needs_eye_masks(term)`).
* `backbone_name: str | None` (default None): the pretrained network the term loaded, recorded in
  train_summary.json under "backbones" (`backbone_name(term)`).
* `mask_margin`: a non-trainable scalar variable (with `.assign`) that the schedule sets when a phase
  begins: the phase's `mask_margin`, or the value the variable was built with in a phase that sets none
  (`margin_variable(term)`). This is how per-phase parameters reach a loss.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import attrs


@attrs.frozen(kw_only=True)
class LossInputs:
    """Tensors of one side (a or b) for one batch; all images are float in [-1, 1], masks in [0, 1].

    warped:       (N, R, R, 3) the distorted input the generator saw.
    target:       (N, R, R, 3) the undistorted face the generator should produce.
    alpha:        (N, R, R, 1) the generator's mask (sigmoid).
    bgr:          (N, R, R, 3) the generator's raw colour output (tanh).
    masked:       (N, R, R, 3) alpha · bgr + (1 − alpha) · warped.
    side_outputs: lower-resolution BGR outputs (64, 128, … below R), possibly empty.
    eye_mask:     (N, R, R, 1) eye-region mask in [0, 1], or None when no eye masks are available.
    discriminator: the side's discriminator (input concat(image, warped) → (N, 8, 8, 1)), or None.
    mixup:        scalar λ tensor for mixup-based adversarial losses.
    generate:     this side's generator as a function image → (alpha, bgr), or None (for cycle terms).
    generate_other: the other side's generator, same signature, or None.
    latent:       the encoder's output for `warped` (what the decoder received), or None.
    side:         which face set the batch is from ("a" or "b"), or None where no side applies.
    other_latent: the encoder's output for the other side's warped batch of the same iteration, or None.
    """

    warped: Any
    target: Any
    alpha: Any
    bgr: Any
    masked: Any
    side_outputs: tuple[Any, ...] = ()
    eye_mask: Any = None
    discriminator: Any = None
    mixup: Any = None
    generate: Any = None
    generate_other: Any = None
    latent: Any = None
    side: str | None = None
    other_latent: Any = None


@runtime_checkable
class LossComponent(Protocol):
    """A loss term: `generator_loss` (unweighted scalar) and, for adversarial terms, `discriminator_loss`."""

    weight: float
    uses_discriminator: bool

    def generator_loss(self, x: LossInputs) -> Any:
        """The unweighted generator-side loss (tf scalar)."""
        ...

    def discriminator_loss(self, x: LossInputs) -> Any | None:
        """The unweighted discriminator loss (tf scalar), or None when the term does not train D."""
        ...


class LossTerm:
    """Base class of a loss term that trains no discriminator: subclass it and write `generator_loss`.

    Built with the term's frozen config, which must have a float `weight` option (the loop multiplies the
    unweighted value by it and by the schedule's factor); the config stays available as `self.config`.
    An adversarial term sets `uses_discriminator = True` and overrides `discriminator_loss`.
    """

    uses_discriminator: bool = False
    needs_eye_masks: bool = False
    backbone_name: str | None = None

    def __init__(self, config: Any) -> None:
        self.config = config
        self.weight = float(config.weight)

    def generator_loss(self, x: LossInputs) -> Any:
        """The unweighted generator-side loss (tf scalar) of one side's batch."""
        raise NotImplementedError(f"{type(self).__name__} must define generator_loss(x)")

    def discriminator_loss(self, x: LossInputs) -> Any | None:
        """None: a plain term trains no discriminator."""
        return None


def needs_eye_masks(term: Any) -> bool:
    """Whether the loss term reads the eye mask (its optional `needs_eye_masks` member)."""
    return bool(getattr(term, "needs_eye_masks", False))


def backbone_name(term: Any) -> str | None:
    """The pretrained network the loss term loaded (its optional `backbone_name` member), or None."""
    name = getattr(term, "backbone_name", None)
    return str(name) if name else None


def margin_variable(term: Any) -> Any | None:
    """The loss term's per-phase `mask_margin` variable (anything with `.assign`), or None."""
    margin = getattr(term, "mask_margin", None)
    return margin if margin is not None and hasattr(margin, "assign") else None
