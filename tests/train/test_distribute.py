"""tf.distribute training through the CLI in fresh processes (strategies are set up at process start).

A one-process run is the reference; `mirrored` over 2 logical CPUs and `multi_worker` with 2 worker
processes on localhost, with the same global batch and seed, must end with the same parameters. The
multi-worker case first loses a worker (killed) and must fail with one clear line, then resumes.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from fswap.train.toys import make_toy_faceset

pytestmark = pytest.mark.slow

CLI = "import sys; from fswap.cli import main; sys.exit(main(sys.argv[1:]))"
PIPELINE = """
workdir = "work"
seed = 3
[train]
iterations = 3
batch_size = 4
checkpoint_every = 1
keep_checkpoints = 4
preview_every = 3
log_every = 1
[train.model]
resolution = 64
capacity = "lite"
width_divisor = 8
[train.model.attention]
use = "none"
[train.losses.reconstruction]
[train.losses.mixup_lsgan]
[train.losses.mask_l1]
[train.distribute]
"""
FINAL = Path("work/model/checkpoints/ckpt-00000003/variables.npz")


def _project(root: Path, distribute: str = "") -> Path:
    make_toy_faceset(root / "work" / "faces" / "a", "astronaut", count=4, seed=1)
    make_toy_faceset(root / "work" / "faces" / "b", "grace_hopper", count=4, seed=2)
    (root / "pipeline.toml").write_text(PIPELINE + distribute, encoding="utf-8")
    (root / "tmp").mkdir()
    return root


def _start(root: Path, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    full = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"}
    full.update({"TMPDIR": str(root / "tmp"), "CUDA_VISIBLE_DEVICES": "", **(env or {})})
    return subprocess.Popen(
        [sys.executable, "-c", CLI, "run", str(root / "pipeline.toml"), "--stage", "train", "--no-progress"],
        env=full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(process: subprocess.Popen[str], timeout: float = 600) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out, err


def _summary(root: Path) -> dict:
    return json.loads((root / "work" / "model" / "train_summary.json").read_text())


#: The replicas sum gradients in another order, so a few weights differ by more than rounding: an
#: activation on a kink (LeakyReLU at 0, a max) flips sides and its gradient changes by a step. Adam divides
#: each gradient by its own running RMS, so such a weight moves at most ±lr a step either way: after 3 steps
#: at lr ≤ 2e-4 a weight may differ by 2·3·2e-4. Nearly all weights must agree to float32 rounding (rtol
#: 1e-4, atol 1e-5): under the reference recipe all but 1 of 259 388 (measured);
#: the default recipe (no weight decay, β1 0.9, lr 2e-4 for the generators too, a learning-rate drop in
#: step 3) leaves more weights on such kinks (measured: 181 of 259 388, 7e-4), so the bound is 2e-3. A wrong
#: shard or loss scale moves nearly all; runs one step apart differ in 16 % (41 505 of 259 388).
#: The Adam moments (`adam*/…`) are not compared: measured here (2 cores, no AVX-512), a quarter of their
#: entries differ by up to 4e-3 between the runs while the weights agree to 2e-5 — an open question (issue 15
#: closing note), since Adam's first steps hide gradient differences in the weights.
ADAM_BOUND = 2 * 3 * 2e-4
MAX_LOOSE_SHARE = 2e-3


def _assert_same_parameters(reference: Path, other: Path) -> None:
    a, b = np.load(reference), np.load(other)
    assert a.files == b.files
    weights = entries = loose = 0
    for key in a.files:
        if a[key].dtype.kind != "f" or key.split(":", 1)[-1].startswith("adam"):
            continue
        np.testing.assert_allclose(b[key], a[key], rtol=0, atol=ADAM_BOUND, err_msg=key)
        loose += int(np.count_nonzero(~np.isclose(b[key], a[key], rtol=1e-4, atol=1e-5)))
        entries += a[key].size
        weights += 1
    assert weights > 90 and entries > 200_000
    assert loose <= MAX_LOOSE_SHARE * entries, f"{loose} of {entries} weights differ beyond rounding"


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Parameters after 3 iterations of a one-process run (global batch 4 per side)."""
    root = _project(tmp_path_factory.mktemp("single"))
    rc, _out, err = _finish(_start(root))
    assert rc == 0, err[-3000:]
    summary = _summary(root)
    assert summary["distribute"] == {"strategy": "none", "replicas": 1}
    initial = np.load(root / "work/model/checkpoints/ckpt-00000000/variables.npz")
    final = np.load(root / FINAL)
    assert any(not np.allclose(initial[k], final[k]) for k in initial.files if initial[k].dtype.kind == "f")
    return root / FINAL


def test_mirrored_over_two_logical_cpus_matches_one_device(reference: Path, tmp_path: Path) -> None:
    root = _project(tmp_path, 'strategy = "mirrored"\nlogical_cpus = 2\n')
    rc, out, err = _finish(_start(root))
    assert rc == 0, err[-3000:]
    assert "strategy=mirrored, replicas=2" in out
    assert _summary(root)["distribute"]["replicas"] == 2
    _assert_same_parameters(reference, root / FINAL)


def _losses(root: Path) -> np.ndarray:
    lines = (root / "work" / "model" / "history.csv").read_text().splitlines()
    header = lines[0].split(",")
    columns = [i for i, name in enumerate(header) if "/" in name]
    return np.array([[float(line.split(",")[i]) for i in columns] for line in lines[1:]])


def test_mirrored_mixed_bfloat16_trains_like_float32(reference: Path, tmp_path: Path) -> None:
    root = _project(tmp_path, 'strategy = "mirrored"\nlogical_cpus = 2\n')
    toml = root / "pipeline.toml"
    toml.write_text(toml.read_text().replace("[train]\n", '[train]\nprecision = "bfloat16"\n', 1))
    rc, out, err = _finish(_start(root))
    assert rc == 0, err[-3000:]
    assert _summary(root)["precision"] == "bfloat16" and "replicas=2" in out
    single = reference.parents[4]  # the reference project folder
    losses, expected = _losses(root), _losses(single)
    assert losses.shape == expected.shape == (3, len(expected[0]))
    # bfloat16 activations: close to the float32 run (a missing 1/replicas would double every loss)
    np.testing.assert_allclose(losses, expected, rtol=5e-2, atol=1e-2)
    final = np.load(root / FINAL)
    assert all(np.isfinite(final[k]).all() for k in final.files if final[k].dtype.kind == "f")


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def _workers(root: Path) -> list[subprocess.Popen[str]]:
    cluster = {"worker": [f"localhost:{port}" for port in _free_ports(2)]}
    tasks = [{"cluster": cluster, "task": {"type": "worker", "index": i}} for i in range(2)]
    return [_start(root, {"TF_CONFIG": json.dumps(task)}) for task in tasks]


def test_multi_worker_dead_worker_fails_clearly_then_resumes_to_the_same_parameters(
        reference: Path, tmp_path: Path) -> None:
    root = _project(tmp_path, 'strategy = "multi_worker"\ntimeout_seconds = 10\n')
    checkpoints = root / "work" / "model" / "checkpoints"

    chief, worker = _workers(root)
    deadline = time.monotonic() + 900
    while not (checkpoints / "ckpt-00000000" / "state.json").is_file():  # the chief saves before step 1
        assert chief.poll() is None and worker.poll() is None, _finish(chief)[2][-3000:]
        assert time.monotonic() < deadline, "hang guard: the chief never wrote its first checkpoint"
        time.sleep(0.05)
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    rc, _out, err = _finish(chief, timeout=600)  # a guard against a hang, not a timing: communicate() raises
    assert rc != 0, "the chief must not carry on without worker 1"
    message = [line for line in err.splitlines() if line.startswith("fswap: error:")]
    assert len(message) == 1, err[-3000:]
    assert "worker 1" in message[0] and "resume" in message[0] and str(checkpoints) in message[0]
    assert not (checkpoints / "ckpt-00000003").exists()
    killed = {p.name for p in (root / "tmp").glob("fswap-worker*")}  # SIGKILL left no time to clean up

    chief, worker = _workers(root)  # restart both: resumes from the chief's checkpoint
    (rc0, out0, err0), (rc1, out1, err1) = _finish(chief), _finish(worker)
    assert rc0 == 0, err0[-3000:]
    assert rc1 == 0, err1[-3000:]
    assert "worker_index=0" in out0 and "worker_index=1" in out1
    summary = _summary(root)
    assert summary["distribute"] == {"strategy": "multi_worker", "replicas": 2, "workers": 2,
                                     "worker_index": 0}
    assert summary["iteration"] == 3
    history = (root / "work" / "model" / "history.csv").read_text().splitlines()
    assert [line.split(",")[0] for line in history[1:]] == ["1", "2", "3"]  # one writer: the chief
    assert {p.name for p in (root / "tmp").glob("fswap-worker*")} == killed  # worker 1 removed its scratch
    _assert_same_parameters(reference, root / FINAL)
