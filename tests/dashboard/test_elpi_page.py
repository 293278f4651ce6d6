"""AppTest of the English learner progress page on the tiny demo store.

The page's numbers are the queries' (``queries.elpi_*``, tested against independent
computations in ``tests/queries/test_elpi_*.py``); here: that the page shows them for the
sidebar's organisation, its schools and groups, the matrix and the student lists; that an
account without student records gets neither student mode; that a teacher's page counts the
students of their roster only; and that an LEA coordinator's local minimums are saved.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from data.catalog.accounts import Accounts
from data.results.store import Store
from queries.elpi_orgs import read_elpi
from queries.elpi_reclass import read_local_minimums
from queries.elpi_students import read_elpi_students
from queries.rosters import create_group
from queries.scope import Scope
from queries.snapshot import Snapshot
from tests.dashboard.conftest import ok

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
PAGE = "app_pages/elpi.py"
PASSWORD = "correct horse battery staple"


def largest_lea(store: Path) -> tuple[str, str]:
    snap = Snapshot(store)
    year = snap.years[-1]
    records = pl.read_parquet(snap.year_files[year])
    lea = records.group_by("reporting_lea_code").len().sort(
        ["len", "reporting_lea_code"], descending=[True, False]).item(0, 0)
    return year, str(lea)


def open_page(monkeypatch: pytest.MonkeyPatch, store: Path, scope: dict | None) -> AppTest:
    monkeypatch.setenv("ELPAC_STORE", str(store))
    if scope is None:
        monkeypatch.delenv("ELPAC_SCOPE", raising=False)
    else:
        monkeypatch.setenv("ELPAC_SCOPE", json.dumps(scope))
    at = AppTest.from_file(str(APP), default_timeout=120).run()
    at.switch_page(PAGE).run()
    return ok(at)


TABLES = {  # AppTest gives a table no key: each is told by a column of its own
    "elpi_schools": lambda c: "cds_code" in c and "student_group" not in c,
    "elpi_groups": lambda c: "student_group" in c,
    "elpi_matrix": lambda c: "Last year" in c,
    "elpi_students_table": lambda c: "outcome_name" in c,
    "elpi_reclass_summary": lambda c: "n_meeting_criterion_1" in c,
    "elpi_reclass_students": lambda c: "meets_criterion_1" in c,
}


def frame_of(at: AppTest, key: str) -> pl.DataFrame:
    found = [d for d in at.dataframe if TABLES[key](list(d.value.columns))]
    assert len(found) == 1, [list(d.value.columns) for d in at.dataframe]
    return pl.from_pandas(found[0].value)


def test_an_lea_sees_its_indicator_schools_groups_and_matrix(monkeypatch, tiny_store_path):
    year, lea = largest_lea(tiny_store_path)
    at = open_page(monkeypatch, tiny_store_path, {"leas": [lea], "pii": True})
    assert [t.value for t in at.title] == ["English learner progress"]
    expected = read_elpi(Snapshot(tiny_store_path), year, scope=Scope.lea(lea, pii=True),
                         lea=lea, suppress=False)
    top = expected.filter((pl.col("org_level") == "lea") & (pl.col("group_id") == "001")
                          ).row(0, named=True)
    summary = " ".join(m.value for m in at.markdown)
    assert f"of {top['n_counted']:,} counted students made progress ({top['rate']:.1f} %)" in (
        summary)
    assert top["status"] in summary
    gauge = " ".join(h.proto.body for h in at.get("html"))
    assert (f"Colour {top['color']}" if top["color"] else "No colour") in gauge
    schools = frame_of(at, "elpi_schools")
    want = expected.filter((pl.col("org_level") == "school") & (pl.col("group_id") == "001"))
    assert sorted(schools.get_column("cds_code")) == sorted(want.get_column("school_code"))
    assert schools.get_column("n_counted").sum() <= top["n_counted"]
    groups = frame_of(at, "elpi_groups")
    assert groups.height == expected.filter(pl.col("org_level") == "lea").height
    matrix = frame_of(at, "elpi_matrix")
    assert matrix.height == 6
    summative = read_elpi_students(Snapshot(tiny_store_path), year,
                                   scope=Scope.lea(lea, pii=True), lea=lea).filter(
        pl.col("is_counted") & (pl.col("test") == "21"))
    assert int(matrix.drop("Last year").sum_horizontal().sum()) == summative.height


def test_the_students_behind_it(monkeypatch, tiny_store_path):
    year, lea = largest_lea(tiny_store_path)
    at = open_page(monkeypatch, tiny_store_path, {"leas": [lea], "pii": True})
    at.segmented_control(key="elpi_mode").set_value("students").run()
    ok(at)
    at.radio(key="elpi_watch").set_value("declined").run()
    ok(at)
    declined = read_elpi_students(Snapshot(tiny_store_path), year,
                                  scope=Scope.lea(lea, pii=True), lea=lea).filter(
        pl.col("outcome") == "declined")
    shown = frame_of(at, "elpi_students_table")
    assert sorted(shown.get_column("ssid")) == sorted(declined.get_column("ssid"))
    assert set(shown.get_column("outcome_name")) <= {"Declined"}


def test_aggregate_only_accounts_get_no_student_modes(monkeypatch, tiny_store_path):
    _, lea = largest_lea(tiny_store_path)
    at = open_page(monkeypatch, tiny_store_path, {"leas": [lea], "pii": False})
    assert at.segmented_control(key="elpi_mode").options == ["Progress indicator"]
    assert frame_of(at, "elpi_schools").height > 0


def test_reclassification_and_local_minimums(monkeypatch, store_copy: Store):
    year, lea = largest_lea(store_copy.path)
    at = open_page(monkeypatch, store_copy.path, None)  # the operator of a local install
    at.selectbox(key="ctx_lea").select(lea).run()
    at.segmented_control(key="elpi_mode").set_value("reclassification").run()
    ok(at)
    summary = frame_of(at, "elpi_reclass_summary")
    candidates = frame_of(at, "elpi_reclass_students")
    assert summary.get_column("n_meeting_criterion_1").sum() == candidates.height
    assert candidates.get_column("meets_criterion_1").all()
    assert any("no additional sub-scores" in i.value for i in at.info)
    at.selectbox(key="elpi_min_reading").set_value(2)
    next(b for b in at.get("form_submit_button") if "Save" in b.label).click()
    at.run()
    ok(at)
    assert read_local_minimums(store_copy, lea) == {"reading": 2}
    assert year in Snapshot(store_copy.path).years


def test_a_teacher_counts_their_roster_only(monkeypatch, store_copy: Store):
    year, lea = largest_lea(store_copy.path)
    records = pl.read_parquet(store_copy.year_files()[year]).filter(
        (pl.col("reporting_lea_code") == lea) & pl.col("reporting_school_code").is_not_null())
    school = str(records.group_by("reporting_school_code").len().sort(
        ["len", "reporting_school_code"], descending=[True, False]).item(0, 0))
    mine = sorted(set(records.filter(pl.col("reporting_school_code") == school)
                      .get_column("ssid")))[:8]
    Accounts(store_copy).add("t@example.org", name="T", role="teacher", password=PASSWORD,
                             schools=(school,))
    create_group(store_copy, Scope.lea(lea, pii=True), name="Period 1", school_code=school,
                 ssids=mine, created_by="admin@example.org", users=["t@example.org"])
    monkeypatch.setenv("ELPAC_STORE", str(store_copy.path))
    monkeypatch.delenv("ELPAC_SCOPE", raising=False)
    at = AppTest.from_file(str(APP), default_timeout=120).run()
    at.text_input(key="auth_local_form_email").input("t@example.org")
    at.text_input(key="auth_local_form_password").input(PASSWORD)
    next(b for b in at.button if b.label == "Sign in").click()
    at.run()
    at.switch_page(PAGE).run()
    ok(at)
    assert any("the students of your rosters" in c.value for c in at.caption)
    teacher = Scope(schools=(school,), ssids=tuple(mine), pii=True)
    expected = read_elpi(Snapshot(store_copy.path), year, scope=teacher, lea=lea,
                         suppress=False).filter(pl.col("group_id") == "001").row(0, named=True)
    assert expected["n_counted"] <= len(mine)
    at.segmented_control(key="elpi_mode").set_value("students").run()
    at.radio(key="elpi_watch").set_value("cell").run()
    ok(at)
    every = read_elpi_students(Snapshot(store_copy.path), year, scope=teacher)
    assert set(every.get_column("ssid")) <= set(mine)
    shown = frame_of(at, "elpi_students_table")
    assert set(shown.get_column("ssid")) <= set(mine)
