"""The catalog database of a store: the one way in, for reading and for writing.

By default the catalog is a SQLite file in the store directory (``catalog.sqlite``, in WAL
mode: readers never wait for a writer, and a writer waits for another for at most
``BUSY_SECONDS``). With ``ELPAC_CATALOG_URL=postgresql://…`` it is a PostgreSQL database
instead, for several dashboard processes or machines over one shared store. Both are reached
through SQLAlchemy Core (``data.catalog.schema`` describes every table once).

Every module that keeps something in the catalog reads with ``catalog.read()`` and writes with
``catalog.write()``: a write is one transaction (on SQLite ``BEGIN IMMEDIATE``, so two writers
never deadlock upgrading their locks), committed when its block ends and rolled back if the
block raises, so a change is kept whole or not at all. A catalog that stays busy longer than
``BUSY_SECONDS`` raises ``CatalogBusy`` with a sentence, never a driver's traceback.

A store made before the catalog moved to SQL has ``catalog.duckdb``: the first open copies it
over (``data.catalog.legacy``) and keeps the old file as a backup; ``copy_catalog`` moves a
catalog from one database to another (SQLite to PostgreSQL).
"""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
from sqlalchemy import create_engine, event, func, inspect, select
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.pool import NullPool

from data.catalog.legacy import LEGACY_FILE_NAME, TableRows, migrate_legacy, write_rows
from data.catalog.schema import METADATA, store_meta
from data.files import private_files
from data.problems import InputError

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence

    from sqlalchemy import Connection, Engine, Table
    from sqlalchemy.sql import Executable

ENV_URL = "ELPAC_CATALOG_URL"
"""A PostgreSQL URL puts the catalog there instead of in the store directory."""
FILE_NAME = "catalog.sqlite"
BUSY_SECONDS = 30
"""How long a write waits for another writer before ``CatalogBusy``."""


class CatalogBusy(InputError):
    """The catalog stayed busy (another writer) for longer than ``BUSY_SECONDS``."""


class Catalog:
    """The catalog of the store in ``directory`` (SQLite there, or ``url``'s database)."""

    def __init__(self, directory: Path, url: str | None = None) -> None:
        private_files()  # catalog.sqlite, its -wal and -shm: password and session hashes
        self.directory = Path(directory)
        self.path = self.directory / FILE_NAME
        self.legacy_path = self.directory / LEGACY_FILE_NAME  # copied over on first use
        given = url or os.environ.get(ENV_URL) or ""
        self.url = _driver_url(given) if given else f"sqlite:///{self.path}"
        self.is_sqlite = self.url.startswith("sqlite")

    def __repr__(self) -> str:
        return f"Catalog({self.directory!s}, {_safe_url(self.url)!r})"

    # -- the way in ------------------------------------------------------------------------
    def exists(self) -> bool:
        """Whether the catalog has been made (by a first load or write)."""
        if self.legacy_path.exists():  # made before the catalog moved: copied on first use
            return True
        if self.is_sqlite:
            return self.path.exists()
        if self.url in _READY:
            return True
        try:
            return inspect(self.engine()).has_table("store_meta")
        except DBAPIError as exc:
            raise _busy_or(exc, self) from exc

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection to read with; ``InputError`` if there is no store here."""
        if not self.exists():
            raise InputError(f"no store at {self.directory}: run `elpac demo` or "
                             "`elpac ingest` first")
        self._prepare()
        try:
            with self.engine().connect() as conn:
                yield conn
        except OperationalError as exc:
            raise _busy_or(exc, self) from exc

    @contextlib.contextmanager
    def write(self) -> Iterator[Connection]:
        """One transaction: all of the block's changes, or none of them."""
        if self.is_sqlite:
            self.directory.mkdir(parents=True, exist_ok=True)
        self._prepare()
        try:
            with self.engine().execution_options(elpac_write=True).begin() as conn:
                yield conn
        except OperationalError as exc:
            raise _busy_or(exc, self) from exc

    def engine(self) -> Engine:
        """The SQLAlchemy engine (one per catalog and process)."""
        with _LOCK:
            engine = _ENGINES.get(self.url)
            if engine is None:
                engine = _ENGINES[self.url] = _make_engine(self.url)
            return engine

    def tables(self) -> set[str]:
        """The tables the catalog has (empty when there is none)."""
        if not self.exists():
            return set()
        self._prepare()
        return set(inspect(self.engine()).get_table_names())

    def forget(self) -> None:
        """Forget this catalog's engine and readiness (its file was deleted)."""
        with _LOCK:
            _READY.discard(self.url)
            engine = _ENGINES.pop(self.url, None)
        if engine is not None:
            engine.dispose()

    def _prepare(self) -> None:
        """Once per process: copy a legacy DuckDB catalog over, create missing tables."""
        if self.url in _READY:
            return
        with _LOCK:
            if self.url in _READY:
                return
            migrate_legacy(self.engine(), self.directory)
            try:
                METADATA.create_all(self.engine(), checkfirst=True)
            except OperationalError as exc:
                if not self.is_sqlite or "readonly" not in str(exc).lower():
                    raise _busy_or(exc, self) from exc
                return  # a read-only store: read what is there, try again next time
            _READY.add(self.url)


# -- helpers for the modules that keep things in the catalog -------------------------------

def frame(conn: Connection, statement: Executable, schema: Mapping[str, Any]) -> pl.DataFrame:
    """The rows of a query as a frame with ``schema`` (columns in the query's order)."""
    rows = [tuple(row) for row in conn.execute(statement)]
    return pl.DataFrame(rows, schema=dict(schema), orient="row")


def insert_ignore(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> int:
    """Insert rows, skipping those whose primary key is already there; how many went in."""
    if not rows:
        return 0
    statement = _dialect_insert(conn, table).on_conflict_do_nothing()
    return sum(conn.execute(statement, [dict(r)]).rowcount for r in rows)


def upsert(conn: Connection, table: Table, row: Mapping[str, Any]) -> None:
    """Insert a row, or replace the non-key columns of the row with its primary key."""
    keys = [c.name for c in table.primary_key.columns]
    statement = _dialect_insert(conn, table).values(dict(row))
    changed = {k: v for k, v in row.items() if k not in keys}
    conn.execute(statement.on_conflict_do_update(index_elements=keys, set_=changed)
                 if changed else statement.on_conflict_do_nothing())


def _dialect_insert(conn: Connection, table: Table) -> Any:
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


# -- moving a catalog to another database ---------------------------------------------------

def copy_catalog(source: Catalog, target: Catalog) -> dict[str, int]:
    """Copy every row of ``source`` into an empty ``target``; rows per table.

    ``InputError`` if the target already holds a store (loads or accounts): copying into it
    would mix two stores.
    """
    with target.write() as conn:
        for table in METADATA.sorted_tables:
            if table.name != "store_meta" and conn.execute(
                    select(func.count()).select_from(table)).scalar_one():
                raise InputError(f"the target catalog already holds {table.name}: copy "
                                 "only into an empty catalog")
        rows = read_catalog(source)
        conn.execute(store_meta.delete())
        write_rows(conn, rows)
    return {name: len(values) for name, (_, values) in rows.items()}


def read_catalog(catalog: Catalog) -> TableRows:
    """Every row of every table of a SQL catalog."""
    out: TableRows = {}
    with catalog.read() as conn:
        present = set(catalog.tables())
        for table in METADATA.sorted_tables:
            if table.name in present:
                result = conn.execute(select(table).order_by(*table.primary_key.columns))
                out[table.name] = (list(result.keys()), [tuple(r) for r in result])
    return out



# -- engines -------------------------------------------------------------------------------

_ENGINES: dict[str, Engine] = {}
_READY: set[str] = set()
"""Catalogs this process has migrated and completed with every table."""
_LOCK = threading.RLock()


def _make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        # One connection per use: cheap for SQLite, never shared across threads or a fork.
        engine = create_engine(url, poolclass=NullPool,
                               connect_args={"timeout": BUSY_SECONDS, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    # lock_timeout: a write waiting on another's row lock gives up after BUSY_SECONDS.
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=20,
                         connect_args={"options": f"-c lock_timeout={BUSY_SECONDS * 1000}"})


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Python's sqlite3 would open transactions itself; SQLAlchemy's "begin" event does it.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in ("journal_mode=WAL", f"busy_timeout={BUSY_SECONDS * 1000}",
                   "foreign_keys=ON", "synchronous=NORMAL"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    # IMMEDIATE takes the write lock at the start: a deferred transaction that reads, then
    # writes, fails at once with "database is locked" when another writer got in between.
    write = conn.get_execution_options().get("elpac_write", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def _driver_url(url: str) -> str:
    """``postgresql://`` with the psycopg 3 driver (SQLAlchemy's default is psycopg2)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _safe_url(url: str) -> str:
    """The URL without its password, for messages."""
    head, at, tail = url.rpartition("@")
    if not at:
        return url
    scheme, _, credentials = head.partition("://")
    return f"{scheme}://{credentials.partition(':')[0]}@{tail}"


def _busy_or(exc: DBAPIError, catalog: Catalog) -> InputError:
    text = str(exc.orig or exc).lower()
    if "locked" in text or "busy" in text or "lock timeout" in text:
        return CatalogBusy(f"the store's catalog ({_safe_url(catalog.url)}) stayed busy for "
                           f"{BUSY_SECONDS} s (another load or change is running?); try again "
                           "in a minute")
    return InputError(f"the store's catalog ({_safe_url(catalog.url)}) could not be used: "
                      f"{str(exc.orig or exc).strip().splitlines()[0]}")
