"""Serving the studio with uvicorn: a missing extra is one line; the printed URL has the real port."""

from __future__ import annotations

import socket
import sys
import threading
from pathlib import Path
from typing import Any

import click

from fswap.errors import FswapError

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


class StudioExtraMissing(FswapError):
    """Starlette or uvicorn is not installed."""


def _require_extra() -> None:
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        raise StudioExtraMissing(
            f"fswap studio needs the studio extra ({exc.name} is not installed): "
            'pip install "fswap[studio]"'
        ) from None


def _bind(host: str, port: int) -> socket.socket:
    """A listening socket (so --port 0 knows its port before the URL is printed)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise FswapError(f"fswap studio: cannot listen on {host}:{port} ({exc.strerror or exc})") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def serve(pipeline: Path | None, host: str = "127.0.0.1", port: int = 7865) -> None:
    """Serve the studio until Ctrl-C (a running job is stopped cleanly on the way out)."""
    _require_extra()
    import uvicorn

    from fswap.studio.app import create_app

    stopping = threading.Event()
    app = create_app(pipeline, stopping=stopping)
    sock = _bind(host, port)
    real_port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    if host not in LOCAL_HOSTS:
        click.echo(f"fswap studio: warning: listening on {host}: anyone who can reach this machine can use "
                   "the studio (there is no authentication)", err=True)
    click.echo(f"fswap studio: http://{shown}:{real_port}/", nl=True)
    sys.stdout.flush()
    # open pages keep an event stream each: they end when `stopping` is set, and any other request still
    # open after a few seconds is cut, so Ctrl-C always reaches the lifespan's clean stop of a running job
    config = uvicorn.Config(app, log_level="warning", lifespan="on", timeout_graceful_shutdown=5)

    class Server(uvicorn.Server):
        """uvicorn's server that also tells the app's event streams to end when asked to exit."""

        def handle_exit(self, sig: int, frame: Any) -> None:
            stopping.set()
            super().handle_exit(sig, frame)

    server = Server(config)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # Ctrl-C is how one leaves the studio (a running job was stopped first)
        pass
    finally:
        sock.close()
    click.echo("fswap studio: stopped", err=True)
