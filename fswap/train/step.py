"""One compiled training iteration for both sides: discriminator updates, then generator updates.

Per side X the generator G_X = encoder + decoder_X reconstructs the target from the warped input.
Inside one `tf.function` the step runs the generators forward once, updates D_A and D_B on the
(stop-gradient) outputs, then computes the generator losses against the updated discriminators and
updates G_A and G_B with their own Adam optimisers (the shared encoder receives both updates).
Loss weights are runtime variables (weight × schedule factor) so schedule phases never retrace.

A loss term that fails inside the step is named, with its distribution, in one PluginFailure: see
`TrainStep.__call__` for how trace-time and run-time failures are attributed.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import attrs
import numpy as np
import tensorflow as tf

from fswap.components import ComponentChoice
from fswap.errors import FswapError, PluginFailure
from fswap.frame_guard import exception_line, plugin_failure
from fswap.losses import LossComponent, LossInputs
from fswap.model.attribution import block_failure, block_of_exception, block_of_node

SIDES = ("a", "b")
OTHER = {"a": "b", "b": "a"}
GROWTH_STEPS = 2000

_SCOPE_RE = re.compile(r"fswap_loss_(\d+)_")  # the name scope each loss term's ops are built under
_NODE_RE = re.compile(r"\{\{node ([^}]+)\}\}|Detected at node '?([^\s']+)")  # the failing op in an OpError


def op_error_line(exc: Any) -> str:
    """The message of a TensorFlow op error without TF's framing ("Graph execution error", the node and the
    Python frames that defined it): its first line of substance, e.g. "indices[0] = 9 is not in [0, 2)"."""
    framing = ("Graph execution error:", "Detected at node", "File ", "[[", "Traceback (most recent call")
    for line in str(getattr(exc, "message", exc)).splitlines():
        text = line.strip()
        if text and not text.startswith(framing):
            return text
    return type(exc).__name__


class NetworksLike(Protocol):
    """What the train step needs from `fswap.model.networks.Networks`."""

    encoder: Any
    decoders: Mapping[str, Any]
    discriminators: Mapping[str, Any]


def split_output(out: Any) -> tuple[tf.Tensor, tf.Tensor, list[tf.Tensor]]:
    """(alpha, bgr, side_outputs) in float32 from a decoder's output dict (or a bare ABGR tensor)."""
    if isinstance(out, Mapping):
        abgr, sides = out["abgr"], list(out.get("side_outputs") or [])
    else:
        abgr, sides = out, []
    abgr = tf.cast(abgr, tf.float32)
    return abgr[..., :1], abgr[..., 1:], [tf.cast(s, tf.float32) for s in sides]


def regularization(*models: Any) -> tf.Tensor:
    """Sum of the models' Keras regularisation losses (the reference's L2 weight decay)."""
    terms = [tf.cast(loss, tf.float32) for m in models for loss in m.losses]
    return tf.add_n(terms) if terms else tf.constant(0.0)


class TrainStep:
    """Holds the optimisers and runtime loss scales and runs compiled iterations."""

    def __init__(
        self,
        networks: NetworksLike,
        losses: Mapping[str, LossComponent],
        *,
        lr_generator: float = 1e-4,
        lr_discriminator: float = 2e-4,
        beta_1: float = 0.5,
        beta_2: float = 0.999,
        use_eye_masks: bool = True,
        loss_scaling: bool = False,
        jit_compile: bool = False,
        strategy: Any = None,
        choices: Mapping[str, ComponentChoice] | None = None,
    ) -> None:
        import contextlib

        self.strategy = strategy  # tf.distribute strategy (fswap.train.distribute); None = one device
        self.choices = dict(choices or {})  # loss name → its pipeline choice, to name it when it fails
        self._trace_failure: tuple[str, str, BaseException] | None = None
        with strategy.scope() if strategy is not None else contextlib.nullcontext():
            self._build(networks, losses, lr_generator, lr_discriminator, beta_1, beta_2, use_eye_masks,
                        loss_scaling, jit_compile)

    def _build(self, networks: NetworksLike, losses: Mapping[str, LossComponent], lr_generator: float,
               lr_discriminator: float, beta_1: float, beta_2: float, use_eye_masks: bool,
               loss_scaling: bool, jit_compile: bool) -> None:
        import keras

        # under a strategy each replica's losses are means over its shard: × 1/replicas makes their sum
        # (and the summed gradients) the global-batch mean
        self.replica_weight = 1.0 / self.strategy.num_replicas_in_sync if self.strategy is not None else 1.0
        self.networks = networks
        self.losses = dict(losses)
        self.names = list(self.losses)
        self.scopes = {name: f"fswap_loss_{i}_" + re.sub(r"[^A-Za-z0-9_.\-]", "_", name)
                       for i, name in enumerate(self.names)}
        self.use_eye_masks = use_eye_masks
        self.base_lr = {"g": float(lr_generator), "d": float(lr_discriminator)}
        self.scales = {
            name: tf.Variable(float(loss.weight), trainable=False, dtype=tf.float32, name=f"scale_{name}")
            for name, loss in self.losses.items()
        }
        self.uses_d = any(loss.uses_discriminator for loss in self.losses.values())
        self.critic_steps = {name: max(1, int(getattr(loss, "critic_steps", 1)))
                             for name, loss in self.losses.items() if loss.uses_discriminator}
        self.extra_models: list[Any] = []
        for name, loss in self.losses.items():
            hook = getattr(loss, "extra_models", None)
            if hook is not None:
                try:
                    self.extra_models += list(hook(networks))
                except FswapError:
                    raise
                except Exception as exc:  # the loss plugin failed while the step was set up
                    raise self.failure(name, "in extra_models() while the train step was built", exc) from exc
        extra = [v for m in self.extra_models for v in m.trainable_variables]

        def adam(lr: float) -> Any:
            return keras.optimizers.Adam(learning_rate=lr, beta_1=beta_1, beta_2=beta_2, epsilon=1e-7)

        # dynamic loss scaling for float16: scale up the loss, skip updates with non-finite gradients
        # (halving the scale), double it after GROWTH_STEPS good updates
        first = tf.VariableAggregation.ONLY_FIRST_REPLICA  # replicas assign identical values
        self.loss_scale = (tf.Variable(2.0**15, trainable=False, name="loss_scale", aggregation=first)
                           if loss_scaling else None)
        self.good_steps = tf.Variable(0, trainable=False, dtype=tf.int64, name="good_steps",
                                      aggregation=first)

        enc = list(networks.encoder.trainable_variables)
        self.g_vars = {s: [*enc, *networks.decoders[s].trainable_variables] for s in SIDES}
        self.d_vars = {s: [*networks.discriminators[s].trainable_variables, *extra] for s in SIDES}
        self.g_opt = {s: adam(lr_generator) for s in SIDES}
        self.d_opt = {s: adam(lr_discriminator) for s in SIDES}
        for s in SIDES:
            self.g_opt[s].build(self.g_vars[s])
            self.d_opt[s].build(self.d_vars[s])
        # terms worth not running while the schedule has them off: those that train a discriminator or own
        # networks (a perceptual backbone); the step is compiled once per set of such terms that are off
        self.skippable = frozenset(name for name, loss in self.losses.items()
                                   if loss.uses_discriminator or hasattr(loss, "extra_models"))
        self.skipped: frozenset[str] = frozenset()
        self._jit_compile = jit_compile
        self._steps: dict[frozenset[str], Any] = {}
        self._step = self._compiled(frozenset())

    # -- runtime settings (no retracing) ------------------------------------------------------------

    def set_factors(self, factors: Mapping[str, float]) -> None:
        """Effective weight of each loss = configured weight × factor (0 switches a loss off). An adversarial
        or backbone term with weight 0 is not run at all (its metric reads 0) until it is switched on."""
        for name, var in self.scales.items():
            var.assign(self.losses[name].weight * float(factors.get(name, 1.0)))
        self.skipped = frozenset(name for name in self.skippable
                                 if self.losses[name].weight * float(factors.get(name, 1.0)) == 0.0)
        self._step = self._compiled(self.skipped)

    def _compiled(self, skipped: frozenset[str]) -> Any:
        """The compiled step that leaves out the terms in `skipped` (built on first use)."""
        if skipped not in self._steps:
            step = self._train_step if self.strategy is None else self._distributed_step
            self._steps[skipped] = tf.function(functools.partial(step, skipped=skipped),
                                               jit_compile=self._jit_compile, reduce_retracing=True)
        return self._steps[skipped]

    def set_lr_factor(self, factor: float) -> None:
        for s in SIDES:
            self.g_opt[s].learning_rate = self.base_lr["g"] * factor
            self.d_opt[s].learning_rate = self.base_lr["d"] * factor

    def reset_optimizers(self) -> None:
        """Zero the Adam moments and step counters (the reference rebuilds its optimisers per phase)."""
        for opt in self.optimizers():
            for var in opt.variables:
                if "learning_rate" not in var.path:
                    var.assign(np.zeros(var.shape, dtype=var.dtype))

    def optimizers(self) -> list[Any]:
        return [self.g_opt["a"], self.g_opt["b"], self.d_opt["a"], self.d_opt["b"]]

    # -- the step -----------------------------------------------------------------------------------

    def __call__(self, batch: Sequence[Any], mixup: float, iteration: int | None = None) -> dict[str, Any]:
        """Run one iteration on (warped_a, target_a, eyes_a, warped_b, target_b, eyes_b); returns tensors.

        A loss term that raises while the step is traced (its Python code runs only then) was noted by
        `_term` with its name, method and side, and is reported as one PluginFailure naming its component
        and distribution; `iteration` (1-based, when given) says when. A TensorFlow op that fails when the
        compiled step runs is attributed through the op's name: each term's ops are built under its own name
        scope (`fswap_loss_<i>_<name>`, gradients under `gradient_tape/…` of the same scope), so a failing
        node under that scope was built by that term's code, or by code it called, such as the generator
        through `LossInputs.generate`: the message says "an op built by". A failing op outside every loss
        scope (the networks, the optimisers) is not attributed to any loss and the error is left as it is.
        Only the error path does any of this; a normal step costs nothing extra."""
        self._trace_failure = None
        try:
            return self._step(tuple(batch), tf.constant(mixup, tf.float32))
        except Exception as exc:
            when = "" if iteration is None else f" (iteration {iteration})"
            noted, self._trace_failure = self._trace_failure, None
            block = self.block_failure(exc if noted is None else noted[2], when)
            if block is not None:  # a normalization/attention/upsampling layer, even inside a loss term
                raise block from exc
            if noted is not None:
                name, doing, cause = noted
                if isinstance(cause, FswapError):  # already says what is wrong (TF's rewrapped copy does not)
                    raise cause from cause.__cause__
                raise self.failure(name, doing + when, cause) from cause
            name = self.loss_of_op_error(exc) if isinstance(exc, tf.errors.OpError) else None
            if name is None:
                raise
            doing = "in an op it built, when the compiled train step ran" + when
            raise self.failure(name, doing, f"{type(exc).__name__}: {op_error_line(exc)}") from exc

    def loss_of_op_error(self, exc: Any) -> str | None:
        """The loss term whose name scope holds the op a TensorFlow error reports, if any."""
        text = str(getattr(exc, "message", exc))
        nodes = [a or b for a, b in _NODE_RE.findall(text)]
        for candidate in [*nodes, text]:  # the failing node first; the whole message only as a fallback
            found = _SCOPE_RE.search(candidate)
            if found is not None and int(found.group(1)) < len(self.names):
                return self.names[int(found.group(1))]
        return None

    def block_failure(self, exc: BaseException, when: str = "") -> PluginFailure | None:
        """The PluginFailure of the model-block component (normalization, attention, upsampling) whose
        layer raised `exc`: a Python error while the step was traced (its layer's code is in the
        traceback) or a TensorFlow op under its layer's name scope when the compiled step ran; else None."""
        nets = self.networks
        models = [nets.encoder, *nets.decoders.values(), *nets.discriminators.values()]
        if isinstance(exc, tf.errors.OpError):
            text = str(getattr(exc, "message", exc))
            for node in (a or b for a, b in _NODE_RE.findall(text)):
                found = block_of_node(models, node)
                if found is not None:
                    return block_failure(*found, "when the compiled train step ran" + when,
                                         f"{type(exc).__name__}: {op_error_line(exc)}")
            return None
        found = block_of_exception(exc)
        return None if found is None else block_failure(*found, "while the train step was traced" + when, exc)

    def failure(self, name: str, doing: str, exc: BaseException | str) -> PluginFailure:
        """The one-line error for loss term `name` failing while `doing`."""
        choice = self.choices.get(name)
        if choice is not None:
            return plugin_failure(choice, doing, exc)
        loss = self.losses[name]
        detail = exc if isinstance(exc, str) else exception_line(exc)
        where = f"{type(loss).__module__}.{type(loss).__qualname__}"
        return PluginFailure(f"loss '{name}' ({where}) failed {doing}: {detail}")

    def _term(self, name: str, method: str, side: str, func: Callable[[LossInputs], Any],
              x: LossInputs) -> Any:
        """`func(x)` (a loss term's generator_loss or discriminator_loss) under the term's name scope, noting
        which term failed when it raises while traced (see `__call__`). Runs only while tracing."""
        with tf.name_scope(self.scopes[name]):
            try:
                value = func(x)
                if value is None and method == "discriminator_loss":  # "this term trains no discriminator"
                    return None
                return tf.cast(value, tf.float32)
            except Exception as exc:
                doing = f"in {method}() for side {side} while the train step was traced"
                self._trace_failure = (name, doing, exc)
                raise

    def loss_inputs(self, side: str, warped: Any, target: Any, eyes: Any, mixup: Any,
                    training: bool = True) -> LossInputs:
        """Run G_side on `warped` and package what the loss terms need."""
        latent, alpha, bgr, sides = self.forward(side, warped, eyes, training)
        other = OTHER[side]
        return LossInputs(
            warped=warped, target=target, alpha=alpha, bgr=bgr,
            masked=alpha * bgr + (1.0 - alpha) * warped, side_outputs=tuple(sides),
            eye_mask=eyes if self.use_eye_masks else None,
            discriminator=self.networks.discriminators[side], mixup=mixup,
            generate=lambda x: self.generate(side, x, eyes, training)[:2],
            generate_other=lambda x: self.generate(other, x, eyes, training)[:2],
            latent=latent, side=side,
        )

    def generate(self, side: str, image: Any, eyes: Any, training: bool = True
                 ) -> tuple[tf.Tensor, tf.Tensor, list[tf.Tensor]]:
        """(alpha, bgr, side_outputs) of G_side on `image` (eye mask = condition map when the decoder
        has a conditional normalization)."""
        return self.forward(side, image, eyes, training)[1:]

    def forward(self, side: str, image: Any, eyes: Any, training: bool = True
                ) -> tuple[Any, tf.Tensor, tf.Tensor, list[tf.Tensor]]:
        """(latent, alpha, bgr, side_outputs): `generate` plus the encoder's output."""
        nets = self.networks
        latent = nets.encoder(image, training=training)
        if getattr(nets, "condition_channels", 0):  # conditional norm (e.g. SPADE): the eye mask is the map
            out = nets.decoders[side]([latent, eyes], training=training)
        else:
            out = nets.decoders[side](latent, training=training)
        return (latent, *split_output(out))

    def _distributed_step(self, batch: tuple[Any, ...], mixup: Any,
                          skipped: frozenset[str] = frozenset()) -> dict[str, Any]:
        """Every replica runs `_train_step` on its shard; metrics are summed (each already × 1/replicas)."""
        per_replica = self.strategy.run(functools.partial(self._train_step, skipped=skipped),
                                        args=(batch, mixup))
        return {k: self.strategy.reduce(tf.distribute.ReduceOp.SUM, v, axis=None)
                for k, v in per_replica.items()}

    def _train_step(self, batch: tuple[Any, ...], mixup: Any,
                    skipped: frozenset[str] = frozenset()) -> dict[str, Any]:
        nets = self.networks
        data = {"a": batch[0:3], "b": batch[3:6]}
        metrics: dict[str, Any] = {}
        train_d = any(loss.uses_discriminator and name not in skipped for name, loss in self.losses.items())
        with tf.GradientTape(persistent=True) as tape:
            inputs = {s: self.loss_inputs(s, *data[s], mixup) for s in SIDES}
            inputs = {s: attrs.evolve(inputs[s], other_latent=inputs[OTHER[s]].latent) for s in SIDES}
            if self.uses_d and not train_d:  # every adversarial term is off in this phase
                metrics.update({f"{s}/d_total": tf.constant(0.0) for s in SIDES})
            if train_d:
                for s in SIDES:
                    for k in range(max(self.critic_steps.values())):  # k > 0: terms with critic_steps > k
                        d_loss = regularization(nets.discriminators[s], *self.extra_models)
                        for name, loss in self.losses.items():
                            if self.critic_steps.get(name, 0) > k and name not in skipped:
                                value = self._term(name, "discriminator_loss", s, loss.discriminator_loss,
                                                   inputs[s])
                                if value is not None:
                                    d_loss += self.scales[name] * value
                        if k == 0:
                            metrics[f"{s}/d_total"] = d_loss
                        scaled = self._scaled(d_loss)  # while recording, so it can be differentiated
                        with tape.stop_recording():
                            self._apply(self.d_opt[s], tape, scaled, self.d_vars[s])
            g_losses = {}
            for s in SIDES:
                g_loss = regularization(nets.encoder, nets.decoders[s])
                for name, loss in self.losses.items():
                    if name in skipped:
                        metrics[f"{s}/{name}"] = tf.constant(0.0)
                        continue
                    value = self._term(name, "generator_loss", s, loss.generator_loss, inputs[s])
                    metrics[f"{s}/{name}"] = value
                    g_loss += self.scales[name] * value
                metrics[f"{s}/g_total"] = g_loss
                g_losses[s] = self._scaled(g_loss)
        for s in SIDES:
            self._apply(self.g_opt[s], tape, g_losses[s], self.g_vars[s])
        del tape
        if self.strategy is not None:
            metrics = {k: v * self.replica_weight for k, v in metrics.items()}
        return metrics

    def _scaled(self, loss: Any) -> Any:
        """The loss times 1/replicas (under a strategy) and the dynamic loss scale (float16); call it while
        the tape records."""
        if self.strategy is not None:
            loss = loss * self.replica_weight
        return loss if self.loss_scale is None else loss * self.loss_scale

    def _apply(self, opt: Any, tape: tf.GradientTape, scaled_loss: Any, variables: list[Any]) -> None:
        scale = self.loss_scale
        grads = tape.gradient(scaled_loss, variables)
        pairs = [(g, v) for g, v in zip(grads, variables, strict=True) if g is not None]
        grads, used = [g for g, _ in pairs], [v for _, v in pairs]
        if scale is None:
            opt.apply(grads, used)
            return
        grads = [g / tf.cast(scale, g.dtype) for g in grads]
        finite = tf.reduce_all([tf.reduce_all(tf.math.is_finite(g)) for g in grads])
        replica = tf.distribute.get_replica_context() if self.strategy is not None else None
        if replica is not None:  # skip on every replica when any replica overflowed
            bad = replica.all_reduce(tf.distribute.ReduceOp.SUM, tf.cast(tf.logical_not(finite), tf.float32))
            finite = tf.equal(bad, 0.0)
        # a skipped update is an Adam step with zero gradients and learning rate 0: weights unchanged,
        # no data-dependent branch around the optimizer
        grads = [tf.where(finite, g, tf.zeros_like(g)) for g in grads]
        lr = opt.learning_rate
        saved = tf.identity(lr)
        lr.assign(tf.where(finite, saved, tf.zeros_like(saved)))
        opt.apply(grads, used)
        lr.assign(saved)
        self.good_steps.assign(tf.where(finite, self.good_steps + 1, tf.zeros_like(self.good_steps)))
        grow = tf.logical_and(finite, self.good_steps >= GROWTH_STEPS)
        new_scale = tf.where(finite, tf.where(grow, tf.minimum(scale * 2.0, 2.0**24), scale),
                             tf.maximum(scale * 0.5, 1.0))
        scale.assign(new_scale)
        self.good_steps.assign(tf.where(grow, tf.zeros_like(self.good_steps), self.good_steps))
