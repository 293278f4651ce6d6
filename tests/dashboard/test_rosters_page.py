"""AppTest of rosters: the Rosters page, the Students page's "save as a roster" and the
Custom report's Rosters level (dashboard/app_pages/rosters.py, students.py, report_form.py),
through the router, on a private copy of the tiny store.

Who is in a roster is checked in the catalog (``data.catalog.rosters.Rosters``, a reader);
which students may be in one and every report number are computed here with Polars straight
from the store's Parquet files, never through ``queries``. Widget keys keep their ``groups_``
names.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from data.catalog.accounts import Accounts
from data.catalog.rosters import Rosters, group_key
from data.synth.demo_accounts import DEMO_GROUP, create_demo_accounts
from queries.rosters import create_group, remove_group
from queries.scope import Scope
from queries.spec import ReportSpec
from tests.dashboard.conftest import ok, open_local

if TYPE_CHECKING:
    from data.results.store import Store

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
PAGE = "app_pages/rosters.py"
LEA = "19619690000000"
"""Meadow Acres Unified, the demo LEA administrator's LEA."""
SCHOOL = "19619693907856"
"""Carver Middle, its largest school (the demo site administrator's)."""
OTHER_SCHOOL = "19619696702811"
NEWEST = "2025-26"
TEACHER = "theo.teacher@example.org"
PASSWORD = "correct horse battery staple"
ADMIN_SCOPE = Scope.lea(LEA, pii=True)


@pytest.fixture
def store(store_copy: Store, monkeypatch: pytest.MonkeyPatch) -> Store:
    create_demo_accounts(store_copy)
    # The demo teacher's group holds every student of the school: start with no group.
    remove_group(store_copy, Scope.state(pii=True), group_key(DEMO_GROUP, SCHOOL))
    Accounts(store_copy).add(TEACHER, name="Theo Teacher", role="teacher", password=PASSWORD,
                             schools=(SCHOOL,))
    monkeypatch.setenv("ELPAC_STORE", str(store_copy.path))
    monkeypatch.delenv("ELPAC_SCOPE", raising=False)
    st.cache_data.clear()  # the "store has accounts" check is cached for a few seconds
    return store_copy


def pupils(store: Store, school: str = SCHOOL, year: str = NEWEST) -> list[str]:
    """SSIDs of a school's records in a year, read from the Parquet file."""
    frame = pl.read_parquet(store.year_files()[year], columns=["ssid", "reporting_school_code"])
    return sorted(set(frame.filter(pl.col("reporting_school_code") == school)
                      .get_column("ssid")))


def signed_in(role: str | None = None, *, email: str | None = None, page: str = PAGE
              ) -> AppTest:
    """The app signed in as a demo role's account (or ``email``, with the form) on ``page``."""
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    if email is None:
        at.button(key=f"auth_demo_{role}").click().run()
    else:
        at.text_input(key="auth_local_form_email").input(email)
        at.text_input(key="auth_local_form_password").input(PASSWORD)
        next(b for b in at.button if b.label == "Sign in").click()
        at.run()
    at.switch_page(page).run()
    return ok(at)


def new_roster(at: AppTest, name: str, ssids: str, *, school: str = SCHOOL,
              users: tuple[str, ...] = ()) -> AppTest:
    at.segmented_control(key="groups_view").set_value("new").run()
    at.text_input(key="groups_new_name").input(name)
    if at.selectbox(key="groups_new_school").value != school:
        at.selectbox(key="groups_new_school").select(school)
    at.text_area(key="groups_new_ssids").input(ssids)
    for user in users:
        at.multiselect(key="groups_new_users").select(user)
    at.run()
    at.button(key="groups_create").click().run()
    return ok(at)


def frame(at: AppTest, *columns: str) -> pl.DataFrame:
    """The one table on the page whose columns start with ``columns``."""
    (table,) = [t.value for t in at.dataframe
                if tuple(t.value.columns[:len(columns)]) == columns]
    return pl.from_pandas(table)


def rosters_table(at: AppTest) -> pl.DataFrame:
    return frame(at, "name", "school_name")


def members_table(at: AppTest) -> pl.DataFrame:
    return frame(at, "name", "ssid")


def messages(at: AppTest) -> tuple[list[str], list[str]]:
    return [s.value for s in at.success], [e.value for e in at.error]


def csv_of(rows: list[tuple[str, str, str, str]]) -> bytes:
    lines = ["name,school_cds,ssid,user_email", *(",".join(r) for r in rows)]
    return ("\r\n".join(lines) + "\r\n").encode()


# -- the Rosters page ----------------------------------------------------------------------

def test_an_lea_administrator_makes_a_roster_from_ssids(store: Store) -> None:
    kids = pupils(store)[:3]
    at = signed_in("lea_admin")
    assert [i.value for i in at.info] == [
        "No roster yet. Make one (New roster), upload a CSV, or save a Students list as a "
        "roster."]
    # Pasted any way a spreadsheet gives them: a line each, commas, spaces.
    at = new_roster(at, "Period 1", f"{kids[0]}\n{kids[1]}, {kids[2]}\n",
                   users=("site.admin@demo.example",))

    assert messages(at) == (["The roster “Period 1” at Carver Middle now has 3 students, "
                             "assigned to site.admin@demo.example."], [])
    assert Rosters(store).members(group_key("Period 1", SCHOOL)) == kids
    # The page opens on the list, the new roster chosen, with its students.
    assert at.segmented_control(key="groups_view").value == "list"
    shown = rosters_table(at).row(0, named=True)
    assert shown == {"name": "Period 1", "school_name": "Carver Middle", "school_code": SCHOOL,
                     "n_students": 3, "users": "site.admin@demo.example",
                     "created_by": "lea.admin@demo.example"}
    assert at.selectbox(key="groups_pick").value == group_key("Period 1", SCHOOL)
    listed = members_table(at)
    assert sorted(set(listed.get_column("ssid"))) == kids


def test_a_bad_ssid_is_named_and_nothing_is_made(store: Store) -> None:
    kids = pupils(store)
    elsewhere = pupils(store, OTHER_SCHOOL)[0]
    at = new_roster(signed_in("lea_admin"), "Period 2", f"{kids[0]}\n{elsewhere}\n12ab")

    successes, (error,) = messages(at)
    assert successes == []
    assert error.startswith("The roster was not made: 2 of the SSIDs cannot be in it.")
    assert (f"- SSID `{elsewhere}`: no student with this SSID at this school in the newest "
            "year") in error
    assert "- SSID `12ab`: not a 10-digit SSID" in error
    assert kids[0] not in error
    assert Rosters(store).list().height == 0
    # The form keeps what was typed, to correct it.
    assert at.segmented_control(key="groups_view").value == "new"
    assert at.text_input(key="groups_new_name").value == "Period 2"


def upload(at: AppTest, name: str, data: bytes) -> AppTest:
    at.segmented_control(key="groups_view").set_value("upload").run()
    uploader = next(u for u in at.get("file_uploader"))
    uploader.set_value((name, data, "text/csv")).run()
    at.button(key="groups_upload_load").click().run()
    return ok(at)


def test_a_csv_with_a_bad_row_loads_nothing(store: Store) -> None:
    kids = pupils(store)
    rows = [("Period 3", SCHOOL, kids[0], "site.admin@demo.example"),
            ("Period 3", SCHOOL, kids[1], ""),
            ("Period 3", SCHOOL, "99999", ""),
            ("Period 3", SCHOOL, kids[2], "nobody@demo.example")]
    at = upload(signed_in("lea_admin"), "bad.csv", csv_of(rows))

    assert [e.value for e in at.error] == [
        "Nothing was loaded from bad.csv: 2 problem(s) in 2 of its 4 rows. Fix them and "
        "upload the file again."]
    problems = frame(at, "row")
    assert problems.rows() == [
        (4, "ssid", "99999", "no student with this SSID at this school in the newest year"),
        (5, "user_email", "nobody@demo.example", "no account has this e-mail (elpac users add)")]
    assert Rosters(store).list().height == 0
    history = frame(at, "uploaded_at")
    assert history.select("uploaded_by", "file_name", "n_rows", "n_problems", "loaded").rows() == [
        ("lea.admin@demo.example", "bad.csv", 4, 2, False)]


def test_a_good_csv_loads_and_shows_in_the_history(store: Store) -> None:
    kids = pupils(store)[:4]
    rows = [("Period 4", SCHOOL, s, TEACHER if i == 0 else "") for i, s in enumerate(kids)]
    rows.append(("Reading club", SCHOOL, kids[0], ""))
    at = upload(signed_in("lea_admin"), "groups.csv", csv_of(rows))

    assert [s.value for s in at.success] == ["Loaded groups.csv: all 5 rows."]
    assert Rosters(store).members(group_key("Period 4", SCHOOL)) == kids
    assert Rosters(store).members(group_key("Reading club", SCHOOL)) == kids[:1]
    history = frame(at, "uploaded_at")
    assert history.select("file_name", "n_rows", "n_problems", "loaded").rows() == [
        ("groups.csv", 5, 0, True)]
    # A fresh, empty uploader; the list has both groups.
    assert [u.key for u in at.get("file_uploader")] == ["groups_upload_1"]
    at.segmented_control(key="groups_view").set_value("list").run()
    assert rosters_table(ok(at)).select("name", "n_students", "users").rows() == [
        ("Period 4", 4, TEACHER), ("Reading club", 1, "")]


def test_a_teacher_sees_only_their_rosters_and_uses_only_their_students(store: Store
                                                                         ) -> None:
    kids = pupils(store)
    mine, theirs = kids[:3], kids[3:6]
    create_group(store, ADMIN_SCOPE, name="Period 1", school_code=SCHOOL, ssids=mine,
                 created_by="lea.admin@demo.example", users=[TEACHER])
    create_group(store, ADMIN_SCOPE, name="Period 2", school_code=SCHOOL, ssids=theirs,
                 created_by="lea.admin@demo.example", users=["site.admin@demo.example"])
    at = signed_in(email=TEACHER)

    assert rosters_table(at).select("name", "n_students").rows() == [("Period 1", 3)]
    listed = members_table(at)
    assert sorted(set(listed.get_column("ssid"))) == mine
    # No upload, no assigning or deleting.
    assert at.segmented_control(key="groups_view").options == ["Rosters", "New roster"]
    assert not [b for b in at.button if b.key in ("groups_assign", "groups_delete")]

    # A student of another teacher's group is refused, and nothing is made.
    at = new_roster(at, "Small group", f"{mine[0]}\n{theirs[0]}")
    successes, (error,) = messages(at)
    assert successes == []
    assert (f"- SSID `{theirs[0]}`: not one of your students (a teacher puts only "
            "students of their rosters in a roster)") in error
    assert mine[0] not in error
    # Nor can they join another teacher's group by its name (it would give them its students).
    at = new_roster(at, "Period 2", mine[0])
    assert messages(at) == ([], [f"The roster was not made: a group named 'Period 2' already "
                                 f"exists at school {SCHOOL}: choose another name."])
    assert Rosters(store).members(group_key("Period 2", SCHOOL)) == theirs
    assert set(Rosters(store).list().get_column("name")) == {"Period 1", "Period 2"}

    # Their own students make a group of theirs.
    at = new_roster(at, "Small group", f"{mine[0]} {mine[1]}")
    assert messages(at) == (["The roster “Small group” at Carver Middle now has 2 students, "
                             f"assigned to {TEACHER}."], [])
    made = Rosters(store).list().filter(pl.col("name") == "Small group").row(0, named=True)
    assert (made["n_students"], made["users"], made["created_by"]) == (2, TEACHER, TEACHER)


def test_a_teacher_without_rosters_is_told_whom_to_ask(store: Store) -> None:
    at = signed_in(email=TEACHER)
    assert [i.value for i in at.info] == [
        "No roster is assigned to you yet, so there are no students to show or to put in a "
        "roster. Ask your LEA administrator to give you your class rosters."]
    assert not at.dataframe


def test_an_administrator_assigns_unassigns_and_deletes(store: Store) -> None:
    kids = pupils(store)[:2]
    key = group_key("Period 5", SCHOOL)
    create_group(store, ADMIN_SCOPE, name="Period 5", school_code=SCHOOL, ssids=kids,
                 created_by="lea.admin@demo.example")
    at = signed_in("lea_admin")
    # Accounts of the LEA that see students: not the aggregate-only board member.
    offered = at.multiselect(key="groups_assign_users").options
    assert any(TEACHER in o for o in offered)
    assert not any("board@demo.example" in o for o in offered)

    at.multiselect(key="groups_assign_users").select(TEACHER).run()
    at.button(key="groups_assign").click().run()
    ok(at)
    assert Rosters(store).members_of(TEACHER) == [(SCHOOL, s) for s in kids]
    assert rosters_table(at).get_column("users").to_list() == [TEACHER]

    at.selectbox(key="groups_unassign_user").select(TEACHER).run()
    at.button(key="groups_unassign").click().run()
    assert Rosters(store).members_of(TEACHER) == []

    # Deleting asks first; Cancel keeps the group.
    at.button(key="groups_delete").click().run()
    assert [w.value for w in ok(at).warning][0].startswith("Delete Period 5 (Carver Middle)?")
    at.button(key="groups_delete_no").click().run()
    assert Rosters(store).members(key) == kids
    at.button(key="groups_delete").click().run()
    at.button(key="groups_delete_yes").click().run()
    assert Rosters(store).list().height == 0
    assert [s.value for s in ok(at).success] == [
        "The roster “Period 5” was deleted; its students' results stay in the store."]


# -- the Students page -------------------------------------------------------------------

def test_the_students_list_is_saved_as_a_roster(monkeypatch: pytest.MonkeyPatch,
                                               store_copy: Store) -> None:
    at = open_local(monkeypatch, store_copy.path, "app_pages/students.py",
               {"leas": [LEA], "pii": True})
    assert at.selectbox(key="ctx_year").value == NEWEST
    at.radio(key="students_mode").set_value("list").run()
    at.selectbox(key="students_school").select(SCHOOL).run()
    listed = pl.from_pandas(next(t.value for t in ok(at).dataframe
                                 if t.value.columns[0] == "name"))
    wanted = sorted(set(listed.get_column("ssid")))
    assert wanted == pupils(store_copy)
    at.text_input(key="students_group_name").input("Carver ELs").run()
    at.button(key="students_group_save").click().run()

    assert messages(ok(at)) == ([f"The roster “Carver ELs” at Carver Middle now has "
                                 f"{len(wanted)} students."], [])
    assert Rosters(store_copy).members(group_key("Carver ELs", SCHOOL)) == wanted


# -- the Custom report ---------------------------------------------------------------------

def expected(store: Store, ssids: list[str], year: str, lea: str | None = None
             ) -> tuple[int, int, int]:
    """Enrolled, tested and with scores: the students' Summative records of ``year``."""
    rows = pl.read_parquet(store.year_files()[year]).filter(
        pl.col("ssid").is_in(ssids) & (pl.col("record_type") == "21") & pl.col("is_reported")
        & (True if lea is None else pl.col("reporting_lea_code") == lea))
    return (rows.height, rows.filter(pl.col("is_tested")).height,
            rows.filter(pl.col("include_indicator") == "Y").height)


@pytest.mark.parametrize("scope", [None, {"leas": [LEA], "pii": True}],
                         ids=["statewide", "lea"])
def test_a_report_on_a_roster(monkeypatch: pytest.MonkeyPatch, store_copy: Store,
                                     scope: dict[str, Any] | None) -> None:
    kids = pupils(store_copy)
    key = group_key("Period 1", SCHOOL)
    create_group(store_copy, ADMIN_SCOPE, name="Period 1", school_code=SCHOOL, ssids=kids,
                 created_by="lea.admin@demo.example")
    year = "2023-24"  # some of the group were at other schools, or not yet in the LEA
    at = open_local(monkeypatch, store_copy.path, "app_pages/report.py", scope)
    assert at.selectbox(key="report_org_level").options[-1] == "Rosters"
    at.selectbox(key="report_org_level").select("group").run()
    assert at.multiselect(key="report_orgs").options == ["Period 1 (Carver Middle)"]
    at.multiselect(key="report_orgs").select(key)
    at.multiselect(key="report_years").set_value([year])
    at.run()
    at.button(key="report_run_button").click().run()

    table = pl.from_pandas(ok(at).dataframe[0].value)
    row = table.row(0, named=True)
    assert (row["name"], row["cds_code"], row["school_year"]) == ("Period 1", SCHOOL, year)
    assert table.height == 1
    want = expected(store_copy, kids, year, None if scope is None else LEA)
    assert (row["n_enrolled"], row["n_tested"], row["n_scored"]) == want
    assert want[0] < len(kids)

    # The link restores the report (a new session with the address).
    link = at.query_params["report"]
    spec = ReportSpec.from_params({"report": link if isinstance(link, str) else link[0]})
    assert (spec.org_level, spec.orgs) == ("group", (key,))
    again = AppTest.from_file(str(APP), default_timeout=60)
    again.query_params["report"] = spec.to_params()["report"]
    again.switch_page("app_pages/report.py").run()
    assert ok(again).session_state["report_org_level"] == "group"
    assert pl.from_pandas(again.dataframe[0].value).row(0) == table.row(0)

    # So does a saved report, opened after the builder moved elsewhere.
    at.text_input(key="report_save_name").input("Period 1, 2023-24").run()
    at.button(key="report_save").click().run()
    at.selectbox(key="report_org_level").select("lea").run()
    at.button(key="report_saved_open").click().run()
    assert (ok(at).session_state["report_org_level"], at.session_state["report_orgs"]) == (
        "group", [key])
    assert pl.from_pandas(at.dataframe[0].value).row(0) == table.row(0)


def matched(store: Store, ssids: list[str], years: tuple[str, str]) -> int:
    """Students with an overall level in both years (Summative, reported, with scores)."""
    def scored(year: str) -> pl.DataFrame:
        return pl.read_parquet(store.year_files()[year]).filter(
            pl.col("ssid").is_in(ssids) & (pl.col("record_type") == "21") & pl.col("is_reported")
            & (pl.col("include_indicator") == "Y") & pl.col("overall_level").is_not_null()
        ).select("ssid").unique()
    return scored(years[0]).join(scored(years[1]), on="ssid").height


def test_rosters_over_years_have_no_cohort_and_stay_apart(monkeypatch: pytest.MonkeyPatch,
                                                         store_copy: Store) -> None:
    here, there = pupils(store_copy), pupils(store_copy, OTHER_SCHOOL)[:12]
    groups = {group_key("Period 1", SCHOOL): here[:12], group_key("Period 2", SCHOOL): here[12:],
              group_key("Period 1", OTHER_SCHOOL): there}
    for key, kids in groups.items():
        name, school = key.split(":")[1], key.split(":")[0]
        create_group(store_copy, ADMIN_SCOPE, name=name, school_code=school, ssids=kids,
                     created_by="lea.admin@demo.example")
    at = open_local(monkeypatch, store_copy.path, "app_pages/report.py")
    at.selectbox(key="report_org_level").select("group").run()
    at.multiselect(key="report_orgs").set_value(list(groups))
    at.session_state["report_population"] = "cohort"
    at.segmented_control(key="report_type").set_value("longitudinal")
    at.multiselect(key="report_years").set_value(["2024-25", NEWEST])
    at.run()
    # No Students (cohort) choice for groups; the report is of all their students.
    assert not [s for s in ok(at).segmented_control if s.key == "report_population"]
    at.button(key="report_run_button").click().run()
    spec = ReportSpec.from_params({"report": ok(at).session_state["report_run_params"]})
    assert (spec.org_level, spec.cohort, spec.longitudinal) == ("group", False, True)

    table = pl.from_pandas(at.dataframe[0].value)
    newest = table.filter(pl.col("school_year") == NEWEST)
    assert newest.select("name", "cds_code", "n_enrolled").sort("cds_code", "name").rows() == [
        ("Period 1", SCHOOL, expected(store_copy, here[:12], NEWEST)[0]),
        ("Period 2", SCHOOL, expected(store_copy, here[12:], NEWEST)[0]),
        ("Period 1", OTHER_SCHOOL, expected(store_copy, there, NEWEST)[0])]
    # The chart's series are told apart: the two Period 1 by their school's code.
    chart = json.loads(at.get("plotly_chart")[0].proto.spec)
    series = {x for trace in chart["data"] for x in trace["x"][0]}
    assert series == {f"Period 1 (group, {SCHOOL})", "Period 2",
                      f"Period 1 (group, {OTHER_SCHOOL})"}

    # Level transitions of each group, two of one school (one CDS code) kept apart.
    picker = at.selectbox(key="report_transition_pick")
    labels = list(picker.options)  # as shown (AppTest formats them)
    assert sorted(labels) == sorted(f"{k.split(':')[1]} ({k[:14]}): 2024-25 to {NEWEST}"
                                    for k in groups)
    for i, label in enumerate(labels):
        key = next(k for k in groups
                   if label.startswith(f"{k.split(':')[1]} ({k[:14]})"))
        picker.set_value(i).run()
        moves = frame(ok(at), "from_level_name")
        assert moves.get_column("n_students").sum() == matched(
            store_copy, groups[key], ("2024-25", NEWEST)), label
        picker = at.selectbox(key="report_transition_pick")


def test_a_new_roster_takes_the_school_chosen_when_the_button_is_pressed(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # The button's arguments carry the school of the run that drew it; a click right after
    # choosing another school must still make the group at the chosen one (the name and
    # SSIDs are read at the click too). Seen in the browser: SSIDs refused for the old school.
    from dashboard import roster_actions as group_actions

    made: dict[str, object] = {}

    def record(_store: object, _scope: object, **kwargs: object) -> list[str]:
        made.update(kwargs)
        return ["1000000001"]

    monkeypatch.setattr(group_actions, "create_group", record)
    monkeypatch.setattr(group_actions.cached, "store", lambda: None)
    monkeypatch.setattr(group_actions.identity, "who", lambda: "lea@x.org")
    st.session_state.clear()
    st.session_state.update({"groups_new_school": "19619690000002",
                             "groups_new_name": "Period 3", "groups_new_ssids": "1000000001"})
    group_actions.create(Scope.state(), "groups_new", "19619690000001", "Old School",
                         school_names={"19619690000002": "New School"})
    assert made["school_code"] == "19619690000002"
    assert made["name"] == "Period 3"
    assert "at New School now has 1 student" in str(st.session_state[group_actions.NOTICE])
    st.session_state.clear()
