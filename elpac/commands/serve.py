"""``elpac serve``: the dashboard, in a Streamlit server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from data.results.store import store_path
from elpac.options import StoreOption  # noqa: TC001 (typer reads the annotations at run time)


def serve(
    store: StoreOption = None,
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8501,
    address: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
) -> None:
    """Start the dashboard."""
    app_file = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
    env = dict(os.environ, ELPAC_STORE=str(store_path(store).resolve()))
    # elpac.serve_app imports the dashboard's libraries before Streamlit listens, so the first
    # visitor does not wait for them.
    cmd = [sys.executable, "-m", "elpac.serve_app", "run", str(app_file), "--server.port",
           str(port),
           "--server.address", address, "--server.headless", "true",
           "--browser.gatherUsageStats", "false"]
    typer.echo(f"dashboard on http://{address}:{port} (store {env['ELPAC_STORE']})")
    # Streamlit reads .streamlit/config.toml from the working directory: run from the project
    # so its settings (no tracebacks for users, upload size) hold wherever serve is called.
    raise typer.Exit(subprocess.call(cmd, env=env, cwd=app_file.parent.parent))
