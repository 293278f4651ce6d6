"""The results store: Parquet files partitioned by school year, and the catalog beside them.

Layout of a store directory::

    catalog.sqlite                      the catalog (``data.catalog``): load history, data
                                        version, accounts, rosters, audit, ...
    loads/load-000123.parquet           the rows of one load, as checked (never changed)
    data/v000007/school_year=2024-25/part-0.parquet
    .staging/                           a version being written; never read

This module reads a store: which data version is committed, its files, its load history. Loads
are written by ``data.results.loading``, all or nothing.

Each year's file is sorted by tested LEA and school with 128k-row row groups: measured on
9.5 M rows, unsorted data made single-LEA queries 5-6x slower and one file per LEA cost
0.1-1 s per query (../shared/TOOLCHAIN.md).

DuckDB cannot encrypt files here (its crypto needs an extension that cannot be installed):
protect the store directory with file permissions and the host's disk encryption.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
from sqlalchemy import or_, select

from data.catalog.db import Catalog, frame
from data.catalog.schema import load_leas, loads, store_meta
from data.problems import InputError
from data.toms.normalise import STORE_SCHEMA

if TYPE_CHECKING:
    import duckdb
    from sqlalchemy import Connection

YEAR_FILES = ("part-0.parquet", "summary.arrow", "summary_index.parquet", "headline.arrow",
              "headline_index.parquet", "orgs.parquet", "ssr.parquet")
"""A year's records, its summary and the summary's index (``data.results.summary``), its
organisations (``data.results.orgs``) and its SSR release counts (``data.results.ssr_release``)."""
SORT_KEY = ("reporting_lea_code", "tested_school_code", "grade_assessed", "ssid", "record_type")
SCHEMA_VERSION = 8
"""Bumped when stored columns change; an older store must be rebuilt (see ``check_schema``)."""
DEFAULT_STORE = Path("data/store")
LOAD_HISTORY_SCHEMA = {
    "load_id": pl.Int32, "file_name": pl.String, "kind": pl.String, "school_year": pl.String,
    "lea_code": pl.String, "n_records": pl.Int32, "n_rejected": pl.Int32,
    "report_created_date": pl.Date, "loaded_at": pl.Datetime("us"), "is_current": pl.Boolean,
    "superseded_by": pl.Int32, "sha256": pl.String, "data_version": pl.Int32}
"""``Store.loads()``: one row per load and LEA."""
_NO_VERSION = 2**31 - 1


def store_path(path: str | Path | None = None) -> Path:
    """The store directory: the argument, else ``$ELPAC_STORE``, else ``data/store``."""
    if path is not None:
        return Path(path)
    env = os.environ.get("ELPAC_STORE")
    return Path(env) if env else DEFAULT_STORE


class Store:
    """A results store on disk. Cheap to create; opens DuckDB connections only when used."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = store_path(path)
        self.catalog = Catalog(self.path)
        self.data_path = self.path / "data"
        self.staging_path = self.path / ".staging"
        self.loads_path = self.path / "loads"

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
        with self.catalog.read() as con:
            rows = con.execute(select(loads.c.load_id, loads.c.extra_fields)).all()
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
        latest = _NO_VERSION if version is None else version
        done, ll, then = loads.alias("l"), load_leas.alias("ll"), loads.alias("s")
        statement = (
            select(done.c.load_id, done.c.file_name, done.c.kind, done.c.school_year,
                   ll.c.lea_code, ll.c.n_records, done.c.n_rejected,
                   done.c.report_created_date, done.c.loaded_at,
                   or_(ll.c.superseded_by.is_(None), then.c.data_version > latest)
                   .label("is_current"),
                   ll.c.superseded_by, done.c.sha256, done.c.data_version)
            .select_from(done.join(ll, ll.c.load_id == done.c.load_id)
                         .outerjoin(then, then.c.load_id == ll.c.superseded_by))
            .where(done.c.data_version <= latest)
            .order_by(done.c.load_id.desc(), ll.c.lea_code))
        with self.catalog.read() as con:
            return frame(con, statement, LOAD_HISTORY_SCHEMA)

    def load_file(self, load_id: int) -> Path:
        """The file holding one load's rows."""
        return self.loads_path / f"load-{load_id:06d}.parquet"

    def version_numbers(self) -> list[int]:
        """The data versions on disk (committed or left by a failed load)."""
        if not self.data_path.exists():
            return []
        return [int(p.name[1:]) for p in self.data_path.glob("v*") if p.name[1:].isdigit()]


def meta_int(con: Connection, key: str) -> int:
    """An integer kept in the catalog's ``store_meta`` (0 when it is not there)."""
    value = con.execute(select(store_meta.c.value).where(store_meta.c.key == key)).scalar()
    return int(value) if value is not None else 0
