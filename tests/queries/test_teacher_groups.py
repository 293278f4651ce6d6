"""Teachers see the students of their groups only; groups are report organisations.

On a private copy of the tiny demo store: an LEA administrator makes groups at the busiest
school and assigns one to a teacher. Every number is checked against a count made here from
the Parquet records (ELPAC.md §4: enrolled = every counted record, tested with scores =
``IncludeIndicator`` Y; §7: SSR-eligible students).
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from data.catalog.accounts import Accounts
from data.catalog.rosters import group_key
from data.problems import InputError
from data.results.store import Store
from queries.access import scope_of
from queries.district_export import read_district_results
from queries.longitudinal import read_longitudinal, read_transitions
from queries.report_size import estimate_report_size
from queries.reports import read_report
from queries.research import research_rows
from queries.rosters import (
    assign_group,
    create_group,
    group_students,
    import_groups,
    remove_group,
    visible_groups,
)
from queries.scope import Scope, ScopeError
from queries.snapshot import Snapshot
from queries.spec import ReportSpec
from queries.ssdf_extract import read_ssdf_records
from queries.ssr import read_ssr_status
from queries.students import find_students, read_student

TEACHER = "teacher@x.org"
OTHER = "other.teacher@x.org"
PASSWORD = "a-long-enough-password"


class World:
    """The store, the school, its LEA, the groups and their students."""

    def __init__(self, path: Path) -> None:
        self.store = Store(path)
        self.snap = Snapshot(self.store)
        self.year = max(self.snap.years)
        self.records = pl.read_parquet(self.snap.year_files[self.year]).with_columns(
            pl.lit(self.year).alias("school_year"))
        on = self.records.drop_nulls("reporting_school_code")
        self.school = str(on.group_by("reporting_school_code").len().sort(
            ["len", "reporting_school_code"], descending=[True, False]).item(0, 0))
        here = on.filter(pl.col("reporting_school_code") == self.school)
        self.lea = str(here.item(0, "reporting_lea_code"))
        self.students = sorted(set(here.get_column("ssid")))
        self.period3 = self.students[: len(self.students) // 2]
        self.rest = self.students[len(self.students) // 2:]
        self.admin = Scope.lea(self.lea, pii=True)
        accounts = Accounts(self.store)
        for email in (TEACHER, OTHER):
            accounts.add(email, name="T", role="teacher", password=PASSWORD,
                         schools=(self.school,))
        create_group(self.store, self.admin, name="Period 3", school_code=self.school,
                     ssids=self.period3, created_by="admin@x.org", users=[TEACHER])
        create_group(self.store, self.admin, name="Period 5", school_code=self.school,
                     ssids=self.rest, created_by="admin@x.org", users=[OTHER])
        self.key3 = group_key("Period 3", self.school)
        self.key5 = group_key("Period 5", self.school)

    def teacher(self, email: str = TEACHER) -> Scope:
        account = Accounts(self.store).get(email)
        assert account is not None
        return scope_of(account, self.store)


@pytest.fixture(scope="module")
def world(tiny_store_path: Path, tmp_path_factory: pytest.TempPathFactory) -> World:
    target = tmp_path_factory.mktemp("teacher") / "store"
    shutil.copytree(tiny_store_path, target)
    return World(target)


def _counts(records: pl.DataFrame, ssids: list[str], *, school: str | None,
            record_type: str = "21") -> tuple[int, int]:
    """(enrolled, tested with scores) counted here: every record, IncludeIndicator Y."""
    keep = pl.col("ssid").is_in(ssids) & (pl.col("record_type") == record_type)
    if school is not None:
        keep = keep & (pl.col("reporting_school_code") == school)
    mine = records.filter(keep & pl.col("is_reported"))
    return mine.height, mine.filter(pl.col("include_indicator") == "Y").height


def test_a_teacher_scope_is_their_groups_students(world: World) -> None:
    scope = world.teacher()
    assert scope.ssids == tuple(world.period3)
    assert scope.schools == (world.school,)
    assert (scope.pii, scope.statewide, scope.leas) == (True, False, ())


def test_a_teachers_school_report_counts_only_their_students(world: World) -> None:
    spec = ReportSpec(years=(world.year,), orgs=(world.school,), org_level="school")
    mine = read_report(world.snap, spec, scope=world.teacher(), suppress=False)
    whole = read_report(world.snap, spec, scope=world.admin, suppress=False)
    expected = _counts(world.records, world.period3, school=world.school)
    assert expected[0] > 0
    assert (mine.item(0, "n_enrolled"), mine.item(0, "n_scored")) == expected
    assert whole.item(0, "n_enrolled") == _counts(world.records, world.students,
                                                  school=world.school)[0]
    assert whole.item(0, "n_enrolled") > mine.item(0, "n_enrolled")


def test_a_teacher_cannot_reach_the_lea_or_state(world: World) -> None:
    for level, code in (("lea", world.lea), ("state", "00"), ("county", world.lea[:2])):
        spec = ReportSpec(years=(world.year,), orgs=(code,), org_level=level)  # type: ignore[arg-type]
        with pytest.raises(ScopeError):
            read_report(world.snap, spec, scope=world.teacher(), suppress=False)
    with pytest.raises(ScopeError):
        research_rows(world.snap, year=world.year, scope=world.teacher(), lea=world.lea,
                      suppress=True)


def test_a_teacher_finds_only_their_students(world: World) -> None:
    scope = world.teacher()
    found = find_students(world.snap, scope=scope, year=world.year)
    assert set(found.get_column("ssid")) == set(world.period3)
    outsider = world.rest[0]
    # By SSID, as a URL or query parameter would ask: nothing, not an error that says more.
    assert find_students(world.snap, scope=scope, text=outsider).height == 0
    assert read_student(world.snap, outsider, scope=scope).height == 0
    assert read_student(world.snap, world.period3[0], scope=scope).height > 0


def test_a_teachers_exports_hold_only_their_students(world: World) -> None:
    scope = world.teacher()
    with pytest.raises(ScopeError):  # the whole LEA is not theirs
        read_district_results(world.snap, scope=scope, year=world.year, lea=world.lea)
    school = read_district_results(world.snap, scope=scope, year=world.year, lea=world.lea,
                                   school=world.school)
    assert set(school.get_column("SSID")) == set(world.period3) & set(
        world.records.filter(pl.col("record_type") == "21").get_column("ssid"))
    extract = read_ssdf_records(world.snap, scope=scope, years=[world.year])
    assert set(extract.get_column("ssid")) <= set(world.period3)
    assert extract.height > 0


def test_a_teachers_ssr_status_counts_their_students(world: World) -> None:
    as_of = date(2027, 1, 1)
    status = read_ssr_status(world.snap, year=world.year, as_of=as_of, scope=world.teacher())
    mine = world.records.filter(pl.col("ssid").is_in(world.period3)
                                & (pl.col("record_type") == "21")
                                & pl.col("is_ssr_eligible").fill_null(False))
    released = mine.filter((pl.col("ssr_available_date") <= as_of).fill_null(False))
    assert (status.item(0, "n_eligible"), status.item(0, "n_released")) == (
        mine.height, released.height)
    by_school = read_ssr_status(world.snap, year=world.year, as_of=as_of,
                                scope=world.teacher(), by="school")
    assert by_school.get_column("n_eligible").sum() == mine.height


def test_a_teachers_longitudinal_rows_follow_their_students(world: World) -> None:
    years = world.snap.years[-2:]
    spec = ReportSpec(years=years, orgs=(world.school,), org_level="school",
                      longitudinal=True)
    rows = read_longitudinal(world.snap, spec, scope=world.teacher(), suppress=False)
    for year, n in rows.select("school_year", "n_enrolled").iter_rows():
        records = pl.read_parquet(world.snap.year_files[year]).with_columns(
            pl.lit(year).alias("school_year"))
        assert n == _counts(records, world.period3, school=world.school)[0]
    moves = read_transitions(world.snap, spec, scope=world.teacher(), suppress=False)
    both = set(world.period3)
    scored = [pl.read_parquet(world.snap.year_files[y]).filter(
        pl.col("ssid").is_in(list(both)) & (pl.col("record_type") == "21")
        & (pl.col("reporting_school_code") == world.school)
        & (pl.col("include_indicator") == "Y") & pl.col("overall_level").is_not_null()
    ).get_column("ssid") for y in years]
    assert moves.get_column("n_students").sum() == len(set(scored[0]) & set(scored[1]))


def test_a_group_row_counts_its_students_wherever_they_tested(world: World) -> None:
    years = world.snap.years[-2:]
    spec = ReportSpec(years=years, orgs=(world.key3,), org_level="group", comparison=True)
    report = read_report(world.snap, spec, scope=world.admin, suppress=False)
    groups = report.filter(pl.col("org_level") == "group")
    assert groups.get_column("name").unique().to_list() == ["Period 3"]
    assert set(groups.get_column("cds_code")) == {world.school}
    for year, n, scored in groups.select("school_year", "n_enrolled", "n_scored").iter_rows():
        # Wherever they tested within the LEA administrator's scope.
        records = pl.read_parquet(world.snap.year_files[year]).filter(
            pl.col("reporting_lea_code") == world.lea)
        assert (n, scored) == _counts(records, world.period3, school=None)
    # Comparison rows: the group's school and its LEA, not the county or state (not in an
    # LEA administrator's scope).
    assert set(report.get_column("org_level")) == {"group", "school", "lea"}


def test_two_groups_of_one_school_stay_apart(world: World) -> None:
    spec = ReportSpec(years=(world.year,), orgs=(world.key3, world.key5), org_level="group")
    report = read_report(world.snap, spec, scope=world.admin, suppress=False)
    assert report.get_column("school_code").to_list() == [world.key3, world.key5]
    n = report.get_column("n_enrolled").to_list()
    assert n == [_counts(world.records, world.period3, school=None)[0],
                 _counts(world.records, world.rest, school=None)[0]]


def test_a_teacher_reports_on_their_group_but_not_anothers(world: World) -> None:
    mine = ReportSpec(years=(world.year,), orgs=(world.key3,), org_level="group",
                      comparison=True)
    report = read_report(world.snap, mine, scope=world.teacher(), suppress=False)
    # No comparison rows: the school's row for a teacher would only be their students again.
    assert report.get_column("org_level").to_list() == ["group"]
    theirs = ReportSpec(years=(world.year,), orgs=(world.key5,), org_level="group")
    with pytest.raises(ScopeError, match="not one of yours"):
        read_report(world.snap, theirs, scope=world.teacher(), suppress=False)
    assert visible_groups(world.store, world.teacher()).get_column("key").to_list() == [
        world.key3]
    other_lea = Scope.lea("99999999999999", pii=True)
    with pytest.raises(ScopeError):
        group_students(world.store, other_lea, [world.key3])


def test_a_teacher_groups_only_their_own_students(world: World) -> None:
    scope = world.teacher()
    made = create_group(world.store, scope, name="Readers", school_code=world.school,
                        ssids=world.period3[:3], created_by=TEACHER)
    assert made == world.period3[:3]
    assert group_key("Readers", world.school) in set(
        visible_groups(world.store, world.teacher()).get_column("key"))
    before = visible_groups(world.store, world.admin).height
    with pytest.raises(InputError, match=world.rest[0]):
        create_group(world.store, scope, name="Sneaky", school_code=world.school,
                     ssids=[world.period3[0], world.rest[0]], created_by=TEACHER)
    with pytest.raises(ScopeError):
        create_group(world.store, scope, name="Shared", school_code=world.school,
                     ssids=world.period3[:2], created_by=TEACHER, users=[OTHER])
    with pytest.raises(ScopeError):
        import_groups(world.store, scope, "name,school_cds,ssid\n", file_name="g.csv",
                      uploaded_by=TEACHER)
    with pytest.raises(ScopeError):
        assign_group(world.store, scope, world.key3, [OTHER])
    with pytest.raises(ScopeError):
        remove_group(world.store, scope, world.key3)
    assert visible_groups(world.store, world.admin).height == before


def test_an_upload_refuses_students_outside_the_uploaders_access(world: World) -> None:
    site = Scope.school(world.school, pii=True)
    elsewhere = world.records.filter(
        pl.col("reporting_school_code").is_not_null()
        & (pl.col("reporting_school_code") != world.school)).row(0, named=True)
    text = ("name,school_cds,ssid\n"
            f"Mine,{world.school},{world.students[0]}\n"
            f"Theirs,{elsewhere['reporting_school_code']},{elsewhere['ssid']}\n")
    result = import_groups(world.store, site, text, file_name="g.csv", uploaded_by="s@x.org")
    assert not result.loaded
    assert result.problems == [(3, "ssid", elsewhere["ssid"],
                                "this school is not in your access")]
    assert group_key("Mine", world.school) not in set(
        visible_groups(world.store, site).get_column("key"))


def test_group_specs_are_checked() -> None:
    with pytest.raises(ValueError, match="not a student group"):
        ReportSpec(years=("2024-25",), orgs=("Period 3",), org_level="group")
    with pytest.raises(ValueError, match="Cohort"):
        ReportSpec(years=("2023-24", "2024-25"), orgs=("19647330000001:P3",),
                   org_level="group", longitudinal=True, cohort=True)


def test_group_transitions_and_report_size(world: World) -> None:
    years = world.snap.years[-2:]
    spec = ReportSpec(years=years, orgs=(world.key3, world.key5), org_level="group",
                      comparison=True)
    moves = read_transitions(world.snap, spec, scope=world.admin, suppress=False)
    scored = [set(pl.read_parquet(world.snap.year_files[y]).filter(
        (pl.col("record_type") == "21") & (pl.col("include_indicator") == "Y")
        & pl.col("overall_level").is_not_null() & pl.col("is_reported")
        # The LEA administrator's scope: records under another LEA are not theirs.
        & (pl.col("reporting_lea_code") == world.lea)).get_column("ssid"))
        for y in years]
    for key, ssids in ((world.key3, world.period3), (world.key5, world.rest)):
        mine = moves.filter(pl.col("school_code") == key)
        assert set(mine.get_column("org_level")) == {"group"}
        assert mine.get_column("n_students").sum() == len(set(ssids) & scored[0] & scored[1])
    size = estimate_report_size(world.snap, spec, scope=world.admin)
    report = read_report(world.snap, spec, scope=world.admin, suppress=False)
    assert size.rows == report.height
    with pytest.raises(ScopeError):
        estimate_report_size(world.snap, spec, scope=world.teacher())


def test_a_group_name_already_taken_is_refused_not_merged(world: World) -> None:
    # Teacher B making "Period 3" at A's school must not join A's group (and gain A's
    # students), nor give B's students to A.
    other = world.teacher(OTHER)
    before = world.teacher()
    with pytest.raises(InputError, match="already exists"):
        create_group(world.store, other, name="Period 3", school_code=world.school,
                     ssids=world.rest[:2], created_by=OTHER)
    assert world.teacher(OTHER) == other
    assert world.teacher() == before
    with pytest.raises(InputError, match="already exists"):
        create_group(world.store, world.admin, name="Period 3", school_code=world.school,
                     ssids=world.rest[:2], created_by="admin@x.org")
    assert group_students(world.store, world.admin, [world.key3])[world.key3] == world.period3


def test_group_changes_are_audited_without_ssids(world: World) -> None:
    from data.catalog import audit

    key = group_key("Audited", world.school)
    create_group(world.store, world.admin, name="Audited", school_code=world.school,
                 ssids=world.rest[:2], created_by="admin@x.org")
    assign_group(world.store, world.admin, key, [OTHER], by="admin@x.org")
    remove_group(world.store, world.admin, key, by="admin@x.org")
    entries = audit.read(world.store).filter(pl.col("action") == "groups")
    details = entries.get_column("detail").to_list()
    assert f"made {key}" in details
    assert f"gave {key} to {OTHER}" in details
    assert f"deleted {key}" in details
    assert set(entries.get_column("user_email")) >= {"admin@x.org"}
    assert not any(s in d for d in details for s in world.rest[:2])
