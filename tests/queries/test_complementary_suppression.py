"""Issue 15, finding 2: small groups' scores recovered by subtracting two rows that are shown.

An aggregate-only viewer built, for one school and year, "All students" (72) and a custom
subgroup "every ethnicity except Asian" (64); the two rows of the CSV gave the 8 Asian
students' mean (1462.25) and level counts (3/1/3/1), which the ethnicity breakdown shows as
suppressed. The same worked with filters, comparison rows and two overlapping reports. The
store below is that school (``toms`` fixture, tests/queries/conftest.py); each test plays one
attack as the viewer and checks that no pair of rows it gets gives the small group away,
then that an account with student-level access still sees every row (it is unaffected).
"""

from __future__ import annotations

import polars as pl
import pytest

from data.catalog.accounts import Account
from data.student_groups import groups_of
from queries.access import scope_of
from queries.labels import SUPPRESSED
from queries.metrics import SUPPRESSION_THRESHOLD
from queries.reports import read_report
from queries.research import research_rows
from queries.scope import Scope
from queries.snapshot import Snapshot
from queries.spec import ReportSpec, Subgroup

YEAR = "2024-25"
LEA, OTHER_LEA = "01611920000000", "01612000000000"
SCHOOL, SMALL_SCHOOL, OTHER_SCHOOL = "01611920111111", "01611920122222", "01612000144444"
ASIAN = "076"
NOT_ASIAN = tuple(g.id for g in groups_of("ethnicity") if g.id != ASIAN)
# Grade 5 overall cuts 1467/1514/1560 (ELPAC.md §1.3): three at level 1, one at 2, three at 3,
# one at 4; their mean is 11698 / 8 = 1462.25, as in the issue.
ASIAN_SCORES = (1370, 1380, 1379, 1467, 1514, 1514, 1514, 1560)


def student(ssid: int, school: str, ethnicity: str, score: int | None = None,
            **fields: object) -> dict[str, object]:
    """A grade 5 student of ``school``; ``score`` sets both composites, so the overall too."""
    record: dict[str, object] = {
        "SSID": ssid, "FinalTestedDistrictCode": school[:7] + "0000000",
        "FinalTestedSchoolCode": school, "GradeAssessed": "05",
        "EthnicityforTesting": ethnicity, "Gender": "F" if ssid % 2 else "M", **fields}
    if score is not None:
        record.update(OralLanguageScaleScore=score, WrittenLanguageScaleScore=score)
    return record


def the_school() -> list[dict[str, object]]:
    """72 students at the school (40 Hispanic, 12 White, 12 Filipino, 8 Asian), 5 at a small
    school of the same LEA, 20 at another LEA's school."""
    records = []
    ssid = 5000000000
    for ethnicity, n in (("500", 40), ("700", 12), ("400", 12)):
        for i in range(n):
            ssid += 1
            records.append(student(ssid, SCHOOL, ethnicity, 1480 + (i * 37) % 120))
    for score in ASIAN_SCORES:
        ssid += 1
        records.append(student(ssid, SCHOOL, "200", score))
    for i in range(5):
        ssid += 1
        records.append(student(ssid, SMALL_SCHOOL, "500", 1450 + 20 * i))
    for i in range(20):
        ssid += 1
        records.append(student(ssid, OTHER_SCHOOL, "500", 1500 + i))
    return records


@pytest.fixture(scope="module")
def snap(toms) -> Snapshot:  # noqa: ANN001 (the conftest's builder)
    return toms(the_school())


@pytest.fixture(scope="module")
def viewer() -> Scope:
    """An aggregate-only account of the school (a board presenter)."""
    return scope_of(Account("board@x.org", "Board", "viewer", schools=(SCHOOL,)))


@pytest.fixture(scope="module")
def lea_viewer() -> Scope:
    """An aggregate-only account of the county's two LEAs: it sees the school's LEA too."""
    return scope_of(Account("lea@x.org", "LEA board", "viewer", leas=(LEA, OTHER_LEA)))


def report(snap: Snapshot, scope: Scope, **options: object) -> pl.DataFrame:
    """The school's report for the year (grade 5 and all grades), as the CSV holds it."""
    spec = ReportSpec(years=(YEAR,), orgs=(SCHOOL,), org_level="school", **options)
    return read_report(snap, spec, scope=scope, suppress=True).filter(pl.col("grade") == "13")


def difference(bigger: dict[str, object], smaller: dict[str, object]
               ) -> tuple[int, float | None, list[int | None]]:
    """What subtracting two published rows gives: students, mean, overall level counts."""
    n = bigger["n_scored"] - smaller["n_scored"]
    if bigger["is_suppressed"] or smaller["is_suppressed"] or n <= 0:
        return n, None, [None] * 4
    total = bigger["overall_mean"] * bigger["overall_total"] - (
        smaller["overall_mean"] * smaller["overall_total"])
    levels = [bigger[f"overall_l{k}_count"] - smaller[f"overall_l{k}_count"]
              for k in (1, 2, 3, 4)]
    return n, round(total / (bigger["overall_total"] - smaller["overall_total"]), 2), levels


def row(frame: pl.DataFrame, **keys: str) -> dict[str, object]:
    matches = frame.filter(*[pl.col(k) == v for k, v in keys.items()])
    assert matches.height == 1, keys
    return matches.row(0, named=True)


def test_the_store_holds_the_issue_finding(snap: Snapshot) -> None:
    # With student-level access both rows show, and their difference is the Asian students'.
    seen = report(snap, Scope(leas=(LEA,), pii=True), subgroups=(
        Subgroup("Every ethnicity except Asian", (("ethnicity", NOT_ASIAN),)),))
    everyone, others = row(seen, group_id="001"), row(seen, group_id="custom:0")
    assert (everyone["n_scored"], others["n_scored"]) == (72, 64)
    assert difference(everyone, others) == (8, 1462.25, [3, 1, 3, 1])


def test_issue_15_all_students_minus_every_ethnicity_except_asian(
        snap: Snapshot, viewer: Scope) -> None:
    seen = report(snap, viewer, breakdown="ethnicity", subgroups=(
        Subgroup("Every ethnicity except Asian", (("ethnicity", NOT_ASIAN),)),))
    everyone, others = row(seen, group_id="001"), row(seen, group_id="custom:0")
    assert row(seen, group_id=ASIAN)["is_suppressed"]  # the breakdown hides them
    assert difference(everyone, others) == (8, None, [None] * 4)
    # All students keeps its scores: the subgroup, whose complement is small, is hidden.
    assert not everyone["is_suppressed"]
    assert others["is_suppressed"]


def test_a_breakdown_leaves_no_small_remainder(snap: Snapshot, viewer: Scope) -> None:
    # Hispanic 40, White 12, Filipino 12, Asian 8: all students minus the three shown rows
    # would be the Asian students, so one more row (the next smallest) is hidden too.
    seen = report(snap, viewer, breakdown="ethnicity")
    shown = seen.filter(~pl.col("is_suppressed") & (pl.col("group_id") != "001"))
    rest = row(seen, group_id="001")["n_scored"] - shown.get_column("n_scored").sum()
    assert rest == 0 or rest >= SUPPRESSION_THRESHOLD
    assert shown.height == 2


def test_a_filter_is_checked_against_the_row_without_it(snap: Snapshot, viewer: Scope
                                                         ) -> None:
    everyone = row(report(snap, viewer), group_id="001")
    filtered = row(report(snap, viewer, filters=(("ethnicity", NOT_ASIAN),)), group_id="001")
    assert filtered["n_scored"] == 64
    assert difference(everyone, filtered) == (8, None, [None] * 4)


def test_comparison_rows_hide_a_school_whose_lea_has_few_others(snap: Snapshot,
                                                                lea_viewer: Scope) -> None:
    # The LEA is the school and a school of 5: LEA minus school would be those 5.
    seen = report(snap, lea_viewer, comparison=True, breakdown="ethnicity")
    for group in ("001", "078"):  # All students, and Hispanic (40 + the 5)
        school = row(seen, org_level="school", group_id=group)
        lea = row(seen, org_level="lea", group_id=group)
        assert lea["n_scored"] - school["n_scored"] == 5
        assert difference(lea, school) == (5, None, [None] * 4)
        # The LEA keeps its scores: the more specific row is the one hidden.
        assert not lea["is_suppressed"]
    # The county (both LEAs) is not in this account's access: no county row.
    assert set(seen.get_column("org_level")) == {"school", "lea"}


def test_a_school_only_account_still_sees_its_school(snap: Snapshot, viewer: Scope) -> None:
    # Without the LEA in its access, nothing subtracts the school from its LEA.
    seen = report(snap, viewer, comparison=True)
    assert set(seen.get_column("org_level")) == {"school"}
    assert not row(seen, group_id="001")["is_suppressed"]


def test_two_overlapping_reports_give_nothing_away(snap: Snapshot, viewer: Scope) -> None:
    wide = row(report(snap, viewer, subgroups=(
        Subgroup("Hispanic or Asian", (("ethnicity", ("078", ASIAN)),)),)), group_id="custom:0")
    narrow = row(report(snap, viewer, subgroups=(
        Subgroup("Hispanic", (("ethnicity", ("078",)),)),)), group_id="custom:0")
    assert (wide["n_scored"], narrow["n_scored"]) == (48, 40)
    assert difference(wide, narrow) == (8, None, [None] * 4)


def test_student_level_accounts_are_unaffected(snap: Snapshot) -> None:
    seen = report(snap, Scope(leas=(LEA,), pii=True), breakdown="ethnicity", subgroups=(
        Subgroup("Every ethnicity except Asian", (("ethnicity", NOT_ASIAN),)),))
    big = seen.filter(pl.col("n_scored") >= SUPPRESSION_THRESHOLD)
    assert not big.get_column("is_suppressed").any()
    assert seen.filter(pl.col("n_scored") < SUPPRESSION_THRESHOLD).get_column(
        "is_suppressed").all()


def test_research_file_rows_take_the_reports_decisions(snap: Snapshot, lea_viewer: Scope
                                                       ) -> None:
    # The research file of the LEA holds the same standard rows as the reports: the same
    # cells are `*`, so a file and a report cannot be subtracted either.
    rows = research_rows(snap, year=YEAR, scope=lea_viewer, lea=LEA, suppress=True).filter(
        pl.col("Grade") == "13")
    seen = report(snap, lea_viewer, comparison=True, breakdown="ethnicity")
    for r in seen.iter_rows(named=True):
        code = r["school_code"][7:] if r["org_level"] == "school" else "0000000"
        cell = rows.filter((pl.col("SchoolCode") == code)
                           & (pl.col("StudentGroupID") == r["group_id"]))
        if cell.height:
            assert (cell.item(0, "OverallMeanSclScr") == SUPPRESSED) == r["is_suppressed"], r
    school = rows.filter((pl.col("SchoolCode") == SCHOOL[7:])
                         & (pl.col("StudentGroupID") == "001"))
    assert school.item(0, "OverallMeanSclScr") == SUPPRESSED  # LEA minus it would be 5
