"""The workdir lock taken by every run, and `fswap run --set KEY=VALUE`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from fswap_core_toys import RAN, TOY_STAGES, toy_catalog

from fswap.config import apply_overrides, load_pipeline, parse_override
from fswap.context import RunContext
from fswap.errors import ConfigError
from fswap.lock import WorkdirBusyError, is_locked, lock_path, read_holder, workdir_lock
from fswap.plugins import make_plugin_manager
from fswap.run import run_pipeline

HOLDER = textwrap.dedent(
    """
    import sys
    from fswap.lock import workdir_lock
    with workdir_lock(sys.argv[1], command="holder test"):
        print("locked", flush=True)
        sys.stdin.read()
    """
)


def _pipeline(tmp_path: Path) -> Path:
    path = tmp_path / "pipeline.toml"
    path.write_text('workdir = "w"\n[extract.a]\ninput = "a.mp4"\n[train]\niterations = 7\n')
    return path


def _hold(workdir: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(workdir)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline() == "locked\n"
    return proc


def test_a_second_run_fails_at_once_naming_the_workdir_and_holder(tmp_path: Path) -> None:
    path = _pipeline(tmp_path)
    workdir = tmp_path / "w"
    holder = _hold(workdir)
    try:
        assert is_locked(workdir)
        assert read_holder(workdir) == {"pid": holder.pid, "command": "holder test"}
        # the real command line in another process: the lock is taken before any stage runs
        done = subprocess.run([sys.executable, "-m", "fswap.cli", "run", str(path)], capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 2
        assert done.stderr.count("\n") == 1
        assert f"workdir {workdir} is in use by another fswap run (pid {holder.pid})" in done.stderr
        # in process as well (a separate open of the file conflicts like another process)
        config = load_pipeline(path, catalog=toy_catalog(), stages=TOY_STAGES)
        ctx = RunContext(pipeline=config, catalog=toy_catalog(), pm=make_plugin_manager(environ={}))
        RAN.clear()
        with pytest.raises(WorkdirBusyError, match=str(holder.pid)):
            run_pipeline(ctx, (), TOY_STAGES)
        assert RAN == []
    finally:
        holder.kill()  # a crash: no clean-up code runs, the kernel drops the lock
        holder.wait()
    assert lock_path(workdir).exists() and not is_locked(workdir)
    run_pipeline(ctx, (), TOY_STAGES)
    assert [name for name, _ in RAN] == ["extract", "train"]
    assert read_holder(workdir)["pid"] == os.getpid()
    assert not is_locked(workdir)  # released after the run


def test_the_lock_is_released_on_ctrl_c(tmp_path: Path) -> None:
    holder = _hold(tmp_path / "w")
    holder.send_signal(signal.SIGINT)
    holder.wait(timeout=30)
    with workdir_lock(tmp_path / "w", command="next"):
        assert read_holder(tmp_path / "w") == {"pid": os.getpid(), "command": "next"}


@pytest.mark.parametrize(
    ("text", "parts", "value"),
    [
        ("convert.select=tracks", ["convert", "select"], "tracks"),
        ("convert.tracks=[0,2]", ["convert", "tracks"], [0, 2]),
        ("train.iterations = 5", ["train", "iterations"], 5),
        ("extract.ratio=0.25", ["extract", "ratio"], 0.25),
        ('extract.mode="x y"', ["extract", "mode"], "x y"),
        ("seed=3", ["seed"], 3),
        ("extract.a.input=clips/b c.mp4", ["extract", "a", "input"], "clips/b c.mp4"),
    ],
)
def test_parse_override(text: str, parts: list[str], value: object) -> None:
    assert parse_override(text) == (parts, value)


@pytest.mark.parametrize("text", ["convert.select", "=3", "convert..x=1"])
def test_parse_override_without_a_key_is_one_line(text: str) -> None:
    with pytest.raises(ConfigError, match=r"expected KEY=VALUE"):
        parse_override(text)


def test_overrides_apply_before_validation(tmp_path: Path) -> None:
    path = _pipeline(tmp_path)
    config = load_pipeline(path, catalog=toy_catalog(), stages=TOY_STAGES,
                           overrides=["train.iterations=9", "extract.policy=all", "seed=4"])
    assert (config.stage("train").iterations, config.stage("extract").policy, config.seed) == (9, "all", 4)
    data = {"train": {"iterations": 1}}
    assert apply_overrides(data, ["train.iterations=2"], "p.toml") == {"train": {"iterations": 2}}
    assert data == {"train": {"iterations": 1}}  # the original is left alone


def test_bad_overrides_are_reported_like_toml_errors(tmp_path: Path) -> None:
    path = _pipeline(tmp_path)
    cat = toy_catalog()
    with pytest.raises(ConfigError, match=r"pipeline.toml \[extract\]: unknown option 'polcy'"):
        load_pipeline(path, catalog=cat, stages=TOY_STAGES, overrides=["extract.polcy=all"])
    with pytest.raises(ConfigError, match=r"\[extract\]: policy must be one of 'single', 'all', received"):
        load_pipeline(path, catalog=cat, stages=TOY_STAGES, overrides=["extract.policy=sometimes"])
    with pytest.raises(ConfigError, match=r"\[train\]: iterations must be an integer, received 'many'"):
        load_pipeline(path, catalog=cat, stages=TOY_STAGES, overrides=["train.iterations=many"])
    with pytest.raises(ConfigError, match=r"pipeline.toml: --set 'train.iterations.x=1': train.iterations is "
                                          r"a value, not a table"):
        load_pipeline(path, catalog=cat, stages=TOY_STAGES, overrides=["train.iterations.x=1"])


def test_run_set_on_the_command_line(tmp_path: Path) -> None:
    """`fswap run --set` with a bad key fails validation on one line, exit 2, before anything runs."""
    path = _pipeline(tmp_path)
    cmd = [sys.executable, "-m", "fswap.cli", "run", str(path), "--set", "train.iterationz=3"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "iterationz" in done.stderr
    assert not (tmp_path / "w").exists()


@pytest.mark.parametrize(
    ("table", "env", "locks"),
    [
        ("", {}, True),
        ('strategy = "mirrored"', {}, True),
        ('strategy = "multi_worker"\nworkers = ["h:1", "h:2"]', {"FSWAP_TASK_INDEX": "0"}, True),
        ('strategy = "multi_worker"\nworkers = ["h:1", "h:2"]', {"FSWAP_TASK_INDEX": "1"}, False),
        ('strategy = "multi_worker"', {"TF_CONFIG": '{"cluster": {"worker": ["h:1", "h:2"]}, '
                                                    '"task": {"type": "worker", "index": 0}}'}, True),
        ('strategy = "multi_worker"', {"TF_CONFIG": '{"cluster": {"worker": ["h:1", "h:2"]}, '
                                                    '"task": {"type": "worker", "index": 1}}'}, False),
        ('strategy = "multi_worker"', {"TF_CONFIG": '{"cluster": {"chief": ["h:0"], "worker": ["h:1"]}, '
                                                    '"task": {"type": "worker", "index": 0}}'}, False),
        ('strategy = "multi_worker"', {"TF_CONFIG": '{"cluster": {"chief": ["h:0"], "worker": ["h:1"]}, '
                                                    '"task": {"type": "chief", "index": 0}}'}, True),
        ('strategy = "multi_worker"', {"TF_CONFIG": "not json"}, True),
    ],
)
def test_only_the_chief_of_a_multi_worker_cluster_locks_the_shared_workdir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, table: str, env: dict[str, str], locks: bool
) -> None:
    from fswap import api
    from fswap.run import _takes_the_lock, select_stages

    monkeypatch.delenv("TF_CONFIG", raising=False)
    monkeypatch.delenv("FSWAP_TASK_INDEX", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    path = tmp_path / "pipeline.toml"
    path.write_text(f"[train]\niterations = 3\n[train.distribute]\n{table}\n")
    config = api.load(path).config
    ctx = RunContext(pipeline=config, catalog=api.catalog(), pm=make_plugin_manager(environ={}))
    assert _takes_the_lock(ctx, select_stages(config, ("train",))) is locks
