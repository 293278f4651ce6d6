"""The results store: Parquet files partitioned by school year plus a DuckDB catalog.

Layout of a store directory::

    catalog.duckdb                      load history, data version, (later) users and groups
    loads/load-000123.parquet           the rows of one load, as checked (never changed)
    data/v000007/school_year=2024-25/part-0.parquet
    .staging/                           a version being written; never read

``loads/`` is the record of what each file said. A year's ``part-0.parquet`` is built from the
current loads of that year: one row per student and test, the newest file's (latest report
date, then latest load). So when a newer file replaces an older one, a student the newer file
no longer lists still comes from any other current load that lists them: nothing is lost.

Every load writes a complete new data version beside the current one (unchanged years are
hard links, so this is cheap), then makes it current in one catalog transaction. A crash, a kill
or an error before that commit leaves the store as it was: the catalog still names the old
version, and the next load deletes what the failed one left behind. Readers only ever see a
committed version.

Each year's file is sorted by tested LEA and school with 128k-row row groups: measured on
9.5 M rows, unsorted data made single-LEA queries 5-6x slower and one file per LEA cost
0.1-1 s per query (../shared/TOOLCHAIN.md).

DuckDB cannot encrypt files here (its crypto needs an extension that cannot be installed):
protect the store directory with file permissions and the host's disk encryption.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import polars as pl

from data.catalog.accounts import DDL as ACCOUNTS_DDL
from data.catalog.audit import DDL as AUDIT_DDL
from data.catalog.portal_credentials import DDL as PORTAL_DDL
from data.catalog.rosters import DDL as ROSTERS_DDL
from data.catalog.ssr_deliveries import DDL as DISTRIBUTION_DDL
from data.catalog.ssr_languages import DDL as SSR_LANGUAGES_DDL
from data.problems import InputError
from data.results.orgs import ORG_SOURCE_COLUMNS, build_orgs
from data.results.ssr_release import SSR_SOURCE_COLUMNS, build_ssr
from data.results.summary import RECORD_COLUMNS, build_summary, write_summary
from data.toms.normalise import STORE_SCHEMA

if TYPE_CHECKING:
    from collections.abc import Iterator

ROW_GROUP_SIZE = 131_072
YEAR_FILES = ("part-0.parquet", "summary.arrow", "summary_index.parquet", "headline.arrow",
              "headline_index.parquet", "orgs.parquet", "ssr.parquet")
"""A year's records, its summary and the summary's index (``data.results.summary``), its
organisations (``data.results.orgs``) and its SSR release counts (``data.results.ssr_release``)."""
SORT_KEY = ("reporting_lea_code", "tested_school_code", "grade_assessed", "ssid", "record_type")
SCHEMA_VERSION = 8
"""Bumped when stored columns change; an older store must be rebuilt (see ``check_schema``)."""
DEFAULT_STORE = Path("data/store")

_CATALOG_DDL = [
    """CREATE TABLE IF NOT EXISTS loads (
        load_id INTEGER PRIMARY KEY,
        file_name VARCHAR NOT NULL,
        sha256 VARCHAR NOT NULL,
        kind VARCHAR NOT NULL,            -- enrolled | tested
        school_year VARCHAR NOT NULL,
        layout_year VARCHAR NOT NULL,
        report_created_date DATE,
        n_records INTEGER NOT NULL,
        n_rejected INTEGER NOT NULL,
        loaded_at TIMESTAMP NOT NULL,
        loaded_by VARCHAR,
        extra_fields VARCHAR NOT NULL,    -- JSON list: the fields packed in extra_fields
        data_version INTEGER NOT NULL     -- the data version this load committed
    )""",
    """CREATE TABLE IF NOT EXISTS load_leas (
        load_id INTEGER NOT NULL,
        lea_code VARCHAR NOT NULL,
        n_records INTEGER NOT NULL,
        superseded_by INTEGER,            -- the later load of the same LEA, year and kind
        PRIMARY KEY (load_id, lea_code)
    )""",
    """CREATE TABLE IF NOT EXISTS saved_reports (
        owner VARCHAR NOT NULL,           -- the user's e-mail, or "local"
        name VARCHAR NOT NULL,
        params VARCHAR NOT NULL,          -- ReportSpec.to_params() as JSON
        saved_at TIMESTAMP NOT NULL,
        PRIMARY KEY (owner, name)
    )""",
    """CREATE TABLE IF NOT EXISTS store_meta (
        key VARCHAR PRIMARY KEY,
        value VARCHAR NOT NULL
    )""",
]
_CATALOG_DDL += ACCOUNTS_DDL  # local accounts (data/catalog/accounts.py)
_CATALOG_DDL += AUDIT_DDL  # the audit log (data/catalog/audit.py)
_CATALOG_DDL += ROSTERS_DDL  # student groups made by LEA staff (data/catalog/rosters.py)
_CATALOG_DDL += SSR_LANGUAGES_DDL  # SSR language overrides (data/catalog/ssr_languages.py)
_CATALOG_DDL += DISTRIBUTION_DDL  # SSR deliveries to parents (data/catalog/ssr_deliveries.py)
_CATALOG_DDL += PORTAL_DDL  # parent-portal credentials (data/catalog/portal_credentials.py)


def store_path(path: str | Path | None = None) -> Path:
    """The store directory: the argument, else ``$ELPAC_STORE``, else ``data/store``."""
    if path is not None:
        return Path(path)
    env = os.environ.get("ELPAC_STORE")
    return Path(env) if env else DEFAULT_STORE


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
    frame: pl.DataFrame  # store rows; load_id is filled in by the store
    extra_names: list[str]


class Store:
    """A results store on disk. Cheap to create; opens DuckDB connections only when used."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = store_path(path)
        self.catalog_path = self.path / "catalog.duckdb"
        self.data_path = self.path / "data"
        self.staging_path = self.path / ".staging"
        self.loads_path = self.path / "loads"

    # -- reading ---------------------------------------------------------------------------
    def exists(self) -> bool:
        """Whether a catalog has been created here."""
        return self.catalog_path.exists()

    @contextlib.contextmanager
    def catalog(self, *, write: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A short-lived catalog connection (a long-lived one would lock out other processes)."""
        if not write and not self.exists():
            raise InputError(f"no store at {self.path}: run `elpac demo` or `elpac ingest` first")
        if not write and self.catalog_path not in _CATALOG_CURRENT:
            self._add_missing_tables()
        if write:
            self.path.mkdir(parents=True, exist_ok=True)
        con = _connect_with_retry(self.catalog_path, read_only=not write)
        try:
            if write:
                for ddl in _CATALOG_DDL:
                    con.sql(ddl)
            yield con
        finally:
            con.close()

    def _add_missing_tables(self) -> None:
        """Create the catalog tables a newer explorer added (accounts, groups, SSR tracking).

        A store made by an earlier version lacks them, and a read of one would fail. They are
        empty and additive (``CREATE TABLE IF NOT EXISTS``), so the first reader of a process
        adds them once. One attempt, no waiting: if another connection holds the catalog, or
        the store is read-only, the next read tries again.
        """
        with _CATALOG_LOCK:
            if self.catalog_path in _CATALOG_CURRENT:
                return
            try:
                con = duckdb.connect(str(self.catalog_path))
            except (duckdb.Error, OSError):
                return
            try:
                for ddl in _CATALOG_DDL:
                    con.sql(ddl)
            finally:
                con.close()
            _CATALOG_CURRENT.add(self.catalog_path)

    def check_schema(self) -> None:
        """Raise ``InputError`` if the store was written by an older version of the explorer."""
        if not self.exists():
            return
        with self.catalog() as con:
            found = _meta_int(con, "schema_version")
            has_data = _meta_int(con, "data_version") > 0
        if has_data and found != SCHEMA_VERSION:
            raise InputError(
                f"the store at {self.path} was written by an older version of the explorer "
                f"(store schema {found}, now {SCHEMA_VERSION}); build it again: for the demo, "
                f"delete the directory and run `make run`; for real data, load the files into "
                "a new store")

    def version(self) -> int:
        """The committed data version (0 for an empty store)."""
        if not self.exists():
            return 0
        with self.catalog() as con:
            return _meta_int(con, "data_version")

    def version_path(self, version: int | None = None) -> Path:
        """Directory of a data version."""
        v = self.version() if version is None else version
        return self.data_path / f"v{v:06d}"

    def year_files(self, version: int | None = None) -> dict[str, Path]:
        """Parquet file of each school year in a version."""
        root = self.version_path(version)
        out: dict[str, Path] = {}
        if root.exists():
            for part in sorted(root.glob("school_year=*/part-0.parquet")):
                out[part.parent.name.removeprefix("school_year=")] = part
        return out

    def summary_files(self, version: int | None = None) -> dict[str, Path]:
        """Summary file of each school year in a version (``data.results.summary``)."""
        return {y: p.with_name("summary.arrow") for y, p in self.year_files(version).items()}

    def org_files(self, version: int | None = None) -> dict[str, Path]:
        """Organisation list of each school year in a version (``data.results.orgs``)."""
        return {y: p.with_name("orgs.parquet") for y, p in self.year_files(version).items()}

    def ssr_files(self, version: int | None = None) -> dict[str, Path]:
        """SSR release counts of each school year in a version (``data.results.ssr_release``)."""
        return {y: p.with_name("ssr.parquet") for y, p in self.year_files(version).items()}

    def extra_names(self) -> dict[int, list[str]]:
        """For each load, the fields its rows pack in ``extra_fields``."""
        if not self.exists():
            return {}
        with self.catalog() as con:
            rows = con.sql("SELECT load_id, extra_fields FROM loads").fetchall()
        return {load_id: json.loads(names) for load_id, names in rows}

    def results(self, con: duckdb.DuckDBPyConnection, name: str = "results") -> None:
        """Create (or replace) a view ``name`` over the committed results in ``con``."""
        files = [str(p) for p in self.year_files().values()]
        if not files:
            con.register(name, pl.DataFrame(schema=STORE_SCHEMA).to_arrow())
            return
        rel = con.sql("SELECT * FROM read_parquet(?, hive_partitioning = true, "
                      "hive_types = {'school_year': 'VARCHAR'})", params=[files])
        rel.create_view(name, replace=True)

    def loads(self, version: int | None = None) -> pl.DataFrame:
        """Load history, newest first, one row per file and LEA.

        With ``version``, as it stood at that data version: later loads are left out and a
        supersession by a later load does not count.
        """
        if not self.exists():
            return pl.DataFrame()
        with self.catalog() as con:
            return con.sql("""
                SELECT l.load_id, l.file_name, l.kind, l.school_year, ll.lea_code,
                       ll.n_records, l.n_rejected, l.report_created_date, l.loaded_at,
                       (ll.superseded_by IS NULL OR s.data_version > coalesce(?, 2147483647))
                           AS is_current,
                       ll.superseded_by, l.sha256, l.data_version
                FROM loads AS l
                JOIN load_leas AS ll USING (load_id)
                LEFT JOIN loads AS s ON s.load_id = ll.superseded_by
                WHERE l.data_version <= coalesce(?, 2147483647)
                ORDER BY l.load_id DESC, ll.lea_code
            """, params=[version, version]).pl()

    # -- saved reports ---------------------------------------------------------------------
    def save_report(self, owner: str, name: str, params: str) -> None:
        """Save (or replace) a named report for a user; ``params`` is the report's JSON."""
        if not name.strip():
            raise InputError("give the report a name")
        with self._lock(), self.catalog(write=True) as con:
            con.sql("INSERT OR REPLACE INTO saved_reports VALUES (?, ?, ?, ?)",
                    params=[owner, name.strip(), params, datetime.now().replace(microsecond=0)])

    def saved_reports(self, owner: str) -> pl.DataFrame:
        """A user's saved reports, newest first: ``name``, ``params``, ``saved_at``."""
        empty = pl.DataFrame(schema={"name": pl.String, "params": pl.String,
                                     "saved_at": pl.Datetime("us")})
        if not self.exists():
            return empty
        with self.catalog() as con:
            tables = {r[0] for r in con.sql("SHOW TABLES").fetchall()}
            if "saved_reports" not in tables:  # a catalog from before saved reports
                return empty
            return con.sql("SELECT name, params, saved_at FROM saved_reports WHERE owner = ? "
                           "ORDER BY saved_at DESC, name", params=[owner]).pl()

    def delete_report(self, owner: str, name: str) -> None:
        """Delete one of a user's saved reports (nothing happens if it does not exist)."""
        with self._lock(), self.catalog(write=True) as con:
            con.sql("DELETE FROM saved_reports WHERE owner = ? AND name = ?",
                    params=[owner, name])

    # -- writing ---------------------------------------------------------------------------
    def apply(self, pending: list[PendingLoad], *, loaded_by: str | None = None,
              fail_after: str | None = None) -> list[int]:
        """Load validated files atomically; return their load ids.

        ``fail_after`` names a step after which to raise, so tests can prove atomicity.
        """
        made = (not self.path.exists(), not (self.path / ".lock").exists())
        with self._lock(), self._undo_first_load(*made):
            self.path.mkdir(parents=True, exist_ok=True)
            self.check_schema()
            self._collect_garbage()
            with self.catalog(write=True) as con:
                current = _meta_int(con, "data_version")
                next_id = con.sql("SELECT coalesce(max(load_id), 0) + 1 FROM loads"
                                  ).fetchall()[0][0]
                active = con.sql("""
                    SELECT l.load_id, l.kind, l.school_year, ll.lea_code, l.report_created_date,
                           l.file_name
                    FROM loads l JOIN load_leas ll USING (load_id)
                    WHERE ll.superseded_by IS NULL
                """).pl()
            ids = list(range(next_id, next_id + len(pending)))
            superseded = _supersessions(pending, ids, active)
            new_version = max([current, *self._version_numbers()]) + 1
            stage = self.staging_path / f"v{new_version:06d}"
            final = self.version_path(new_version)
            written: list[Path] = []
            try:
                written = self._write_loads(pending, ids)
                self._write_version(stage, current, pending, ids, superseded, active)
                _maybe_fail(fail_after, "write")
                final.parent.mkdir(parents=True, exist_ok=True)
                stage.replace(final)
                _maybe_fail(fail_after, "rename")
                with self.catalog(write=True) as con:
                    con.begin()
                    try:
                        self._record(con, pending, ids, superseded, new_version, loaded_by)
                        _maybe_fail(fail_after, "catalog")
                        con.commit()
                    except BaseException:
                        con.rollback()
                        raise
            except BaseException:
                shutil.rmtree(stage, ignore_errors=True)
                shutil.rmtree(final, ignore_errors=True)
                for path in written:
                    path.unlink(missing_ok=True)
                with contextlib.suppress(OSError):
                    self.loads_path.rmdir()
                with contextlib.suppress(OSError):
                    self.staging_path.rmdir()
                raise
            self._collect_garbage()
            return ids

    def load_file(self, load_id: int) -> Path:
        """The file holding one load's rows."""
        return self.loads_path / f"load-{load_id:06d}.parquet"

    def _write_loads(self, pending: list[PendingLoad], ids: list[int]) -> list[Path]:
        self.loads_path.mkdir(exist_ok=True)
        written = []
        for p, load_id in zip(pending, ids, strict=True):
            path = self.load_file(load_id)
            written.append(path)
            frame = p.frame.with_columns(pl.lit(load_id, dtype=pl.Int64).alias("load_id"))
            frame.select(list(STORE_SCHEMA)).write_parquet(path, compression="zstd")
            _fsync(path)
        return written

    def _write_version(self, stage: Path, current: int, pending: list[PendingLoad],
                       ids: list[int], superseded: pl.DataFrame, active: pl.DataFrame) -> None:
        stage.mkdir(parents=True)
        old_files = self.year_files(current) if current else {}
        gone = set(superseded.select("load_id", "lea_code").iter_rows())
        keep = [(r["load_id"], r["lea_code"], r["school_year"]) for r in active.iter_rows(
            named=True) if (r["load_id"], r["lea_code"]) not in gone]
        keep += [(load_id, lea.lea_code, p.school_year)
                 for p, load_id in zip(pending, ids, strict=True) for lea in p.leas]
        changed = {p.school_year for p in pending}
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
            files = [self.load_file(int(i)) for i in pairs.get_column("load_id").unique()]
            if files:
                _build_year(files, pairs, target)
                _build_derived(target)
            else:
                target.parent.rmdir()  # every load of the year was replaced by nothing

    def _record(self, con: duckdb.DuckDBPyConnection, pending: list[PendingLoad],
                ids: list[int], superseded: pl.DataFrame, version: int,
                loaded_by: str | None) -> None:
        now = datetime.now().replace(microsecond=0)
        for p, load_id in zip(pending, ids, strict=True):
            n = sum(lea.n_records for lea in p.leas)
            con.sql(
                "INSERT INTO loads VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                params=[load_id, p.file_name, p.sha256, p.kind, p.school_year, p.layout_year,
                        p.report_created_date, n, p.n_rejected, now, loaded_by,
                        json.dumps(p.extra_names), version])
            for lea in p.leas:
                con.sql("INSERT INTO load_leas VALUES (?, ?, ?, NULL)",
                        params=[load_id, lea.lea_code, lea.n_records])
        for row in superseded.iter_rows(named=True):
            con.sql("UPDATE load_leas SET superseded_by = ? WHERE load_id = ? AND lea_code = ?",
                    params=[row["by"], row["load_id"], row["lea_code"]])
        con.sql("INSERT OR REPLACE INTO store_meta VALUES ('data_version', ?)",
                params=[str(version)])
        con.sql("INSERT OR REPLACE INTO store_meta VALUES ('schema_version', ?)",
                params=[str(SCHEMA_VERSION)])

    def _version_numbers(self) -> list[int]:
        if not self.data_path.exists():
            return []
        return [int(p.name[1:]) for p in self.data_path.glob("v*") if p.name[1:].isdigit()]

    def _collect_garbage(self) -> None:
        """Delete what failed loads left and versions older than the previous one."""
        shutil.rmtree(self.staging_path, ignore_errors=True)
        if not self.exists():
            shutil.rmtree(self.loads_path, ignore_errors=True)
            return
        with self.catalog() as con:
            known = {r[0] for r in con.sql("SELECT load_id FROM loads").fetchall()}
        if self.loads_path.exists():
            for path in self.loads_path.glob("load-*.parquet"):
                if int(path.stem.removeprefix("load-")) not in known:
                    path.unlink()  # left by a load that never committed
        current = self.version()
        for n in self._version_numbers():
            # The previous version stays one load longer: a dashboard query may be reading it.
            if n > current or n < current - 1:
                shutil.rmtree(self.data_path / f"v{n:06d}", ignore_errors=True)

    @contextlib.contextmanager
    def _undo_first_load(self, made_dir: bool, made_lock: bool) -> Iterator[None]:
        """If the first load into a store fails, remove what it made: the store was never there.

        Decided under the lock: with no catalog yet, nothing was ever committed here, so the
        catalog, ``data/``, ``loads/`` and ``.staging/`` are this load's; the lock file and the
        directory go too when this load made them.
        """
        first = not self.exists()
        try:
            yield
        except BaseException:
            if first:
                self.catalog_path.unlink(missing_ok=True)
                self.catalog_path.with_name(self.catalog_path.name + ".wal").unlink(
                    missing_ok=True)
                _CATALOG_CURRENT.discard(self.catalog_path)
                for directory in (self.data_path, self.loads_path, self.staging_path):
                    shutil.rmtree(directory, ignore_errors=True)
                if made_lock:
                    (self.path / ".lock").unlink(missing_ok=True)
                if made_dir:
                    with contextlib.suppress(OSError):
                        self.path.rmdir()
            raise

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        lock = self.path / ".lock"
        while True:
            try:
                self.path.mkdir(parents=True, exist_ok=True)
                handle = lock.open("a")
            except FileNotFoundError:  # the directory went between the two steps
                continue
            fcntl.flock(handle, fcntl.LOCK_EX)
            # A failed first load removes the lock file it made (``_undo_first_load``); a lock
            # taken on that removed file guards nothing, so lock the file now in its place.
            with contextlib.suppress(FileNotFoundError):
                if os.fstat(handle.fileno()).st_ino == lock.stat().st_ino:
                    break
            handle.close()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()


_CATALOG_CURRENT: set[Path] = set()
"""Catalogs this process has checked for every table (``Store._add_missing_tables``)."""
_CATALOG_LOCK = threading.Lock()


def _connect_with_retry(path: Path, *, read_only: bool) -> duckdb.DuckDBPyConnection:
    # Another process may hold the catalog for a moment (a load, a dashboard read).
    deadline = time.monotonic() + 30
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException:
            if time.monotonic() > deadline:
                raise InputError(f"the store catalog {path} is busy (another load is running?); "
                                 "try again in a minute") from None
            time.sleep(0.2)


def _meta_int(con: duckdb.DuckDBPyConnection, key: str) -> int:
    rows = con.sql("SELECT value FROM store_meta WHERE key = ?", params=[key]).fetchall()
    return int(rows[0][0]) if rows else 0


def _maybe_fail(fail_after: str | None, step: str) -> None:
    if fail_after == step:
        raise RuntimeError(f"injected failure after step {step!r}")


def _supersessions(pending: list[PendingLoad], ids: list[int],
                   active: pl.DataFrame) -> pl.DataFrame:
    """Which (load, LEA) pairs the new loads replace: same LEA, year and kind, older file."""
    rows: list[dict[str, object]] = []
    latest: dict[tuple[str, str, str], tuple[int, date | None, str]] = {}
    for r in active.iter_rows(named=True):
        latest[(r["kind"], r["school_year"], r["lea_code"])] = (
            r["load_id"], r["report_created_date"], r["file_name"])
    for p, load_id in zip(pending, ids, strict=True):
        for lea in p.leas:
            key = (p.kind, p.school_year, lea.lea_code)
            if key in latest:
                old_id, old_date, old_name = latest[key]
                if (old_date and p.report_created_date and p.report_created_date < old_date):
                    raise InputError(
                        f"{p.file_name}: older than {old_name} (created {old_date}), already "
                        f"loaded for LEA {lea.lea_code}, {p.school_year}, {p.kind}; the newer "
                        "file stays and nothing was loaded")
                rows.append({"load_id": old_id, "lea_code": lea.lea_code,
                             "school_year": p.school_year, "by": load_id})
            latest[key] = (load_id, p.report_created_date, p.file_name)
    schema = {"load_id": pl.Int64, "lea_code": pl.String, "school_year": pl.String,
              "by": pl.Int64}
    return pl.DataFrame(rows, schema=schema)


def _fsync(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def _build_derived(year_file: Path) -> None:
    """Write the year's summary and organisation list beside its records."""
    records = pl.read_parquet(year_file, columns=list(
        dict.fromkeys([*RECORD_COLUMNS, *ORG_SOURCE_COLUMNS, *SSR_SOURCE_COLUMNS])))
    written = write_summary(build_summary(records), year_file.parent)
    orgs = year_file.with_name("orgs.parquet")
    build_orgs(records).write_parquet(orgs, compression="zstd")
    ssr = year_file.with_name("ssr.parquet")
    build_ssr(records).write_parquet(ssr, compression="zstd")
    for path in (*written, orgs, ssr):
        _fsync(path)


def _build_year(files: list[Path], pairs: pl.DataFrame, target: Path) -> None:
    """Write a year's file from its current loads: one row per student and test, newest first.

    ``pairs`` lists the current (load, LEA) pairs: a load may be current for some of its LEAs
    and replaced for others. Newest means the latest report date, then the latest load.
    """
    # Eager steps: measured 3x faster here than the same chain as one lazy query.
    current = pairs.rename({"lea_code": "source_lea_code"})
    rows = (pl.read_parquet(files)
            .join(current, on=["load_id", "source_lea_code"], how="semi")
            .sort(["report_created_date", "load_id"], nulls_last=False)
            .unique(subset=["record_type", "ssid"], keep="last", maintain_order=True)
            .sort(list(SORT_KEY))
            .drop("school_year"))
    rows.write_parquet(target, compression="zstd", row_group_size=ROW_GROUP_SIZE)
    _fsync(target)
