"""An old store's DuckDB catalog, copied into today's catalog on first open (issue 11).

Everything goes in one transaction on the new side: a copy that fails half way leaves the new
catalog without any of it, and the old one untouched. A legacy ``catalog.duckdb`` is renamed
``catalog.duckdb.bak`` only after the copy has committed; until then it stays the store's
catalog, so an interrupted migration simply runs again at the next open.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from data.catalog.schema import METADATA, store_meta
from data.files import writer_lock
from data.problems import InputError

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from sqlalchemy import Connection, Engine

LEGACY_FILE_NAME = "catalog.duckdb"
"""The catalog of stores made before the catalog moved to SQL."""
BACKUP_SUFFIX = ".bak"
MIGRATED_KEY = "catalog_migrated_from"
"""``store_meta`` key saying where the catalog was copied from, and when."""
TableRows = dict[str, tuple[list[str], list[tuple[Any, ...]]]]
"""Table name -> (column names, rows)."""


def migrate_legacy(engine: Engine, directory: Path) -> bool:
    """Copy ``directory``'s ``catalog.duckdb`` into ``engine``'s database if it is still there.

    Says whether it was there. Runs under the store's writer lock, so two processes opening an
    old store at once copy it once. A catalog that already holds a committed copy (a crash
    after the commit, before the rename) is not copied again.
    """
    legacy = directory / LEGACY_FILE_NAME
    if not legacy.exists():
        return False
    with writer_lock(directory):
        if not legacy.exists():  # another process did it while we waited
            return False
        METADATA.create_all(engine, checkfirst=True)
        with engine.execution_options(elpac_write=True).begin() as conn:
            done = conn.execute(select(store_meta.c.value).where(
                store_meta.c.key == MIGRATED_KEY)).first()
            if done is None:
                write_rows(conn, read_duckdb(legacy))
                conn.execute(store_meta.insert().values(
                    key=MIGRATED_KEY, value=f"{legacy.name} on {datetime.now():%Y-%m-%d %H:%M}"))
        for suffix in ("", ".wal"):
            old = legacy.with_name(legacy.name + suffix)
            with contextlib.suppress(FileNotFoundError):
                old.replace(old.with_name(old.name + BACKUP_SUFFIX))
    return True


def read_duckdb(path: Any) -> TableRows:
    """Every row of the tables a legacy DuckDB catalog shares with today's schema."""
    import duckdb

    out: TableRows = {}
    with _duckdb(duckdb, str(path)) as con:
        present = {r[0] for r in con.sql("SHOW TABLES").fetchall()}
        for table in METADATA.sorted_tables:
            if table.name not in present:
                continue
            old = [r[0] for r in con.sql(f"DESCRIBE {table.name}").fetchall()]  # noqa: S608
            columns = [c.name for c in table.columns if c.name in old]
            # rowid: the order entries were added (audit, uploads had no id column before).
            rows = con.sql(f"SELECT {', '.join(columns)} FROM {table.name} "  # noqa: S608
                           "ORDER BY rowid").fetchall()
            out[table.name] = (columns, rows)
    return out


def write_rows(conn: Connection, rows: TableRows) -> None:
    """Insert copied rows, parents first; then let id sequences continue after them."""
    for table in METADATA.sorted_tables:
        if table.name not in rows:
            continue
        columns, values = rows[table.name]
        if values:
            conn.execute(table.insert(), [dict(zip(columns, v, strict=True)) for v in values])
    if conn.dialect.name == "postgresql":
        _continue_sequences(conn)


def _continue_sequences(conn: Connection) -> None:
    # Rows copied with their ids do not move PostgreSQL's sequences: the next insert would
    # reuse id 1. Set each to follow the largest id copied.
    for table in METADATA.sorted_tables:
        for column in table.primary_key.columns:
            if column.autoincrement is True:
                largest = select(func.max(column)).scalar_subquery()
                conn.execute(select(func.setval(
                    func.pg_get_serial_sequence(table.name, column.name),
                    func.coalesce(largest, 0) + 1, False)))


@contextlib.contextmanager
def _duckdb(duckdb: Any, path: str) -> Iterator[Any]:
    try:
        con = duckdb.connect(path, read_only=True)
    except duckdb.Error as exc:
        raise InputError(f"the old catalog {path} cannot be read to move it to SQLite: "
                         f"{exc}") from exc
    try:
        yield con
    finally:
        con.close()
