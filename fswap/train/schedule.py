"""The loss schedule (reference §3.4) as data: phases switch losses on/off or ramp them in, set the mask
hinge margin, scale the learning rate and may swap the decoders. The reference's own table is the
`reference` recipe's (a plugin's data). TensorFlow-free; the trainer turns a phase into runtime scalars so
no graph is rebuilt.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence

import attrs

from fswap.options import at_least, between, option


def _names(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(str(v) for v in value)


@attrs.frozen(kw_only=True)
class PhaseConfig:
    """One row of the schedule table; `start` is a fraction of the total iterations."""

    start: float = option(help="Where the phase begins, as a fraction of train.iterations (0 ≤ start < 1).",
                          validator=between(0.0, 0.999999))
    off: tuple[str, ...] = option((), help="Names of configured losses switched off in this phase.")
    ramp: tuple[str, ...] = option(
        (), help="Names of configured losses whose weight rises linearly from 0 where this phase begins to "
                 "full weight where the next one begins (or at the end of training); `off` wins over `ramp`.")
    mask_margin: float | None = option(
        None, help="Margin of the mask_hinge loss in this phase. Default: the loss's own margin option.",
        validator=between(0.0, 1.0))
    lr_factor: float = option(1.0, help="Multiplier of both learning rates in this phase.",
                              validator=at_least(0.0))
    swap_decoders: bool = option(False, help="Swap the weights of decoder A and B when this phase begins.")


@attrs.frozen
class Schedule:
    """A phase table scaled to `total` iterations: `thresholds[i]` is the first iteration of phase i.

    As in the reference, phase i starts at floor(start·total) − offset, where offset is half the save
    interval (150 for the reference's 300), so a phase begins just after a checkpoint."""

    phases: tuple[PhaseConfig, ...]
    total: int
    offset: int = 0
    thresholds: tuple[int, ...] = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        ordered = sorted(self.phases, key=lambda p: p.start)
        if not ordered or ordered[0].start != 0.0:
            ordered.insert(0, PhaseConfig(start=0.0))
        thresholds = [0]
        for phase in ordered[1:]:
            thresholds.append(max(1, int(phase.start * self.total) - self.offset))
        object.__setattr__(self, "phases", tuple(ordered))
        object.__setattr__(self, "thresholds", tuple(thresholds))

    def index_at(self, iteration: int) -> int:
        """The phase index in force at `iteration` (0-based: the iteration about to run)."""
        return bisect.bisect_right(self.thresholds, iteration) - 1

    def phase_at(self, iteration: int) -> PhaseConfig:
        return self.phases[self.index_at(iteration)]

    def factors(self, index: int, loss_names: Sequence[str], iteration: int | None = None
                ) -> dict[str, float]:
        """1.0 for each loss on in phase `index`, 0.0 for each one switched off, and for each one the phase
        ramps in the share of the phase done at `iteration` (0-based, the iteration about to run): 0 at
        the phase's first iteration, rising linearly to 1 where the next phase begins."""
        phase = self.phases[index]
        off = set(phase.off)
        out = {name: 0.0 if name in off else 1.0 for name in loss_names}
        if phase.ramp:
            begin = self.thresholds[index]
            end = self.thresholds[index + 1] if index + 1 < len(self.thresholds) else self.total
            at = begin if iteration is None else iteration
            share = min(max((at - begin) / max(end - begin, 1), 0.0), 1.0)
            out.update({name: share for name in phase.ramp if name in out and name not in off})
        return out

    def ramps(self, index: int) -> bool:
        """Whether phase `index` ramps a loss in (its factors change with every iteration)."""
        return bool(self.phases[index].ramp)

    def describe(self) -> list[dict[str, object]]:
        """The scaled table, for logs and docs."""
        return [
            {"phase": i, "from_iteration": t, "off": list(p.off), "ramp": list(p.ramp),
             "mask_margin": p.mask_margin,
             "lr_factor": p.lr_factor, "swap_decoders": p.swap_decoders}
            for i, (t, p) in enumerate(zip(self.thresholds, self.phases, strict=True))
        ]
