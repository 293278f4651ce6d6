"""The summary path and the records path of ``read_report`` give identical frames.

Both sum the same per-record contributions (``data.results.summary.record_metrics``), so every
report
the load-time summary can answer must come out the same when forced through the records. Also
here: what ``ReportSpec`` refuses and why, and the shareable-URL round trip.
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import replace
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from data.student_groups import DIMENSIONS, groups_of
from queries import report_adhoc, reports
from queries.report_plan import needs_records, resolve_orgs
from queries.reports import read_report
from queries.scope import Scope
from queries.snapshot import Snapshot
from queries.spec import BREAKDOWNS, MEASURES, ReportSpec, Subgroup


@pytest.fixture(scope="module")
def snap(tiny_store_path: Path) -> Snapshot:
    return Snapshot(tiny_store_path)


# -- summary path == records path ---------------------------------------------------------

# Organisation choices, resolved against the store inside the test. "all schools" is more than
# 40 organisations of one level, which the summary reads as one block (Snapshot.summary_rows).
ORG_CHOICES = ("state", "two counties", "three LEAs", "schools of one LEA", "all schools",
               "LEA and its schools", "schools and their LEA")
GRADE_CHOICES = (("13",), ("KN", "03", "13"), ("05",), ("12", "06"))
YEAR_CHOICES = (("2024-25",), ("2018-19", "2022-23", "2025-26"), ("2019-20", "2020-21"),
                ("2023-24", "2024-25"))
SCOPE_CHOICES = ("state", "counties of the organisations", "LEAs of the organisations")


Case = tuple[str, str | None, tuple[str, ...], bool, str, tuple[str, ...], str]


def _cases() -> list[Case]:
    """Every breakdown with every organisation choice; the other options cycle through."""
    cases = []
    for i, (breakdown, org) in enumerate(itertools.product([None, *BREAKDOWNS], ORG_CHOICES)):
        # data.results.summary holds school rows by group for all grades, by grade for 001 only.
        by_group = breakdown not in (None, "grade")
        grades = ("13",) if "school" in org and by_group else GRADE_CHOICES[i % 4]
        cases.append((org, breakdown, grades, i % 3 == 0,
                      "alternate" if i % 5 == 0 else "summative", YEAR_CHOICES[i % 4],
                      "state" if org == "state" else SCOPE_CHOICES[i % 3]))
    return cases


def _case_id(case: Case) -> str:
    org, breakdown, grades, comparison, test, years, scope = case
    return "|".join([org, breakdown or "no breakdown", "grades " + ",".join(grades),
                     "comparison" if comparison else "alone", test, ",".join(years),
                     scope + " scope"])


def _orgs_for(snap: Snapshot, choice: str, years: tuple[str, ...]
              ) -> tuple[str, tuple[str, ...], str]:
    """(org level, codes, expand) for an organisation choice, among those of the years."""
    orgs = snap.orgs_of(years)
    leas = orgs.filter(pl.col("org_level") == "lea").get_column("lea_code").to_list()
    schools = orgs.filter(pl.col("org_level") == "school")
    # The LEA with the most schools, so its rows are not all zeros.
    big = schools.group_by("lea_code").len().sort("len", "lea_code", descending=True).item(0, 0)
    of_big = tuple(schools.filter(pl.col("lea_code") == big).get_column("school_code"))
    counties = orgs.filter(pl.col("org_level") == "county").get_column("county_code")
    return {
        "state": ("state", ("00",), "none"),
        "two counties": ("county", (counties.item(0), counties.item(1)), "none"),
        "three LEAs": ("lea", (leas[0], big, leas[-1]), "none"),
        "schools of one LEA": ("school", of_big, "none"),
        "all schools": ("school", tuple(schools.get_column("school_code")), "none"),
        "LEA and its schools": ("lea", (big,), "schools_of_leas"),
        "schools and their LEA": ("school", of_big[:3], "leas_of_schools"),
    }[choice]


def _scope_for(snap: Snapshot, choice: str, level: str, codes: tuple[str, ...]) -> Scope:
    """A scope covering every chosen organisation (not the state)."""
    if choice == "state":
        return Scope.state()
    orgs = snap.orgs_of(snap.years)
    column = {"county": "county_code", "lea": "lea_code", "school": "school_code"}[level]
    chosen = orgs.filter((pl.col("org_level") == level) & pl.col(column).is_in(list(codes)))
    if choice.startswith("counties") or level == "county":
        return Scope(counties=tuple(chosen.get_column("county_code")))
    return Scope(leas=tuple(chosen.get_column("lea_code")))


@pytest.mark.parametrize(("org", "breakdown", "grades", "comparison", "test", "years",
                          "scope_choice"), [pytest.param(*c, id=_case_id(c)) for c in _cases()])
def test_summary_and_records_give_the_same_report(
        snap: Snapshot, monkeypatch: pytest.MonkeyPatch, org: str, breakdown: str | None,
        grades: tuple[str, ...], comparison: bool, test: str, years: tuple[str, ...],
        scope_choice: str) -> None:
    level, codes, expand = _orgs_for(snap, org, years)
    spec = ReportSpec(years=years, orgs=codes, org_level=level, grades=grades,
                      breakdown=breakdown, comparison=comparison, test=test, expand=expand)
    scope = _scope_for(snap, scope_choice, level, codes)
    rows = resolve_orgs(spec, snap.orgs_of(spec.years), scope)
    assert needs_records(spec, scope, rows) is False  # the natural path: summary

    suppress = comparison  # suppression is applied after summing: half the cases check it
    summary = read_report(snap, spec, scope=scope, suppress=suppress)
    monkeypatch.setattr(reports, "needs_records", lambda *_: True)
    assert_frame_equal(summary, read_report(snap, spec, scope=scope, suppress=suppress))
    if test == "summative":
        assert summary.get_column("n_enrolled").sum() > 0  # not a comparison of zeros


def test_the_cases_cover_every_option(snap: Snapshot) -> None:
    cases = _cases()
    assert {c[1] for c in cases} == {None, *BREAKDOWNS}
    assert {c[0] for c in cases} == set(ORG_CHOICES)
    assert {c[2] for c in cases} == set(GRADE_CHOICES)
    assert {(c[3], c[4]) for c in cases} == set(itertools.product((False, True),
                                                                   ("summative", "alternate")))
    assert {c[5] for c in cases} == set(YEAR_CHOICES)
    level, codes, _ = _orgs_for(snap, "all schools", ("2024-25",))
    assert len(codes) > 40  # the block read of Snapshot.summary_rows


@pytest.mark.parametrize(("change", "expected"), [
    ({}, False),
    ({"filters": (("gender", ("004",)),)}, True),
    ({"completeness": "complete"}, True),
    ({"completeness": "partial"}, True),
    ({"breakdown": "gender"}, False),
    ({"breakdown": "gender", "grades": ("05",)}, True),
    ({"breakdown": "grade"}, False),
])
def test_records_are_read_only_when_the_summary_cannot_answer(
        snap: Snapshot, change: dict[str, object], expected: bool) -> None:
    schools = snap.orgs_of(("2024-25",)).filter(pl.col("org_level") == "school")
    spec = replace(ReportSpec(years=("2024-25",), orgs=(schools.item(0, "school_code"),),
                              org_level="school"), **change)
    rows = resolve_orgs(spec, snap.orgs_of(spec.years), Scope.state())
    assert needs_records(spec, Scope.state(), rows) is expected
    assert needs_records(spec, Scope(statewide=True, groups=("031",)), rows) is True


@pytest.mark.parametrize("subgroups", [
    (Subgroup("Hispanic girls", (("gender", ("004",)), ("ethnicity", ("078",)))),),
    (Subgroup("ED", (("economic", ("031",)),)), Subgroup("LTEL", (("ltel", ("250", "251")),))),
])
def test_custom_subgroups_agree_on_both_paths(snap: Snapshot, monkeypatch: pytest.MonkeyPatch,
                                              subgroups: tuple[Subgroup, ...]) -> None:
    leas = snap.orgs_of(snap.years).filter(pl.col("org_level") == "lea")
    spec = ReportSpec(years=("2022-23", "2024-25"), orgs=tuple(leas.get_column("lea_code")),
                      org_level="lea", breakdown="gender", subgroups=subgroups,
                      comparison=True)
    natural = read_report(snap, spec, scope=Scope.state(), suppress=True)
    monkeypatch.setattr(reports, "needs_records", lambda *_: True)
    assert_frame_equal(natural, read_report(snap, spec, scope=Scope.state(), suppress=True))
    custom = natural.filter(pl.col("group_id").str.starts_with("custom:"))
    assert custom.get_column("n_enrolled").sum() > 0


@pytest.mark.parametrize("change", [
    {"breakdown": "ethnicity", "filters": (("gender", ("004",)),)},
    {"breakdown": "grade", "completeness": "complete",
     "subgroups": (Subgroup("Hispanic girls", (("gender", ("004",)), ("ethnicity", ("078",)))),)},
    {"breakdown": "economic", "completeness": "partial", "expand": "schools_of_leas"},
    {"subgroups": (Subgroup("ED", (("economic", ("031",)),)),
                   Subgroup("LTEL", (("ltel", ("250", "251")),)))},
])
@pytest.mark.parametrize("groups", [(), ("031",)])
def test_held_records_sum_as_duckdb_does(snap: Snapshot, monkeypatch: pytest.MonkeyPatch,
                                         change: dict[str, object], groups: tuple[str, ...]
                                         ) -> None:
    # Ad-hoc reports on a few LEAs sum records held in memory with Polars (queries.report_adhoc),
    # others inside DuckDB: both must give the same report, filters and scope groups included.
    # The LEA with the most partial tests, so that the "partial" case counts someone.
    lea = (pl.scan_parquet(snap.year_files["2024-25"]).filter(pl.col("attemptedness") == "P")
           .group_by("reporting_lea_code").len().sort("len", "reporting_lea_code",
                                                      descending=True)
           .collect().item(0, "reporting_lea_code"))
    spec = replace(ReportSpec(years=("2023-24", "2024-25"), orgs=(lea,), org_level="lea"),
                   **change)
    scope = Scope(leas=(lea,), groups=groups) if groups else Scope.state()
    monkeypatch.setattr(reports, "needs_records", lambda *_: True)
    held = read_report(snap, spec, scope=scope, suppress=False)
    monkeypatch.setattr(report_adhoc, "HELD_LEAS", -1)
    in_duckdb = read_report(snap, spec, scope=scope, suppress=False)
    assert_frame_equal(held, in_duckdb)
    assert held.get_column("n_enrolled").sum() > 0


# -- specification problems -------------------------------------------------------------------

YEAR = ("2024-25",)


@pytest.mark.parametrize(("fields", "message"), [
    ({"years": ()}, "choose at least one school year"),
    ({"years": ("2024-25..2025-26",)}, "'2024-25..2025-26' is not one school year"),
    ({"years": ("2024-26",)}, "school year '2024-26' does not span two consecutive years"),
    ({"years": ("24-25",)}, "school year '24-25' is not like 2024-25"),
    ({"grades": ("14", "05")}, "grades must be KN, 01-12 or 13 (all), not ['14']"),
    ({"grades": ()}, "grades must be KN, 01-12 or 13 (all), not []"),
    ({"measure": "math"}, "unknown measure 'math'"),
    ({"test": "alternate", "measure": "reading"},
     "the Summative Alternate ELPAC reports an overall score only"),
    ({"breakdown": "shoe size"}, "unknown breakdown 'shoe size'"),
    ({"filters": (("colour", ("003",)),)}, "filters: unknown dimension 'colour'"),
    ({"filters": (("gender", ("003", "078")),)}, "filters: ('003', '078') are not groups of "
                                                 "gender"),
    ({"filters": (("gender", ("999",)),)}, "filters: ('999',) are not groups of gender"),
    ({"subgroups": (Subgroup("odd", (("ethnicity", ("003",)),)),)},
     "subgroup 'odd': ('003',) are not groups of ethnicity"),
    ({"cohort": True}, "a cohort is a longitudinal report"),
    ({"orgs": ("19",)}, 'the state is organisation "00"'),
])
def test_a_bad_specification_says_what_is_wrong(fields: dict[str, object], message: str
                                                ) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
        ReportSpec(**{"years": YEAR, **fields})


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ValueError, match="^choose at least one school year; unknown measure "
                                         "'x'; a cohort is a longitudinal report$"):
        ReportSpec(years=(), measure="x", cohort=True)


def test_a_good_specification_has_no_problems() -> None:
    spec = ReportSpec(years=("2023-24", "2024-25"), orgs=("19",), org_level="county",
                      grades=("KN", "13"), measure="reading", breakdown="ethnicity_economic",
                      filters=(("economic", ("031",)),), longitudinal=True, cohort=True)
    assert spec.problems() == []


@pytest.mark.parametrize("field", ["test", "org_level", "completeness", "expand"])
def test_an_unknown_choice_is_a_problem(field: str) -> None:
    # These fields are Literal-typed choices; a value outside them (e.g. from an edited link)
    # otherwise passes validation and fails later with a KeyError inside the query.
    with pytest.raises(ValueError, match="'bogus'"):
        ReportSpec(years=YEAR, **{field: "bogus"})


# -- the shareable URL --------------------------------------------------------------------

ROUND_TRIPS = [
    ReportSpec(years=YEAR),
    ReportSpec(years=("2022-23", "2023-24", "2024-25"), orgs=("19647330000000",),
               org_level="lea", test="summative", grades=("KN", "01", "13"),
               measure="written", breakdown="ethnicity", completeness="complete",
               comparison=True, expand="schools_of_leas", longitudinal=True, cohort=True,
               name="LA cohort"),
    ReportSpec(years=YEAR, orgs=("19647330000000", "19647331234567"), org_level="school",
               test="alternate", breakdown="grade",
               filters=(("economic", ("031",)), ("ethnicity", ("078", "076"))),
               subgroups=(Subgroup("Hispanic girls",
                                   (("gender", ("004",)), ("ethnicity", ("078",)))),
                          Subgroup("Newcomers", (("us_schools", ("120",)),))),
               expand="leas_of_schools"),
]


@pytest.mark.parametrize("spec", ROUND_TRIPS)
def test_a_report_link_reopens_the_same_report(spec: ReportSpec) -> None:
    params = spec.to_params()
    assert set(params) == {"report"}
    again = ReportSpec.from_params(params)
    assert again == spec
    assert again.name == spec.name
    assert hash(again) == hash(spec)
    assert again.subgroups == spec.subgroups


@st.composite
def _any_spec(draw: st.DrawFn) -> ReportSpec:
    def pairs() -> st.SearchStrategy[tuple[tuple[str, tuple[str, ...]], ...]]:
        dims = st.lists(st.sampled_from(sorted(DIMENSIONS)), max_size=2, unique=True)
        return dims.flatmap(lambda ds: st.tuples(*[st.tuples(st.just(d), st.lists(
            st.sampled_from([g.id for g in groups_of(d)]), min_size=1, max_size=2,
            unique=True).map(tuple)) for d in ds]))

    test = draw(st.sampled_from(["summative", "alternate"]))
    longitudinal = draw(st.booleans())
    level = draw(st.sampled_from(["state", "county", "lea", "school"]))
    return ReportSpec(
        years=tuple(draw(st.lists(st.sampled_from(
            [f"{y}-{(y + 1) % 100:02d}" for y in range(2018, 2026)]), min_size=1,
            max_size=3, unique=True))),
        orgs=("00",) if level == "state" else tuple(draw(st.lists(
            st.from_regex(r"[0-9]{2}|[0-9]{14}", fullmatch=True), min_size=1, max_size=3))),
        org_level=level, test=test,
        grades=tuple(draw(st.lists(st.sampled_from(
            ["KN", *[f"{g:02d}" for g in range(1, 14)]]), min_size=1, max_size=3))),
        measure="overall" if test == "alternate" else draw(st.sampled_from(MEASURES)),
        breakdown=draw(st.sampled_from([None, *BREAKDOWNS])),
        filters=draw(pairs()),
        subgroups=tuple(draw(st.lists(st.builds(Subgroup, st.text(max_size=12), pairs()),
                                      max_size=2))),
        completeness=draw(st.sampled_from(["all", "complete", "partial"])),
        comparison=draw(st.booleans()),
        expand=draw(st.sampled_from(["none", "schools_of_leas", "leas_of_schools"])),
        longitudinal=longitudinal, cohort=longitudinal and draw(st.booleans()),
        name=draw(st.text(max_size=20)))


@settings(max_examples=60, deadline=None)
@given(spec=_any_spec())
def test_any_report_link_round_trips(spec: ReportSpec) -> None:
    again = ReportSpec.from_params(spec.to_params())
    assert again == spec
    assert again.name == spec.name


def _link(**fields: object) -> dict[str, str]:
    """A good link with some fields replaced."""
    good = json.loads(ReportSpec(years=YEAR).to_params()["report"])
    return {"report": json.dumps({**good, **fields})}


@pytest.mark.parametrize("params", [
    pytest.param({}, id="no report parameter"),
    pytest.param({"report": "{\"years\": [\"2024-25\""}, id="cut short"),
    pytest.param({"report": "not json"}, id="not json"),
    pytest.param({"report": "[]"}, id="a list"),
    pytest.param({"report": "null"}, id="null"),
    pytest.param({"report": "\"2024-25\""}, id="a string"),
    pytest.param({"report": "{}"}, id="no years"),
    pytest.param(_link(years=[2025]), id="year as a number"),
    pytest.param(_link(orgs="00"), id="orgs as a string"),
    pytest.param(_link(grades=13), id="grades as a number"),
    pytest.param(_link(colour="red"), id="unknown field"),
    pytest.param(_link(grades=["14"]), id="bad grade"),
    pytest.param(_link(filters=[["gender"]]), id="filter without groups"),
    pytest.param(_link(filters=[["gender", ["999"]]]), id="unknown group"),
    pytest.param(_link(subgroups=[{"name": "x"}]), id="subgroup without filters"),
    pytest.param(_link(subgroups=["x"]), id="subgroup not an object"),
    pytest.param(_link(test="bogus"), id="unknown test"),
])
def test_a_damaged_link_raises_value_error(params: dict[str, str]) -> None:
    assert ReportSpec.from_params(_link()) == ReportSpec(years=YEAR)
    with pytest.raises(ValueError, match="."):
        ReportSpec.from_params(params)
