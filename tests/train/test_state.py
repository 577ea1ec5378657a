"""Checkpoint store: atomic folders, restore, keep-K pruning, backups, mismatch errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from fswap.errors import InputError
from fswap.train.state import CheckpointStore, TrainState


def _vars(seed: int = 0) -> list[tf.Variable]:
    rng = np.random.default_rng(seed)
    return [tf.Variable(rng.normal(size=(3, 4)).astype("f4")),
            tf.Variable(rng.normal(size=(5,)).astype("f4"))]


def test_save_restore_roundtrip_and_no_temporary_leftovers(tmp_path: Path) -> None:
    variables = _vars(0)
    saved = [v.numpy().copy() for v in variables]
    store = CheckpointStore(tmp_path, variables)
    path = store.save(TrainState(iteration=12, phase=2, lr_backoff=0.5, nan_failures=1))
    assert path.name == "ckpt-00000012"
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt-00000012"]
    for v in variables:
        v.assign(tf.zeros_like(v))
    state = store.restore()
    assert state == TrainState(iteration=12, phase=2, lr_backoff=0.5, nan_failures=1)
    assert all(np.array_equal(v.numpy(), s) for v, s in zip(variables, saved, strict=True))


def test_keeps_last_k_and_backups_survive_pruning(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path, _vars(), keep=2, backup_every=20)
    for it in (10, 20, 30, 40, 50):
        store.save(TrainState(iteration=it, phase=0))
    assert [p.name for p in store.checkpoints()] == ["ckpt-00000040", "ckpt-00000050"]
    assert sorted(p.name for p in store.backups.iterdir()) == ["ckpt-00000020", "ckpt-00000040"]
    restored = CheckpointStore(tmp_path, _vars(1)).restore(store.backups / "ckpt-00000020")
    assert restored.iteration == 20


def test_incomplete_folders_are_ignored(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path, _vars())
    store.save(TrainState(iteration=5, phase=0))
    (tmp_path / "ckpt-00000009").mkdir()  # a crash mid-write would leave no state.json
    assert store.latest().name == "ckpt-00000005"


def test_restore_into_another_model_is_a_clear_error(tmp_path: Path) -> None:
    CheckpointStore(tmp_path, _vars()).save(TrainState(iteration=1, phase=0))
    with pytest.raises(InputError, match="shape"):
        wrong = [tf.Variable(np.zeros((2, 2), "f4")), tf.Variable(np.zeros(5, "f4"))]
        CheckpointStore(tmp_path, wrong).restore()
    with pytest.raises(InputError, match="another model"):
        CheckpointStore(tmp_path, _vars()[:1]).restore()
    with pytest.raises(InputError, match="no checkpoint"):
        CheckpointStore(tmp_path / "none", _vars()).restore()
