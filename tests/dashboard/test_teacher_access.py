"""A signed-in teacher sees the students of their groups only, whatever the page is asked.

AppTest on a private copy of the tiny store: an LEA administrator's groups, one assigned to
the teacher. The teacher tries another student by the search box, by a query parameter and by
report links (a school's, the LEA's, another teacher's group); none of them shows anything of
a student outside the teacher's group.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from data.catalog.accounts import Accounts
from data.catalog.rosters import group_key
from data.results.store import Store
from queries.rosters import create_group
from queries.scope import Scope
from queries.spec import ReportSpec

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
PASSWORD = "correct horse battery staple"
TEACHER = "teacher@example.org"


class Class:
    """The school, its LEA, the teacher's students and another teacher's."""

    def __init__(self, store: Store) -> None:
        files = store.year_files()
        self.year = max(files)
        self.records = pl.read_parquet(files[self.year])
        on = self.records.drop_nulls("reporting_school_code")
        self.school = str(on.group_by("reporting_school_code").len().sort(
            ["len", "reporting_school_code"], descending=[True, False]).item(0, 0))
        here = on.filter(pl.col("reporting_school_code") == self.school)
        self.lea = str(here.item(0, "reporting_lea_code"))
        ssids = sorted(set(here.get_column("ssid")))
        self.mine, self.theirs = ssids[:6], ssids[6:12]
        accounts = Accounts(store)
        for email in (TEACHER, "other@example.org"):
            accounts.add(email, name="Teacher", role="teacher", password=PASSWORD,
                         schools=(self.school,))
        admin = Scope.lea(self.lea, pii=True)
        create_group(store, admin, name="Period 3", school_code=self.school, ssids=self.mine,
                     created_by="admin@example.org", users=[TEACHER])
        create_group(store, admin, name="Period 5", school_code=self.school,
                     ssids=self.theirs, created_by="admin@example.org",
                     users=["other@example.org"])

    def name_of(self, ssid: str) -> str:
        row = self.records.filter(pl.col("ssid") == ssid).row(0, named=True)
        return str(row["last_name"])


@pytest.fixture
def klass(store_copy: Store, monkeypatch: pytest.MonkeyPatch) -> Class:
    made = Class(store_copy)
    monkeypatch.setenv("ELPAC_STORE", str(store_copy.path))
    monkeypatch.delenv("ELPAC_SCOPE", raising=False)
    st.cache_data.clear()
    return made


def signed_in(params: dict[str, str] | None = None, page: str | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    at.text_input(key="auth_local_form_email").input(TEACHER)
    at.text_input(key="auth_local_form_password").input(PASSWORD)
    next(b for b in at.button if b.label == "Sign in").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    for key, value in (params or {}).items():
        at.query_params[key] = value
    if page:
        at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def everything_shown(at: AppTest) -> str:
    """Every text, table cell and metric on the page, as one string."""
    parts = [e.value for kind in ("markdown", "caption", "header", "subheader", "title",
                                  "info", "warning", "error", "success")
             for e in getattr(at, kind)]
    parts += [t.value.to_csv() for t in at.dataframe]
    parts += [t.value.to_csv() for t in at.table]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    return "\n".join(str(p) for p in parts)


def test_the_teacher_searches_their_students_only(klass: Class) -> None:
    at = signed_in(page="app_pages/students.py")
    at.radio(key="students_mode").set_value("search")
    at.text_input(key="students_text").input(klass.theirs[0]).run()
    assert not at.exception
    assert any("No student found" in i.value for i in at.info)
    # The message repeats what was typed; nothing else of the student appears.
    assert klass.name_of(klass.theirs[0]) not in everything_shown(at)
    assert not at.header
    at.text_input(key="students_text").input(klass.mine[0]).run()
    assert not at.exception
    assert klass.mine[0] in everything_shown(at)
    # Listing the school gives the teacher's students, no one else.
    at.radio(key="students_mode").set_value("list").run()
    shown = everything_shown(at)
    assert all(s in shown for s in klass.mine)
    assert not any(s in shown for s in klass.theirs)


def test_a_query_parameter_naming_another_student_shows_nothing_of_them(
        klass: Class) -> None:
    outsider = klass.theirs[0]
    at = signed_in({"ssid": outsider, "student": outsider, "students_text": outsider},
                   page="app_pages/students.py")
    assert outsider not in everything_shown(at)
    assert not at.header  # no profile open


@pytest.mark.parametrize("target", ["other group", "lea", "school comparison"])
def test_a_report_link_outside_the_teachers_groups_shows_no_other_student(
        klass: Class, target: str) -> None:
    if target == "other group":
        spec = ReportSpec(years=(klass.year,), org_level="group",
                          orgs=(group_key("Period 5", klass.school),))
    elif target == "lea":
        spec = ReportSpec(years=(klass.year,), org_level="lea", orgs=(klass.lea,),
                          breakdown="gender")
    else:
        spec = ReportSpec(years=(klass.year,), org_level="school", orgs=(klass.school,),
                          comparison=True)
    at = signed_in(spec.to_params(), page="app_pages/report.py")
    if target == "school comparison":
        # The school's row counts the teacher's students only; no LEA, county or state row.
        tables = [t.value for t in at.dataframe if "n_enrolled" in t.value.columns
                  or "Enrolled" in t.value.columns]
        assert tables, "the report table"
        enrolled = tables[0].iloc[:, list(tables[0].columns).index(
            "n_enrolled" if "n_enrolled" in tables[0].columns else "Enrolled")]
        mine = klass.records.filter(pl.col("ssid").is_in(klass.mine)
                                    & (pl.col("record_type") == "21")
                                    & (pl.col("reporting_school_code") == klass.school))
        assert enrolled.tolist() == [mine.height]
        # ... and says so: in the table, the title and the chart, never the school's name
        # alone (issue 12: a teacher's report read as the whole school's).
        names = tables[0].iloc[:, list(tables[0].columns).index("name")].tolist()
        assert [n.endswith("(your rosters' students only)") for n in names] == [True]
        assert any("your rosters' students only" in h.value for h in at.header)
        return
    assert not at.dataframe
    assert any("not one of yours" in m.value or "None of this report's organisations"
               in m.value for m in [*at.warning, *at.error]), [
        m.value for m in [*at.warning, *at.error]]


def test_at_a_glance_counts_the_teachers_students_and_says_so(klass: Class) -> None:
    at = signed_in()
    assert any("the students of your rosters at" in c.value for c in at.caption)
    enrolled = next(m for m in at.metric if m.label == "Students enrolled")
    mine = klass.records.filter(pl.col("ssid").is_in(klass.mine)
                                & (pl.col("record_type") == "21")
                                & (pl.col("reporting_school_code") == klass.school))
    assert int(str(enrolled.value).replace(",", "")) == mine.height


def test_score_reports_say_whose_they_are(klass: Class) -> None:
    at = signed_in(page="app_pages/score_reports.py")
    counted = [m.value for m in at.markdown if "reports**" in m.value]
    assert counted, everything_shown(at)
    assert "(your rosters' students only)" in counted[0]
