"""``elpac serve``: the dashboard, in a Streamlit server that this process becomes.

The command checks what it can (the port is free), then replaces itself with the server
(``os.execve``): a service manager's or a test's SIGTERM or SIGINT reaches Streamlit itself,
which stops and frees the port. (It used to start the server as a child and exit on SIGTERM
alone, leaving the child running, the port taken and about 300 MB held.)
"""

from __future__ import annotations

import errno
import os
import socket
import sys
from pathlib import Path
from typing import Annotated

import typer

from data.results.store import store_path
from elpac.options import (
    StoreOption,  # noqa: TC001 (typer reads the annotations at run time)
    fail,
)

ROOT = Path(__file__).resolve().parents[2]


def serve(
    store: StoreOption = None,
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8501,
    address: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
) -> None:
    """Start the dashboard."""
    if not port_free(address, port):
        raise fail(f"port {port} on {address} is already in use (another `elpac serve`?): "
                   "stop it, or choose another with --port")
    # web.py: the dashboard with the routes that keep a sign-in in a cookie (dashboard.web).
    app_file = ROOT / "dashboard" / "web.py"
    env = dict(os.environ, ELPAC_STORE=str(store_path(store).resolve()))
    # elpac.serve_app imports the dashboard's libraries before Streamlit listens, so the first
    # visitor does not wait for them.
    cmd = [sys.executable, "-m", "elpac.serve_app", "run", str(app_file), "--server.port",
           str(port), "--server.address", address, "--server.headless", "true",
           "--browser.gatherUsageStats", "false"]
    typer.echo(f"dashboard on http://{address}:{port} (store {env['ELPAC_STORE']})")
    sys.stdout.flush()
    # Streamlit reads .streamlit/config.toml from the working directory: run from the project
    # so its settings (no tracebacks for users, upload size) hold wherever serve is called.
    os.chdir(ROOT)
    os.execve(sys.executable, cmd, env)  # noqa: S606 - the server replaces this process


def port_free(address: str, port: int) -> bool:
    """Whether a server could listen on ``address``:``port`` now."""
    with socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET,
                       socket.SOCK_STREAM) as probe:
        # As a server binds: a port left in TIME_WAIT by a stopped server is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((address, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True
