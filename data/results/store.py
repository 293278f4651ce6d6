"""The results store: Parquet files partitioned by school year, and the catalog beside them.

Layout of a store directory::

    catalog.sqlite                      the catalog (``data.catalog``): load history, data
                                        version, accounts, rosters, audit, ...
    data/v000007/school_year=2024-25/part-0.parquet      the year's records: one row per
                                        student and test, the newest file's
    data/v000007/school_year=2024-25/not_current.parquet every other row the year's files
                                        gave (replaced files, older rows), for undo
    data/v000007/school_year=2024-25/summary.arrow, ...  built from the records at load
    .staging/                           a version being written; never read

This module reads a store: which data version is committed, its files, its load history. Loads
are written by ``data.results.loading``, all or nothing.

Each year's file is sorted by tested LEA and school with 128k-row row groups: measured on
9.5 M rows, unsorted data made single-LEA queries 5-6x slower and one file per LEA cost
0.1-1 s per query (../shared/TOOLCHAIN.md).

DuckDB cannot encrypt files here (its crypto needs an extension that cannot be installed):
the store protects itself with file permissions (``data.files.private_files``: directories
0700, files 0600) and relies on the host's disk encryption for the rest.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
from sqlalchemy import select

from data.catalog.db import Catalog, frame
from data.catalog.schema import load_leas, loads, store_meta
from data.files import Pin, pin, private_files
from data.problems import InputError
from data.toms.normalise import STORE_SCHEMA

if TYPE_CHECKING:
    from collections.abc import Iterator

    import duckdb
    from sqlalchemy import Connection

NOT_CURRENT = "not_current.parquet"
"""Beside a year's ``part-0.parquet``: every other row its loads hold (``data.results.loading``)."""
YEAR_FILES = ("part-0.parquet", NOT_CURRENT, "summary.arrow", "summary_index.parquet",
              "headline.arrow", "headline_index.parquet", "totals.arrow", "totals_index.parquet",
              "orgs.parquet", "ssr.parquet")
"""A year's records and the rows of its loads that are not current, its summary's cuts and
their indexes (``data.results.summary_file``), its organisations (``data.results.orgs``) and
its SSR release counts (``data.results.ssr_release``)."""
SORT_KEY = ("reporting_lea_code", "tested_school_code", "grade_assessed", "ssid", "record_type")
SCHEMA_VERSION = 10
"""Bumped when stored columns or files change; an older store must be rebuilt or upgraded
(see ``check_schema``). 9: the compact summary (``data.results.summary_file``). 10: a load's
rows are kept once, in its year's files, not a second time in ``loads/`` (issue 14)."""
UPGRADABLE_FROM = (8, 9)
"""Older schemas whose records this version reads as they are: only derived files and where
loads' rows are kept changed since, and ``elpac store upgrade`` (``data.results.upgrade``)
rebuilds them."""
DEFAULT_STORE = Path("data/store")
LOAD_HISTORY_SCHEMA = {
    "load_id": pl.Int32, "file_name": pl.String, "kind": pl.String, "school_year": pl.String,
    "lea_code": pl.String, "n_records": pl.Int32, "n_rejected": pl.Int32,
    "report_created_date": pl.Date, "loaded_at": pl.Datetime("us"), "is_current": pl.Boolean,
    "superseded_by": pl.Int32, "sha256": pl.String, "data_version": pl.Int32,
    "replaced_load_id": pl.Int32, "is_undone": pl.Boolean}
"""``Store.loads()``: one row per load and LEA. ``superseded_by`` is the later load that
replaced the LEA's records (still set when that load was undone since: the pair is then current
again), ``replaced_load_id`` the load whose records this one replaced, ``is_undone`` whether
``elpac loads undo`` took the load back."""
UNDONE_KEY = "undone:"
"""``store_meta`` key of an undone load, ``undone:<load_id>``: JSON with the data version that
undid it, when and by whom (``data.results.undo``)."""
_NO_VERSION = 2**31 - 1
_PIN_TRIES = 10


def store_path(path: str | Path | None = None) -> Path:
    """The store directory: the argument, else ``$ELPAC_STORE``, else ``data/store``."""
    if path is not None:
        return Path(path)
    env = os.environ.get("ELPAC_STORE")
    return Path(env) if env else DEFAULT_STORE


class Store:
    """A results store on disk. Cheap to create; opens DuckDB connections only when used."""

    def __init__(self, path: str | Path | None = None) -> None:
        private_files()  # everything written from here on is the owner's only
        self.path = store_path(path)
        self.catalog = Catalog(self.path)
        self.data_path = self.path / "data"
        self.staging_path = self.path / ".staging"
        self.loads_path = self.path / "loads"
        """Where a store of schema 9 or older kept each load's rows; ``elpac store upgrade``
        moves them into the years' files (``data.results.upgrade``)."""

    # -- reading ---------------------------------------------------------------------------
    def exists(self) -> bool:
        """Whether a catalog has been created here."""
        return self.catalog.exists()

    def check_schema(self) -> None:
        """Raise ``InputError`` if the store was written by an older version of the explorer."""
        if not self.exists():
            return
        with self.catalog.read() as con:
            found = meta_int(con, "schema_version")
            has_data = meta_int(con, "data_version") > 0
        if has_data and found in UPGRADABLE_FROM:
            raise InputError(
                f"the store at {self.path} was written by an older version of the explorer "
                f"(store schema {found}, now {SCHEMA_VERSION}); bring it up to date with "
                f"`elpac store upgrade --store {self.path}`: it rebuilds the summaries, nothing "
                "is loaded again")
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
        with self.catalog.read() as con:
            return meta_int(con, "data_version")

    def pin(self, version: int | None = None) -> tuple[int, Pin | None]:
        """Pin a data version for reading: no load removes it until the pin is closed.

        The committed version by default (asked again if a load removed it meanwhile), or
        ``version`` (``InputError`` if it is gone). Version 0, an empty store, has nothing
        to pin. See ``data.files.pin`` and ``data.results.loading.collect_garbage``.
        """
        for _ in range(_PIN_TRIES):
            found = self.version() if version is None else version
            if found == 0:
                return 0, None
            held = pin(self.version_path(found))
            if held is not None:
                return found, held
            if version is not None:
                raise InputError(
                    f"data version {version} of the store at {self.path} is gone: a newer "
                    "load replaced it. Open the page (or run the command) again")
        raise InputError(f"the store at {self.path} changed {_PIN_TRIES} times while it was "
                         "being opened; try again")

    @contextlib.contextmanager
    def reading(self) -> Iterator[int]:
        """The committed data version, kept on disk while the block reads its files."""
        found, held = self.pin()
        try:
            yield found
        finally:
            if held is not None:
                held.close()

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
        with self.catalog.read() as con:
            rows = con.execute(select(loads.c.load_id, loads.c.extra_fields)).all()
        return {load_id: json.loads(names) for load_id, names in rows}

    def results(self, con: duckdb.DuckDBPyConnection, name: str = "results",
                version: int | None = None) -> None:
        """Create (or replace) a view ``name`` over the results of a version in ``con``.

        The committed version by default; read it within ``reading()`` (its files must stay).
        """
        files = [str(p) for p in self.year_files(version).values()]
        if not files:
            con.register(name, pl.DataFrame(schema=STORE_SCHEMA).to_arrow())
            return
        rel = con.sql("SELECT * FROM read_parquet(?, hive_partitioning = true, "
                      "hive_types = {'school_year': 'VARCHAR'})", params=[files])
        rel.create_view(name, replace=True)

    def loads(self, version: int | None = None) -> pl.DataFrame:
        """Load history, newest first, one row per file and LEA (``LOAD_HISTORY_SCHEMA``).

        With ``version``, as it stood at that data version: later loads are left out, and a
        supersession or an undo made later does not count.
        """
        if not self.exists():
            return pl.DataFrame()
        with self.catalog.read() as con:
            return load_history(con, version)

    def legacy_load_file(self, load_id: int) -> Path:
        """Where a store of schema 9 or older kept one load's rows."""
        return self.loads_path / f"load-{load_id:06d}.parquet"

    def version_numbers(self) -> list[int]:
        """The data versions on disk (committed or left by a failed load)."""
        if not self.data_path.exists():
            return []
        return [int(p.name[1:]) for p in self.data_path.glob("v*") if p.name[1:].isdigit()]


def load_history(con: Connection, version: int | None = None) -> pl.DataFrame:
    """``Store.loads`` read through ``con`` (a load reads it inside its own transaction).

    A (load, LEA) pair is current at a version unless its load was undone by then, or a later
    load replaced it by then and was not itself undone by then.
    """
    latest = _NO_VERSION if version is None else version
    done, ll, then = loads.alias("l"), load_leas.alias("ll"), loads.alias("s")
    statement = (
        select(done.c.load_id, done.c.file_name, done.c.kind, done.c.school_year,
               ll.c.lea_code, ll.c.n_records, done.c.n_rejected, done.c.report_created_date,
               done.c.loaded_at, ll.c.superseded_by, done.c.sha256, done.c.data_version,
               then.c.data_version.label("superseded_at"))
        .select_from(done.join(ll, ll.c.load_id == done.c.load_id)
                     .outerjoin(then, then.c.load_id == ll.c.superseded_by))
        .where(done.c.data_version <= latest)
        .order_by(done.c.load_id.desc(), ll.c.lea_code))
    rows = frame(con, statement, {**{k: v for k, v in LOAD_HISTORY_SCHEMA.items() if k not in (
        "is_current", "replaced_load_id", "is_undone")}, "superseded_at": pl.Int32})
    undone = [n for n, at in undone_loads(con).items() if at <= latest]
    replaced = (pl.col("superseded_by").is_not_null() & (pl.col("superseded_at") <= latest)
                & ~pl.col("superseded_by").is_in(undone))
    is_undone = pl.col("load_id").is_in(undone)
    # Each (load, LEA) replaced at most one pair: the one current for its key at the time.
    replaces = (rows.filter(pl.col("superseded_at") <= latest)
                .select(pl.col("superseded_by").alias("load_id"), "lea_code",
                        pl.col("load_id").alias("replaced_load_id"))
                .unique(subset=["load_id", "lea_code"], keep="first"))
    return (rows.with_columns((~is_undone & ~replaced).alias("is_current"),
                              is_undone.alias("is_undone"))
            .join(replaces, on=["load_id", "lea_code"], how="left", maintain_order="left")
            .select(list(LOAD_HISTORY_SCHEMA)).cast(LOAD_HISTORY_SCHEMA))


def undone_loads(con: Connection) -> dict[int, int]:
    """Every undone load and the data version that undid it."""
    rows = con.execute(select(store_meta.c.key, store_meta.c.value)
                       .where(store_meta.c.key.startswith(UNDONE_KEY)))
    return {int(key.removeprefix(UNDONE_KEY)): int(json.loads(value)["data_version"])
            for key, value in rows}


def meta_int(con: Connection, key: str) -> int:
    """An integer kept in the catalog's ``store_meta`` (0 when it is not there)."""
    value = con.execute(select(store_meta.c.value).where(store_meta.c.key == key)).scalar()
    return int(value) if value is not None else 0
