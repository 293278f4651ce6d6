"""Imported research files: kept in the store directory, recorded in the catalog.

Layout::

    published/file-000003.parquet    the checked rows of one imported file (never changed)

The catalog's ``published_files`` table says which file is the current published version of
each school year and test; older versions stay, in the history. An import is all or nothing:
a file with any bad row is refused and changes nothing; the Parquet file is written to a
temporary name, flushed and renamed under the store's writer lock, then made current by one
catalog transaction (which removes the file again if it fails). These are public aggregates
(counts and percents of groups of 11 or more), never student rows.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import polars as pl
from sqlalchemy import func, select, update

from data.catalog.db import frame
from data.catalog.schema import published_files
from data.files import fsync, writer_lock
from data.problems import InputError, format_row_problem
from data.published.research_file import file_version, parse_research_file

if TYPE_CHECKING:
    from pathlib import Path

    from data.results.store import Store

DIRECTORY = "published"
SHOWN_PROBLEMS = 20
HISTORY_SCHEMA = {
    "file_id": pl.Int64, "school_year": pl.String, "test": pl.String, "file_name": pl.String,
    "sha256": pl.String, "version_label": pl.String, "entities_file": pl.String,
    "n_rows": pl.Int64, "imported_at": pl.Datetime("us"), "imported_by": pl.String,
    "is_current": pl.Boolean}
"""``published_history``: one row per imported file, newest first."""


class ResearchFileRefused(InputError):
    """A research file with bad rows: nothing was loaded; ``problems`` lists every one."""

    def __init__(self, name: str, problems: pl.DataFrame) -> None:
        self.problems = problems
        n_rows = problems.get_column("row").n_unique()
        shown = "\n".join("  " + format_row_problem(r)
                          for r in problems.head(SHOWN_PROBLEMS).iter_rows(named=True))
        more = problems.height - SHOWN_PROBLEMS
        super().__init__(f"{name}: {problems.height:,} problem(s) in {n_rows:,} row(s); "
                         f"nothing was imported\n{shown}"
                         + (f"\n  ... and {more:,} more" if more > 0 else ""))


@dataclass(frozen=True)
class ImportResult:
    """What an import did: ``imported`` or ``already imported``, and the file it concerns."""

    status: str
    file_id: int
    school_year: str
    test: str
    file_name: str
    version_label: str
    n_rows: int


def published_path(store: Store, file_id: int) -> Path:
    """The Parquet file holding one imported file's rows."""
    return store.path / DIRECTORY / f"file-{file_id:06d}.parquet"


def import_research_file(store: Store, path: Path, *, year: str | None = None,
                         test: str | None = None, entities: Path | None = None,
                         imported_by: str) -> ImportResult:
    """Check a research file and make it the current published version of its year and test.

    The same file again (same SHA-256, year and test) is ``already imported`` and changes
    nothing. Raises ``ResearchFileRefused`` (every row problem) or ``InputError``.
    """
    sha256 = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
    parsed = parse_research_file(path, year=year, test=test, entities=entities)
    if parsed.problems.height:
        raise ResearchFileRefused(path.name, parsed.problems)
    if parsed.rows.height == 0:
        raise InputError(f"{path.name}: the file has a header but no rows; nothing imported")
    label = file_version(path.name)
    with writer_lock(store.path):
        with store.catalog.write() as con:
            same = con.execute(select(published_files.c.file_id).where(
                published_files.c.sha256 == sha256,
                published_files.c.school_year == parsed.school_year,
                published_files.c.test == parsed.test)).first()
            next_id = (con.execute(select(func.max(published_files.c.file_id))).scalar() or 0) + 1
        if same is not None:
            return ImportResult("already imported", same[0], parsed.school_year, parsed.test,
                                path.name, label, parsed.rows.height)
        target = published_path(store, next_id)
        _write_atomically(parsed.rows, target)
        try:
            with store.catalog.write() as con:
                con.execute(update(published_files).where(
                    published_files.c.school_year == parsed.school_year,
                    published_files.c.test == parsed.test).values(is_current=False))
                con.execute(published_files.insert().values(
                    file_id=next_id, school_year=parsed.school_year, test=parsed.test,
                    file_name=path.name, sha256=sha256, version_label=label,
                    entities_file=entities.name if entities else None,
                    n_rows=parsed.rows.height, imported_at=datetime.now(UTC).replace(tzinfo=None),
                    imported_by=imported_by, is_current=True))
        except BaseException:
            target.unlink(missing_ok=True)  # the catalog never named it: leave no trace
            raise
    return ImportResult("imported", next_id, parsed.school_year, parsed.test, path.name, label,
                        parsed.rows.height)


def _write_atomically(rows: pl.DataFrame, target: Path) -> None:
    """Temp file, flushed, renamed: a crash leaves the whole file or none of it."""
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = target.with_name(target.name + ".part")
    try:
        rows.write_parquet(tmp, compression="zstd")
        fsync(tmp)
        tmp.replace(target)
        with contextlib.suppress(OSError):  # the rename itself, where the system allows
            fd = os.open(target.parent, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise InputError(f"could not write {target.name} in {target.parent}: "
                         f"{exc.strerror or exc}") from None


def published_history(store: Store) -> pl.DataFrame:
    """Every imported file, newest first (``HISTORY_SCHEMA``); empty without a catalog."""
    if not store.exists():
        return pl.DataFrame(schema=HISTORY_SCHEMA)
    cols = [published_files.c[name] for name in HISTORY_SCHEMA]
    with store.catalog.read() as con:
        return frame(con, select(*cols).order_by(published_files.c.file_id.desc()),
                     HISTORY_SCHEMA)


def current_file(store: Store, year: str, test: str) -> dict[str, object] | None:
    """The catalog row of the current published file of a year and test, or ``None``."""
    history = published_history(store).filter(
        (pl.col("school_year") == year) & (pl.col("test") == test) & pl.col("is_current"))
    return history.row(0, named=True) if history.height else None


def read_current(store: Store, year: str, test: str) -> tuple[pl.DataFrame,
                                                              dict[str, object]] | None:
    """The rows of the current published file of a year and test and its catalog row."""
    meta = current_file(store, year, test)
    if meta is None:
        return None
    return pl.read_parquet(published_path(store, int(meta["file_id"]))), meta
