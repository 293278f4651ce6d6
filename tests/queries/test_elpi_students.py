"""English learner progress per student against an independent computation (ELPI.md §1-§3).

Two years of the same hand-built students (``elpi_builder``): every rule's case, each split
point of every grade at the cut and one below, prior years from the file's ``…Minus1`` fields
and from the store. ``expect`` applies ELPI.md's rules in plain Python to the printed Table 3
(``elpi_builder.ELPI_TABLE``), never to the code under test.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import polars as pl
import pytest

from queries.elpi_orgs import elpi_counts, read_outcomes
from queries.elpi_rules import OUTCOME_NAMES, SPLITS
from queries.elpi_students import (
    elpi_inputs,
    read_elpi_students,
    with_rules_duckdb,
    with_rules_polars,
)
from queries.scope import Scope, ScopeError
from queries.snapshot import Snapshot
from tests.queries.elpi_builder import CURRENT, ELPI_TABLE, LEVELS, elpi_level, two_years

A, B = "01611920000000", "01612000000000"
A1, A2, B1 = "01611920111111", "01611920122222", "01612000144444"
GRADE_ORDER = ("KN", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12")
STATE = Scope.state(pii=True)


def sid(n: int) -> str:
    """Student ``n``'s SSID (ten digits)."""
    return str(9_000_000_000 + n)


def summative(n: int, grade: str, score: int, **fields: object) -> dict[str, object]:
    """A Summative record: both composites at ``score``, so the overall is ``score``.

    ``TestedStatus="N"`` makes a non-tester (no scores), ``Attemptedness="P"`` a partial test
    (oral composite only).
    """
    scores: dict[str, object] = {"OralLanguageScaleScore": score,
                                 "WrittenLanguageScaleScore": score}
    if fields.get("TestedStatus") == "N":
        scores = {}
    elif fields.get("Attemptedness") == "P":
        scores["WrittenLanguageScaleScore"] = "NS"
    return {"SSID": sid(n), "GradeAssessed": grade, **scores, "FinalTestedDistrictCode": A,
            "FinalTestedSchoolCode": A1, **fields}


def alternate(n: int, grade: str, score: int, **fields: object) -> dict[str, object]:
    """A scored Summative Alternate ELPAC record."""
    return {"SSID": sid(n), "RecordType": "23", "GradeAssessed": grade,
            "OverallScaleScore": score, "FinalTestedDistrictCode": A,
            "FinalTestedSchoolCode": A1, **fields}


def minus1(score: object, grade: str, **fields: object) -> dict[str, object]:
    """The file's prior-year fields (ELPI.md §3)."""
    return {"OverallScaleScoreMinus1": score, "GradeAssessedMinus1": grade,
            "AttemptednessMinus1": "Y", **fields}


@dataclass(frozen=True)
class Year:
    """One year of a student, as the independent computation sees it."""

    test: str
    grade: str
    score: int | None


def alt_level(score: int) -> int:
    """Alternate level from the score's last two digits (ELPAC.md §2 bands)."""
    position = score % 100
    return 1 + (position >= 44) + (position >= 60)


def expect(now: Year, before: Year | None) -> tuple[str | None, str | None]:
    """(not-counted reason, outcome) by ELPI.md §2-§3, in plain Python."""
    if now.grade == "KN":
        return "kindergarten", None
    if now.score is None:
        return "no_score", None
    if before is None or before.score is None:
        return "no_prior_score", None
    if before.test != now.test:
        return "different_assessment", None
    if GRADE_ORDER.index(now.grade) < GRADE_ORDER.index(before.grade):
        return "lower_grade", None
    if now.test == "21":
        a = LEVELS.index(elpi_level(before.grade, before.score))
        b = LEVELS.index(elpi_level(now.grade, now.score))
        if a == b == 5:
            return None, "maintained_4"
        return None, ("progressed" if b > a else "maintained_other" if a == b else "declined")
    a, b = alt_level(before.score), alt_level(now.score)
    if a == b == 3:
        return None, "maintained_4"
    if b > a or now.score % 100 - before.score % 100 >= 10:
        return None, "progressed"
    return None, "maintained_other" if a == b else "declined"


# (ssid, prior-year record or None, current record, the prior year the rules must see, source)
S, T = "21", "23"
CASES = [
    (1, summative(1, "04", 1480), summative(1, "05", 1515), Year(S, "04", 1480), "store"),
    # The file's Minus1 (2H) wins over the store's record (3H) of the same student.
    (2, summative(2, "04", 1530), summative(2, "05", 1515, **minus1(1480, "04")),
     Year(S, "04", 1480), "file"),
    (3, summative(3, "04", 1560), summative(3, "05", 1570), Year(S, "04", 1560), "store"),
    (4, summative(4, "04", 1490), summative(4, "05", 1495), Year(S, "04", 1490), "store"),
    (5, summative(5, "04", 1530), summative(5, "05", 1500), Year(S, "04", 1530), "store"),
    (6, summative(6, "KN", 1400), summative(6, "01", 1440), Year(S, "KN", 1400), "store"),
    # TK -> K: kindergarten this year (and TK is in no aggregate, ELPAC.md §1.1).
    (7, summative(7, "KN", 1400, TKIndicator="Yes"), summative(7, "KN", 1430),
     Year(S, "KN", 1400), "store"),
    (8, summative(8, "06", 1500), summative(8, "05", 1520), Year(S, "06", 1500), "store"),
    (9, summative(9, "05", 1480), summative(9, "05", 1495), Year(S, "05", 1480), "store"),
    (10, alternate(10, "04", 550), summative(10, "05", 1500), Year(T, "04", 550), "store"),
    (11, summative(11, "04", 1480, TestedStatus="N"), summative(11, "05", 1500),
     Year(S, "04", None), "store"),
    (12, summative(12, "04", 1480, Attemptedness="P"), summative(12, "05", 1500),
     Year(S, "04", None), "store"),
    (13, summative(13, "04", 1480), summative(13, "05", 1500, Attemptedness="P"),
     Year(S, "04", 1480), "store"),
    (14, summative(14, "04", 1480), summative(14, "05", 1500, TestedStatus="N"),
     Year(S, "04", 1480), "store"),
    (15, None, summative(15, "05", 1500), None, None),
    (16, alternate(16, "04", 540), alternate(16, "05", 545), Year(T, "04", 540), "store"),
    (17, alternate(17, "04", 565), alternate(17, "05", 570), Year(T, "04", 565), "store"),
    (18, alternate(18, "05", 520), alternate(18, "06", 630), Year(T, "05", 520), "store"),
    (19, alternate(19, "05", 521), alternate(19, "06", 630), Year(T, "05", 521), "store"),
    (20, alternate(20, "05", 556), alternate(20, "06", 640), Year(T, "05", 556), "store"),
    # A mover: last year in LEA B, this year counted where they tested now (ELPI.md §3).
    (21, summative(21, "04", 1480, FinalTestedDistrictCode=B, FinalTestedSchoolCode=B1),
     summative(21, "05", 1515, FinalTestedSchoolCode=A2), Year(S, "04", 1480), "store"),
    # The state's record says not tested last year: it wins over the store's score.
    (22, summative(22, "04", 1480), summative(22, "05", 1500, AttemptednessMinus1="",
                                              ConditionCodeMinus1="NT"),
     Year(S, "04", None), "file"),
    (23, None, summative(23, "05", 1500, **minus1(550, "04")), Year(T, "04", 550), "file"),
    (24, None, summative(24, "05", 1515, **minus1(1480, "4")), Year(S, "04", 1480), "file"),
    (25, None, summative(25, "01", 1440, **minus1(1400, "KN")), Year(S, "KN", 1400), "file"),
]


def year_of(record: dict[str, object]) -> Year:
    alt = record.get("RecordType") == "23"
    scored = record.get("TestedStatus", "Y") == "Y" and record.get("Attemptedness", "Y") == "Y"
    score = record.get("OverallScaleScore" if alt else "OralLanguageScaleScore")
    return Year(T if alt else S, str(record["GradeAssessed"]),
                int(score) if scored and score is not None else None)  # type: ignore[call-overload]


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> Snapshot:
    prior = [p for _, p, *_ in CASES if p is not None]
    return two_years(tmp_path_factory, prior, [c for _, _, c, *_ in CASES])


def _by_ssid(frame: pl.DataFrame) -> dict[int, dict[str, object]]:
    return {int(r["ssid"]) - 9_000_000_000: r for r in frame.iter_rows(named=True)}


def test_every_case_matches_the_independent_rules(cases: Snapshot) -> None:
    rows = _by_ssid(read_elpi_students(cases, CURRENT, scope=STATE))
    # TK students are in no aggregate (ELPAC.md §1.1) but a TK -> K student is K this year.
    assert set(rows) == {ssid for ssid, *_ in CASES}
    for ssid, _, current, before, source in CASES:
        reason, outcome = expect(year_of(current), before)
        row = rows[ssid]
        got = (row["not_counted_reason"], row["outcome"], row["prior_source"])
        assert got == (reason, outcome, source), f"student {ssid}"
        assert row["is_counted"] == (reason is None)
        assert row["is_progress"] == (outcome in ("progressed", "maintained_4"))


def test_prior_year_fields_and_source_are_reported(cases: Snapshot) -> None:
    rows = _by_ssid(read_elpi_students(cases, CURRENT, scope=STATE))
    assert (rows[2]["prior_score"], rows[2]["prior_grade"], rows[2]["prior_elpi_level"]) == (
        1480, "04", "2H")
    assert rows[2]["prior_year"] == "2024-25"
    assert (rows[23]["prior_test"], rows[23]["prior_score"]) == ("23", 550)
    assert rows[15]["prior_year"] is None
    assert rows[21]["school_code"] == A2  # counted where they tested this year
    # Alternate gain after dropping the first digit: 520 -> 630 is 20 -> 30, +10.
    assert (rows[18]["alt_gain"], rows[19]["alt_gain"]) == (10, 9)
    # One level from progress: counted and maintained (not 4).
    flagged = {s for s, r in rows.items() if r["is_one_level_from_progress"]}
    assert flagged == {s for s, r in rows.items() if r["outcome"] == "maintained_other"}


def _split_records() -> tuple[list[dict[str, object]],
                             dict[int, tuple[str, str | None, str]]]:
    """At every split point of every grade: a student at the cut and one a point below.

    Each has last year (file fields, the grade below) at the lowest score of the ELPI level
    just under the cut's, so at the cut they progress and a point below they maintain.
    """
    records: list[dict[str, object]] = []
    expected: dict[int, tuple[str, str | None, str]] = {}
    ssid = 100
    for g, grade in enumerate(GRADE_ORDER):
        ranges = ELPI_TABLE[grade]
        cuts = [low for low, _ in ranges] + [ranges[-1][1] + 1]
        for i, cut in enumerate(cuts):
            prior_grade = GRADE_ORDER[max(g - 1, 0)]
            prior_low = 1150 if i == 0 else ELPI_TABLE[prior_grade][i - 1][0]
            for score, outcome in ((cut, "progressed"), (cut - 1, "maintained_other")):
                ssid += 1
                records.append(summative(ssid, grade, score, **minus1(prior_low, prior_grade)))
                expected[ssid] = (elpi_level(grade, score),
                                  None if grade == "KN" else outcome, LEVELS[i])
    return records, expected


def test_each_split_point_and_one_below(tmp_path_factory: pytest.TempPathFactory) -> None:
    records, expected = _split_records()
    snap = two_years(tmp_path_factory, [], records)
    rows = _by_ssid(read_elpi_students(snap, CURRENT, scope=STATE))
    got = {s: (r["elpi_level"], r["outcome"], r["prior_elpi_level"]) for s, r in rows.items()}
    assert got == expected
    assert len(expected) == 13 * 5 * 2


def test_the_declared_splits_are_the_printed_table_and_halve_the_levels() -> None:
    from data.domain import summative_cuts

    for grade, ranges in ELPI_TABLE.items():
        assert SPLITS[grade] == (*[low for low, _ in ranges], ranges[-1][1] + 1)
        l2, l3, l4 = summative_cuts("overall", grade)
        for low, high in ((l2, l3 - 1), (l3, l4 - 1)):
            # The range halved, the High half taking the odd point (ELPI.md §1).
            assert low + (high - low + 1) // 2 in SPLITS[grade]


def test_the_two_executions_agree_on_the_demo(tiny_store_path: object) -> None:
    snap = Snapshot(tiny_store_path)  # type: ignore[arg-type]
    for year in snap.years[1:]:
        inputs = elpi_inputs(snap, year, scope=Scope.state())
        assert inputs is not None
        columns = ["ssid", "test", "not_counted_reason", "outcome", "elpi_level",
                   "prior_elpi_level", "alt_gain", "is_progress"]
        by_polars = with_rules_polars(inputs.pl()).select(columns).sort("ssid", "test")
        by_duckdb = with_rules_duckdb(inputs).pl().select(columns).sort("ssid", "test")
        assert by_polars.cast(by_duckdb.schema).equals(by_duckdb), year
        assert by_polars.height > 0
        # The organisation counts (DuckDB) are the sums of the per-student rows (Polars).
        counts = elpi_counts(read_outcomes(snap, year, scope=Scope.state()))
        again = elpi_counts(with_rules_polars(inputs.pl()))
        keys = ["org_level", "county_code", "lea_code", "school_code", "group_id"]
        assert counts.sort(keys).equals(again.sort(keys))


def test_demo_invariants(tiny_store_path: object) -> None:
    snap = Snapshot(tiny_store_path)  # type: ignore[arg-type]
    year = snap.years[-1]
    rows = read_elpi_students(snap, year, scope=STATE)
    counted = rows.filter(pl.col("is_counted"))
    assert counted.height > 0
    assert counted.get_column("outcome").is_in(OUTCOME_NAMES).all()
    assert rows.filter(~pl.col("is_counted")).get_column("outcome").null_count() == (
        rows.height - counted.height)
    assert (rows.get_column("grade") != "KN").all() or (
        rows.filter(pl.col("grade") == "KN").get_column("is_counted").not_().all())
    # Every counted student has both years on the same test, not a lower grade.
    assert (counted.get_column("test") == counted.get_column("prior_test")).all()


def test_student_rows_need_student_records_and_stay_in_scope(cases: Snapshot) -> None:
    with pytest.raises(ScopeError, match="aggregate"):
        read_elpi_students(cases, CURRENT, scope=Scope.lea(A))
    lea_b = read_elpi_students(cases, CURRENT, scope=Scope.lea(B, pii=True))
    assert lea_b.height == 0  # the mover counts where they tested this year, in LEA A
    school = read_elpi_students(cases, CURRENT, scope=Scope.school(A2, pii=True))
    assert school.get_column("ssid").to_list() == [sid(21)]
    teacher = Scope(schools=(A1,), ssids=(sid(1), sid(5)), pii=True)
    assert read_elpi_students(cases, CURRENT, scope=teacher).get_column("ssid").to_list() == [
        sid(1), sid(5)]


def test_a_student_group_scope_keeps_its_students_only(cases: Snapshot) -> None:
    # Everyone here is Hispanic (the builder's default); a scope of Asian students has none.
    asian = Scope(leas=(A,), groups=("076",), pii=True)
    assert read_elpi_students(cases, CURRENT, scope=asian).height == 0


def test_duckdb_expressions_hold_no_user_text() -> None:
    from queries.elpi_rules import student_duckdb

    text = " ".join(str(e) for stage in student_duckdb() for e in stage)
    assert ";" not in text
    assert isinstance(student_duckdb()[0][0], duckdb.Expression)
