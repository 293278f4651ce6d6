"""Load checked files into a store, all or nothing: a new data version, then one commit.

A year's ``part-0.parquet`` is built from the current loads of that year: one row per student
and test, the newest file's (latest report date, then latest load). So when a newer file
replaces an older one, a student the newer file no longer lists still comes from any other
current load that lists them: nothing is lost.

Every row a file gave is kept once: in its year's ``part-0.parquet`` if it is the row shown,
else in the year's ``not_current.parquet`` (rows of replaced loads, and rows a newer file's
row of the same student stands in for). Together the two are the record of what each file of
the year said, so supersession and undo read them (``load_rows``). Until schema 10 every
load's rows were also kept in ``loads/``, a second copy of the records (issue 14).

Every load writes a complete new data version beside the current one (unchanged years are
hard links, so this is cheap), then makes it current in one catalog transaction. A crash, a kill
or an error before that commit leaves the store as it was: the catalog still names the old
version, and the next load deletes what the failed one left behind. Readers only ever see a
committed version. A full disk or any other error of the file system is one sentence
(``data.results.write_errors``), after the same clean-up.

Which loads a new file replaces, and when it may not, is ``data.results.supersession``'s;
``data.results.undo`` writes a version without a load the same way.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

import polars as pl
from sqlalchemy import func, select

from data.catalog.db import upsert
from data.catalog.schema import load_leas, loads, store_meta
from data.files import fsync, lock_file, writer_lock
from data.problems import InputError
from data.results.orgs import ORG_SOURCE_COLUMNS, build_orgs
from data.results.ssr_release import SSR_SOURCE_COLUMNS, build_ssr
from data.results.store import (
    NOT_CURRENT,
    SCHEMA_VERSION,
    SORT_KEY,
    YEAR_FILES,
    Store,
    load_history,
    meta_int,
)
from data.results.summary import RECORD_COLUMNS, build_summary
from data.results.summary_file import write_summary
from data.results.supersession import (
    REPLACEMENT_SCHEMA,
    refuse_removals,
    supersessions,
    with_removed,
)
from data.results.write_errors import writing
from data.toms.normalise import STORE_SCHEMA

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence
    from pathlib import Path

    import duckdb
    from sqlalchemy import Connection

Pair = tuple[int, str, str]
"""(load, LEA, school year): one current pair of a data version."""
YEAR_COLUMNS = [c for c in STORE_SCHEMA if c != "school_year"]
"""Columns of a year's files: the school year is their directory's (hive partitioning)."""
ROW_GROUP_SIZE = 131_072
"""Rows per Parquet row group: measured on 9.5 M rows (../shared/TOOLCHAIN.md). A multiple of
2,048: DuckDB (``build_year``) cuts row groups at its vectors' size."""


@dataclass(frozen=True)
class LeaLoad:
    """One (file, LEA) pair about to be loaded."""

    lea_code: str
    n_records: int


@dataclass
class PendingLoad:
    """A validated file ready to be loaded."""

    file_name: str
    sha256: str
    kind: str
    school_year: str
    layout_year: str
    report_created_date: date | None
    n_rejected: int
    leas: list[LeaLoad]
    rows: pl.LazyFrame
    """Store rows (on disk until loaded: ``data.toms.checked_file``); the load fills load_id."""
    n_rows: int
    extra_names: list[str]


class AlreadyLoaded(InputError):
    """Files another load committed while this one waited for the lock: sha256 -> load id."""

    def __init__(self, found: dict[str, int]) -> None:
        super().__init__("already loaded as load " + ", ".join(map(str, found.values())))
        self.found = found


@dataclass(frozen=True)
class Loaded:
    """What a load did.

    The new loads (in the order of the files), what they replaced
    (``data.results.supersession.REPLACEMENT_SCHEMA``) and the data version it made.
    """

    ids: list[int]
    replacements: pl.DataFrame
    version: int


def apply(store: Store, pending: list[PendingLoad], *, loaded_by: str | None = None,
          replace: bool = False, fail_after: str | None = None) -> list[int]:
    """Load validated files atomically; return their load ids (see :func:`load`)."""
    return load(store, pending, loaded_by=loaded_by, replace=replace,
                fail_after=fail_after).ids


def load(store: Store, pending: list[PendingLoad], *, loaded_by: str | None = None,
         replace: bool = False, fail_after: str | None = None) -> Loaded:
    """Load validated files atomically, all or nothing.

    Everything that depends on what is loaded is decided under the store's writer lock: a file
    already current (another load of it finished while this one waited) raises
    ``AlreadyLoaded``; a replacement the rules refuse raises ``ReplacementRefused``, one that
    removes students too unless ``replace``. ``fail_after`` names a step after which to raise,
    so tests can prove atomicity.
    """
    made = (not store.path.exists(), not lock_file(store.path).exists())
    with (writing(store, "nothing was loaded"), writer_lock(store.path),
          _undo_first_load(store, *made)):
        store.path.mkdir(parents=True, exist_ok=True)
        store.check_schema()
        collect_garbage(store)
        with store.catalog.write() as con:  # write: a first load makes the catalog
            current = meta_int(con, "data_version")
            next_id = con.execute(select(func.coalesce(func.max(loads.c.load_id), 0) + 1)
                                  ).scalar_one()
            active = load_history(con).filter(pl.col("is_current"))
        loaded = dict(zip(active["sha256"], active["load_id"], strict=True))
        again = {p.sha256: loaded[p.sha256] for p in pending if p.sha256 in loaded}
        if again:
            raise AlreadyLoaded(again)
        ids = list(range(next_id, next_id + len(pending)))
        replaced = plan(store, pending, ids, active, current, replace=replace)
        gone = set(replaced.select("load_id", "lea_code").iter_rows())
        keep = [(r["load_id"], r["lea_code"], r["school_year"]) for r in active.iter_rows(
            named=True) if (r["load_id"], r["lea_code"]) not in gone]
        keep += [(load_id, lea.lea_code, p.school_year)
                 for p, load_id in zip(pending, ids, strict=True) for lea in p.leas]

        def record(con: Connection, version: int) -> None:
            record_load(con, pending, ids, replaced, version, loaded_by)

        version = publish(store, current, keep, {p.school_year for p in pending}, record,
                          new_loads=list(zip(pending, ids, strict=True)),
                          fail_after=fail_after)
        collect_garbage(store)
        return Loaded(ids, replaced, version)


def preview(store: Store, pending: list[PendingLoad], *,
            replace: bool = False) -> tuple[list[int], pl.DataFrame]:
    """The ids loading ``pending`` now would give, and what it would replace (:func:`plan`).

    Without the lock: a check shows what it found, and the load decides again under the lock.
    """
    if not store.exists():
        return list(range(1, len(pending) + 1)), pl.DataFrame(schema=REPLACEMENT_SCHEMA)
    with store.reading() as version:  # the replaced loads' rows are read from its files
        with store.catalog.read() as con:
            next_id = con.execute(select(func.coalesce(func.max(loads.c.load_id), 0) + 1)
                                  ).scalar_one()
            active = load_history(con, version).filter(pl.col("is_current"))
        ids = list(range(next_id, next_id + len(pending)))
        return ids, plan(store, pending, ids, active, version, replace=replace)


def plan(store: Store, pending: list[PendingLoad], ids: list[int], active: pl.DataFrame,
         version: int, *, replace: bool) -> pl.DataFrame:
    """The pairs the new loads replace, with the students each removes.

    ``active`` lists the current pairs of data version ``version``, whose files hold the
    replaced loads' rows. ``ReplacementRefused`` by the rules of ``data.results.supersession``
    (a removal of students unless ``replace``).
    """
    frames = {load_id: p.rows for p, load_id in zip(pending, ids, strict=True)}
    year_of = dict(active.select("load_id", "school_year").iter_rows())

    def rows_of(load_id: int) -> pl.LazyFrame:
        if load_id in frames:
            return frames[load_id]
        return load_rows(store, version, year_of[load_id], load_id)

    replaced = with_removed(supersessions(pending, ids, active), rows_of)
    if not replace:
        refuse_removals(replaced, pending, ids)
    return replaced


def publish(store: Store, current: int, keep: list[Pair], years: set[str],
            record: Callable[[Connection, int], None], *,
            new_loads: Sequence[tuple[PendingLoad, int]] = (), forget: Sequence[int] = (),
            fail_after: str | None = None) -> int:
    """Write a new data version of the ``keep`` pairs and make it current; return it.

    Call under the writer lock. Rebuilds ``years`` from the current version's files and
    ``new_loads``' rows (the other years are hard links of the current version's files),
    renames the version into place, then commits it with ``record`` in one catalog
    transaction. The rows of the ``forget`` loads (an undone load: nothing can make it
    current again) are not kept. Anything failing on the way removes what was written, so
    the store is as it was.
    """
    version = max([current, *store.version_numbers()]) + 1
    stage = store.staging_path / f"v{version:06d}"
    final = store.version_path(version)
    new_rows = store.staging_path / f"rows-v{version:06d}"
    try:
        files = _write_new_rows(new_rows, new_loads)
        _write_version(store, stage, current, keep, years, files, forget)
        shutil.rmtree(new_rows, ignore_errors=True)
        _maybe_fail(fail_after, "write")
        final.parent.mkdir(parents=True, exist_ok=True)
        stage.replace(final)
        _maybe_fail(fail_after, "rename")
        with store.catalog.write() as con:
            _check_still(con, current)
            record(con, version)
            upsert(con, store_meta, {"key": "data_version", "value": str(version)})
            upsert(con, store_meta, {"key": "schema_version", "value": str(SCHEMA_VERSION)})
            _maybe_fail(fail_after, "catalog")
    except BaseException:
        for directory in (stage, final, new_rows):
            shutil.rmtree(directory, ignore_errors=True)
        with contextlib.suppress(OSError):
            store.staging_path.rmdir()  # only when this load made it: it is empty then
        raise
    return version


def load_rows(store: Store, version: int, school_year: str, load_id: int) -> pl.LazyFrame:
    """A stored load's ``source_lea_code`` and ``ssid`` of every row it gave, at ``version``.

    Read within the version's pin (or under the writer lock): from its year's current rows
    and the rows that are not current.
    """
    part = store.year_files(version).get(school_year)
    if part is None:  # every load of the year was undone: none of their rows is kept
        return pl.LazyFrame(schema={"source_lea_code": pl.String, "ssid": pl.String})
    columns = ["load_id", "source_lea_code", "ssid"]
    return (pl.concat([pl.scan_parquet(f).select(columns)
                       for f in (part, part.with_name(NOT_CURRENT))])
            .filter(pl.col("load_id") == load_id).drop("load_id"))


def _write_new_rows(directory: Path, new_loads: Sequence[tuple[PendingLoad, int]]
                    ) -> dict[str, list[Path]]:
    """Each new load's rows, with its load id, for ``build_year`` to read: year -> files.

    Working files (fast compression, no sync): what is kept is the version ``build_year``
    writes from them.
    """
    files: dict[str, list[Path]] = {}
    for p, load_id in new_loads:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"load-{load_id:06d}.parquet"
        rows = p.rows.with_columns(pl.lit(load_id, dtype=pl.Int64).alias("load_id"))
        rows.select(YEAR_COLUMNS).sink_parquet(path, compression="lz4", statistics=False)
        files.setdefault(p.school_year, []).append(path)
    return files


def _write_version(store: Store, stage: Path, current: int, keep: list[Pair],
                   changed: set[str], new_rows: dict[str, list[Path]],
                   forget: Sequence[int]) -> None:
    stage.mkdir(parents=True)
    old_files = store.year_files(current) if current else {}
    for year in sorted(set(old_files) | changed):
        target = stage / f"school_year={year}" / "part-0.parquet"
        target.parent.mkdir()
        if year not in changed:
            for name in YEAR_FILES:
                os.link(old_files[year].with_name(name), target.with_name(name))
            continue
        pairs = pl.DataFrame([(lid, lea) for lid, lea, y in keep if y == year],
                             schema={"load_id": pl.Int64, "lea_code": pl.String},
                             orient="row")
        inputs = [*([old_files[year], old_files[year].with_name(NOT_CURRENT)]
                    if year in old_files else []), *new_rows.get(year, [])]
        if pairs.height:
            build_year(inputs, pairs, target, forget=forget)
            build_derived(target)
        else:
            _check_nothing_kept(inputs, forget, year)
            target.parent.rmdir()  # every load of the year was undone


def record_load(con: Connection, pending: list[PendingLoad], ids: list[int],
                superseded: pl.DataFrame, version: int, loaded_by: str | None) -> None:
    """Write the loads, their LEAs and what they replace (``publish`` commits it)."""
    now = datetime.now().replace(microsecond=0)
    for p, load_id in zip(pending, ids, strict=True):
        con.execute(loads.insert().values(
            load_id=load_id, file_name=p.file_name, sha256=p.sha256, kind=p.kind,
            school_year=p.school_year, layout_year=p.layout_year,
            report_created_date=p.report_created_date,
            n_records=sum(lea.n_records for lea in p.leas), n_rejected=p.n_rejected,
            loaded_at=now, loaded_by=loaded_by, extra_fields=json.dumps(p.extra_names),
            data_version=version))
        con.execute(load_leas.insert(), [
            {"load_id": load_id, "lea_code": lea.lea_code, "n_records": lea.n_records,
             "superseded_by": None} for lea in p.leas])
    for row in superseded.iter_rows(named=True):
        con.execute(load_leas.update()
                    .where(load_leas.c.load_id == row["load_id"],
                           load_leas.c.lea_code == row["lea_code"])
                    .values(superseded_by=row["by"]))


def _check_still(con: Connection, version: int) -> None:
    """Refuse to commit over a version another process committed since this load began.

    On one machine the writer lock already keeps loads apart; with a shared PostgreSQL
    catalog, two machines' loads could both build the next version. The row lock (ignored by
    SQLite, whose write transaction already excludes other writers) makes the check and the
    commit one step.
    """
    found = con.execute(select(store_meta.c.value).where(store_meta.c.key == "data_version")
                        .with_for_update()).scalar()
    if int(found or 0) != version:
        raise InputError("another load was committed while this one was being written; "
                         "nothing was loaded: run it again")


def collect_garbage(store: Store) -> None:
    """Delete what failed loads left, and every old version no reader has pinned.

    Call under the writer lock. A reader pins the version it reads (``Store.pin``: a
    snapshot for its lifetime, a short read for its duration), in any process; a version
    is removed at the first clean-up after the last pin on it is gone (issue 14: keeping
    the previous version "one load longer" both kept a whole copy of every rebuilt year and
    could remove a version a dashboard was still reading).
    """
    from data.files import remove_unpinned

    shutil.rmtree(store.staging_path, ignore_errors=True)
    if not store.exists():
        shutil.rmtree(store.loads_path, ignore_errors=True)
        return
    with store.catalog.read() as con:
        schema = meta_int(con, "schema_version")
    if schema == SCHEMA_VERSION:  # an upgrade moved these rows into the years' files
        shutil.rmtree(store.loads_path, ignore_errors=True)
    current = store.version()
    for trash in store.data_path.glob(".gone-v*"):  # a clean-up stopped half way
        shutil.rmtree(trash, ignore_errors=True)
    for n in store.version_numbers():
        path = store.version_path(n)
        if n > current:  # written by a load that never committed: no one reads it
            shutil.rmtree(path, ignore_errors=True)
        elif n < current:
            remove_unpinned(path, path.with_name(f".gone-{path.name}"))


@contextlib.contextmanager
def _undo_first_load(store: Store, made_dir: bool, made_lock: bool) -> Iterator[None]:
    """If the first load into a store fails, remove what it made: the store was never there.

    Decided under the lock: with no catalog yet, nothing was ever committed here, so the
    catalog, ``data/``, ``loads/`` and ``.staging/`` are this load's; the lock file and the
    directory go too when this load made them.
    """
    first = not store.exists()
    try:
        yield
    except BaseException:
        if first:
            store.catalog.forget()
            for suffix in ("", "-wal", "-shm", "-journal"):
                path = store.catalog.path
                path.with_name(path.name + suffix).unlink(missing_ok=True)
            for directory in (store.data_path, store.loads_path, store.staging_path):
                shutil.rmtree(directory, ignore_errors=True)
            if made_lock:
                lock_file(store.path).unlink(missing_ok=True)
            if made_dir:
                with contextlib.suppress(OSError):
                    store.path.rmdir()
        raise


def _maybe_fail(fail_after: str | None, step: str) -> None:
    if fail_after == step:
        raise RuntimeError(f"injected failure after step {step!r}")


def build_derived(year_file: Path) -> None:
    """Write the year's summary and organisation list beside its records."""
    # Each read takes only its own columns, and the summary's are let go before the others
    # are read (issue 14: a statewide year's summary peaked at 6.1 GB).
    summary = build_summary(pl.read_parquet(year_file, columns=list(RECORD_COLUMNS)))
    written = write_summary(summary, year_file.parent)
    del summary
    records = pl.read_parquet(year_file, columns=list(
        dict.fromkeys([*ORG_SOURCE_COLUMNS, *SSR_SOURCE_COLUMNS])))
    orgs = year_file.with_name("orgs.parquet")
    build_orgs(records).write_parquet(orgs, compression="zstd")
    ssr = year_file.with_name("ssr.parquet")
    build_ssr(records).write_parquet(ssr, compression="zstd")
    for path in (*written, orgs, ssr):
        fsync(path)


def build_year(inputs: list[Path], pairs: pl.DataFrame, target: Path, *,
               forget: Sequence[int] = ()) -> None:
    """Write a year's files from its loads' rows: the current rows, and the others beside them.

    ``inputs`` hold every row of the year's loads once, each with its ``load_id`` (the
    current version's two files of the year, and new loads' rows). ``pairs`` lists the
    current (load, LEA) pairs: a load may be current for some of its LEAs and replaced for
    others. ``target`` gets one row per student and test from the current pairs, the newest
    (latest report date, then latest load); ``NOT_CURRENT`` beside it every other row, but
    none of the ``forget`` loads.

    DuckDB streams the rows and spills to disk past ``YEAR_MEMORY`` (issue 14: read whole in
    Polars, a statewide year of 1.2 M records needed several GB).
    """
    columns = ", ".join(YEAR_COLUMNS)
    key = ", ".join(ROW_KEY)
    kept = " AND ".join(["TRUE", *(f"load_id <> {int(i)}" for i in forget)])
    options = records_copy_options()
    with year_duckdb(target.parent) as con:
        con.register("current_pairs", pairs.rename({"lea_code": "source_lea_code"}).to_arrow())
        # Every input has ``YEAR_COLUMNS`` in order. Read as one list (not by name), DuckDB
        # takes no column as never null from the files' statistics, so the files written are
        # the same bytes whichever files their rows came from (an undo gives back the year
        # as it was).
        con.read_parquet([str(f) for f in inputs]).create_view("year_loads")
        # Text built from this module's constants, load ids and the store's own paths.
        con.execute(f"""
            COPY (
                SELECT {columns} FROM year_loads AS r
                SEMI JOIN current_pairs USING (load_id, source_lea_code)
                QUALIFY row_number() OVER (
                    PARTITION BY record_type, ssid
                    ORDER BY report_created_date DESC NULLS LAST, load_id DESC) = 1
                ORDER BY {", ".join(SORT_KEY)}
            ) TO '{quoted(target)}' ({options})""")
        con.execute(f"CREATE VIEW shown AS SELECT {key} "
                    f"FROM read_parquet('{quoted(target)}')")
        con.execute(f"CREATE VIEW kept AS SELECT * FROM year_loads WHERE {kept}")
        # Most loads keep no other row: count them on the keys before reading every column.
        others = con.execute(f"SELECT count(*) FROM (SELECT {key} FROM kept) "
                             f"ANTI JOIN shown USING ({key})").fetchone()
        which = (f"FROM kept ANTI JOIN shown USING ({key}) "
                 f"ORDER BY load_id, {', '.join(SORT_KEY)}") if others and others[0] else (
            "FROM year_loads LIMIT 0")
        con.execute(f"COPY (SELECT {columns} {which}) "
                    f"TO '{quoted(target.with_name(NOT_CURRENT))}' ({options})")
    fsync(target)
    fsync(target.with_name(NOT_CURRENT))


@contextlib.contextmanager
def year_duckdb(directory: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A DuckDB connection for writing a year's files in ``directory``.

    It spills to ``directory/.spill`` past ``YEAR_MEMORY``, removed afterwards.
    """
    import duckdb

    spill = directory / ".spill"
    con = duckdb.connect(config={"memory_limit": YEAR_MEMORY, "threads": 2,
                                 "temp_directory": str(spill),
                                 "preserve_insertion_order": False})
    try:
        con.execute("SET enable_progress_bar = false")  # a session option, not a global one
        yield con
    finally:
        con.close()
        shutil.rmtree(spill, ignore_errors=True)


def records_copy_options() -> str:
    """How DuckDB writes a year's records and the rows beside them.

    Read when called: tests set a smaller ``ROW_GROUP_SIZE``.
    """
    return (f"FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL {RECORDS_ZSTD_LEVEL}, "
            f"ROW_GROUP_SIZE {ROW_GROUP_SIZE}")


def quoted(path: Path) -> str:
    """``path`` inside a SQL string literal (a store path may hold a quote)."""
    return str(path).replace("'", "''")


def _check_nothing_kept(inputs: list[Path], forget: Sequence[int], year: str) -> None:
    """Refuse to drop a year whose files still hold rows of a load that is not forgotten."""
    if not inputs:
        return
    left = (pl.concat([pl.scan_parquet(f).select("load_id") for f in inputs])
            .filter(~pl.col("load_id").is_in(list(forget))).select(pl.len()).collect().item())
    if left:
        raise RuntimeError(f"{year}: no load would be current, yet {left:,} row(s) of loads "
                           "still kept would be lost; nothing was changed")


RECORDS_ZSTD_LEVEL = 6
"""zstd level of a year's records. Measured on a statewide year (1.1 M records, 2024-25):
112.4 MB at DuckDB's default level (3), 102.7 MB at 6, 98.7 MB at 9; writing took 4.8, 8.0 and
10.7 s. Reading is no slower: the whole file in Polars 0.61-0.65 s at 3, 0.56-0.66 s at 6."""
ROW_KEY = ("load_id", "record_type", "ssid")
"""One row of one load: a file lists a student once per test (the duplicate rule)."""
YEAR_MEMORY = "2GB"
"""DuckDB's memory for building a year's file; past it, it spills to the store's disk. Measured
on a statewide year (1.2 M records, 2020-21): 93 s at 1 GB (spilling), 43 s at 3 GB."""
