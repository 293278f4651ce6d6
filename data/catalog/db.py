"""The catalog database of a store: the one way in, for reading and for writing.

Every module that keeps something in the catalog reads with ``catalog.read()`` and writes with
``catalog.write()``: a write is one transaction under the store directory's writer lock
(``data.files``), committed when its block ends and rolled back if the block raises, so a
change is kept whole or not at all. Connections are short-lived: DuckDB lets one process at a
time hold a database file open for writing, and a long-lived connection would lock out the
command line and the other dashboard processes.
"""

from __future__ import annotations

import contextlib
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from data.catalog.schema import TABLES
from data.files import writer_lock
from data.problems import InputError

if TYPE_CHECKING:
    from collections.abc import Iterator

FILE_NAME = "catalog.duckdb"
BUSY_SECONDS = 30
"""How long to wait for another process holding the catalog before saying it is busy."""


class Catalog:
    """The catalog of the store in ``directory``."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.path = self.directory / FILE_NAME

    def exists(self) -> bool:
        """Whether the catalog has been created (by a first load or write)."""
        return self.path.exists()

    @contextlib.contextmanager
    def read(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only connection; ``InputError`` if there is no store here."""
        if not self.exists():
            raise InputError(f"no store at {self.directory}: run `elpac demo` or "
                             "`elpac ingest` first")
        if self.path not in _CURRENT:
            self._add_missing_tables()
        con = _connect(self.path, read_only=True)
        try:
            yield con
        finally:
            con.close()

    @contextlib.contextmanager
    def write(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One transaction, under the writer lock: all of the block's changes or none."""
        with writer_lock(self.directory):
            self.directory.mkdir(parents=True, exist_ok=True)
            con = _connect(self.path, read_only=False)
            try:
                for ddl in TABLES:
                    con.sql(ddl)
                con.begin()
                try:
                    yield con
                except BaseException:
                    con.rollback()
                    raise
                con.commit()
            finally:
                con.close()

    def tables(self) -> set[str]:
        """The tables the catalog has (empty when there is no catalog)."""
        if not self.exists():
            return set()
        with self.read() as con:
            return {r[0] for r in con.sql("SHOW TABLES").fetchall()}

    def forget(self) -> None:
        """Forget that this process brought the catalog up to date (it was deleted)."""
        _CURRENT.discard(self.path)

    def _add_missing_tables(self) -> None:
        """Create the tables a newer explorer added, so that reading them cannot fail.

        A store made by an earlier version lacks them. They are empty and additive (``CREATE
        TABLE IF NOT EXISTS``), so the first reader of a process adds them once. One attempt,
        no waiting: if another connection holds the catalog, or the store is read-only, the
        next read tries again.
        """
        with _CURRENT_LOCK:
            if self.path in _CURRENT:
                return
            try:
                con = duckdb.connect(str(self.path))
            except (duckdb.Error, OSError):
                return
            try:
                for ddl in TABLES:
                    con.sql(ddl)
            finally:
                con.close()
            _CURRENT.add(self.path)


_CURRENT: set[Path] = set()
"""Catalogs this process has checked for every table (``Catalog._add_missing_tables``)."""
_CURRENT_LOCK = threading.Lock()


def _connect(path: Path, *, read_only: bool) -> duckdb.DuckDBPyConnection:
    # Another process may hold the catalog for a moment (a load, a dashboard read).
    deadline = time.monotonic() + BUSY_SECONDS
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException:
            if time.monotonic() > deadline:
                raise InputError(f"the store catalog {path} is busy (another load is "
                                 "running?); try again in a minute") from None
            time.sleep(0.2)
