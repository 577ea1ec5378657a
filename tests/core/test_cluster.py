"""fswap.cluster: one reading of a multi-worker cluster's environment for the train stage and the lock."""

from __future__ import annotations

import json

import pytest

from fswap.cluster import TASK_INDEX_ENV, ClusterPlace, cluster_place
from fswap.errors import ConfigError

WORKERS = ("h:1", "h:2", "h:3")


def _tf_config(cluster: dict, task: dict) -> dict[str, str]:
    return {"TF_CONFIG": json.dumps({"cluster": cluster, "task": task})}


def test_workers_list_and_task_index_give_the_place() -> None:
    place = cluster_place(WORKERS, "p.toml", {TASK_INDEX_ENV: "2"})
    assert place == ClusterPlace(addresses=WORKERS, index=2, from_tf_config=False)
    assert not place.is_chief
    assert cluster_place(WORKERS, "p.toml", {TASK_INDEX_ENV: "0"}).is_chief


@pytest.mark.parametrize("raw", ["", "3", "-1", "one"])
def test_a_missing_or_out_of_range_task_index_names_the_variable_and_the_valid_range(raw: str) -> None:
    with pytest.raises(ConfigError, match=rf"p\.toml \[train\.distribute\].*set {TASK_INDEX_ENV} .*0…2"):
        cluster_place(WORKERS, "p.toml", {TASK_INDEX_ENV: raw})


def test_tf_config_orders_the_chief_first() -> None:
    cluster = {"chief": ["c:0"], "worker": ["w:0", "w:1"]}
    chief = cluster_place((), "p.toml", _tf_config(cluster, {"type": "chief", "index": 0}))
    assert chief == ClusterPlace(addresses=("c:0", "w:0", "w:1"), index=0, from_tf_config=True)
    second = cluster_place((), "p.toml", _tf_config(cluster, {"type": "worker", "index": 1}))
    assert second.index == 2 and not second.is_chief
    # without a chief entry, worker 0 is the chief
    env = _tf_config({"worker": ["w:0", "w:1"]}, {"type": "worker", "index": 0})
    assert cluster_place((), "p.toml", env).is_chief


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "needs `workers"),
        ({"TF_CONFIG": "not json"}, "not valid JSON"),
        (_tf_config({"worker": ["w:0"]}, {"type": "worker", "index": 1}), "is not a chief or worker"),
        (_tf_config({"worker": ["w:0"]}, {"type": "ps", "index": 0}), "is not a chief or worker"),
        (_tf_config({"worker": ["w:0"]}, {"type": "worker", "index": "x"}), "'index' must be a whole number"),
    ],
)
def test_an_unreadable_tf_config_is_a_config_error(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        cluster_place((), "p.toml", env)
