"""Complementary suppression, played by an attacker (issue 15, finding 2; property test).

For random aggregate-only accounts (a viewer of a county, of LEAs, of schools) and random
reports (organisations, comparison rows, grades, breakdowns, advanced filters, custom
subgroups), the test collects every row whose scores are shown, works out here which students
each row counts (from the Parquet records and the group definitions, not from the report), and
searches them as someone subtracting rows of the downloaded files would:

* **pairs**: one shown row holding all the students of another and 1 to 10 more: their
  difference would give those few students' mean and level counts;
* **the rest of a split**: a shown row minus the shown rows that split it by one dimension
  (a student-group dimension, grade, school, LEA): the students left over, if 1 to 10.

It must find none: the guarantee README's "Report definitions" states (queries.suppression).
The rows of every report the account makes are pooled, so a pair may come from two reports
(and, for an account of the whole LEA, from its research file).
Two stores: a hand-built county with correlated demographics (Spanish speakers Hispanic,
homeless students economically disadvantaged, a school of six, groups of 1-10 everywhere), and
the tiny demo.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from pathlib import Path

import polars as pl
import pytest
from hypothesis import example, given, note, settings
from hypothesis import strategies as st

from data.catalog.accounts import Account
from data.domain import GRADES
from data.student_groups import DIMENSIONS, GROUP_BY_ID, groups_of
from queries.access import scope_of
from queries.labels import SUPPRESSED
from queries.metrics import SUPPRESSION_THRESHOLD
from queries.reports import read_report
from queries.research import research_rows
from queries.scope import Scope
from queries.snapshot import Snapshot
from queries.spec import BREAKDOWNS, ReportSpec, Subgroup

YEAR = "2024-25"
LEA_A, LEA_B = "01611920000000", "01612000000000"
A1, A2, A3, B1 = "01611920111111", "01611920122222", "01611920133333", "01612000144444"
BOX_DIMS = ("gender", "ethnicity", "economic", "disability", "homeless", "language",
            "parent_education", "years_in_program", "ethnicity_economic")
SMALL = range(1, SUPPRESSION_THRESHOLD)

# Ethnicity (CALPADS code) counts by school and grade: a small group of almost every kind.
ROLL = {A1: {"05": {"500": 28, "200": 5, "700": 6, "400": 5, "600": 1},
             "06": {"500": 26, "200": 3, "700": 6, "400": 6, "800": 2}},
        A2: {"05": {"500": 10, "200": 4, "700": 2}, "06": {"500": 10, "700": 4}},
        A3: {"05": {"500": 6}},
        B1: {"06": {"500": 25, "200": 12, "400": 3}}}
LANGUAGE = {"500": ("SPA",) * 9 + ("OTH",), "200": ("VIE", "CMN", "VIE"), "400": ("TGL",),
            "700": ("RUS", "POR"), "600": ("OTH",), "800": ("OTH",)}


def county_records(seed: int = 15) -> list[dict[str, object]]:
    """The hand-built county: LEA A (schools of 90, 30 and 6), LEA B (one school of 40)."""
    rng = random.Random(seed)
    records: list[dict[str, object]] = []
    for school, grades in ROLL.items():
        for grade, ethnicities in grades.items():
            for ethnicity, n in ethnicities.items():
                for _ in range(n):
                    poor = rng.random() < 0.7
                    oral, written = rng.randrange(1400, 1600), rng.randrange(1420, 1620)
                    records.append({
                        "FinalTestedDistrictCode": school[:7] + "0000000",
                        "FinalTestedSchoolCode": school, "GradeAssessed": grade,
                        "EthnicityforTesting": ethnicity, "Gender": rng.choice("FM"),
                        "CEDSLanguageCode": rng.choice(LANGUAGE[ethnicity]),
                        "CALPADSEconomicDisadvantageStatus": "Yes" if poor else "No",
                        "CALPADSHomelessStatus": "Yes" if poor and rng.random() < 0.1
                        else "No",
                        "CALPADSSpecialEducation": "Yes" if rng.random() < 0.15 else "No",
                        "ParentEducationLevel": rng.choice(("11", "12", "13", "14", "14")),
                        "ELEntryDate": f"{rng.choice((2018, 2019, 2020, 2022, 2023))}-08-20",
                        "OralLanguageScaleScore": oral, "WrittenLanguageScaleScore": written})
    # Not every student has scores: they count as enrolled, never as tested with scores.
    records += [{**records[i], "TestedStatus": "N", "OralLanguageScaleScore": None,
                 "WrittenLanguageScaleScore": None} for i in (3, 50, 140)]
    return records


@pytest.fixture(scope="module")
def county(toms) -> Snapshot:  # noqa: ANN001 (the conftest's builder)
    return toms(county_records())


@pytest.fixture(scope="module")
def tiny(tiny_store_path: Path) -> Snapshot:
    return Snapshot(tiny_store_path)


class Students:
    """Who each report row counts, worked out here: one bit per student tested with scores."""

    def __init__(self, snap: Snapshot) -> None:
        records = (pl.scan_parquet(snap.year_files[YEAR])
                   .filter((pl.col("include_indicator") == "Y") & pl.col("is_reported")
                           & (pl.col("record_type") == "21")).collect())
        self.bits = {name: self._mask(records, expr) for name, expr in self._sets().items()}
        self.everyone = (1 << records.height) - 1
        for column, key in (("reporting_school_code", "school"),
                            ("reporting_lea_code", "lea"), ("county_code", "county"),
                            ("grade_assessed", "grade")):
            for value in records.get_column(column).drop_nulls().unique().to_list():
                self.bits[(key, value)] = self._mask(records, pl.col(column) == value)

    @staticmethod
    def _sets() -> dict[object, pl.Expr]:
        return {("group", g.id): g.polars() for dim in DIMENSIONS for g in groups_of(dim)}

    @staticmethod
    def _mask(records: pl.DataFrame, expr: pl.Expr) -> int:
        found = records.with_row_index("i").filter(expr).get_column("i").to_list()
        return sum(1 << i for i in found)

    def box(self, filters: Iterable[tuple[str, tuple[str, ...]]]) -> int:
        """Students in every filter: one of each filter's groups (``ReportSpec.filters``)."""
        mask = self.everyone
        for _, ids in filters:
            mask &= self._any(ids)
        return mask

    def _any(self, ids: Iterable[str]) -> int:
        mask = 0
        for gid in ids:
            mask |= self.bits[("group", gid)]
        return mask

    def row(self, spec: ReportSpec, row: dict[str, object]) -> int:
        level, grade, gid = row["org_level"], row["grade"], row["group_id"]
        key = {"school": ("school", row["school_code"]), "lea": ("lea", row["lea_code"]),
               "county": ("county", row["county_code"])}[level]
        mask = self.bits.get(key, 0) & self.box(spec.filters)
        if grade != "13":
            mask &= self.bits.get(("grade", grade), 0)
        if gid.startswith("custom:"):
            return mask & self.box(spec.subgroups[int(gid[7:])].filters)
        return mask if gid in ("001", "160") else mask & self.bits[("group", gid)]

    def splits(self, mask: int) -> Iterable[tuple[str, list[int]]]:
        """Each way to split a set by one dimension, grade, school, LEA or county: its parts."""
        for dim in DIMENSIONS:
            parts = [mask & self.bits[("group", g.id)] for g in groups_of(dim)]
            covered = 0
            for part in parts:
                covered |= part
            yield dim, [*parts, mask & ~covered]
        for key in ("grade", "school", "lea", "county"):
            parts = [mask & bits for k, bits in self.bits.items() if k[0] == key]
            covered = 0
            for part in parts:
                covered |= part
            yield key, [*parts, mask & ~covered]


def shown_rows(snap: Snapshot, students: Students, scope: Scope,
               specs: Iterable[ReportSpec]) -> dict[int, str]:
    """Every row with scores the account gets from the reports, by its students."""
    shown: dict[int, str] = {}
    for spec in specs:
        report = read_report(snap, spec, scope=scope, suppress=False)
        for row in report.filter(~pl.col("is_suppressed")).iter_rows(named=True):
            mask = students.row(spec, row)
            assert mask.bit_count() == row["n_scored"], (spec, row)
            shown.setdefault(mask, f"{row['org_level']} {row['school_code'] or row['lea_code']}"
                                   f" grade {row['grade']} {row['row_label']} ({spec})")
    return shown


def attacks(students: Students, shown: dict[int, str]) -> list[str]:
    """Small groups recovered by subtracting shown rows: pairs and the rest of a split."""
    found = []
    cells = sorted(shown, key=int.bit_count)
    for i, small in enumerate(cells):
        for big in cells[i + 1:]:
            if small & ~big == 0 and big.bit_count() - small.bit_count() in SMALL:
                found.append(f"{shown[big]} minus {shown[small]}")
    for whole in cells:
        for name, parts in students.splits(whole):
            seen = [p for p in parts if p and p in shown]
            rest = whole
            for part in seen:
                rest &= ~part
            if seen and rest.bit_count() in SMALL:
                found.append(f"{shown[whole]} minus its {len(seen)} shown parts by {name}")
    return found


# -- the strategies --------------------------------------------------------------------------

@st.composite
def boxes(draw: st.DrawFn, dims: tuple[str, ...] = BOX_DIMS
          ) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Students in chosen groups of one or two dimensions (a filter or a custom subgroup)."""
    chosen = draw(st.lists(st.sampled_from(dims), min_size=1, max_size=2, unique=True))
    return tuple((d, tuple(sorted(draw(st.lists(
        st.sampled_from([g.id for g in groups_of(d)]), min_size=1, max_size=4, unique=True)))))
        for d in chosen)


@st.composite
def reports(draw: st.DrawFn, levels: dict[str, tuple[str, ...]],
            grades: tuple[tuple[str, ...], ...]) -> ReportSpec:
    level = draw(st.sampled_from(sorted(levels)))
    orgs = tuple(draw(st.lists(st.sampled_from(levels[level]), min_size=1, max_size=2,
                               unique=True)))
    filters = draw(st.lists(boxes(), max_size=1))
    subgroups = draw(st.lists(boxes(), max_size=2))
    return ReportSpec(
        years=(YEAR,), orgs=orgs, org_level=level, grades=draw(st.sampled_from(grades)),
        breakdown=draw(st.sampled_from((None, *BREAKDOWNS))),
        filters=filters[0] if filters else (),
        subgroups=tuple(Subgroup(f"S{i}", b) for i, b in enumerate(subgroups)),
        comparison=draw(st.booleans()),
        expand=draw(st.sampled_from(("none", "schools_of_leas") if level == "lea"
                                    else ("none",))))


def baseline(spec: ReportSpec) -> ReportSpec:
    """The same organisations' All students by grade, with their LEA and county."""
    return ReportSpec(years=(YEAR,), orgs=spec.orgs, org_level=spec.org_level,
                      breakdown="grade", comparison=True, expand=spec.expand)


COUNTY_ACCOUNTS = {
    "county": ({"counties": ("01",)}, {"county": ("01",), "lea": (LEA_A, LEA_B),
                                       "school": (A1, A2, A3, B1)}),
    "LEA": ({"leas": (LEA_A,)}, {"lea": (LEA_A,), "school": (A1, A2, A3)}),
    "schools": ({"schools": (A1, A2)}, {"school": (A1, A2)}),
}
COUNTY_GRADES = (("13",), ("05", "13"), ("06",), ("05", "06", "13"))
ISSUE = ReportSpec(years=(YEAR,), orgs=(A1,), org_level="school", subgroups=(
    Subgroup("Every ethnicity except Asian",
             (("ethnicity", tuple(g.id for g in groups_of("ethnicity") if g.id != "076")),)),))


@settings(max_examples=40, deadline=20_000)
@given(data=st.data(), account=st.sampled_from(sorted(COUNTY_ACCOUNTS)))
@example(data=None, account="LEA")  # the issue's attack: All students minus all but Asian
def test_no_small_group_is_recovered_by_subtraction(county: Snapshot, data: st.DataObject,
                                                    account: str) -> None:
    assignment, levels = COUNTY_ACCOUNTS[account]
    scope = scope_of(Account("v@x.org", "Viewer", "viewer", **assignment))
    specs = [ISSUE] if data is None else data.draw(st.lists(
        reports(levels, COUNTY_GRADES), min_size=1, max_size=3), label="reports")
    students = _students(county)
    shown = shown_rows(county, students, scope, [*specs, *map(baseline, specs)])
    if account != "schools":  # the LEA's research file too (its rows with scores)
        for mask, label in _research_shown(county, students, account, scope).items():
            shown.setdefault(mask, label)
    note(f"{len(shown)} distinct rows with scores")
    assert attacks(students, shown) == []


def _tiny_accounts(snap: Snapshot) -> dict[str, tuple[dict[str, tuple[str, ...]],
                                                      dict[str, tuple[str, ...]]]]:
    orgs = snap.orgs_of((YEAR,))
    leas = orgs.filter(pl.col("org_level") == "lea")
    county = "19"  # the tiny demo's largest county: two LEAs of 158 and 84 students
    in_county = orgs.filter(pl.col("county_code") == county)
    big = "19619690000000"
    schools = tuple(in_county.filter((pl.col("org_level") == "school")
                                     & (pl.col("lea_code") == big)).get_column("school_code"))
    assert big in leas.get_column("lea_code").to_list()
    return {
        "county": ({"counties": (county,)}, {
            "county": (county,), "lea": tuple(in_county.filter(
                pl.col("org_level") == "lea").get_column("lea_code")),
            "school": schools[:6]}),
        "LEA": ({"leas": (big,)}, {"lea": (big,), "school": schools[:6]}),
    }


@settings(max_examples=15, deadline=20_000)
@given(data=st.data(), account=st.sampled_from(("county", "LEA")))
def test_no_small_group_is_recovered_on_the_tiny_demo(tiny: Snapshot, data: st.DataObject,
                                                      account: str) -> None:
    assignment, levels = _tiny_accounts(tiny)[account]
    scope = scope_of(Account("v@x.org", "Viewer", "viewer", **assignment))
    grades = (("13",), tuple(GRADES[:3]) + ("13",), ("05",))
    specs = data.draw(st.lists(reports(levels, grades), min_size=1, max_size=2),
                      label="reports")
    students = _students(tiny)
    shown = shown_rows(tiny, students, scope, [*specs, *map(baseline, specs)])
    assert attacks(students, shown) == []


_RESEARCH: dict[str, dict[int, str]] = {}


def _research_shown(snap: Snapshot, students: Students, account: str, scope: Scope
                    ) -> dict[int, str]:
    """The research-file rows of LEA A with scores, by their students (once per account:
    its decisions depend on the store and the account, not on any report)."""
    if account not in _RESEARCH:
        rows = research_rows(snap, year=YEAR, scope=scope, lea=LEA_A, suppress=True)
        found: dict[int, str] = {}
        for r in rows.filter(pl.col("OverallMeanSclScr") != SUPPRESSED).iter_rows(named=True):
            lea = r["CountyCode"] + r["DistrictCode"] + "0000000"
            school = r["CountyCode"] + r["DistrictCode"] + r["SchoolCode"]
            mask = students.bits.get(("lea", lea) if r["SchoolCode"] == "0000000"
                                     else ("school", school), 0)
            if r["Grade"] != "13":
                mask &= students.bits.get(("grade", r["Grade"]), 0)
            if r["StudentGroupID"] not in ("001", "160"):
                mask &= students.bits[("group", r["StudentGroupID"])]
            assert mask.bit_count() == int(r["TotalTestedWithScores"]), r
            found.setdefault(mask, f"research file {school} grade {r['Grade']} group "
                                   f"{r['StudentGroupID']}")
        _RESEARCH[account] = found
    return _RESEARCH[account]


_KNOWN: dict[str, Students] = {}


def _students(snap: Snapshot) -> Students:
    """One ``Students`` per store for the whole module (hypothesis calls the test many times)."""
    key = str(snap.store.path)
    if key not in _KNOWN:
        _KNOWN[key] = Students(snap)
    return _KNOWN[key]


def test_the_attack_finds_the_issue_without_complementary_suppression(county: Snapshot
                                                                      ) -> None:
    # The same search with primary suppression only (an account that may see students asks
    # for suppression): the issue's pair is found, so the search is not vacuous.
    students = _students(county)
    scope = Scope(leas=(LEA_A,), pii=True)
    shown: dict[int, str] = {}
    for spec in (ISSUE, baseline(ISSUE)):
        report = read_report(county, spec, scope=scope, suppress=True)
        for row in report.filter(~pl.col("is_suppressed")).iter_rows(named=True):
            shown.setdefault(students.row(spec, row), row["row_label"])
    assert any("All students minus Every ethnicity except Asian" in f
               for f in attacks(students, shown))
    assert GROUP_BY_ID["076"].name == "Asian"
