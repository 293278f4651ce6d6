"""Bring a store written by an older version up to date without loading its files again.

When only what is derived from the records changes (the summaries, the organisation list, the
SSR counts: ``data.results.loading.build_derived``), a store of an older schema listed in
``UPGRADABLE_FROM`` keeps its records: ``elpac store upgrade`` writes a new data version whose
records are hard links of the current ones and whose derived files are built again, then makes
it current in one catalog commit, as a load does. A store of schema 9 or older also kept every
load's rows a second time in ``loads/``: the rows the years' records do not hold move into each
year's ``not_current.parquet`` (those of undone loads are not kept), and ``loads/`` is removed
once the new version is committed. Anything failing on the way removes what was
written, so the store is as it was (still readable by the version that wrote it).

A store of any other older schema has records this version cannot read as they are; it is
refused with a sentence (load the files into a new store).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl
from sqlalchemy import select

from data.catalog.db import upsert
from data.catalog.schema import store_meta
from data.files import fsync, writer_lock
from data.problems import InputError
from data.results.loading import (
    ROW_KEY,
    YEAR_COLUMNS,
    build_derived,
    collect_garbage,
    quoted,
    records_copy_options,
    year_duckdb,
)
from data.results.store import (
    NOT_CURRENT,
    SCHEMA_VERSION,
    SORT_KEY,
    UPGRADABLE_FROM,
    load_history,
    meta_int,
)
from data.results.write_errors import writing

if TYPE_CHECKING:
    from pathlib import Path

    from data.results.store import Store


@dataclass(frozen=True)
class Upgraded:
    """What an upgrade did: the schema it found, the data version it made, the years rebuilt."""

    found: int
    version: int
    years: list[str]

    def sentence(self) -> str:
        """What happened, for the person who asked."""
        if not self.years:
            return (f"the store needs no upgrade (store schema {self.found}, data version "
                    f"{self.version}); nothing was changed")
        moved = ("; each load's rows are now kept once, in its year's files (loads/ is gone)"
                 if self.found < 10 else "")
        return (f"upgraded the store from schema {self.found} to {SCHEMA_VERSION}: rebuilt the "
                f"summaries of {len(self.years)} school year(s) "
                f"({', '.join(self.years) or 'none'}){moved}; the store is now at data version "
                f"{self.version}")


def upgrade(store: Store, *, fail_after: str | None = None) -> Upgraded:
    """Rebuild every year's derived files in a new data version, all or nothing.

    ``InputError`` with a sentence when there is no store, or its schema cannot be upgraded.
    ``fail_after`` (``write``, ``rename`` or ``catalog``) raises after that step, for tests.
    """
    if not store.exists():  # checked first: the lock would make the directory
        raise InputError(f"no store at {store.path}: nothing to upgrade")
    with writing(store, "the store was not changed"), writer_lock(store.path):
        with store.catalog.read() as con:
            found = meta_int(con, "schema_version")
            current = meta_int(con, "data_version")
            history = load_history(con)
        if found == SCHEMA_VERSION or current == 0:
            return Upgraded(found, current, [])
        if found not in UPGRADABLE_FROM:
            raise InputError(
                f"the store at {store.path} has store schema {found}; this version upgrades "
                f"schema {', '.join(map(str, UPGRADABLE_FROM))} only (now {SCHEMA_VERSION}). "
                "Load the files into a new store")
        collect_garbage(store)
        version = max([current, *store.version_numbers()]) + 1
        stage = store.staging_path / f"v{version:06d}"
        final = store.version_path(version)
        years = store.year_files(current)
        try:
            stage.mkdir(parents=True)
            for year, records in sorted(years.items()):
                target = stage / f"school_year={year}" / "part-0.parquet"
                target.parent.mkdir()
                os.link(records, target)  # the records stay byte for byte
                old_rows = records.with_name(NOT_CURRENT)
                if old_rows.exists():
                    os.link(old_rows, target.with_name(NOT_CURRENT))
                else:
                    kept = history.filter(pl.col("school_year") == year, ~pl.col("is_undone"))
                    not_current_from_loads(
                        [store.legacy_load_file(i) for i in kept["load_id"].unique().sort()],
                        records, target.with_name(NOT_CURRENT))
                build_derived(target)
            _maybe_fail(fail_after, "write")
            stage.replace(final)
            _maybe_fail(fail_after, "rename")
            with store.catalog.write() as con:
                now = con.execute(select(store_meta.c.value).where(
                    store_meta.c.key == "data_version").with_for_update()).scalar()
                if int(now or 0) != current:
                    raise InputError("a load was committed while the store was being "
                                     "upgraded; nothing was changed: run it again")
                upsert(con, store_meta, {"key": "data_version", "value": str(version)})
                upsert(con, store_meta, {"key": "schema_version",
                                         "value": str(SCHEMA_VERSION)})
                _maybe_fail(fail_after, "catalog")
        except BaseException:
            shutil.rmtree(stage, ignore_errors=True)
            shutil.rmtree(final, ignore_errors=True)
            raise
        collect_garbage(store)
    return Upgraded(found, version, sorted(years))


def not_current_from_loads(load_files: list[Path], records: Path, target: Path) -> None:
    """Write ``target``: the rows of ``load_files`` (schema 9's ``loads/``) not in ``records``."""
    files = [str(f) for f in load_files if f.exists()]
    key = ", ".join(ROW_KEY)
    with year_duckdb(target.parent) as con:
        if files:
            con.read_parquet(files, union_by_name=True).create_view("loaded")
            which = (f"FROM loaded ANTI JOIN (SELECT {key} FROM read_parquet("
                     f"'{quoted(records)}')) USING ({key}) "
                     f"ORDER BY load_id, {', '.join(SORT_KEY)}")
        else:
            which = f"FROM read_parquet('{quoted(records)}') LIMIT 0"
        # Text built from this module's constants and the store's own paths.
        con.execute(f"COPY (SELECT {', '.join(YEAR_COLUMNS)} {which}) "
                    f"TO '{quoted(target)}' ({records_copy_options()})")
    fsync(target)


def _maybe_fail(fail_after: str | None, step: str) -> None:
    if fail_after == step:
        raise RuntimeError(f"injected failure after step {step!r}")
