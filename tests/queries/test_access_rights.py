"""Every permission decision is the query function's (queries/access.py and its users).

A role that may not do something is refused *by the query function*, with a sentence, and
nothing is written: hiding a button or a page is not access control (STYLE.md). Checked on a
private copy of the tiny demo store with its demo accounts (one per role, at the demo LEA),
and what each call wrote is read back from the catalog and the store's files.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import polars as pl
import pytest
from sqlalchemy import text

from data.catalog import audit, portal_credentials
from data.catalog.accounts import Account, Accounts
from data.catalog.ssr_languages import overrides
from data.results.store import Store
from data.synth.demo_accounts import create_demo_accounts
from queries.access import LOADING_ROLES, User, user_of
from queries.audit import read_audit
from queries.data_loads import Upload, check_uploads, load_uploads
from queries.district_export import build_district_export
from queries.portal_credentials import make_portal_credential, read_portal_credential
from queries.saved_reports import delete_saved_report, list_saved_reports, save_report
from queries.scope import Scope, ScopeError
from queries.snapshot import Snapshot
from queries.ssdf_extract import build_ssdf_extract
from queries.ssr_languages import ENGLISH_ONLY, set_ssr_languages

if TYPE_CHECKING:
    from pathlib import Path

LEA = "19619690000000"
"""Meadow Acres Unified: the demo accounts' LEA (county 19)."""
OTHER_LEA = "19670200000000"
"""Another LEA of the same county file."""


@pytest.fixture
def store(store_copy: Store) -> Store:
    made = create_demo_accounts(store_copy)
    assert {a.role: a.leas for a in made}["lea_admin"] == (LEA,)
    with store_copy.catalog.write() as con:
        con.execute(text("DELETE FROM audit"))  # what making the demo accounts wrote
    return store_copy


def demo_user(store: Store, role: str) -> User:
    """The demo account of a role, as the dashboard and the CLI's ``--user`` act as it."""
    (account,) = [a for a in (Accounts(store).get(e) for e in Accounts(store).list()["email"])
                  if a is not None and a.role == role]
    return user_of(account, store)


def other_lea_admin() -> User:
    return user_of(Account("other@x.org", "Other", "lea_admin", leas=(OTHER_LEA,)))


def test_rights_follow_the_role(store: Store) -> None:
    for role in ("state_admin", "lea_admin", "site_admin", "teacher", "viewer"):
        user = demo_user(store, role)
        assert (user.loads, user.audits) == (role in LOADING_ROLES,) * 2, role
        assert user.name == user.email


# -- data-file loads ------------------------------------------------------------------------

def county_file(tiny_files: dict[str, list[Path]]) -> Path:
    """The newest year's file of county 19: the demo LEA and three others."""
    return next(p for p in tiny_files["2025-26"] if p.name.startswith("County19"))


@pytest.mark.parametrize("role", ["site_admin", "teacher", "viewer"])
def test_only_lea_coordinators_load_files(store: Store, tiny_files: dict[str, list[Path]],
                                          digest: object, role: str) -> None:
    source = county_file(tiny_files)
    upload = [Upload(source.name, source.read_bytes())]
    before = digest(store.path)  # type: ignore[operator]
    for call in (check_uploads, load_uploads):
        with pytest.raises(ScopeError, match="for LEA ELPAC coordinators"):
            call(upload, store=store, user=demo_user(store, role))
    assert digest(store.path) == before  # type: ignore[operator]


def test_an_lea_coordinator_loads_only_their_lea(store: Store,
                                                 tiny_files: dict[str, list[Path]],
                                                 tmp_path: Path) -> None:
    # A new store (the demo's has this file already): the first load of the LEA's records.
    source, empty = county_file(tiny_files), Store(tmp_path / "new")
    result = load_uploads([Upload(source.name, source.read_bytes())], store=empty,
                          user=demo_user(store, "lea_admin"))
    assert not result.loaded
    assert result.file_problems == [
        f"{source.name}: it holds records of LEA 19670200000000, 19701130000000, "
        "19767330000000, which your account does not cover, so it was not loaded. Load only "
        "your own LEA's files, or ask your dashboard administrator to add those LEAs to your "
        "account."]
    assert not empty.path.exists()


# -- the parent-portal credential -----------------------------------------------------------

@pytest.mark.parametrize("role", ["viewer", "teacher", "site_admin"])
def test_only_lea_coordinators_make_the_portal_credential(store: Store, role: str) -> None:
    user = demo_user(store, role)
    with pytest.raises(ScopeError, match="The parent-portal credential is for LEA ELPAC"):
        make_portal_credential(store, user, LEA)
    with pytest.raises(ScopeError, match="The parent-portal credential is for LEA ELPAC"):
        read_portal_credential(store, user, LEA)
    assert portal_credentials.credential_info(store, LEA) is None


def test_an_lea_coordinator_makes_only_their_leas_credential(store: Store) -> None:
    with pytest.raises(ScopeError, match=f"for your own LEAs: LEA {LEA} is not in your access"):
        make_portal_credential(store, other_lea_admin(), LEA)
    assert portal_credentials.credential_info(store, LEA) is None

    admin = demo_user(store, "lea_admin")
    token = make_portal_credential(store, admin, LEA)
    assert portal_credentials.verify(store, token) == LEA
    info = read_portal_credential(store, admin, LEA)
    assert info is not None
    assert info.created_by == "lea.admin@demo.example"
    # The state administrator covers every LEA.
    assert read_portal_credential(store, demo_user(store, "state_admin"), LEA) == info


# -- SSR language overrides -----------------------------------------------------------------

@pytest.fixture
def ssr_student(store: Store) -> tuple[str, str]:
    """(SSID, school year) of a Summative SSR enrolled in the demo LEA, in the newest year."""
    year = max(store.year_files())
    rows = pl.read_parquet(store.year_files()[year]).filter(
        (pl.col("record_type") == "21") & pl.col("is_ssr_eligible").fill_null(False)
        & pl.col("overall_scale_score").is_not_null() & (pl.col("enrolled_lea_code") == LEA)
        & (pl.col("reporting_lea_code") == LEA))
    return str(rows.sort("ssid").item(0, "ssid")), year


@pytest.mark.parametrize("role", ["teacher", "viewer", "site_admin"])
def test_only_lea_coordinators_set_ssr_languages(store: Store, ssr_student: tuple[str, str],
                                                 role: str) -> None:
    ssid, year = ssr_student
    with pytest.raises(ScopeError, match="Changing a student's SSR languages is for LEA"):
        set_ssr_languages(Snapshot(store), demo_user(store, role), ssid, year=year,
                          test="summative", languages="SPA")
    assert overrides(store) == {}


def test_an_lea_coordinator_sets_only_their_students_ssr_languages(
        store: Store, ssr_student: tuple[str, str]) -> None:
    ssid, year = ssr_student
    snap = Snapshot(store)
    with pytest.raises(ScopeError, match=f"No Summative ELPAC Student Score Report for SSID "
                                         f"{ssid} in {year} in your access"):
        set_ssr_languages(snap, other_lea_admin(), ssid, year=year, test="summative",
                          languages="SPA")
    assert overrides(store) == {}

    set_ssr_languages(snap, demo_user(store, "lea_admin"), ssid, year=year, test="summative",
                      languages=ENGLISH_ONLY)
    assert overrides(store) == {(ssid, year, "21"): ("ENG",)}


# -- audit reads ----------------------------------------------------------------------------

def test_an_lea_administrator_reads_only_their_leas_entries(store: Store) -> None:
    for who in ("stranger@other.org", "state.admin@demo.example", "site.admin@demo.example",
                "lea.admin@demo.example"):
        audit.record(store, who, "export", detail="x.csv", n_rows=1,
                     at=datetime(2026, 6, 1, 9))
    admin = demo_user(store, "lea_admin")

    seen = read_audit(store, admin)
    assert set(seen.get_column("user_email")) == {"lea.admin@demo.example",
                                                  "site.admin@demo.example"}
    with pytest.raises(ScopeError, match="stranger@other.org are not yours to read"):
        read_audit(store, admin, users=["stranger@other.org"])
    mine = read_audit(store, admin, users=["site.admin@demo.example"])
    assert mine.get_column("user_email").to_list() == ["site.admin@demo.example"]
    # The state administrator reads everyone's.
    assert read_audit(store, demo_user(store, "state_admin")).height == 4


@pytest.mark.parametrize("role", ["site_admin", "teacher", "viewer"])
def test_others_read_no_audit_entry(store: Store, role: str) -> None:
    audit.record(store, "lea.admin@demo.example", "export", detail="x.csv", n_rows=1)
    with pytest.raises(ScopeError, match="The audit log is for LEA and state administrators"):
        read_audit(store, demo_user(store, role))


# -- saved reports --------------------------------------------------------------------------

def test_saved_reports_are_their_owners_only(store: Store) -> None:
    ana = User("ana@x.org", Scope.lea(LEA, pii=True), email="ana@x.org")
    bo = User("bo@x.org", Scope.lea(LEA, pii=True), email="bo@x.org")
    nobody = User("local:me", Scope.state(pii=True))  # a local install: nobody signed in
    save_report(store, ana, "Board", '{"a": 1}')

    assert list_saved_reports(store, bo).height == 0
    delete_saved_report(store, bo, "Board")  # someone else's name: nothing of Ana's goes
    save_report(store, bo, "Board", '{"b": 2}')
    assert list_saved_reports(store, ana).select("name", "params").rows() == [
        ("Board", '{"a": 1}')]
    assert list_saved_reports(store, bo).select("name", "params").rows() == [
        ("Board", '{"b": 2}')]
    assert list_saved_reports(store, nobody).height == 0


# -- exports --------------------------------------------------------------------------------

@pytest.fixture
def out(tmp_path: Path) -> Path:
    """An empty folder for export files (the store copy is in ``tmp_path`` too)."""
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def test_a_viewer_exports_no_student_record(store: Store, out: Path) -> None:
    snap, viewer = Snapshot(store), demo_user(store, "viewer").scope
    year = snap.years[-1]
    with pytest.raises(ScopeError, match="Student-level exports need an account that may see"):
        build_district_export(snap, out / "d.csv", scope=viewer, year=year, lea=LEA)
    with pytest.raises(ScopeError, match="Student-level exports need an account that may see"):
        build_ssdf_extract(snap, out / "s.csv", scope=viewer, years=[year], lea=LEA)
    assert list(out.iterdir()) == []


def test_an_lea_administrator_exports_only_their_lea(store: Store, out: Path) -> None:
    snap, admin = Snapshot(store), demo_user(store, "lea_admin").scope
    year = snap.years[-1]
    with pytest.raises(ScopeError, match=f"LEA {OTHER_LEA} is not in your access"):
        build_district_export(snap, out / "d.csv", scope=admin, year=year, lea=OTHER_LEA)
    with pytest.raises(ScopeError, match=f"LEA {OTHER_LEA} is not in your access"):
        build_ssdf_extract(snap, out / "s.csv", scope=admin, years=[year], lea=OTHER_LEA)
    assert list(out.iterdir()) == []
