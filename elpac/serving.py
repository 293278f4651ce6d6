"""Start ``elpac serve`` in a child process and wait for it (tests, benchmarks, screenshots)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def healthy(url: str) -> bool:
    """Whether the Streamlit server at ``url`` answers its health check."""
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return bool(response.read().strip() == b"ok")
    except (urllib.error.URLError, OSError):
        return False


def start(command: list[str], *, log: IO[bytes] | int = subprocess.DEVNULL,
          env: dict[str, str] | None = None, timeout_s: float = 120
          ) -> tuple[subprocess.Popen[bytes], str]:
    """Run a server ``command`` (``{port}`` is filled in) from the project; wait until healthy.

    Raises ``RuntimeError`` if it exits or is not healthy within ``timeout_s`` (then stopped).
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    # cwd: Streamlit reads .streamlit/config.toml from the working directory.
    server = subprocess.Popen([part.format(port=port) for part in command], cwd=ROOT,
                              env=env, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    deadline = time.monotonic() + timeout_s
    while not healthy(url):
        if server.poll() is not None or time.monotonic() > deadline:
            state = (f"exited with code {server.returncode}" if server.poll() is not None
                     else f"not healthy after {timeout_s:.0f} s")
            stop(server)
            raise RuntimeError(f"the dashboard server {state}: {' '.join(command)}")
        time.sleep(0.25)
    return server, url


def serve_command(store: str | Path) -> list[str]:
    """``elpac serve`` on ``store``, loopback, port ``{port}``."""
    return [sys.executable, "-m", "elpac", "serve", "--store", str(store), "--port", "{port}",
            "--address", "127.0.0.1"]


def stop(server: subprocess.Popen[bytes]) -> None:
    """End a server started by :func:`start` (``elpac serve`` runs Streamlit as a child)."""
    if server.poll() is not None:
        return
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=15)
