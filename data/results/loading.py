"""Load checked files into a store, all or nothing: a new data version, then one commit.

``loads/`` is the record of what each file said. A year's ``part-0.parquet`` is built from the
current loads of that year: one row per student and test, the newest file's (latest report
date, then latest load). So when a newer file replaces an older one, a student the newer file
no longer lists still comes from any other current load that lists them: nothing is lost.

Every load writes a complete new data version beside the current one (unchanged years are
hard links, so this is cheap), then makes it current in one catalog transaction. A crash, a kill
or an error before that commit leaves the store as it was: the catalog still names the old
version, and the next load deletes what the failed one left behind. Readers only ever see a
committed version.
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

from data.catalog.db import frame, upsert
from data.catalog.schema import load_leas, loads, store_meta
from data.files import fsync, lock_file, writer_lock
from data.problems import InputError
from data.results.orgs import ORG_SOURCE_COLUMNS, build_orgs
from data.results.ssr_release import SSR_SOURCE_COLUMNS, build_ssr
from data.results.store import SCHEMA_VERSION, SORT_KEY, YEAR_FILES, Store, meta_int
from data.results.summary import RECORD_COLUMNS, build_summary, write_summary
from data.toms.normalise import STORE_SCHEMA

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from sqlalchemy import Connection

_ACTIVE_SCHEMA = {"load_id": pl.Int32, "kind": pl.String, "school_year": pl.String,
                  "lea_code": pl.String, "report_created_date": pl.Date, "file_name": pl.String}
ROW_GROUP_SIZE = 131_072
"""Rows per Parquet row group: measured on 9.5 M rows (../shared/TOOLCHAIN.md)."""


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


def apply(store: Store, pending: list[PendingLoad], *, loaded_by: str | None = None,
          fail_after: str | None = None) -> list[int]:
    """Load validated files atomically; return their load ids.

    ``fail_after`` names a step after which to raise, so tests can prove atomicity.
    """
    made = (not store.path.exists(), not lock_file(store.path).exists())
    with writer_lock(store.path), _undo_first_load(store, *made):
        store.path.mkdir(parents=True, exist_ok=True)
        store.check_schema()
        collect_garbage(store)
        with store.catalog.write() as con:  # write: a first load makes the catalog
            current = meta_int(con, "data_version")
            next_id = con.execute(select(func.coalesce(func.max(loads.c.load_id), 0) + 1)
                                  ).scalar_one()
            active = frame(con, select(loads.c.load_id, loads.c.kind, loads.c.school_year,
                                       load_leas.c.lea_code, loads.c.report_created_date,
                                       loads.c.file_name)
                           .join(load_leas, load_leas.c.load_id == loads.c.load_id)
                           .where(load_leas.c.superseded_by.is_(None)), _ACTIVE_SCHEMA)
        ids = list(range(next_id, next_id + len(pending)))
        superseded = supersessions(pending, ids, active)
        new_version = max([current, *store.version_numbers()]) + 1
        stage = store.staging_path / f"v{new_version:06d}"
        final = store.version_path(new_version)
        written: list[Path] = []
        try:
            written = _write_loads(store, pending, ids)
            _write_version(store, stage, current, pending, ids, superseded, active)
            _maybe_fail(fail_after, "write")
            final.parent.mkdir(parents=True, exist_ok=True)
            stage.replace(final)
            _maybe_fail(fail_after, "rename")
            with store.catalog.write() as con:
                _check_still(con, current)
                record_load(con, pending, ids, superseded, new_version, loaded_by)
                _maybe_fail(fail_after, "catalog")
        except BaseException:
            shutil.rmtree(stage, ignore_errors=True)
            shutil.rmtree(final, ignore_errors=True)
            for path in written:
                path.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                store.loads_path.rmdir()
            with contextlib.suppress(OSError):
                store.staging_path.rmdir()
            raise
        collect_garbage(store)
        return ids


def _write_loads(store: Store, pending: list[PendingLoad], ids: list[int]) -> list[Path]:
    store.loads_path.mkdir(exist_ok=True)
    written = []
    for p, load_id in zip(pending, ids, strict=True):
        path = store.load_file(load_id)
        written.append(path)
        frame = p.frame.with_columns(pl.lit(load_id, dtype=pl.Int64).alias("load_id"))
        frame.select(list(STORE_SCHEMA)).write_parquet(path, compression="zstd")
        fsync(path)
    return written


def _write_version(store: Store, stage: Path, current: int, pending: list[PendingLoad],
                   ids: list[int], superseded: pl.DataFrame, active: pl.DataFrame) -> None:
    stage.mkdir(parents=True)
    old_files = store.year_files(current) if current else {}
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
        files = [store.load_file(int(i)) for i in pairs.get_column("load_id").unique()]
        if files:
            build_year(files, pairs, target)
            build_derived(target)
        else:
            target.parent.rmdir()  # every load of the year was replaced by nothing


def record_load(con: Connection, pending: list[PendingLoad], ids: list[int],
                superseded: pl.DataFrame, version: int, loaded_by: str | None) -> None:
    """Write the loads, their LEAs, what they replace and the new data version (one commit)."""
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
    upsert(con, store_meta, {"key": "data_version", "value": str(version)})
    upsert(con, store_meta, {"key": "schema_version", "value": str(SCHEMA_VERSION)})


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
    """Delete what failed loads left and versions older than the previous one."""
    shutil.rmtree(store.staging_path, ignore_errors=True)
    if not store.exists():
        shutil.rmtree(store.loads_path, ignore_errors=True)
        return
    with store.catalog.read() as con:
        known = set(con.execute(select(loads.c.load_id)).scalars())
    if store.loads_path.exists():
        for path in store.loads_path.glob("load-*.parquet"):
            if int(path.stem.removeprefix("load-")) not in known:
                path.unlink()  # left by a load that never committed
    current = store.version()
    for n in store.version_numbers():
        # The previous version stays one load longer: a dashboard query may be reading it.
        if n > current or n < current - 1:
            shutil.rmtree(store.data_path / f"v{n:06d}", ignore_errors=True)


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


def supersessions(pending: list[PendingLoad], ids: list[int],
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


def build_derived(year_file: Path) -> None:
    """Write the year's summary and organisation list beside its records."""
    records = pl.read_parquet(year_file, columns=list(
        dict.fromkeys([*RECORD_COLUMNS, *ORG_SOURCE_COLUMNS, *SSR_SOURCE_COLUMNS])))
    written = write_summary(build_summary(records), year_file.parent)
    orgs = year_file.with_name("orgs.parquet")
    build_orgs(records).write_parquet(orgs, compression="zstd")
    ssr = year_file.with_name("ssr.parquet")
    build_ssr(records).write_parquet(ssr, compression="zstd")
    for path in (*written, orgs, ssr):
        fsync(path)


def build_year(files: list[Path], pairs: pl.DataFrame, target: Path) -> None:
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
    fsync(target)
