"""``elpac serve`` stops when told to and frees its port; a taken port is said clearly (issue 11).

A service manager or a test harness stops the server with SIGTERM to the process it started:
that must end the server itself, not leave it running with the port taken.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from elpac.commands.serve import port_free
from elpac.serving import healthy, serve_command, start, stop

ROOT = Path(__file__).resolve().parents[1]


def _gone(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False


def test_sigterm_to_elpac_serve_stops_the_server_and_frees_the_port(tiny_store_path: Path
                                                                     ) -> None:
    server, url = start(serve_command(tiny_store_path))
    port = int(url.rsplit(":", 1)[1])
    try:
        assert not port_free("127.0.0.1", port)
        os.kill(server.pid, signal.SIGTERM)  # the process elpac serve is, not its group
        server.wait(timeout=60)
        deadline = time.monotonic() + 30
        while not (_gone(server.pid) and port_free("127.0.0.1", port)):
            assert time.monotonic() < deadline, "the server outlived elpac serve"
            time.sleep(0.2)
        assert not healthy(url)
    finally:
        stop(server)


def test_a_taken_port_is_refused_with_a_sentence(tiny_store_path: Path) -> None:
    server, url = start(serve_command(tiny_store_path))
    port = url.rsplit(":", 1)[1]
    try:
        second = subprocess.run([sys.executable, "-m", "elpac", "serve", "--store",
                                 str(tiny_store_path), "--port", port], cwd=ROOT,
                                capture_output=True, text=True, timeout=60, check=False)
        assert second.returncode == 1
        assert f"port {port} on 127.0.0.1 is already in use" in second.stderr
        assert "Traceback" not in second.stderr
        assert healthy(url)  # the first one is untouched
    finally:
        stop(server)
