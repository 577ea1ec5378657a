"""The studio's HTTP API (Starlette's TestClient, no browser) on a tiny project with real jobs."""

from __future__ import annotations

import json
import os
import shutil
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

with warnings.catch_warnings():  # Starlette 1.x warns that it would rather use httpx2 than httpx
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from fswap.lock import workdir_lock
from fswap.studio.app import create_app
from fswap.studio.state import latest_checkpoint

WAIT_S = 300.0


def wait_for(what: str, check: Callable[[], Any], timeout: float = WAIT_S) -> Any:
    """Poll `check` until it returns something true (the condition, not the wait, is asserted)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def client(extracted: Path) -> Iterator[TestClient]:
    with TestClient(create_app(extracted)) as c:
        yield c


def stage(state: dict, name: str) -> dict:
    return next(s for s in state["stages"] if s["name"] == name)


def test_state_after_extract(client: TestClient, extracted: Path) -> None:
    state = client.get("/api/state").json()
    assert state["pipeline"] == str(extracted.resolve())
    assert state["workdir"] == str(extracted.parent.resolve() / "work")
    assert state["message"] is None and state["job"] is None
    assert [(s["name"], s["state"]) for s in state["stages"]] == [
        ("extract", "done"), ("train", "not_started"), ("convert", "not_started")]
    assert stage(state, "extract")["detail"] == "a: 6 faces; b: 6 faces"
    assert state["train"] == {"iteration": 0, "iterations": 100000, "phase": None, "images_per_s": None,
                              "elapsed_s": None, "preview": None}
    assert state["evaluation"] is None
    assert state["outputs"] == {"video": None, "report": None, "comparison": None}
    assert client.get("/api/tracks").json() == {"tracks": []}
    assert client.get("/api/history").json() == {"columns": [], "rows": []}


def test_face_sets_with_masks_served_from_the_workdir(client: TestClient) -> None:
    faces = client.get("/api/facesets/a").json()
    assert faces["count"] == 6 and len(faces["faces"]) == 6
    first = faces["faces"][0]
    assert first["image"].startswith("/files/faces/a/faces/")
    assert first["mask"].startswith("/files/faces/a/masks/eyes5/")
    for url in (first["image"], first["mask"]):
        got = client.get(url)
        assert got.status_code == 200 and got.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert client.get("/api/facesets/c").status_code == 404


def test_the_page_and_its_files(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<html" in page.text.lower()


@pytest.mark.parametrize("path", ["/files/%2e%2e/pipeline.toml", "/files/..%2fpipeline.toml",
                                  "/files/faces/..%2f..%2fpipeline.toml", "/files/%2Fetc%2Fpasswd",
                                  "/files/faces/a/nothing.png", "/files/escape/pipeline.toml"])
def test_files_outside_the_workdir_are_not_found(client: TestClient, extracted: Path, path: str) -> None:
    link = extracted.parent / "work" / "escape"
    if not link.exists():
        link.symlink_to(extracted.parent)  # a link inside the workdir to outside it
    got = client.get(path)
    assert got.status_code == 404 and "pipeline" not in got.text


def test_bad_pipelines_are_one_line_400(client: TestClient, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[train\n")
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("[train]\niteratons = 3\n")
    cases = {
        str(tmp_path / "missing.toml"): "missing.toml: no such pipeline file",
        str(bad): "bad.toml: TOML syntax error",
        str(unknown): "unknown.toml [train]: unknown option 'iteratons'",
    }
    for path, expected in cases.items():
        got = client.post("/api/pipeline", json={"path": path})
        assert got.status_code == 400
        message = got.json()["error"]
        assert expected in message and "\n" not in message
    assert client.post("/api/pipeline", json={}).status_code == 400
    assert client.post("/api/pipeline", content=b"not json").status_code == 400
    assert client.get("/api/state").json()["message"] is None  # the open pipeline is unchanged


def test_bad_job_requests(client: TestClient) -> None:
    assert client.post("/api/jobs/stop").json() == {"error": "no job is running"}
    assert client.post("/api/jobs/stop").status_code == 409
    got = client.post("/api/jobs", json={"stage": "deploy"})
    assert got.status_code == 400 and "valid: extract, train, convert, evaluate" in got.json()["error"]
    got = client.post("/api/jobs", json={"stage": "evaluate"})
    assert got.status_code == 400 and "no [evaluate] section" in got.json()["error"]
    got = client.post("/api/jobs", json={"stage": "convert", "set": {"convert.selct": "tracks"}})
    assert got.status_code == 400 and "unknown option 'selct'" in got.json()["error"]
    assert client.get("/api/state").json()["job"] is None  # nothing was started


def test_no_job_starts_while_another_run_holds_the_workdir(client: TestClient, extracted: Path) -> None:
    with workdir_lock(extracted.parent / "work", command="fswap run (test)"):
        got = client.post("/api/jobs", json={"stage": "train"})
        message = client.get("/api/state").json()["message"]
    assert got.status_code == 409
    workdir = extracted.parent.resolve() / "work"
    assert got.json()["error"] == f"workdir {workdir} is in use by another fswap run (pid {os.getpid()})"
    assert message == f"{got.json()['error']}; jobs cannot start"
    assert client.get("/api/state").json()["message"] is None  # released


def own_copy(extracted: Path, folder: Path) -> Path:
    """A copy of the extracted project (its pipeline path) that a test may change as it likes."""
    shutil.copytree(extracted.parent, folder, symlinks=True)
    return folder / extracted.name


def test_swap_preview_before_training_says_so(extracted: Path, tmp_path: Path) -> None:
    with TestClient(create_app(own_copy(extracted, tmp_path / "project"))) as client:
        untrained(client)


def untrained(client: TestClient) -> None:
    got = client.post("/api/swap-preview", json={"frame": 0, "direction": "a_to_b"})
    assert got.status_code == 400 and "no exported model yet" in got.json()["error"]
    got = client.post("/api/swap-preview", json={"frame": -1})
    assert got.status_code == 400 and "frame must be" in got.json()["error"]


@pytest.mark.slow
def test_train_job_starts_refuses_a_second_and_stops_cleanly(extracted: Path, tmp_path: Path) -> None:
    pipeline = own_copy(extracted, tmp_path / "project")  # the other tests see the project untrained
    with TestClient(create_app(pipeline)) as client:
        train_stop_and_preview(client, pipeline.parent / "work")


def train_stop_and_preview(client: TestClient, workdir: Path) -> None:
    started = client.post("/api/jobs", json={"stage": "train", "fresh": True,
                                             "set": {"train.iterations": 90000}})
    assert started.status_code == 202, started.text
    job = started.json()["job"]
    assert (job["stage"], job["state"]) == ("train", "running")
    second = client.post("/api/jobs", json={"stage": "extract"})
    assert second.status_code == 409 and "a job is already running: train" in second.json()["error"]

    def progressed() -> dict | None:
        state = client.get("/api/state").json()
        progress = state["job"]["progress"]
        assert state["job"]["state"] == "running", state["job"]
        return state if progress and progress["desc"] == "train" and progress["n"] >= 1 else None

    state = wait_for("training progress", progressed)
    assert stage(state, "train")["state"] == "running"
    assert state["job"]["progress"]["total"] == 90000 and state["job"]["progress"]["unit"] == "it"
    assert state["train"]["iterations"] == 90000  # the job's --set, while it runs
    stopped = client.post("/api/jobs/stop")
    assert stopped.status_code == 200 and stopped.json()["job"]["state"] in ("stopping", "stopped")

    def ended() -> dict | None:
        state = client.get("/api/state").json()
        return state if state["job"]["state"] not in ("running", "stopping") else None

    state = wait_for("the job to stop", ended)
    assert state["job"]["state"] == "stopped" and state["job"]["returncode"] == 0, state["job"]
    assert any("interrupted=True" in line for line in state["job"]["log"])
    iteration = latest_checkpoint(client.app.state.studio.config)
    assert iteration is not None and iteration >= 1  # the clean stop saved a checkpoint
    assert stage(state, "train") == {"name": "train", "state": "resumable",
                                     "detail": f"checkpoint at iteration {iteration} of 100000"}
    assert state["train"]["iteration"] == iteration and state["train"]["preview"].startswith(
        "/files/model/previews/latest.png?v=")
    assert client.get(state["train"]["preview"]).status_code == 200
    history = client.get("/api/history").json()
    assert history["columns"][0] == "iteration" and len(history["rows"]) == iteration  # log_every = 1
    log = (workdir / "studio" / f"job-{job['id']}.log").read_text()
    assert "SIGINT received" in log
    progress_lines = (workdir / "studio" / f"job-{job['id']}.progress.jsonl").read_text().splitlines()
    assert json.loads(progress_lines[-1])["n"] == iteration

    # the swap preview uses the model the stop exported
    got = client.post("/api/swap-preview", json={"frame": 2, "direction": "a_to_b"})
    assert got.status_code == 200, got.text
    image = client.get(got.json()["image"])
    assert image.status_code == 200 and image.content[:4] == b"\x89PNG"
    got = client.post("/api/swap-preview", json={"frame": 6})
    assert got.status_code == 400
    assert got.json()["error"] == "frame 6 is out of range: a.mp4 has frames 0 to 5"
