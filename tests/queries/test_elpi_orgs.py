"""English learner progress per organisation and group, against an independent computation.

The guide's worked example (ELPI.md §4) through real files; the change and status edges on
exact numbers (one pair that binary floating point would put on the wrong side of +2); the
minimum n, the LTEL minimum, the participation adjustment, suppression and scope; and a seeded
population of two years (movers, Alternate, K -> 1, non-testers, partial tests, Minus1 and
store priors) whose every organisation x group count is recomputed here in plain Python.
"""

from __future__ import annotations

import math
import random
from collections import Counter

import numpy as np
import polars as pl
import pytest

from queries.elpi_orgs import read_elpi
from queries.elpi_status import change_level_of, more_to_next_status, status_of
from queries.scope import Scope, ScopeError
from queries.snapshot import Snapshot
from tests.queries.elpi_builder import CURRENT, PRIOR, two_years
from tests.queries.test_elpi_students import A1, A2, B1, A, B, Year, expect, minus1, sid, summative

C, C1 = "19647330000000", "19647330155555"
SCHOOLS = {A1: A, A2: A, B1: B, C1: C}


def row(frame: pl.DataFrame, level: str, code: str, group: str = "001") -> dict[str, object]:
    key = {"school": "school_code", "lea": "lea_code", "county": "county_code",
           "state": "county_code"}[level]
    found = frame.filter((pl.col("org_level") == level) & (pl.col(key) == code)
                         & (pl.col("group_id") == group))
    assert found.height == 1, (level, code, group, found.height)
    return found.row(0, named=True)


# -- the guide's worked example ---------------------------------------------------------------

def _school_year(first: int, n_progress: int, n_total: int, school: str) -> list[dict]:
    """``n_total`` grade-5 students at ``school``, ``n_progress`` of them 2L -> 3L, the rest
    2L -> 2L, their prior year in the file's Minus1 fields."""
    return [summative(first + i, "05", 1514 if i < n_progress else 1470,
                      FinalTestedSchoolCode=school, **minus1(1460, "04"))
            for i in range(n_total)]


@pytest.fixture(scope="module")
def worked(tmp_path_factory: pytest.TempPathFactory) -> Snapshot:
    # Last year 54 of 93 made progress; this year 46 of 76 (ELPI.md §4).
    return two_years(tmp_path_factory, _school_year(1000, 54, 93, A1),
                     _school_year(2000, 46, 76, A1))


def test_the_guides_worked_example(worked: Snapshot) -> None:
    school = row(read_elpi(worked, CURRENT, scope=Scope.state(), suppress=False), "school", A1)
    assert (school["n_counted"], school["n_progressed"], school["prior_n_counted"]) == (
        76, 46, 93)
    assert round(school["rate"], 1) == 60.5
    assert round(school["prior_rate"], 1) == 58.1
    # +2.5 from the unrounded rates (60.53 - 58.06), not 60.5 - 58.1 = 2.4.
    assert round(school["change"], 2) == 2.46
    assert (school["status"], school["change_level"], school["color"]) == (
        "High", "Increased", "Green")
    # What-if: 4 more progressing (50 of 76 = 65.8 %) reach Very High; 3 (64.5 %) do not.
    assert (school["next_status"], school["n_more_to_next_status"]) == ("Very High", 4)
    assert school["data_status"] == "final"


# -- exact edges --------------------------------------------------------------------------------

@pytest.mark.parametrize(("p", "d", "pp", "pd", "expected"), [
    (52, 100, 50, 100, "Increased"),                   # +2 exactly
    (5199, 10000, 50, 100, "Maintained"),              # +1.99
    (60, 100, 50, 100, "Increased"),                   # +10 exactly
    (6001, 10000, 50, 100, "Increased Significantly"),  # +10.01
    (48, 100, 50, 100, "Declined"),                    # -2 exactly
    (4801, 10000, 50, 100, "Maintained"),              # -1.99
    (40, 100, 50, 100, "Declined"),                    # -10 exactly
    (3999, 10000, 50, 100, "Declined Significantly"),  # -10.01
    # 32.857... - 30.857... is exactly +2, but 1.9999999999999964 in floating point.
    (23, 70, 54, 175, "Increased"),
])
def test_change_edges_are_exact(p: int, d: int, pp: int, pd: int, expected: str) -> None:
    got = change_level_of(np.array([p]), np.array([d]), np.array([pp]), np.array([pd]),
                          np.array([True]))
    assert got.tolist() == [expected]


@pytest.mark.parametrize(("p", "d", "expected"), [
    (35, 100, "Low"), (3499, 10000, "Very Low"), (45, 100, "Medium"), (4499, 10000, "Low"),
    (55, 100, "High"), (65, 100, "Very High"), (6499, 10000, "High"), (0, 11, "Very Low"),
])
def test_status_cut_points(p: int, d: int, expected: str) -> None:
    assert status_of(np.array([p]), np.array([d]), np.array([d])).tolist() == [expected]


def test_what_if_counts_whole_students_and_only_counted_ones() -> None:
    # 10 of 30 (33.3 %): 11 of 30 is 36.7 %, Low. Nothing above Very High or No Data.
    got = more_to_next_status(np.array([10, 20, 5]), np.array([30, 30, 10]),
                              np.array([30, 30, 10]),
                              status_of(np.array([10, 20, 5]), np.array([30, 30, 10]),
                                        np.array([30, 30, 10])))
    assert got.tolist() == [1, -1, -1]
    # 20 counted + 10 added by the participation adjustment, 5 progressing: 35 % of 30 is 10.5,
    # so 6 more; but the added students cannot progress, so with 10 counted + 30 added
    # (35 % of 40 is 14: 9 more) only 5 could, and there is no what-if.
    assert more_to_next_status(np.array([5]), np.array([30]), np.array([20]),
                               np.array(["Very Low"])).tolist() == [6]
    assert more_to_next_status(np.array([5]), np.array([40]), np.array([10]),
                               np.array(["Very Low"])).tolist() == [-1]


# -- minimum n, LTEL, participation, suppression ------------------------------------------------

def _sized(first: int, n: int, school: str, **fields: object) -> list[dict]:
    """``n`` grade-5 students, half of them (rounded down) progressing."""
    return [summative(first + i, "05", 1514 if i < n // 2 else 1470,
                      FinalTestedSchoolCode=school, FinalTestedDistrictCode=SCHOOLS[school],
                      **minus1(1460, "04"), **fields) for i in range(n)]


@pytest.fixture(scope="module")
def sizes(tmp_path_factory: pytest.TempPathFactory) -> Snapshot:
    # Schools of 10, 11, 29 and 30 students in both years; the 15 LTEL students of B1 are
    # all of LEA B's LTEL students.
    years = []
    for offset in (0, 5000):
        years.append([*_sized(offset + 100, 10, A1), *_sized(offset + 200, 11, A2),
                      *_sized(offset + 300, 29, C1), *_sized(offset + 400, 30, B1),
                      *_sized(offset + 500, 15, B1, LTELorARLTEL="1")])
    return two_years(tmp_path_factory, years[0], years[1])


def test_minimum_n_for_status_and_colour(sizes: Snapshot) -> None:
    frame = read_elpi(sizes, CURRENT, scope=Scope.state(), suppress=False)
    ten, eleven = row(frame, "school", A1), row(frame, "school", A2)
    assert (ten["status"], ten["change_level"], ten["color"]) == ("No Data", None, None)
    assert eleven["status"] == "Medium"
    assert eleven["color"] is None
    assert eleven["change_level"] == "Maintained"
    assert row(frame, "school", C1)["color"] is None                  # 29 counted
    assert row(frame, "lea", C)["color"] is None
    assert row(frame, "school", B1)["n_counted"] == 45
    assert row(frame, "school", B1)["color"] is not None


def test_ltel_needs_15_for_an_lea_and_30_for_a_school(sizes: Snapshot) -> None:
    frame = read_elpi(sizes, CURRENT, scope=Scope.state(), suppress=False)
    lea, school = row(frame, "lea", B, "250"), row(frame, "school", B1, "250")
    assert lea["n_counted"] == school["n_counted"] == 15
    assert lea["color"] is not None
    assert school["color"] is None
    assert lea["student_group"] == "Long-term English learner (LTEL)"


def test_an_aggregate_only_scope_gets_small_rows_suppressed(sizes: Snapshot) -> None:
    viewer = Scope(leas=(A,), suppressed=True)
    frame = read_elpi(sizes, CURRENT, scope=viewer, suppress=False)
    ten, eleven = row(frame, "school", A1), row(frame, "school", A2)
    assert ten["is_suppressed"]
    assert ten["n_counted"] == 10
    assert ten["n_progressed"] is None
    assert ten["rate"] is None
    assert not eleven["is_suppressed"]
    assert eleven["n_progressed"] == 5
    # Only LEA A and its schools: no state, county or other LEA row.
    assert set(frame.get_column("org_level")) == {"lea", "school"}
    assert set(frame.get_column("lea_code")) == {A}
    shown = read_elpi(sizes, CURRENT, scope=Scope.lea(A), suppress=False)
    assert row(shown, "school", A1)["n_progressed"] == 5


def test_scope_limits_rows_and_students(sizes: Snapshot) -> None:
    with pytest.raises(ScopeError):
        read_elpi(sizes, CURRENT, scope=Scope.lea("30664310000000"), suppress=False)
    teacher = Scope(schools=(B1,), ssids=(sid(5400), sid(5401), sid(5429)), pii=True)
    frame = read_elpi(sizes, CURRENT, scope=teacher, suppress=False)
    assert set(frame.get_column("org_level")) == {"school"}
    mine = row(frame, "school", B1)
    # Student 5400 and 5401 progress (the first half of the 30), 5429 does not.
    assert (mine["n_counted"], mine["n_progressed"]) == (3, 2)
    only_lea = read_elpi(sizes, CURRENT, scope=Scope.state(), lea=B, suppress=False)
    assert set(only_lea.get_column("lea_code")) == {B}


@pytest.mark.parametrize(("created", "adjusted"), [("2026-09-15", True), ("2026-06-01", False)])
def test_participation_adjustment(tmp_path_factory: pytest.TempPathFactory, created: str,
                                  adjusted: bool) -> None:
    # 40 ELs in grades 1-12 at A1, 4 not tested (90 %): 95 % is 38, so 2 are added. The
    # kindergartener is not in the ELPI's enrolment.
    prior = _sized(100, 36, A1)
    current = [*_sized(1100, 36, A1),
               *[summative(1200 + i, "05", 0, TestedStatus="N") for i in range(4)],
               summative(1300, "KN", 1400)]
    snap = two_years(tmp_path_factory, prior, current, created={CURRENT: created})
    school = row(read_elpi(snap, CURRENT, scope=Scope.state(), suppress=False), "school", A1)
    assert (school["n_enrolled"], school["n_tested"], school["n_counted"]) == (40, 36, 36)
    assert school["participation_known"] is adjusted
    assert school["n_adjustment"] == (2 if adjusted else 0)
    assert school["rate"] == pytest.approx(100 * 18 / (38 if adjusted else 36))
    assert school["data_status"] == ("final" if adjusted else "partial")


# -- a seeded population, every organisation x group recomputed ------------------------------

def _population(seed: int) -> tuple[list[dict], list[dict], dict[str, tuple]]:
    """Two years of 400 students: (prior records, current records, what each student is)."""
    rng = random.Random(seed)
    prior, current, truth = [], [], {}
    for n in range(1, 401):
        grade = rng.randrange(0, 13)
        alt = rng.random() < 0.06
        test = "23" if alt else "21"
        school = rng.choice(list(SCHOOLS))
        groups = {"eth": rng.choice(["500", "200", "700"]),
                  "econ": rng.choice(["Yes", "No"]), "ltel": rng.choice(["", "", "1", "2"])}
        fields = {"EthnicityforTesting": groups["eth"],
                  "EconomicDisadvantageTesting": groups["econ"],
                  "LTELorARLTEL": groups["ltel"], "FinalTestedSchoolCode": school,
                  "FinalTestedDistrictCode": SCHOOLS[school]}
        g = f"{grade:02d}" if grade else "KN"
        before: Year | None = None
        if grade and rng.random() < 0.85:
            pg_i = max(0, grade - rng.choice([1, 1, 1, 1, 0, -1]))
            pg_i = min(pg_i, 12)
            pg = f"{pg_i:02d}" if pg_i else "KN"
            ptest = test if rng.random() > 0.03 else ("21" if alt else "23")
            pscore = _score(rng, ptest, pg)
            p_tested = rng.random() > 0.05
            before = Year(ptest, pg, pscore if p_tested else None)
            pschool = rng.choice(list(SCHOOLS))
            where = {"FinalTestedSchoolCode": pschool,
                     "FinalTestedDistrictCode": SCHOOLS[pschool]}
            if rng.random() < 0.5:   # the prior year in the store
                prior.append(_record(n, ptest, pg, pscore if p_tested else None, where))
            else:                    # or in the file's Minus1 fields only
                fields.update(minus1(pscore if p_tested else "", pg) if p_tested else
                              {"ConditionCodeMinus1": "NT", "GradeAssessedMinus1": pg})
        tested = rng.random() > 0.06
        score = _score(rng, test, g)
        current.append(_record(n, test, g, score if tested else None, fields))
        truth[sid(n)] = (Year(test, g, score if tested else None), before, groups, school)
    return prior, current, truth


def _score(rng: random.Random, test: str, grade: str) -> int:
    if test == "23":
        base = {"KN": 200, "01": 300, "02": 400}.get(grade, 500 if grade <= "05" else
                                                      600 if grade <= "08" else
                                                      700 if grade <= "10" else 800)
        return base + rng.randrange(1, 100)
    return rng.randrange(1380, 1620)


def _record(n: int, test: str, grade: str, score: int | None, fields: dict) -> dict:
    if test == "23":
        if score is None:
            return {"SSID": sid(n), "RecordType": "23", "GradeAssessed": grade,
                    "TestedStatus": "N", **fields}
        return {"SSID": sid(n), "RecordType": "23", "GradeAssessed": grade,
                "OverallScaleScore": score, **fields}
    if score is None:
        return summative(n, grade, 0, TestedStatus="N", **fields)
    return summative(n, grade, score, **fields)


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> tuple[Snapshot, dict]:
    prior, current, truth = _population(13)
    return two_years(tmp_path_factory, prior, current), truth


def _expected_counts(truth: dict) -> dict[tuple[str, str, str], Counter]:
    """(org level, code, group) -> counts, from ELPI.md's rules applied here."""
    out: dict[tuple[str, str, str], Counter] = {}
    for now, before, groups, school in truth.values():
        reason, outcome = expect(now, before)
        lea = SCHOOLS[school]
        keys = [("school", school), ("lea", lea), ("county", lea[:2]), ("state", "00")]
        ids = ["001", {"500": "078", "200": "076", "700": "080"}[groups["eth"]],
               "031" if groups["econ"] == "Yes" else "111"]
        if groups["ltel"]:
            ids.append({"1": "250", "2": "251"}[groups["ltel"]])
        if now.grade != "KN":
            ids.append(f"grade:{now.grade}")
        for (level, code) in keys:
            for gid in ids:
                c = out.setdefault((level, code, gid), Counter())
                if now.grade != "KN":
                    c["n_enrolled"] += 1
                    c["n_tested"] += now.score is not None
                c["n_counted"] += reason is None
                for name, key in (("progressed", "n_progressed"),
                                  ("maintained_4", "n_maintained_level_4"),
                                  ("maintained_other", "n_maintained_other"),
                                  ("declined", "n_declined")):
                    c[key] += outcome == name
    return out


def test_every_organisation_and_group_matches_the_independent_counts(population: tuple) -> None:
    snap, truth = population
    expected = _expected_counts(truth)
    frame = read_elpi(snap, CURRENT, scope=Scope.state(), suppress=False)
    columns = ["n_enrolled", "n_tested", "n_counted", "n_progressed", "n_maintained_level_4",
               "n_maintained_other", "n_declined"]
    got = {}
    for r in frame.iter_rows(named=True):
        code = {"school": r["school_code"], "lea": r["lea_code"]}.get(r["org_level"],
                                                                      r["county_code"])
        got[(r["org_level"], code, r["group_id"])] = {c: r[c] for c in columns}
    for key, counts in expected.items():
        assert got[key] == {c: counts[c] for c in columns}, key
    assert sum(c["n_counted"] for k, c in expected.items() if k[0] == "state" and
               k[2] == "001") > 200
    # Rates: (progressed + maintained 4) / (counted + the shortfall to 95 % tested).
    for r in frame.filter((pl.col("group_id") == "001") & (pl.col("n_counted") > 0)
                          ).iter_rows(named=True):
        e, t = r["n_enrolled"], r["n_tested"]
        add = max(0, math.ceil(e * 95 / 100) - t) if e >= 30 else 0
        assert r["n_adjustment"] == add
        assert r["rate"] == pytest.approx(
            100 * (r["n_progressed"] + r["n_maintained_level_4"]) / (r["n_counted"] + add))


def test_a_prior_year_outside_the_store_still_gives_a_change(worked: Snapshot) -> None:
    # The prior year's own ELPI comes from its file's Minus1 fields (no 2023-24 in the store).
    assert PRIOR in worked.years
    assert "2023-24" not in worked.years
    school = row(read_elpi(worked, PRIOR, scope=Scope.state(), suppress=False), "school", A1)
    assert (school["n_counted"], school["n_progressed"]) == (93, 54)
    assert school["change_level"] is None  # no year before it to compare with


def test_every_rule_has_a_label_and_ltel_is_in_every_group_list() -> None:
    from data.student_groups import GROUP_BY_ID
    from queries.elpi_orgs import GROUP_ORDER
    from queries.elpi_rules import OUTCOMES, REASONS
    from queries.labels import (
        ELPI_OUTCOME_NAMES,
        ELPI_REASON_NAMES,
        GROUP_CHOICES,
        LTEL_STATUS_NAMES,
    )
    from queries.research import research_rows  # noqa: F401 (its groups: numeric IDs)

    assert {name for name, _ in REASONS} == set(ELPI_REASON_NAMES)
    assert {name for name, _ in OUTCOMES} == set(ELPI_OUTCOME_NAMES)
    # LTEL and AR-LTEL (LTELorARLTEL 1 and 2; which is which is unconfirmed, ELPI.md §6) are
    # in the ELPI's groups, every report's breakdown and filter list, and the research file.
    for gid, code in (("250", "1"), ("251", "2")):
        assert gid in GROUP_ORDER
        assert gid in GROUP_CHOICES
        assert GROUP_BY_ID[gid].in_research_file
        assert GROUP_BY_ID[gid].conditions == (("ltel_status", "in", (code,)),)
        assert code in LTEL_STATUS_NAMES
