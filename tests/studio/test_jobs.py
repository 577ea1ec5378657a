"""The job runner with stand-in commands (shell scripts in place of python): output, states, stopping."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import pytest

from fswap.studio.jobs import Job, JobConflict, JobManager, _next_id


def script(tmp_path: Path, body: str) -> str:
    """An executable standing in for `python` (it receives `-m fswap.cli run …` and ignores it)."""
    path = tmp_path / "fake-python"
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def wait_until(check, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_ids_go_on_after_earlier_logs(tmp_path: Path) -> None:
    assert _next_id(tmp_path, 1) == 1
    for name in ("job-3.log", "job-x.log", "job-1.log"):
        (tmp_path / name).write_text("")
    assert _next_id(tmp_path, 1) == 4 and _next_id(tmp_path, 9) == 9


def test_output_progress_and_a_failed_run(tmp_path: Path) -> None:
    body = (f"echo \"$FSWAP_PROGRESS_FILE\" > {tmp_path}/seen\n"
            "printf 'one\\rtwo\\nfswap: error: something is wrong\\n'\nexit 2\n")
    workdir = tmp_path / "work"
    (workdir / "studio").mkdir(parents=True)
    (workdir / "studio" / "job-1.progress.jsonl").write_text('{"desc": "old", "n": 9}\n')  # a stale file
    manager = JobManager(python=script(tmp_path, body))
    job = manager.start(tmp_path / "p.toml", workdir, "train", fresh=True, sets={"train.iterations": 3})
    assert job.argv[1:] == ["-m", "fswap.cli", "run", str(tmp_path / "p.toml"), "--stage", "train",
                            "--no-progress", "--fresh", "--set", "train.iterations=3"]
    assert job.wait(timeout=30) == 2
    info = job.as_dict()
    assert info["state"] == "failed" and info["returncode"] == 2 and info["progress"] is None
    assert info["log"] == ["one", "two", "fswap: error: something is wrong"]
    assert info["message"] == "fswap: error: something is wrong"
    assert (tmp_path / "seen").read_text().strip() == str(job.progress_path)
    assert job.log_path.read_text().splitlines() == info["log"]
    assert manager.start(tmp_path / "p.toml", workdir, "train").id == 2  # a finished job makes room
    with pytest.raises(ValueError, match="unknown stage 'deploy'"):
        manager.start(tmp_path / "p.toml", workdir, "deploy")


def test_stop_is_sigint_and_a_second_job_waits(tmp_path: Path) -> None:
    body = (f"trap 'echo interrupted; exit 0' INT\necho ready > {tmp_path}/ready\n"
            "while :; do sleep 0.05; done\n")
    manager = JobManager(python=script(tmp_path, body))
    job = manager.start(tmp_path / "p.toml", tmp_path / "work", "train")
    try:
        wait_until(lambda: (tmp_path / "ready").exists())
        with pytest.raises(JobConflict, match=r"a job is already running: train \(job 1\)"):
            manager.start(tmp_path / "p.toml", tmp_path / "work", "extract")
        assert manager.stop() is job
        assert job.wait(timeout=30) == 0
        assert job.state == "stopped" and "interrupted" in job.as_dict()["log"]
    finally:
        if job.running:
            job.proc.kill()
            job.proc.wait()
    with pytest.raises(JobConflict, match="no job is running"):
        manager.stop()


def test_a_job_that_ignores_sigint_gets_sigterm_after_the_grace_period(tmp_path: Path) -> None:
    body = f"trap '' INT\necho ready > {tmp_path}/ready\nwhile :; do sleep 0.05; done\n"
    job = Job(1, "train", [script(tmp_path, body)], tmp_path / "jobs", dict(os.environ))
    try:
        wait_until(lambda: (tmp_path / "ready").exists())
        job.stop(grace_s=0.5)
        assert job.state == "stopping"
        assert job.wait(timeout=30) == -15  # SIGTERM
        assert job.state == "stopped"
    finally:
        if job.running:  # never leave the stand-in behind when the test fails
            job.proc.kill()
            job.proc.wait()
