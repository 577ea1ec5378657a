"""[train.distribute] without starting a strategy: TOML validation, cluster errors, input sharding."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from fswap import api
from fswap.data.pipeline import BatchMaker
from fswap.errors import ConfigError
from fswap.stages.train_config import AugmentConfig
from fswap.train.distribute import Distribution, start
from fswap.train.distribute_config import TASK_INDEX_ENV, DistributeConfig


def _train(distribute: dict[str, Any]) -> Any:
    pipeline = api.from_dict({"workdir": "w", "train": {"distribute": distribute}}, base_dir=Path("/tmp"))
    return pipeline.stage_config("train").distribute


def test_default_is_one_device_and_tables_are_validated() -> None:
    assert _train({}) == DistributeConfig()
    assert not DistributeConfig().enabled
    cfg = _train({"strategy": "multi_worker", "workers": ["10.0.0.1:2222", "10.0.0.2:2222"],
                  "timeout_seconds": 30})
    assert cfg.enabled and cfg.workers == ("10.0.0.1:2222", "10.0.0.2:2222") and cfg.timeout_seconds == 30
    with pytest.raises(ConfigError, match=r"\[train\.distribute\].*strategy.*mirrored"):
        _train({"strategy": "horovod"})
    with pytest.raises(ConfigError, match="host:port"):
        _train({"strategy": "multi_worker", "workers": ["10.0.0.1"]})
    with pytest.raises(ConfigError, match="timeout_seconds"):
        _train({"timeout_seconds": 0})


def test_multi_worker_without_a_cluster_or_task_index_is_a_config_error(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TF_CONFIG", raising=False)
    monkeypatch.delenv(TASK_INDEX_ENV, raising=False)
    with pytest.raises(ConfigError, match="TF_CONFIG"):
        start(DistributeConfig(strategy="multi_worker"), "p.toml")
    with pytest.raises(ConfigError, match=f"set {TASK_INDEX_ENV}.*0…1"):
        start(DistributeConfig(strategy="multi_worker", workers=("a:1", "b:2")), "p.toml")
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": {"worker": ["a:1"]}, "task": {"index": 3}}))
    with pytest.raises(ConfigError, match="not a chief or worker"):
        start(DistributeConfig(strategy="multi_worker"), "p.toml")
    assert start(DistributeConfig(), "p.toml") is None


def test_global_batch_must_split_over_replicas() -> None:
    dist = Distribution(strategy=None, kind="mirrored", replicas=4)
    assert dist.per_replica_batch(8, "p.toml [train]") == 2
    with pytest.raises(ConfigError, match=r"batch_size = 6 .* 4 replicas; use a multiple of 4"):
        dist.per_replica_batch(6, "p.toml [train]")


def test_peer_failures_name_the_worker_and_the_checkpoints() -> None:
    dist = Distribution(strategy=None, kind="multi_worker", replicas=2, worker_index=0, worker_count=2,
                        workers=("h0:1", "h1:2"), timeout_seconds=20)
    DeadlineExceededError = type("DeadlineExceededError", (Exception,), {})
    error = dist.failure(DeadlineExceededError("Collective ops on /job:worker/replica:0/task:1 timed out"),
                         7, Path("/w/model/checkpoints"))
    assert error is not None
    text = str(error)
    assert "worker 1 (h1:2)" in text and "iteration 7" in text and "/w/model/checkpoints" in text
    assert "\n" not in text
    assert dist.failure(ValueError("bug"), 7, Path("/w")) is None  # not a peer failure: re-raised as is


def test_replica_shards_together_are_the_global_batch(toy_faces: dict[str, Any]) -> None:
    import attrs

    from fswap.data.pipeline import make_shard_dataset

    faces = {"a": toy_faces["a"], "b": toy_faces["b"]}
    maker = BatchMaker(faces=faces, resolution=32, batch_size=4, augment=AugmentConfig(), seed=5)
    stream = iter(make_shard_dataset(maker, 3, 2, range(2)))  # both replicas of one worker, from batch 3
    for k in (3, 4):
        whole = maker.make(k)
        first, second = next(stream), next(stream)
        for part in range(6):
            np.testing.assert_array_equal(np.concatenate([first[part], second[part]]), whole[part])
    worker1 = next(iter(make_shard_dataset(maker, 3, 2, range(1, 2))))  # worker 1 builds shard 1 only
    np.testing.assert_array_equal(worker1[0], attrs.evolve(maker, batch_size=2, offset=2).make(3)[0])
    np.testing.assert_array_equal(worker1[0], maker.make(3)[0][2:])
