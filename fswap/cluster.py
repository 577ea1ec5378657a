"""Where this process sits in a multi-worker training cluster, read from the environment without TensorFlow.

One reading for everything that asks: the train stage builds its cluster resolver from it, and `fswap run`
asks it whether this process is the chief (only the chief locks the shared workdir).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence

import attrs

from fswap.errors import ConfigError

TASK_INDEX_ENV = "FSWAP_TASK_INDEX"
"""This machine's index in `[train.distribute] workers` (0 = chief)."""


@attrs.frozen
class ClusterPlace:
    """The cluster's worker addresses in index order (chief first) and this process's index among them."""

    addresses: tuple[str, ...]
    index: int
    from_tf_config: bool
    """True when the cluster came from TF_CONFIG, False when from `workers` and FSWAP_TASK_INDEX."""

    @property
    def is_chief(self) -> bool:
        return self.index == 0


def cluster_place(workers: Sequence[str], where: str,
                  environ: Mapping[str, str] | None = None) -> ClusterPlace:
    """This process's place: from `workers` and FSWAP_TASK_INDEX when `workers` is given, else from TF_CONFIG.
    Raises ConfigError (naming `where`, the variable and what is valid) when the environment does not say."""
    env = os.environ if environ is None else environ
    if workers:
        raw = env.get(TASK_INDEX_ENV, "")
        if not raw.isdigit() or int(raw) >= len(workers):
            raise ConfigError(
                f"{where} [train.distribute]: workers lists {len(workers)} machines; set "
                f"{TASK_INDEX_ENV} to this machine's index 0…{len(workers) - 1} (0 = chief), "
                f"received {raw!r}"
            )
        return ClusterPlace(addresses=tuple(workers), index=int(raw), from_tf_config=False)
    raw = env.get("TF_CONFIG", "")
    try:
        tf_config = json.loads(raw) if raw else None
        cluster = dict(tf_config["cluster"]) if tf_config else None
        task = dict(tf_config["task"]) if tf_config else None
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"TF_CONFIG is not valid JSON with 'cluster' and 'task': {exc}") from exc
    if not cluster or not task:
        raise ConfigError(
            f"{where} [train.distribute]: strategy = \"multi_worker\" needs `workers = [\"host:port\", …]` "
            "or the TF_CONFIG variable ({\"cluster\": {\"worker\": [...]}, \"task\": {\"type\": \"worker\", "
            "\"index\": 0}}); see docs/distributed.md"
        )
    ordered = [*cluster.get("chief", []), *cluster.get("worker", [])]
    try:
        kind, task_id = str(task.get("type", "worker")), int(task.get("index", 0))
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"TF_CONFIG task {task}: 'index' must be a whole number") from exc
    index = task_id if kind == "chief" else task_id + len(cluster.get("chief", []))
    if kind not in ("chief", "worker") or index >= len(ordered):
        raise ConfigError(f"TF_CONFIG task {task} is not a chief or worker of the cluster {cluster}")
    return ClusterPlace(addresses=tuple(ordered), index=index, from_tf_config=True)
