"""Published measures, dbt-style: hand-built records in, hand-written report rows out.

Each store is a handful of records written as a real 2024-25 TOMS file (``toms`` fixture,
tests/queries/conftest.py) and loaded by the real ingest. Expected counts and levels are
written out by hand from the records below; means and standard errors are recomputed here with
``statistics`` (ELPAC.md §4: mean over students tested with scores; SE = sample sd / sqrt(n);
band = mean ± 1 SE; percent per level over that measure's own total). Invariants run on the
tiny demo store.
"""

from __future__ import annotations

import math
import statistics
import warnings
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from data.domain import GRADES
from data.student_groups import groups_of
from queries.reports import read_report
from queries.scope import Scope
from queries.snapshot import Snapshot
from queries.spec import ReportSpec, Subgroup

YEAR = "2024-25"
STATE = Scope.state()

# County 01: LEA A (schools A1, A2, A3 and a nonpublic school), LEA B; county 19: LEA C.
A, B, C = "01611920000000", "01612000000000", "19647330000000"
A1, A2, A3, A_NPS = "01611920111111", "01611920122222", "01611920133333", "01611920199999"
B1, C1 = "01612000144444", "19647330155555"


def at(lea: str, school: str, **fields: object) -> dict[str, object]:
    """A record tested (and enrolled) at ``school`` of ``lea``."""
    return {"FinalTestedDistrictCode": lea, "FinalTestedSchoolCode": school, **fields}


def scored(ssid: int, lea: str, school: str, grade: str, oral: int, written: int,
           overall: int, domains: tuple[object, object, object, object],
           **fields: object) -> dict[str, object]:
    """A scored Summative record with its scores and domain levels spelt out."""
    listening, speaking, reading, writing = domains
    return at(lea, school, SSID=ssid, GradeAssessed=grade, OralLanguageScaleScore=oral,
              WrittenLanguageScaleScore=written, OverallScaleScore=overall,
              ListeningPL=listening, SpeakingPL=speaking, ReadingPL=reading, WritingPL=writing,
              **fields)


# Grade 5 cuts (ELPAC.md §1.3): overall 1467/1514/1560, oral 1447/1477/1533,
# written 1487/1550/1587. Grade 3: overall 1448/1488/1535, oral 1435/1466/1512,
# written 1461/1509/1557. Levels are noted as (overall, oral, written).
MAIN = [
    # School A1, grade 5.
    scored(1000000001, A, A1, "05", 1540, 1590, 1565, (3, 3, 3, 3), Gender="M",
           EconomicDisadvantageTesting="No"),                                 # 4, 4, 4
    scored(1000000002, A, A1, "05", 1480, 1520, 1500, (2, 2, 2, 1), Gender="M"),   # 2, 3, 2
    scored(1000000003, A, A1, "05", 1440, 1450, 1445, (1, 1, 1, 1)),              # 1, 1, 1
    scored(1000000004, A, A1, "05", 1500, 1560, 1530, (2, 3, 2, 2), Gender="X"),   # 3, 3, 3
    # EXD: Writing exempt; Written Language comes from Reading alone (ELPAC.md §1.5).
    scored(1000000005, A, A1, "05", 1470, 1500, 1485, (2, 2, 2, "NS"), DomainEx4="Y"),  # 2,2,2
    at(A, A1, SSID=1000000006, GradeAssessed="05", TestedStatus="N", Gender="M"),  # NT
    # Partial: oral only; tested, but not tested with scores.
    at(A, A1, SSID=1000000007, GradeAssessed="05", Attemptedness="P",
       OralLanguageScaleScore=1460, ListeningPL=2, SpeakingPL=2),
    # Moved: enrolled in LEA B, tested in A1, so counted in A1 (ELPAC.md §3.3 rule 1).
    scored(1000000008, A, A1, "05", 1535, 1555, 1545, (3, 2, 2, 3),
           CALPADSDistrictCode=B, CALPADSSchoolCode=B1),                       # 3, 4, 3
    # School A2, grade 3.
    scored(1000000009, A, A2, "03", 1470, 1480, 1475, (2, 2, 2, 2), Gender="M"),   # 2, 3, 2
    scored(1000000010, A, A2, "03", 1520, 1510, 1515, (3, 3, 2, 2)),              # 3, 4, 3
    # NPS placement in LEA A with LEA C as special-education district of accountability:
    # counted in LEA C, county 19 and the state, in no school (ELPAC.md §3.3 rule 6).
    scored(1000000011, A, A_NPS, "05", 1500, 1500, 1500, (2, 2, 2, 2),
           FinalTestedSchoolNPSFlag="Y", SPEDAcctDist=C[:7],
           SpecialEducationforTesting="Yes", CALPADSDistrictCode=A,
           CALPADSSchoolCode=A_NPS),                                           # 2, 3, 2
    # LEA B, grade 5.
    scored(1000000012, B, B1, "05", 1450, 1490, 1470, (1, 2, 2, 2)),              # 2, 2, 2
    at(B, B1, SSID=1000000013, GradeAssessed="05", TestedStatus="N"),
    # LEA C, grade 5.
    scored(1000000014, C, C1, "05", 1550, 1600, 1575, (3, 3, 3, 3)),              # 4, 4, 4
    # Summative Alternate ELPAC in A1 (grade span 3-5: L1 501-543, L2 544-559, L3 560-599).
    at(A, A1, SSID=1000000001, RecordType="23", GradeAssessed="05", OverallScaleScore=560),
    at(A, A1, SSID=1000000002, RecordType="23", GradeAssessed="05", OverallScaleScore=520),
    at(A, A1, SSID=1000000015, RecordType="23", GradeAssessed="04", OverallScaleScore=550),
    at(A, A1, SSID=1000000016, RecordType="23", GradeAssessed="05", TestedStatus="N"),
    # School A3: records but no scores.
    at(A, A3, SSID=1000000019, GradeAssessed="05", TestedStatus="N"),
    at(A, A3, SSID=1000000020, GradeAssessed="05", Attemptedness="P", Gender="M"),
]

A1_OVERALL = [1565, 1500, 1445, 1530, 1485, 1545]
A1_ORAL = [1540, 1480, 1440, 1500, 1470, 1535]
A1_WRITTEN = [1590, 1520, 1450, 1560, 1500, 1555]
A_OVERALL = [*A1_OVERALL, 1475, 1515]
C_OVERALL = [1500, 1575]

COUNTS = {"n_enrolled": pl.Int64, "n_tested": pl.Int64, "n_scored": pl.Int64}
KEYS = {"org_level": pl.String, "county_code": pl.String, "lea_code": pl.String,
        "school_code": pl.String}


@pytest.fixture(scope="module")
def main(toms) -> Snapshot:
    return toms(MAIN)


def spec(**kw: object) -> ReportSpec:
    return ReportSpec(years=(YEAR,), **kw)  # type: ignore[arg-type]


def report(snap: Snapshot, *, suppress: bool = False, **kw: object) -> pl.DataFrame:
    return read_report(snap, spec(**kw), scope=STATE, suppress=suppress)


def measure(name: str, scores: list[int], levels: tuple[int, ...]) -> dict[str, object]:
    """Expected cells of one scale-score measure, computed independently of the code."""
    n = len(scores)
    assert sum(levels) == n
    mean = statistics.fmean(scores) if n else None
    se = statistics.stdev(scores) / math.sqrt(n) if n > 1 else None
    row: dict[str, object] = {
        f"{name}_total": n, f"{name}_mean": mean, f"{name}_se": se,
        f"{name}_band_low": None if se is None else mean - se,  # type: ignore[operator]
        f"{name}_band_high": None if se is None else mean + se,  # type: ignore[operator]
    }
    for k, count in enumerate(levels, start=1):
        row[f"{name}_l{k}_count"] = count
    for k, count in enumerate(levels, start=1):
        row[f"{name}_l{k}_pct"] = count / n * 100 if n else None
    return row


def measure_schema(name: str, n_levels: int) -> dict[str, pl.DataType]:
    schema: dict[str, pl.DataType] = {f"{name}_total": pl.Int64()}
    schema |= {f"{name}_{x}": pl.Float64() for x in ("mean", "se", "band_low", "band_high")}
    schema |= {f"{name}_l{k}_count": pl.Int64() for k in range(1, n_levels + 1)}
    schema |= {f"{name}_l{k}_pct": pl.Float64() for k in range(1, n_levels + 1)}
    return schema


def domain_row(name: str, levels: tuple[int, int, int]) -> dict[str, object]:
    total = sum(levels)
    row: dict[str, object] = {f"{name}_total": total}
    for k, count in enumerate(levels, start=1):
        row[f"{name}_l{k}_count"] = count
        row[f"{name}_l{k}_pct"] = count / total * 100
    return row


def domain_schema(name: str) -> dict[str, pl.DataType]:
    schema: dict[str, pl.DataType] = {f"{name}_total": pl.Int64()}
    for k in (1, 2, 3):
        schema |= {f"{name}_l{k}_count": pl.Int64(), f"{name}_l{k}_pct": pl.Float64()}
    return schema


# -- counts -------------------------------------------------------------------------------

def test_counts_of_every_organisation(main: Snapshot) -> None:
    got = report(main, org_level="lea", orgs=(A, B, C), expand="schools_of_leas",
                 comparison=True)
    expected = pl.DataFrame(
        # The chosen LEAs and their schools first, then the comparison rows, nearest first.
        # Mover 08 counts in A, not in B, where he is enrolled; NPS 11 in C, not in A.
        [("lea", "01", A, "", 12, 10, 8, 2, 2, 1),
         ("lea", "01", B, "", 2, 1, 1, 1, 0, 0),
         ("lea", "19", C, "", 2, 2, 2, 0, 0, 0),
         ("school", "01", A, A1, 8, 7, 6, 1, 1, 1),
         ("school", "01", A, A2, 2, 2, 2, 0, 0, 0),
         ("school", "01", A, A3, 2, 1, 0, 1, 1, 0),
         ("school", "01", B, B1, 2, 1, 1, 1, 0, 0),
         # The NPS student is in no school row: C1 holds student 14 only.
         ("school", "19", C, C1, 1, 1, 1, 0, 0, 0),
         ("county", "01", "", "", 14, 11, 9, 3, 2, 1),
         ("county", "19", "", "", 2, 2, 2, 0, 0, 0),
         ("state", "00", "", "", 16, 13, 11, 3, 2, 1)],
        schema={**KEYS, **COUNTS, "n_not_tested": pl.Int64, "n_partial": pl.Int64,
                "n_exempt_domain": pl.Int64}, orient="row")
    assert_frame_equal(got.select(expected.columns), expected)


def test_no_row_for_the_nonpublic_school(main: Snapshot) -> None:
    schools = main.orgs_of([YEAR]).filter(pl.col("org_level") == "school")
    assert sorted(schools.get_column("school_code").to_list()) == [A1, A2, A3, B1, C1]


# -- measures -------------------------------------------------------------------------------

def test_school_measures_by_hand(main: Snapshot) -> None:
    got = report(main, org_level="school", orgs=(A1,))
    row = {
        **measure("overall", A1_OVERALL, (1, 2, 2, 1)),
        **measure("oral", A1_ORAL, (1, 1, 2, 2)),
        **measure("written", A1_WRITTEN, (1, 2, 2, 1)),
    }
    schema = {**measure_schema("overall", 4), **measure_schema("oral", 4),
              **measure_schema("written", 4)}
    expected = pl.DataFrame([row], schema=schema)
    assert_frame_equal(got.select(expected.columns), expected)
    assert got.select("has_scores", "is_suppressed", "data_status").row(0) == (
        True, False, "final")


def test_domain_totals_leave_out_the_exempt_domain(main: Snapshot) -> None:
    got = report(main, org_level="school", orgs=(A1,))
    # Six students tested with scores; student 05's Writing is exempt (NS): Writing has 5.
    row = {**domain_row("listening", (1, 3, 2)), **domain_row("speaking", (1, 3, 2)),
           **domain_row("reading", (1, 4, 1)), **domain_row("writing", (2, 1, 2))}
    schema = {k: v for d in ("listening", "speaking", "reading", "writing")
              for k, v in domain_schema(d).items()}
    expected = pl.DataFrame([row], schema=schema)
    assert_frame_equal(got.select(expected.columns), expected)


def test_lea_measures_include_their_nps_student(main: Snapshot) -> None:
    got = report(main, org_level="lea", orgs=(A, B, C))
    rows = [measure("overall", A_OVERALL, (1, 3, 3, 1)),
            measure("overall", [1470], (0, 1, 0, 0)),
            measure("overall", C_OVERALL, (0, 1, 0, 1))]
    expected = pl.DataFrame(rows, schema=measure_schema("overall", 4))
    assert_frame_equal(got.select(expected.columns), expected)


def test_one_student_has_a_mean_but_no_standard_error(main: Snapshot) -> None:
    got = report(main, org_level="school", orgs=(C1,))
    expected = pl.DataFrame([measure("overall", [1575], (0, 0, 0, 1))],
                            schema=measure_schema("overall", 4))
    assert_frame_equal(got.select(expected.columns), expected)
    assert got.get_column("overall_se").to_list() == [None]


def test_records_without_scores_have_no_scores(main: Snapshot) -> None:
    got = report(main, org_level="school", orgs=(A3,))
    expected = pl.DataFrame(
        [{"n_enrolled": 2, "n_tested": 1, "n_scored": 0, "has_scores": False,
          "is_suppressed": False, **measure("overall", [], (0, 0, 0, 0))}],
        schema={**COUNTS, "has_scores": pl.Boolean, "is_suppressed": pl.Boolean,
                **measure_schema("overall", 4)})
    assert_frame_equal(got.select(expected.columns), expected)


def test_alternate_has_three_levels_and_its_own_records(main: Snapshot) -> None:
    got = report(main, org_level="school", orgs=(A1,), test="alternate")
    expected = pl.DataFrame(
        [{"test": "alternate", "n_enrolled": 4, "n_tested": 3, "n_scored": 3,
          **measure("overall", [560, 520, 550], (1, 1, 1))}],
        schema={"test": pl.String, **COUNTS, **measure_schema("overall", 3)})
    assert_frame_equal(got.select(expected.columns), expected)
    assert "overall_l4_count" not in got.columns


# -- breakdowns, subgroups, filters, comparison ----------------------------------------------

def test_breakdown_by_gender_keeps_empty_groups(main: Snapshot) -> None:
    got = report(main, org_level="lea", orgs=(A, B), breakdown="gender")
    expected = pl.DataFrame(
        [(A, "001", "All students", 12, 10, 8, statistics.fmean(A_OVERALL)),
         (A, "003", "Male", 5, 4, 3, statistics.fmean([1565, 1500, 1475])),
         (A, "004", "Female", 6, 5, 4, statistics.fmean([1445, 1485, 1545, 1515])),
         (A, "G-X", "Nonbinary", 1, 1, 1, 1530.0),
         (B, "001", "All students", 2, 1, 1, 1470.0),
         (B, "003", "Male", 0, 0, 0, None),
         (B, "004", "Female", 2, 1, 1, 1470.0),
         (B, "G-X", "Nonbinary", 0, 0, 0, None)],
        schema={"lea_code": pl.String, "group_id": pl.String, "row_label": pl.String,
                **COUNTS, "overall_mean": pl.Float64}, orient="row")
    assert_frame_equal(got.select(expected.columns), expected)


def test_every_group_of_a_dimension_gets_a_row(main: Snapshot) -> None:
    for dimension in ("ethnicity", "homeless", "years_in_program", "ltel"):
        got = report(main, org_level="lea", orgs=(B,), breakdown=dimension)
        ids = ["001", *[g.id for g in groups_of(dimension)]]
        assert got.get_column("group_id").to_list() == ids, dimension
    got = report(main, org_level="lea", orgs=(B,), breakdown="homeless")
    assert got.select("group_id", "n_enrolled").rows() == [("001", 2), ("052", 0), ("053", 2)]


def test_school_breakdown_for_one_grade_reads_the_records(main: Snapshot) -> None:
    # A school broken down by a group for one grade is answered from the records.
    got = report(main, org_level="school", orgs=(A1,), breakdown="gender", grades=("05",))
    expected = pl.DataFrame(
        [("001", 8, 7, 6), ("003", 3, 2, 2), ("004", 4, 4, 3), ("G-X", 1, 1, 1)],
        schema={"group_id": pl.String, **COUNTS}, orient="row")
    assert_frame_equal(got.select(expected.columns), expected)


def test_grade_breakdown_and_all_grades(main: Snapshot) -> None:
    got = report(main, org_level="lea", orgs=(A,), breakdown="grade")
    counts = {"03": (2, 2, 2), "05": (10, 8, 6)}
    rows = [(g, *counts.get(g, (0, 0, 0))) for g in GRADES] + [("13", 12, 10, 8)]
    expected = pl.DataFrame(rows, schema={"grade": pl.String, **COUNTS}, orient="row")
    assert_frame_equal(got.select(expected.columns), expected)
    by_grade = got.filter(pl.col("grade") != "13")
    for column in ("n_enrolled", "n_tested", "n_scored", "overall_total", "overall_l3_count",
                   "writing_total"):
        assert by_grade.get_column(column).sum() == got.filter(
            pl.col("grade") == "13").get_column(column).item(), column
    grade_3 = got.filter(pl.col("grade") == "03")
    assert grade_3.get_column("overall_mean").item() == pytest.approx(1495.0)


def test_advanced_filter_restricts_every_row(main: Snapshot) -> None:
    got = report(main, org_level="lea", orgs=(A,), filters=(("gender", ("003",)),))
    expected = pl.DataFrame(
        [{"group_id": "001", "n_enrolled": 5, "n_tested": 4, "n_scored": 3,
          **measure("overall", [1565, 1500, 1475], (0, 2, 0, 1))}],
        schema={"group_id": pl.String, **COUNTS, **measure_schema("overall", 4)})
    assert_frame_equal(got.select(expected.columns), expected)


def test_custom_subgroups_are_extra_rows(main: Snapshot) -> None:
    subgroups = (
        Subgroup("Male, economically disadvantaged",
                 (("gender", ("003",)), ("economic", ("031",)))),
        Subgroup("Male or nonbinary", (("gender", ("003", "G-X")),)),
    )
    got = report(main, org_level="lea", orgs=(A,), subgroups=subgroups)
    expected = pl.DataFrame(
        [("001", "All students", 12, 10, 8, statistics.fmean(A_OVERALL)),
         # Males 02, 06 (NT), 09, 20 (partial); 01 is not economically disadvantaged.
         ("custom:0", "Male, economically disadvantaged", 4, 3, 2, 1487.5),
         ("custom:1", "Male or nonbinary", 6, 5, 4,
          statistics.fmean([1565, 1500, 1475, 1530]))],
        schema={"group_id": pl.String, "row_label": pl.String, **COUNTS,
                "overall_mean": pl.Float64}, orient="row")
    assert_frame_equal(got.select(expected.columns), expected)


def test_completeness_choice(main: Snapshot) -> None:
    # "complete": attemptedness Y, plus non-testers for enrolment; "partial": P only.
    complete = report(main, org_level="lea", orgs=(A,), completeness="complete")
    partial = report(main, org_level="lea", orgs=(A,), completeness="partial")
    assert complete.select(*COUNTS, "n_partial", "overall_total").row(0) == (10, 8, 8, 0, 8)
    assert partial.select(*COUNTS, "n_partial", "overall_total").row(0) == (2, 2, 0, 2, 0)
    assert partial.get_column("has_scores").to_list() == [False]


def test_filtered_school_by_grade_reads_the_records(main: Snapshot) -> None:
    got = report(main, org_level="school", orgs=(A1, A2), breakdown="grade",
                 filters=(("gender", ("003",)),))
    nonzero = got.filter(pl.col("n_enrolled") > 0).select("school_code", "grade", *COUNTS)
    expected = pl.DataFrame(
        [(A1, "05", 3, 2, 2), (A1, "13", 3, 2, 2), (A2, "03", 1, 1, 1), (A2, "13", 1, 1, 1)],
        schema={"school_code": pl.String, "grade": pl.String, **COUNTS}, orient="row")
    assert_frame_equal(nonzero, expected)
    assert got.height == 2 * 14


def test_comparison_rows_for_a_school(main: Snapshot) -> None:
    got = report(main, org_level="school", orgs=(A1,), comparison=True)
    expected = pl.DataFrame(
        [("school", "01", A, A1, A1, "01", 8, 7, 6),
         ("lea", "01", A, "", A, "02", 12, 10, 8),
         ("county", "01", "", "", "01000000000000", "03", 14, 11, 9),
         ("state", "00", "", "", "00000000000000", "04", 16, 13, 11)],
        schema={**KEYS, "cds_code": pl.String, "type_id": pl.String, **COUNTS}, orient="row")
    assert_frame_equal(got.select(expected.columns), expected)
    state = got.row(3, named=True)
    everyone = [*A_OVERALL, 1470, *C_OVERALL]
    assert state["overall_mean"] == pytest.approx(statistics.fmean(everyone))
    assert state["overall_se"] == pytest.approx(
        statistics.stdev(everyone) / math.sqrt(len(everyone)))


def test_comparison_rows_use_no_deprecated_polars_call(main: Snapshot) -> None:
    # Polars reports this deprecation from Rust, where ``filterwarnings = error`` cannot turn
    # it into a failure (it is printed and the query goes on): record it instead.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report(main, org_level="school", orgs=(A1,), comparison=True)
    assert [str(w.message).splitlines()[0] for w in caught] == []


# -- suppression ------------------------------------------------------------------------------

S = "30664640000000"
S10, S11, S0 = "30664640100001", "30664640100002", "30664640100003"


@pytest.fixture(scope="module")
def small(toms) -> Snapshot:
    records = [at(S, S10, SSID=2000000000 + i, OralLanguageScaleScore=1470 + i,
                  WrittenLanguageScaleScore=1500 + 2 * i) for i in range(10)]
    records.append(at(S, S10, SSID=2000000010, TestedStatus="N"))
    records += [at(S, S11, SSID=2000000100 + i, OralLanguageScaleScore=1500,
                   WrittenLanguageScaleScore=1530) for i in range(11)]
    records.append(at(S, S0, SSID=2000000200, TestedStatus="N"))
    return toms(records)


SCORE_SUFFIXES = ("_total", "_mean", "_se", "_band_low", "_band_high", "_count", "_pct")


def small_overall() -> list[int]:
    """Overall scores of school S10's ten students: (oral + written) / 2, rounded half up."""
    return [(1470 + i + 1500 + 2 * i + 1) // 2 for i in range(10)]


def test_suppression_at_ten_but_not_eleven(small: Snapshot) -> None:
    got = report(small, suppress=True, org_level="lea", orgs=(S,), expand="schools_of_leas")
    expected = pl.DataFrame(
        [(S, "", 23, 21, 21, True, False, statistics.fmean(small_overall() + [1515] * 11)),
         (S, S10, 11, 10, 10, True, True, None),
         (S, S11, 11, 11, 11, True, False, 1515.0),
         # No student tested with scores is fewer than 11 too (ELPAC.md §5): hidden.
         (S, S0, 1, 0, 0, False, True, None)],
        schema={"lea_code": pl.String, "school_code": pl.String, **COUNTS,
                "has_scores": pl.Boolean, "is_suppressed": pl.Boolean,
                "overall_mean": pl.Float64}, orient="row")
    assert_frame_equal(got.select(expected.columns), expected)
    hidden = got.filter(pl.col("school_code") == S10)
    score_cells = [c for c in got.columns if c.endswith(SCORE_SUFFIXES)]
    assert len(score_cells) > 60
    assert all(hidden.get_column(c).item() is None for c in score_cells)
    shown = got.filter(pl.col("school_code") == S11)
    assert shown.get_column("overall_l4_count").item() == 0
    assert shown.get_column("overall_l3_count").item() == 11


def test_a_group_with_no_student_tested_with_scores_is_suppressed(toms) -> None:
    # ELPAC.md §5: "no scores for any group with fewer than 11 students". Two non-testers
    # and a partial test: 3 enrolled, 1 tested, none with scores. Suppressed, every score
    # cell is hidden (its zeros too), the enrolled and tested counts stay.
    snap = toms([at(S, S0, SSID=7000000001, TestedStatus="N"),
                 at(S, S0, SSID=7000000002, TestedStatus="N"),
                 at(S, S0, SSID=7000000003, Attemptedness="P", OralLanguageScaleScore=1460,
                    ListeningPL=2, SpeakingPL=2)])
    got = report(snap, suppress=True, org_level="school", orgs=(S0,))
    assert got.select(*COUNTS, "has_scores", "is_suppressed").row(0) == (3, 1, 0, False, True)
    score_cells = [c for c in got.columns if c.endswith(SCORE_SUFFIXES)]
    assert len(score_cells) > 60
    assert [c for c in score_cells if got.get_column(c).item() is not None] == []
    # Not asked: the zeros are shown, and no mean or percent exists to show.
    shown = report(snap, suppress=False, org_level="school", orgs=(S0,))
    assert shown.select("is_suppressed", "overall_total", "overall_l1_count",
                        "listening_total", "overall_mean", "overall_l1_pct").row(0) == (
        False, 0, 0, 0, None, None)


def test_no_suppression_when_not_asked(small: Snapshot) -> None:
    got = report(small, suppress=False, org_level="school", orgs=(S10,))
    oral = [1470 + i for i in range(10)]
    assert got.get_column("is_suppressed").to_list() == [False]
    assert got.get_column("overall_mean").item() == pytest.approx(
        statistics.fmean(small_overall()))
    assert got.get_column("oral_se").item() == pytest.approx(
        statistics.stdev(oral) / math.sqrt(10))


def test_threshold_is_a_parameter(small: Snapshot) -> None:
    got = read_report(small, spec(org_level="school", orgs=(S10, S11)), scope=STATE,
                      suppress=True, threshold=12)
    assert got.select("school_code", "is_suppressed").rows() == [(S10, True), (S11, True)]
    got = read_report(small, spec(org_level="school", orgs=(S10,)), scope=STATE,
                      suppress=True, threshold=10)
    assert got.get_column("is_suppressed").to_list() == [False]


# -- final or partial data ------------------------------------------------------------------

P, F, N = "33670330000000", "34673140000000", "36677100000000"


def test_data_status_partial_and_final(toms) -> None:
    partial = toms.write([at(P, "33670330100001", SSID=3000000001)], created="2025-06-01",
                         tag="Early")
    final = toms.write([at(F, "34673140100001", SSID=3000000002)], created="2025-09-15",
                       tag="Late")
    snap = toms.load([partial, final])
    got = report(snap, org_level="lea", orgs=(P, F), expand="schools_of_leas",
                 comparison=True)
    expected = pl.DataFrame(
        [("lea", P, "", "partial"), ("lea", F, "", "final"),
         ("school", P, "33670330100001", "partial"), ("school", F, "34673140100001", "final"),
         # County 34's only LEA is final, so it is final; the state has a partial LEA.
         ("county", "", "", "partial"), ("county", "", "", "final"),
         ("state", "", "", "partial")],
        schema={"org_level": pl.String, "lea_code": pl.String, "school_code": pl.String,
                "data_status": pl.String}, orient="row")
    assert_frame_equal(got.select(expected.columns), expected)


def test_county_is_final_only_when_every_lea_of_it_is(toms) -> None:
    # Issue 3: county 33 has a final LEA (Q) and a partial one (P): partial. County 34's
    # only LEA is final: final, although the year (and so the state) is partial.
    q = "33670580000000"
    partial = toms.write([at(P, "33670330100001", SSID=3000000011)], created="2025-06-01",
                         tag="Early")
    final = toms.write([at(q, "33670580100001", SSID=3000000012),
                        at(F, "34673140100001", SSID=3000000013)], created="2025-09-15",
                       tag="Late")
    snap = toms.load([partial, final])
    got = report(snap, org_level="lea", orgs=(P, q, F), comparison=True)
    assert got.select("org_level", "county_code", "lea_code", "data_status").rows() == [
        ("lea", "33", P, "partial"), ("lea", "33", q, "final"), ("lea", "34", F, "final"),
        ("county", "33", "", "partial"), ("county", "34", "", "final"),
        ("state", "00", "", "partial")]
    # The same rule for the county and state rows of the summary and the records paths.
    filtered = read_report(snap, spec(org_level="county", orgs=("33", "34"),
                                      filters=(("gender", ("003", "004", "G-X")),),
                                      comparison=True), scope=STATE, suppress=False)
    assert filtered.select("org_level", "county_code", "data_status").rows() == [
        ("county", "33", "partial"), ("county", "34", "final"), ("state", "00", "partial")]


def test_final_file_makes_every_row_final(toms) -> None:
    # A final file with an NPS student whose district of accountability (N) tested no one
    # itself: N's rows come from the same final file, so they are final too.
    snap = toms([at(F, "34673140100001", SSID=3000000003),
                 at(F, "34673140199999", SSID=3000000004, FinalTestedSchoolNPSFlag="Y",
                    SPEDAcctDist=N[:7], SpecialEducationforTesting="Yes")],
                created="2025-09-15")
    got = report(snap, org_level="lea", orgs=(F, N), comparison=True)
    assert got.select("org_level", "lea_code", "n_enrolled", "data_status").rows() == [
        ("lea", F, 1, "final"), ("lea", N, 1, "final"), ("county", "", 1, "final"),
        ("county", "", 1, "final"), ("state", "", 2, "final")]


def test_kindergarten_excludes_tk_from_2024_25(toms) -> None:
    # ELPAC.md §1.1 and §5.5: from 2024-25, kindergarten results exclude transitional
    # kindergarten (TKIndicator Yes) students.
    snap = toms([at(A, A1, SSID=6000000001, GradeAssessed="KN"),
                 at(A, A1, SSID=6000000002, GradeAssessed="KN"),
                 at(A, A1, SSID=6000000003, GradeAssessed="KN", TKIndicator="Yes")])
    got = report(snap, org_level="school", orgs=(A1,), grades=("KN",))
    assert got.select(*COUNTS).row(0) == (2, 2, 2)


# -- invariants on realistic data ------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny(tiny_store_path: Path) -> Snapshot:
    return Snapshot(tiny_store_path)


@pytest.fixture(scope="module")
def everything(tiny: Snapshot) -> pl.DataFrame:
    leas = tiny.orgs_of([YEAR]).filter(pl.col("org_level") == "lea").get_column("lea_code")
    return read_report(tiny, spec(org_level="lea", orgs=tuple(leas), expand="schools_of_leas",
                                  comparison=True, breakdown="grade"),
                       scope=STATE, suppress=False)


def test_invariants_hold_on_the_tiny_store(everything: pl.DataFrame) -> None:
    rows = everything
    assert rows.height > 100
    assert rows.filter(~((pl.col("n_scored") <= pl.col("n_tested"))
                         & (pl.col("n_tested") <= pl.col("n_enrolled")))).height == 0
    for m, levels in (("overall", 4), ("oral", 4), ("written", 4), ("listening", 3),
                      ("speaking", 3), ("reading", 3), ("writing", 3)):
        counts = pl.sum_horizontal([pl.col(f"{m}_l{k}_count") for k in range(1, levels + 1)])
        pcts = pl.sum_horizontal([pl.col(f"{m}_l{k}_pct") for k in range(1, levels + 1)])
        assert rows.filter(counts != pl.col(f"{m}_total")).height == 0, m
        assert rows.filter(pl.col(f"{m}_total") > pl.col("n_scored")).height == 0, m
        with_scores = rows.filter(pl.col(f"{m}_total") > 0)
        assert ((with_scores.select(pcts).to_series() - 100).abs() < 1e-9).all(), m
    for m in ("overall", "oral", "written"):
        banded = rows.filter(pl.col(f"{m}_se").is_not_null())
        assert banded.filter(~((pl.col(f"{m}_band_low") <= pl.col(f"{m}_mean"))
                               & (pl.col(f"{m}_mean") <= pl.col(f"{m}_band_high")))).height == 0
    # Overall is scored for every student tested with scores (Summative, Attemptedness Y).
    assert rows.filter(pl.col("overall_total") != pl.col("n_scored")).height == 0


def test_all_grades_is_the_sum_of_the_grades(everything: pl.DataFrame) -> None:
    keys = ["org_level", "county_code", "lea_code", "school_code", "group_id"]
    counts = ["n_enrolled", "n_tested", "n_scored", "overall_total", "overall_sum_check"]
    rows = everything.with_columns(
        (pl.col("overall_mean").fill_null(0) * pl.col("overall_total")).alias(
            "overall_sum_check"))
    by_grade = rows.filter(pl.col("grade") != "13").group_by(keys).agg(
        pl.col(counts).sum())
    total = rows.filter(pl.col("grade") == "13").select(*keys, *counts)
    joined = total.join(by_grade, on=keys, suffix="_grades")
    assert joined.height == total.height
    for c in counts:
        diff = (joined.get_column(c) - joined.get_column(f"{c}_grades")).abs()
        assert (diff < 1e-6).all(), c


def test_lea_rows_cover_their_schools(everything: pl.DataFrame) -> None:
    all_grades = everything.filter(pl.col("grade") == "13")
    schools = all_grades.filter(pl.col("org_level") == "school").group_by("lea_code").agg(
        pl.col("n_enrolled").sum().alias("in_schools"))
    leas = all_grades.filter(pl.col("org_level") == "lea").select("lea_code", "n_enrolled")
    joined = leas.join(schools, on="lea_code", how="left")
    # Equal except for NPS students, who are in their LEA but no school.
    assert joined.filter(pl.col("in_schools") > pl.col("n_enrolled")).height == 0
    state = all_grades.filter(pl.col("org_level") == "state").get_column("n_enrolled").item()
    assert leas.get_column("n_enrolled").sum() == state
    counties = all_grades.filter(pl.col("org_level") == "county")
    assert counties.get_column("n_enrolled").sum() == state


def test_summary_and_records_paths_agree(tiny: Snapshot) -> None:
    leas = tuple(tiny.orgs_of([YEAR]).filter(pl.col("org_level") == "lea")
                 .get_column("lea_code"))
    base = spec(org_level="lea", orgs=leas, breakdown="ethnicity")
    # A filter that keeps everyone sends the same report through the records.
    everyone = spec(org_level="lea", orgs=leas, breakdown="ethnicity",
                    filters=(("gender", ("003", "004", "G-X")),))
    from_summary = read_report(tiny, base, scope=STATE, suppress=True)
    from_records = read_report(tiny, everyone, scope=STATE, suppress=True)
    assert_frame_equal(from_summary, from_records)
