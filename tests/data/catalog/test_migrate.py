"""A store made while the catalog was DuckDB opens with everything in it (issue 11).

``tests/fixtures/legacy-store`` was made by the last explorer with a DuckDB catalog
(``tests/fixtures/make_legacy_store.py`` says how). Each test opens a copy: the first open
copies the catalog into SQLite in one transaction, keeps the old file as a backup, and every
account, password hash, roster, audit row, delivery, credential, override, saved report and
load record reads back as the old catalog held it (read here with DuckDB itself).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

import data.catalog.legacy
from data.catalog import audit, portal_credentials, ssr_deliveries
from data.catalog.accounts import Accounts
from data.catalog.db import read_catalog
from data.catalog.rosters import Rosters
from data.catalog.saved_reports import saved_reports
from data.catalog.ssr_languages import overrides
from data.results.store import Store

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "legacy-store"
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def legacy(tmp_path: Path, catalog_url: str | None) -> Store:
    shutil.copytree(FIXTURE, tmp_path / "store")
    return Store(tmp_path / "store")


def old_rows(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.sql(sql).fetchall()


def test_every_row_of_the_old_catalog_is_kept(legacy: Store) -> None:
    old = legacy.catalog.legacy_path
    tables = [r[0] for r in old_rows(old, "SHOW TABLES")]
    expected = {t: old_rows(old, f"SELECT * FROM {t} ORDER BY rowid") for t in tables}  # noqa: S608
    assert {t for t, rows in expected.items() if rows} >= {
        "loads", "load_leas", "store_meta", "users", "user_assignments", "audit", "rosters",
        "roster_students", "roster_users", "roster_uploads", "ssr_deliveries",
        "ssr_delivery_failures", "ssr_delivery_uploads", "portal_credentials",
        "ssr_language_overrides", "saved_reports"}

    assert legacy.version() == 1  # the first open migrates
    assert not old.exists()
    assert old.with_name(old.name + ".bak").exists()
    assert legacy.catalog.path.exists() == legacy.catalog.is_sqlite

    now = read_catalog(legacy.catalog)
    for table, rows in expected.items():
        columns, values = now[table]
        old_columns = [r[0] for r in old_rows(old.with_name(old.name + ".bak"),
                                               f"DESCRIBE {table}")]  # noqa: S608
        kept = [tuple(dict(zip(columns, v, strict=True))[c] for c in old_columns)
                for v in values]
        if table == "store_meta":
            kept = [r for r in kept if r[0] != data.catalog.legacy.MIGRATED_KEY]
        assert sorted(kept, key=repr) == sorted(rows, key=repr), table


def test_the_features_read_the_migrated_catalog(legacy: Store) -> None:
    old = legacy.catalog.legacy_path
    hashes = dict(old_rows(old, "SELECT email, password_hash FROM users"))
    accounts = Accounts(legacy)
    assert set(accounts.list().get_column("email")) == set(hashes)
    columns, users = read_catalog(legacy.catalog)["users"]
    kept = {row[columns.index("email")]: row for row in users}
    assert {e: kept[e][columns.index("password_hash")] for e in kept} == hashes
    # The wrong password the fixture tried is still counted.
    assert kept["board@demo.example"][columns.index("failed_attempts")] == 1
    assert accounts.sign_in("lea.admin@demo.example", "elpac-demo-password").role == "lea_admin"
    assert {k.split(":", 1)[1] for k in Rosters(legacy).all_members()} == {
        "Period 3 (demo)", "Uploaded roster"}
    assert Rosters(legacy).uploads().height == 1
    entries = audit.read(legacy)
    assert entries.filter(entries["action"] == "export").height == 1
    assert entries.height > 3
    deliveries, failures = ssr_deliveries.read_log(legacy, "2024-25", None)
    assert (deliveries.height, failures.height) == (1, 1)
    assert ssr_deliveries.uploads(legacy).height == 1
    (lea,) = {r[0] for r in old_rows(legacy.catalog.path.with_name("catalog.duckdb.bak"),
                                     "SELECT lea_code FROM portal_credentials")}
    assert portal_credentials.credential_info(legacy, lea) is not None
    assert list(overrides(legacy).values()) == [("ENG", "SPA")]
    assert saved_reports(legacy, "board@demo.example").get_column("name").to_list() == [
        "Board slide"]
    assert legacy.loads().height == len(old_rows(
        legacy.catalog.path.with_name("catalog.duckdb.bak"), "SELECT * FROM load_leas"))


def test_new_entries_follow_the_old_ones(legacy: Store) -> None:
    before = audit.read(legacy).height
    audit.record(legacy, "x@y.org", "export", detail="after the move")
    entries = audit.read(legacy)
    assert entries.height == before + 1
    assert entries.row(0, named=True)["detail"] == "after the move"


def test_a_migration_that_fails_half_way_changes_nothing(
        legacy: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    write = data.catalog.legacy.write_rows

    def fail_after_writing(conn, rows):  # noqa: ANN001, ANN202
        write(conn, rows)
        raise OSError("disk full")

    monkeypatch.setattr(data.catalog.legacy, "write_rows", fail_after_writing)
    with pytest.raises(OSError, match="disk full"):
        legacy.version()
    assert legacy.catalog.legacy_path.exists()  # still the store's catalog
    legacy.catalog.forget()
    monkeypatch.undo()
    assert legacy.version() == 1
    assert Accounts(legacy).list().height == len(old_rows(
        legacy.catalog.path.with_name("catalog.duckdb.bak"), "SELECT * FROM users"))


def test_two_processes_opening_an_old_store_migrate_it_once(legacy: Store) -> None:
    code = ("import sys; from data.results.store import Store; "
            "print(Store(sys.argv[1]).version())")
    runs = [subprocess.Popen([sys.executable, "-c", code, str(legacy.path)], cwd=ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(3)]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [out.strip() for out, _ in outputs] == ["1", "1", "1"], outputs
    assert len(audit.read(legacy)) == len(old_rows(
        legacy.catalog.path.with_name("catalog.duckdb.bak"), "SELECT * FROM audit"))
