"""``elpac store upgrade``: a store of an older schema gets new derived files, all or nothing.

When only what is built at load time changes (schema 8 -> 9: the compact summary; 9 -> 10:
each load's rows kept once, not a second time in ``loads/``; issue 14), an older store is
refused with a sentence naming the command, and the command rebuilds every year's derived
files in a new data version without loading anything again: the records stay byte for byte,
every report comes out as a freshly loaded store's, and what ``loads/`` kept that the records
do not hold moves into the years' ``not_current.parquet``.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from sqlalchemy import text
from typer.testing import CliRunner, Result

from data.problems import InputError
from data.results.ingest import ingest
from data.results.store import NOT_CURRENT, SCHEMA_VERSION, Store
from data.results.undo import undo
from data.results.upgrade import upgrade
from data.toms.normalise import STORE_SCHEMA
from elpac.cli import app
from queries.reports import read_report
from queries.scope import Scope
from queries.snapshot import Snapshot
from queries.spec import ReportSpec

SPECS = (ReportSpec(years=("2024-25",), orgs=("00",), org_level="state", breakdown="ethnicity"),
         ReportSpec(years=("2023-24", "2024-25"), orgs=("19",), org_level="county",
                    breakdown="grade"))


def run(*args: str) -> Result:
    result = CliRunner().invoke(app, list(args))
    assert "Traceback" not in result.output
    return result


def _set_schema(store: Store, schema: int) -> None:
    with store.catalog.write() as con:
        con.execute(text("UPDATE store_meta SET value = :v WHERE key = 'schema_version'"),
                    {"v": str(schema)})


def _as_schema_9(store: Store) -> None:
    """Keep every load's rows as schema 9 did: in ``loads/``, with no ``not_current.parquet``."""
    store.loads_path.mkdir()
    for year, part in store.year_files().items():
        rows = pl.concat([pl.read_parquet(part), pl.read_parquet(part.with_name(NOT_CURRENT))])
        for (load_id,), group in rows.group_by("load_id"):
            group.with_columns(pl.lit(year).alias("school_year")).select(
                list(STORE_SCHEMA)).write_parquet(store.legacy_load_file(int(load_id)))
        part.with_name(NOT_CURRENT).unlink()
    _set_schema(store, 9)


@pytest.fixture
def old_store(store_copy: Store) -> Store:
    """The tiny store as schema 8 wrote it: its summaries in a layout this version cannot read,
    and every load's rows a second time in ``loads/``."""
    _as_schema_9(store_copy)
    _set_schema(store_copy, 8)
    for year_file in store_copy.year_files().values():
        for name in ("summary", "headline", "totals"):
            year_file.with_name(f"{name}.arrow").write_bytes(b"an older layout")
    return store_copy


def _records(store: Store, digest) -> dict[str, str]:
    """The records, byte for byte."""
    return {y: digest(p.parent)["part-0.parquet"] for y, p in store.year_files().items()}


def _not_current(store: Store) -> pl.DataFrame:
    return pl.concat([pl.read_parquet(p.with_name(NOT_CURRENT)).with_columns(
        pl.lit(y).alias("year")) for y, p in store.year_files().items()]).sort(
        "year", "load_id", "record_type", "ssid")


def _reports(path: Path) -> list:
    snap = Snapshot(path)
    try:
        return [read_report(snap, spec, scope=Scope.state(), suppress=True) for spec in SPECS]
    finally:
        snap.close()


def test_issue14_an_older_store_is_refused_with_the_command_to_run(old_store):
    with pytest.raises(InputError, match="elpac store upgrade --store"):
        Snapshot(old_store)


def test_issue14_upgrade_rebuilds_the_summaries_and_keeps_the_records(
        old_store, tiny_store_path, digest):
    records, version = _records(old_store, digest), old_store.version()
    result = run("store", "upgrade", "--store", str(old_store.path))
    assert result.exit_code == 0, result.output
    assert f"upgraded the store from schema 8 to {SCHEMA_VERSION}" in result.output
    assert f"data version {version + 1}" in result.output
    assert old_store.version() == version + 1
    assert _records(old_store, digest) == records
    assert not old_store.loads_path.exists()
    assert _not_current(old_store).height == 0  # no load of the tiny store was replaced
    # Nothing read the old version: it is gone.
    assert old_store.version_numbers() == [version + 1]
    for mine, fresh in zip(_reports(old_store.path), _reports(tiny_store_path), strict=True):
        assert_frame_equal(mine, fresh)
    again = run("store", "upgrade", "--store", str(old_store.path))
    assert again.exit_code == 0
    assert "needs no upgrade" in again.output
    assert old_store.version() == version + 1


@pytest.mark.parametrize("step", ["write", "rename", "catalog"])
def test_issue14_a_failed_upgrade_leaves_the_store_as_it_was(old_store, digest, step):
    before, version = digest(old_store.path), old_store.version()
    with pytest.raises(RuntimeError, match=step):
        upgrade(old_store, fail_after=step)
    after = digest(old_store.path)
    # The catalog's own files change on any write (WAL): compared by what it says instead.
    for files in (before, after):
        for name in [k for k in files if k.startswith("catalog.sqlite")]:
            del files[name]
    assert after == before
    assert old_store.version() == version
    with pytest.raises(InputError, match="elpac store upgrade"):
        Snapshot(old_store)


def test_issue14_a_store_too_old_to_upgrade_is_refused(old_store, digest):
    _set_schema(old_store, 7)
    before = digest(old_store.version_path())
    result = run("store", "upgrade", "--store", str(old_store.path))
    assert result.exit_code == 1
    assert result.output.startswith("error: the store at")
    assert "upgrades schema 8, 9 only" in result.output
    assert digest(old_store.version_path()) == before


def test_issue14_upgrade_of_no_store_is_a_sentence(tmp_path):
    result = run("store", "upgrade", "--store", str(tmp_path / "none"))
    assert result.exit_code == 1
    assert "no store at" in result.output
    assert not (tmp_path / "none").exists()


def test_issue14_upgrade_keeps_the_rows_of_replaced_loads_once(store_copy, toms, digest):
    """A replaced load's rows move from ``loads/`` into ``not_current.parquet``; undo reads them."""
    records = _records(store_copy, digest)
    newer = toms(created="2025-10-01", name="newer/" + toms().path.name)
    dropped = newer.where(RecordType="21", TestedStatus="Y")[:2]
    for record in dropped:
        newer.records.remove(record)
    result = ingest([newer.save()], store=store_copy, replace=True)
    assert result.loaded
    new_id = result.outcomes[0].load_id
    fresh = _not_current(store_copy)
    assert fresh.height > 0
    assert set(fresh["load_id"]) != {new_id}
    _as_schema_9(store_copy)
    assert store_copy.legacy_load_file(new_id).exists()

    done = upgrade(store_copy)

    assert done.found == 9
    assert "loads/ is gone" in done.sentence()
    assert not store_copy.loads_path.exists()
    assert_frame_equal(_not_current(store_copy), fresh)
    # Each row of every load is kept once: in the records or beside them.
    shown = pl.concat([pl.read_parquet(p, columns=["load_id", "record_type", "ssid"])
                       for p in store_copy.year_files().values()])
    assert shown.join(fresh.select(shown.columns), on=shown.columns).height == 0
    undo(store_copy, new_id)
    assert _records(store_copy, digest) == records
    assert _not_current(store_copy).height == 0  # the undone load's rows left with it
