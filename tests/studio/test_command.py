"""`fswap studio` as a user runs it: the printed URL, server-sent events, the host warning, no extra."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from studio_project import write_project


def start(*args: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, "-m", "fswap.cli", "studio", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("fswap studio: http://"), (line, proc.stderr.read() if proc.poll() else "")
    return proc, line.split(": ", 1)[1].strip()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str, Path]]:
    path = write_project(tmp_path, iterations=10)
    proc, url = start(str(path), "--port", "0")
    try:
        yield proc, url, path
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def test_port_0_prints_the_real_url_and_events_stream_the_state(server) -> None:
    proc, url, path = server
    assert url.startswith("http://127.0.0.1:") and not url.endswith(":0/")
    state = httpx.get(url + "api/state", timeout=30).json()
    assert state["pipeline"] == str(path.resolve())
    assert [s["state"] for s in state["stages"]] == ["not_started"] * 3
    with httpx.stream("GET", url + "api/events", timeout=30) as events:
        assert events.headers["content-type"].startswith("text/event-stream")
        lines = events.iter_lines()
        assert next(lines) == "event: state"
        data = next(lines)
        assert data.startswith("data: ") and json.loads(data[6:]) == state
    proc.send_signal(signal.SIGINT)  # Ctrl-C ends the server, as the normal way to leave it
    assert proc.wait(timeout=30) == 0
    assert proc.stderr.read().strip().splitlines()[-1] == "fswap studio: stopped"


def test_a_non_local_host_prints_a_warning(tmp_path: Path) -> None:
    proc, url = start("--host", "0.0.0.0", "--port", "0")
    try:
        assert url.startswith("http://0.0.0.0:")
        state = httpx.get(url.replace("0.0.0.0", "127.0.0.1") + "api/state", timeout=30).json()
        assert state["pipeline"] is None and state["stages"] == []
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    err = proc.stderr.read()
    assert "warning: listening on 0.0.0.0" in err and "no authentication" in err


def test_without_the_extra_it_says_what_to_install(tmp_path: Path) -> None:
    fake = tmp_path / "site" / "uvicorn"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError(\"No module named 'uvicorn'\", name='uvicorn')\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    done = subprocess.run([sys.executable, "-m", "fswap.cli", "studio", "--port", "0"], capture_output=True,
                          text=True, timeout=120, env=env)
    assert done.returncode == 2
    assert done.stderr == ('fswap: error: fswap studio needs the studio extra (uvicorn is not installed): '
                           'pip install "fswap[studio]"\n')


def test_ctrl_c_ends_the_studio_at_once_while_a_page_holds_its_event_stream(server) -> None:
    """An open page keeps /api/events open; Ctrl-C must still stop the server promptly and cleanly (uvicorn
    alone waits for every open response, then cuts it with a traceback after its graceful timeout)."""
    import threading

    proc, url, _ = server
    opened = threading.Event()

    def hold_stream() -> None:
        with httpx.stream("GET", url + "api/events", timeout=60) as events:
            for line in events.iter_lines():
                if line == "event: state":
                    opened.set()

    reader = threading.Thread(target=hold_stream, daemon=True)
    reader.start()
    assert opened.wait(30), "no event arrived"
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == 0
    reader.join(10)
    err = proc.stderr.read()
    # the stream ended because the server asked it to, not because the graceful-shutdown timeout cut it
    assert "Traceback" not in err and "CancelledError" not in err, err
    assert not reader.is_alive(), "the event stream stayed open after the server stopped"
