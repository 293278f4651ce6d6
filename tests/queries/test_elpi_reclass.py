"""Reclassification criterion 1 (ELPI.md §5), local minimums, and the ELPI transition matrix.

Hand-built two-year stores; expectations written out from ELPI.md: criterion 1 is Summative
overall level 4 or Alternate overall level 3; the matrix counts counted Summative students by
last year's and this year's ELPI level (the printed Table 3, ``elpi_builder.elpi_level``).
"""

from __future__ import annotations

import polars as pl
import pytest

from data.catalog.accounts import Account
from data.problems import InputError
from queries.access import User, user_of
from queries.elpi_matrix import read_elpi_cell_students, read_elpi_transitions
from queries.elpi_reclass import (
    read_candidates,
    read_local_minimums,
    set_local_minimums,
    summarise_candidates,
)
from queries.elpi_rules import ELPI_LEVELS
from queries.scope import Scope, ScopeError
from queries.snapshot import Snapshot
from tests.queries.elpi_builder import CURRENT, elpi_level, two_years
from tests.queries.test_elpi_students import (
    A1,
    A2,
    CASES,
    A,
    alternate,
    expect,
    minus1,
    sid,
    summative,
    year_of,
)

STATE = Scope.state(pii=True)


@pytest.fixture(scope="module")
def reclass(tmp_path_factory: pytest.TempPathFactory) -> Snapshot:
    prior = [summative(1, "04", 1560), summative(2, "04", 1530), alternate(4, "04", 570)]
    current = [
        summative(1, "05", 1565),                                   # 4, and 4 last year
        summative(2, "05", 1565),                                   # 4, 3H last year
        summative(3, "05", 1540),                                   # level 3
        alternate(4, "05", 565),                                    # Alternate 3, and before
        alternate(5, "05", 550),                                    # Alternate 2
        summative(6, "05", 1565, ReadingPL=1),                      # 4, reading level 1
        summative(7, "03", 1600, DomainEx3="Y", FinalTestedSchoolCode=A2),  # reading exempt
        summative(8, "05", 1565, **minus1(1565, "04")),             # 4 both years (file)
    ]
    return two_years(tmp_path_factory, prior, current)


def _ids(frame: pl.DataFrame) -> list[int]:
    return [int(s) - 9_000_000_000 for s in frame.get_column("ssid")]


def test_criterion_1_is_the_overall_level_only(reclass: Snapshot) -> None:
    got = read_candidates(reclass, CURRENT, scope=STATE)
    assert sorted(_ids(got)) == [1, 2, 4, 6, 7, 8]
    assert _ids(got)[-1] == 7  # sorted by school first: student 7 tested at A2
    met = dict(zip(_ids(got), got.get_column("met_last_year"), strict=True))
    assert met == {1: True, 2: False, 4: True, 6: False, 8: True, 7: False}
    assert got.get_column("meets_local_minimums").is_null().all()


def test_local_minimums_sit_beside_criterion_1(reclass: Snapshot) -> None:
    got = read_candidates(reclass, CURRENT, scope=STATE, local={"reading": 2})
    local = dict(zip(_ids(got), got.get_column("meets_local_minimums"), strict=True))
    # Student 6's reading is level 1; 7's reading is exempt (not held against them); the
    # Alternate (4) has no domains: the minimums do not apply.
    assert local == {1: True, 2: True, 4: None, 6: False, 8: True, 7: True}
    everyone = read_candidates(reclass, CURRENT, scope=STATE, local={"reading": 2},
                               only_candidates=False)
    summary = summarise_candidates(everyone)
    grade5 = summary.filter((pl.col("school_code") == A1) & (pl.col("grade") == "05")).row(
        0, named=True)
    assert (grade5["n_scored"], grade5["n_meeting_criterion_1"], grade5["n_met_last_year_too"],
            grade5["n_meeting_local_minimums"]) == (7, 5, 3, 4)
    assert grade5["pct_meeting_criterion_1"] == 71.4  # 5 of 7, one decimal


def test_candidates_need_student_records(reclass: Snapshot) -> None:
    with pytest.raises(ScopeError, match="aggregate"):
        read_candidates(reclass, CURRENT, scope=Scope.lea(A))
    school = read_candidates(reclass, CURRENT, scope=Scope.school(A2, pii=True))
    assert _ids(school) == [7]


def test_only_an_lea_coordinator_sets_their_own_minimums(reclass: Snapshot) -> None:
    store = reclass.store
    admin = user_of(Account("a@x.org", "A", "lea_admin", leas=(A,)))
    teacher = User("t@x.org", Scope.school(A1, pii=True))
    with pytest.raises(ScopeError, match="coordinators"):
        set_local_minimums(store, teacher, A, {"reading": 2})
    with pytest.raises(ScopeError, match="own LEAs"):
        set_local_minimums(store, admin, "19647330000000", {"reading": 2})
    with pytest.raises(InputError, match="not a domain"):
        set_local_minimums(store, admin, A, {"math": 2})
    with pytest.raises(InputError, match="level 1, 2 or 3"):
        set_local_minimums(store, admin, A, {"reading": 4})
    assert read_local_minimums(store, A) == {}
    set_local_minimums(store, admin, A, {"writing": 2, "reading": 3})
    assert read_local_minimums(store, A) == {"reading": 3, "writing": 2}
    set_local_minimums(store, admin, A, {})
    assert read_local_minimums(store, A) == {}


# -- the transition matrix ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> Snapshot:
    prior = [p for _, p, *_ in CASES if p is not None]
    return two_years(tmp_path_factory, prior, [c for _, _, c, *_ in CASES])


def _expected_matrix(school: str) -> dict[tuple[str, str], int]:
    cells = {(a, b): 0 for a in ELPI_LEVELS for b in ELPI_LEVELS}
    for _, _, current, before, _ in CASES:
        now = year_of(current)
        reason, _ = expect(now, before)
        where = current.get("FinalTestedSchoolCode")
        if reason is None and now.test == "21" and where == school:
            assert before is not None
            assert before.score is not None
            assert now.score is not None
            cells[(elpi_level(before.grade, before.score),
                   elpi_level(now.grade, now.score))] += 1
    return cells


def test_the_matrix_counts_counted_summative_students(cases: Snapshot) -> None:
    matrix = read_elpi_transitions(cases, CURRENT, scope=STATE, level="school", code=A1,
                                   suppress=False)
    got = {(r["from_level"], r["to_level"]): r["n_students"] for r in matrix.iter_rows(
        named=True)}
    assert got == _expected_matrix(A1)
    assert matrix.height == 36
    assert set(matrix.filter(pl.col("to_level") > pl.col("from_level"))
               .get_column("movement")) <= {"progressed", "declined"}
    row_2h = matrix.filter(pl.col("from_level") == "2H")
    assert row_2h.get_column("pct_of_from").sum() == pytest.approx(100)


def test_a_small_matrix_is_hidden_when_suppressed(cases: Snapshot) -> None:
    hidden = read_elpi_transitions(cases, CURRENT, scope=Scope(leas=(A,), suppressed=True),
                                   level="school", code=A1, suppress=False)
    assert hidden.get_column("is_suppressed").all()
    assert hidden.get_column("n_students").is_null().all()
    with pytest.raises(ScopeError):
        read_elpi_transitions(cases, CURRENT, scope=Scope.lea("19647330000000"),
                              level="school", code=A1, suppress=False)


def test_students_behind_the_cells_and_watch_lists(cases: Snapshot) -> None:
    def ids(**kw: object) -> set[int]:
        frame = read_elpi_cell_students(cases, CURRENT, scope=STATE, level="lea", code=A,
                                        **kw)  # type: ignore[arg-type]
        return {int(s) - 9_000_000_000 for s in frame.get_column("ssid")}

    expected = {ssid: expect(year_of(c), b) for ssid, _, c, b, _ in CASES}
    assert ids(watch="declined") == {s for s, (_, o) in expected.items() if o == "declined"}
    assert ids(watch="one_level") == {s for s, (_, o) in expected.items()
                                      if o == "maintained_other"}
    assert ids(watch="stayed_2h") == {4, 6, 25}   # 2H -> 2H (grade 4 -> 5, K -> 1 twice)
    assert ids(cell=("2H", "3L")) == {1, 2, 21, 24}
    with pytest.raises(ScopeError, match="aggregate"):
        read_elpi_cell_students(cases, CURRENT, scope=Scope.lea(A), level="lea", code=A,
                                watch="declined")
    assert sid(1) in read_elpi_cell_students(
        cases, CURRENT, scope=Scope(schools=(A1,), ssids=(sid(1),), pii=True),
        level="school", code=A1, cell=("2H", "3L")).get_column("ssid").to_list()
