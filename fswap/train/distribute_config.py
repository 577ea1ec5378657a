"""The `[train.distribute]` section: which tf.distribute strategy trains the networks.

TensorFlow-free so `fswap validate` stays cheap. `train.batch_size` is always the *global* batch per
side (all replicas together); each replica gets `batch_size / replicas` faces per side, so a
distributed run follows the same schedule and learning rates as a one-device run with that batch.
"""

from __future__ import annotations

from typing import Any, Literal

import attrs

from fswap.cluster import TASK_INDEX_ENV
from fswap.options import at_least, between, one_of, option

STRATEGIES: tuple[str, ...] = ("none", "mirrored", "multi_worker")
COMMUNICATIONS: tuple[str, ...] = ("auto", "ring", "nccl")
__all__ = ["COMMUNICATIONS", "STRATEGIES", "TASK_INDEX_ENV", "DistributeConfig"]


def _workers(_inst: Any, attribute: attrs.Attribute, value: tuple[str, ...]) -> None:
    for item in value:
        host, _, port = str(item).rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"{attribute.name} entries must be 'host:port', received {item!r}")


@attrs.frozen(kw_only=True)
class DistributeConfig:
    """How training is spread over devices and machines (TensorFlow's own tf.distribute engine)."""

    strategy: Literal["none", "mirrored", "multi_worker"] = option(
        "none",
        help="'none' (one device), 'mirrored' (every GPU of this machine, or `devices`) or "
        "'multi_worker' (several machines; cluster from `workers` or the TF_CONFIG variable).",
        validator=one_of(STRATEGIES),
    )
    devices: tuple[str, ...] = option(
        (),
        help="mirrored: devices to replicate on, e.g. [\"/gpu:0\", \"/gpu:1\"]; empty = all GPUs (or "
        "the CPU).",
    )
    logical_cpus: int = option(
        0,
        help="Split the CPU into this many logical devices before TensorFlow starts (lets 'mirrored' run "
        "several replicas on a machine without GPUs, e.g. to test a configuration); 0 = off.",
        validator=between(0, 64),
    )
    workers: tuple[str, ...] = option(
        (),
        help="multi_worker: 'host:port' of every worker in task order (worker 0 is the chief); this "
        f"process's index comes from the {TASK_INDEX_ENV} variable. Empty = use TF_CONFIG.",
        validator=_workers,
    )
    timeout_seconds: float = option(
        300.0,
        help="multi_worker: a collective operation (gradient exchange) waiting longer than this fails the "
        "run with a TrainingError instead of hanging (a dead or stuck worker); resume afterwards.",
        validator=at_least(1.0),
    )
    communication: Literal["auto", "ring", "nccl"] = option(
        "auto", help="multi_worker: collective implementation (auto, ring = gRPC, nccl = GPUs).",
        validator=one_of(COMMUNICATIONS),
    )

    @property
    def enabled(self) -> bool:
        return self.strategy != "none"
