"""What the ``elpac export`` tests share: running a command on a store, and its year."""

from __future__ import annotations

from typing import TYPE_CHECKING

from typer.testing import CliRunner

from elpac.cli import app

if TYPE_CHECKING:
    from data.results.store import Store


def run(store: Store, *args: str) -> tuple[int, str]:
    """``elpac export ARGS --store STORE``: its exit code and output (an exit is no error)."""
    result = CliRunner().invoke(app, ["export", *args, "--store", str(store.path)])
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.exit_code, result.output


def year_of(store: Store) -> str:
    """The store's second-newest school year (the newest complete one in the tiny demo)."""
    return sorted(store.year_files())[-2]
