"""No report row counts a student outside the user's scope (property test over random scopes).

For random scopes (counties, LEAs, schools, student groups, a teacher's SSID list, statewide
or not) and random report
specifications, every row must be an organisation the scope fully covers, the state row only
for a statewide scope, and each row's enrolment must equal a count made here, from the Parquet
records and an independent reading of the scope and the groups (ELPAC.md §3.3: a record counts
under its reporting LEA and school; §4: enrolled = every record).

The same holds, against counts made here the same way, for cohort reports, level transitions,
SSR status and its release curve (counted under the enrolled LEA and school, §7) and the
research file (§5), and for every student-level query and export.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from hypothesis import event, example, given, note, settings
from hypothesis import strategies as st

from data.domain import GRADES
from data.results.store import Store
from data.student_groups import groups_of
from queries.district_export import read_district_results
from queries.longitudinal import read_longitudinal, read_transitions
from queries.reports import read_report
from queries.research import research_rows
from queries.scope import Scope, ScopeError
from queries.snapshot import Snapshot
from queries.spec import ReportSpec, Subgroup
from queries.ssdf_extract import read_ssdf_records
from queries.ssr import read_ssr_status
from queries.students import find_students, read_student

# Group membership written out here from the record columns, not taken from data.student_groups
# (ELPAC.md §5.6); a null value is not a member.
_EVERYONE = pl.lit(True)


def _is(column: str, *values: object) -> pl.Expr:
    return pl.col(column).is_in(list(values)).fill_null(False)


MEMBERS: dict[str, dict[str, pl.Expr]] = {
    "gender": {"003": _is("gender", "M"), "004": _is("gender", "F"),
               "G-X": _is("gender", "X")},
    "ethnicity": {"074": _is("ethnicity", "600"), "075": _is("ethnicity", "100"),
                  "076": _is("ethnicity", "200"), "077": _is("ethnicity", "400"),
                  "078": _is("ethnicity", "500"), "079": _is("ethnicity", "300"),
                  "080": _is("ethnicity", "700"), "144": _is("ethnicity", "800")},
    "economic": {"031": _is("is_economically_disadvantaged", True),
                 "111": _is("is_economically_disadvantaged", False)},
    "disability": {"128": _is("is_special_education", True),
                   "099": _is("is_special_education", False)},
    "migrant": {"028": _is("is_migrant", True), "029": _is("is_migrant", False)},
    "us_schools": {"120": (pl.col("us_school_months") < 12).fill_null(False),
                   "142": (pl.col("us_school_months") >= 12).fill_null(False)},
    "ltel": {"250": _is("ltel_status", "1"), "251": _is("ltel_status", "2")},
}
MEMBER: dict[str, pl.Expr] = {"001": _EVERYONE, "160": _EVERYONE,
                              **{g: e for dim in MEMBERS.values() for g, e in dim.items()}}
RESEARCH_GROUPS = sorted(MEMBER)
RECORD_TYPE = {"summative": "21", "alternate": "23"}
YEARS = ("2018-19", "2019-20", "2020-21", "2021-22", "2022-23", "2023-24", "2024-25",
         "2025-26")
COLUMNS = ["ssid", "is_tk", "record_type", "grade_assessed", "county_code",
           "reporting_lea_code", "reporting_school_code", "gender", "ethnicity",
           "is_economically_disadvantaged", "is_special_education", "is_migrant",
           "us_school_months", "ltel_status", "is_tested", "include_indicator",
           "overall_level"]
ORG_KEY = ["org_level", "county_code", "lea_code", "school_code"]
ROW_KEY = ["school_year", *ORG_KEY, "group_id", "grade"]


@pytest.fixture(scope="module")
def snap(tiny_store_path: Path) -> Snapshot:
    return Snapshot(tiny_store_path)


@pytest.fixture(scope="module")
def records(tiny_store_path: Path) -> pl.DataFrame:
    """Every record of every year, read straight from the store's Parquet files.

    ``counted``: whether aggregates count the record. From 2024-25 transitional-kindergarten
    students are left out of every aggregate (ELPAC.md §1.1, UND-IA).
    """
    return pl.concat([pl.read_parquet(path, columns=COLUMNS).with_columns(
        pl.lit(year).alias("school_year"),
        (~(pl.col("is_tk").fill_null(False) & (year >= "2024-25"))).alias("counted"))
        for year, path in sorted(Store(tiny_store_path).year_files().items())])


@pytest.fixture(scope="module")
def places(records: pl.DataFrame) -> pl.DataFrame:
    """(county, LEA, school-or-null) triples seen in the records, with the year."""
    return records.select("school_year", "county_code", "reporting_lea_code",
                          "reporting_school_code").unique()


def test_the_independent_groups_are_the_dimensions_groups() -> None:
    # Guards the hand-written membership table against groups added to a dimension.
    for dim, members in MEMBERS.items():
        assert sorted(g.id for g in groups_of(dim)) == sorted(members), dim


# -- the independent model ------------------------------------------------------------------

def _covers(scope: Scope, level: str, county: str, lea: str, school: str) -> bool:
    """Whether the scope covers the whole organisation, read from Scope's fields only."""
    if scope.statewide:
        return True
    if level == "state":
        return False
    if county in scope.counties:
        return True
    if level == "county":
        return False
    if lea in scope.leas:
        return True
    return level == "school" and school in scope.schools


def _present(places: pl.DataFrame, years: tuple[str, ...]) -> set[tuple[str, str, str, str]]:
    """Organisations with any record in the years (state, counties, LEAs, schools)."""
    seen = places.filter(pl.col("school_year").is_in(list(years)))
    out = {("state", "00", "", "")} if seen.height else set()
    for county, lea, school in seen.select("county_code", "reporting_lea_code",
                                           "reporting_school_code").iter_rows():
        out |= {("county", county, "", ""), ("lea", county, lea, "")}
        if school is not None:
            out.add(("school", county, lea, school))
    return out


def _expected_orgs(spec: ReportSpec, scope: Scope, present: set[tuple[str, str, str, str]]
                   ) -> set[tuple[str, str, str, str]]:
    """The organisation rows the report must show (empty: it must raise ScopeError)."""
    codes = set(spec.orgs)
    position = {"state": 1, "county": 1, "lea": 2, "school": 3}[spec.org_level]
    chosen = {o for o in present if o[0] == spec.org_level and o[position] in codes}
    if spec.expand == "schools_of_leas" and spec.org_level == "lea":
        chosen |= {o for o in present if o[0] == "school" and o[2] in codes}
    if spec.expand == "leas_of_schools" and spec.org_level == "school":
        leas = {o[2] for o in chosen}
        chosen |= {o for o in present if o[0] == "lea" and o[2] in leas}
    visible = {o for o in chosen if _covers(scope, *o)}
    if spec.comparison and visible:
        leas = {o[2] for o in visible if o[0] == "school"}
        counties = {o[1] for o in visible if o[0] != "state"}
        extra = {o for o in present if (o[0] == "lea" and o[2] in leas)
                 or (o[0] == "county" and o[1] in counties) or o[0] == "state"}
        visible |= {o for o in extra if _covers(scope, *o)}
    return visible


def _in_scope(scope: Scope) -> pl.Expr:
    """A record is in scope if its county, reporting LEA or reporting school is."""
    if scope.statewide:
        return pl.lit(True)
    return (pl.col("county_code").is_in(list(scope.counties))
            | pl.col("reporting_lea_code").is_in(list(scope.leas))
            | pl.col("reporting_school_code").is_in(list(scope.schools)).fill_null(False))


def _all_of(filters: tuple[tuple[str, tuple[str, ...]], ...]) -> pl.Expr:
    expr = pl.lit(True)
    for _, ids in filters:
        any_of = pl.lit(False)
        for gid in ids:
            any_of = any_of | MEMBER[gid]
        expr = expr & any_of
    return expr


def _expected_counts(records: pl.DataFrame, spec: ReportSpec, scope: Scope) -> pl.DataFrame:
    """n_enrolled per row key, counted from the records (rows with no records are absent)."""
    keep = (pl.col("counted") & pl.col("school_year").is_in(list(spec.years))
            & (pl.col("record_type") == RECORD_TYPE[spec.test])
            & _in_scope(scope) & _all_of(spec.filters))
    if scope.groups:
        keep = keep & _all_of((("scope", scope.groups),))
    if scope.ssids is not None:
        keep = keep & pl.col("ssid").is_in(list(scope.ssids))
    base = records.filter(keep)
    row_groups = {g: MEMBER[g] for g in (scope.groups or ("001",))}
    if spec.breakdown in MEMBERS:
        row_groups.update(MEMBERS[spec.breakdown])
    row_groups.update({f"custom:{i}": _all_of(s.filters) for i, s in enumerate(spec.subgroups)})
    return _count_rows(base, row_groups)


def _count_rows(base: pl.DataFrame, row_groups: dict[str, pl.Expr]) -> pl.DataFrame:
    """Records per row key: every organisation level, each grade and all grades (13).

    No row groups (a scope of groups the research file does not carry) count nothing: an
    empty frame with the row key, not an error.
    """
    no_group = base.clear().with_columns(pl.lit(None, pl.String).alias("group_id"))
    members = pl.concat([no_group, *(base.filter(expr).with_columns(pl.lit(gid).alias("group_id"))
                                     for gid, expr in row_groups.items())])
    at_level = {
        "state": [pl.lit("00").alias("county_code"), pl.lit("").alias("lea_code"),
                  pl.lit("").alias("school_code")],
        "county": [pl.col("county_code"), pl.lit("").alias("lea_code"),
                   pl.lit("").alias("school_code")],
        "lea": [pl.col("county_code"), pl.col("reporting_lea_code").alias("lea_code"),
                pl.lit("").alias("school_code")],
        "school": [pl.col("county_code"), pl.col("reporting_lea_code").alias("lea_code"),
                   pl.col("reporting_school_code").alias("school_code")],
    }
    parts = []
    for level, keys in at_level.items():
        rows = members if level != "school" else members.drop_nulls("reporting_school_code")
        for grade in (pl.col("grade_assessed"), pl.lit("13")):
            parts.append(rows.select("school_year", pl.lit(level).alias("org_level"), *keys,
                                     "group_id", grade.alias("grade")))
    return pl.concat(parts).group_by(ROW_KEY).len("expected").with_columns(
        pl.col("expected").cast(pl.Int64))


# -- strategies -----------------------------------------------------------------------------

def _ssid_pool(records: pl.DataFrame) -> list[str]:
    """Every SSID of the store: a teacher's list may hold students of any organisation."""
    return sorted(records.get_column("ssid").unique().to_list())


def _scopes(orgs: pl.DataFrame, ssids: list[str]) -> st.SearchStrategy[Scope]:
    """Random scopes; one in four limited to some students (a teacher), any SSIDs at all."""
    def codes(level: str, column: str) -> list[str]:
        return orgs.filter(pl.col("org_level") == level).get_column(column).to_list()

    return st.builds(
        Scope,
        statewide=st.integers(0, 4).map(lambda i: i == 0),
        counties=st.lists(st.sampled_from(codes("county", "county_code")), max_size=2),
        leas=st.lists(st.sampled_from(codes("lea", "lea_code")), max_size=3),
        schools=st.lists(st.sampled_from(codes("school", "school_code")), max_size=5),
        groups=st.one_of(st.just(()), st.just(()), st.lists(
            st.sampled_from(RESEARCH_GROUPS), min_size=1, max_size=2)),
        ssids=st.one_of(st.none(), st.none(), st.none(),
                        st.lists(st.sampled_from(ssids), max_size=60).map(tuple)),
    )


def _filters(draw: st.DrawFn) -> tuple[tuple[str, tuple[str, ...]], ...]:
    dim = draw(st.sampled_from(sorted(MEMBERS)))
    ids = draw(st.lists(st.sampled_from(sorted(MEMBERS[dim])), min_size=1, max_size=2,
                        unique=True))
    return ((dim, tuple(ids)),)


@st.composite
def _specs(draw: st.DrawFn, orgs: pl.DataFrame) -> ReportSpec:
    level = draw(st.sampled_from(["state", "county", "lea", "lea", "school", "school"]))
    column = {"county": "county_code", "lea": "lea_code", "school": "school_code"}
    codes: tuple[str, ...] = ("00",)
    if level != "state":
        pool = orgs.filter(pl.col("org_level") == level).get_column(column[level]).to_list()
        codes = tuple(draw(st.lists(st.sampled_from(pool), min_size=1, max_size=4,
                                    unique=True)))
    breakdown = draw(st.sampled_from([None, "grade", *sorted(MEMBERS)]))
    grades = ("13",) if breakdown == "grade" or draw(st.booleans()) else tuple(draw(st.lists(
        st.sampled_from([*GRADES, "13"]), min_size=1, max_size=3, unique=True)))
    filters = _filters(draw) if draw(st.integers(0, 4)) == 0 else ()
    subgroups = (Subgroup("custom", _filters(draw)),) if draw(st.integers(0, 4)) == 0 else ()
    return ReportSpec(
        years=tuple(draw(st.lists(st.sampled_from(YEARS), min_size=1, max_size=3,
                                  unique=True))),
        orgs=codes, org_level=level,
        test=draw(st.sampled_from(["summative", "summative", "summative", "alternate"])),
        grades=grades, breakdown=breakdown, filters=filters, subgroups=subgroups,
        comparison=draw(st.booleans()),
        expand=draw(st.sampled_from(["none", "schools_of_leas", "leas_of_schools"])))


def _aimed(draw: st.DrawFn, scope: Scope, spec: ReportSpec, orgs: pl.DataFrame) -> Scope:
    """The scope widened to cover one of the report's organisations (else most draws miss)."""
    if spec.org_level == "state":
        return replace(scope, statewide=True)
    column = {"county": "county_code", "lea": "lea_code", "school": "school_code"}
    target = orgs.filter((pl.col("org_level") == spec.org_level)
                         & pl.col(column[spec.org_level]).is_in(list(spec.orgs)))
    _, county, lea, school = draw(st.sampled_from(sorted(target.select(ORG_KEY).iter_rows())))
    how = draw(st.sampled_from([k for k, code in (("counties", county), ("leas", lea),
                                                  ("schools", school)) if code]))
    return replace(scope, **{how: (*getattr(scope, how), {"counties": county, "leas": lea,
                                                          "schools": school}[how])})


def _report_scope(data: st.DataObject, spec: ReportSpec, orgs: pl.DataFrame,
                  records: pl.DataFrame) -> Scope:
    """A random scope, mostly aimed at the report's organisations and students."""
    scope = data.draw(_scopes(orgs, _ssid_pool(records)), label="scope")
    if data.draw(st.integers(0, 3), label="aim") > 0:
        scope = _aimed(data.draw, scope, spec, orgs)
        note(f"aimed scope: {scope}")
    if scope.ssids is not None and data.draw(st.booleans(), label="aim SSIDs"):
        # A teacher's students are mostly in their organisations: half the list from the
        # records the scope covers in the report's years, half from anywhere.
        near = records.filter(pl.col("school_year").is_in(list(spec.years)) & _in_scope(scope)
                              ).get_column("ssid").unique().sort().to_list()
        if near:
            picked = data.draw(st.lists(st.sampled_from(near), min_size=1, max_size=40))
            scope = replace(scope, ssids=(*scope.ssids[:20], *picked))
    return scope


# -- the property ---------------------------------------------------------------------------

@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_no_row_counts_a_student_outside_the_scope(snap: Snapshot, records: pl.DataFrame,
                                                   places: pl.DataFrame,
                                                   data: st.DataObject) -> None:
    orgs = snap.orgs_of(snap.years)
    spec = data.draw(_specs(orgs), label="spec")
    scope = _report_scope(data, spec, orgs, records)
    expected_orgs = _expected_orgs(spec, scope, _present(places, spec.years))
    if not expected_orgs:
        if not _present(places, spec.years):
            event("no data in the years")
            with pytest.raises(ValueError, match="no results"):
                read_report(snap, spec, scope=scope, suppress=False)
            return
        event("ScopeError")
        with pytest.raises(ScopeError):
            read_report(snap, spec, scope=scope, suppress=False)
        return
    report = read_report(snap, spec, scope=scope, suppress=False)

    shown = set(report.select(ORG_KEY).unique().iter_rows())
    event(f"report: statewide={scope.statewide}, groups={bool(scope.groups)}, "
          f"ssids={scope.ssids is not None}, "
          f"students={report.get_column('n_enrolled').sum() > 0}")
    assert shown == expected_orgs
    visible = set(scope.visible_orgs(snap.orgs_of(spec.years)).select(ORG_KEY).iter_rows())
    assert shown <= visible
    if not scope.statewide:
        assert "state" not in report.get_column("org_level").to_list()

    groups = [*(scope.groups or ("001",)), *MEMBERS.get(spec.breakdown or "", {}),
              *(f"custom:{i}" for i in range(len(spec.subgroups)))]
    grades = [*GRADES, "13"] if spec.breakdown == "grade" else list(spec.grades)
    assert set(report.get_column("group_id")) == set(groups)
    assert set(report.get_column("grade")) == set(grades)
    assert report.height == len(set(spec.years)) * len(shown) * len(groups) * len(grades)

    counted = report.select(*ROW_KEY, "n_enrolled").join(
        _expected_counts(records, spec, scope), on=ROW_KEY, how="left").with_columns(
        pl.col("expected").fill_null(0))
    wrong = counted.filter(pl.col("n_enrolled") != pl.col("expected"))
    assert wrong.height == 0, wrong.head(5).to_dicts()


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_a_scope_covering_none_of_the_organisations_raises(snap: Snapshot,
                                                           data: st.DataObject) -> None:
    orgs = snap.orgs_of(snap.years)
    leas = orgs.filter(pl.col("org_level") == "lea")
    # A scope of some LEAs and schools, and a report on organisations outside all of them.
    inside = data.draw(st.lists(st.sampled_from(leas.get_column("lea_code").to_list()),
                                min_size=1, max_size=4, unique=True), label="scope LEAs")
    outside = orgs.filter(~pl.col("lea_code").is_in(inside)
                          & ~pl.col("county_code").is_in(
                              leas.filter(pl.col("lea_code").is_in(inside))
                              .get_column("county_code").to_list()))
    schools = orgs.filter((pl.col("org_level") == "school") & pl.col("lea_code").is_in(inside))
    scope = Scope(leas=tuple(inside), schools=tuple(schools.get_column("school_code").head(3)),
                  groups=data.draw(st.sampled_from([(), ("031",)])))
    level = data.draw(st.sampled_from(["state", "county", "lea", "school"]), label="level")
    column = {"county": "county_code", "lea": "lea_code", "school": "school_code"}
    pool = outside.filter(pl.col("org_level") == level)
    if level == "state":
        codes: tuple[str, ...] = ("00",)
    elif pool.height == 0:
        return
    else:
        codes = tuple(data.draw(st.lists(st.sampled_from(
            pool.get_column(column[level]).to_list()), min_size=1, max_size=3, unique=True)))
    spec = ReportSpec(years=snap.years[-2:], orgs=codes, org_level=level,
                      comparison=data.draw(st.booleans()),
                      breakdown=data.draw(st.sampled_from([None, "grade", "gender"])))
    with pytest.raises(ScopeError):
        read_report(snap, spec, scope=scope, suppress=False)


# -- cohorts, transitions, SSR status and the research file --------------------------------
# The other aggregates against the same random scopes, each compared with a count made here
# from the records the scope covers (``_in_scope``, its student groups and SSIDs): a cohort
# is the students tested in the organisation in every selected year, matched by SSID, and a
# transition the overall levels of those tested with scores there in two consecutive years
# (ELPAC.md §4); SSRs count under the enrolled LEA and school (§7); the research file's rows
# are every organisation x research group x grade with records (§5.3).

LEVEL_OF_TYPE = {"04": "state", "03": "county", "02": "lea", "09": "lea", "01": "school",
                 "10": "school"}
SSR_COLUMNS = ["ssid", "record_type", "grade_assessed", "is_ssr_eligible", "ssr_languages",
               "ssr_available_date", "enrolled_lea_code", "enrolled_school_code"]


def _counted_in_scope(records: pl.DataFrame, scope: Scope, years: Iterable[str],
                      test: str) -> pl.DataFrame:
    """Records an aggregate counts that the scope covers, its SSID list applied (not groups)."""
    keep = (pl.col("counted") & pl.col("school_year").is_in(list(years))
            & (pl.col("record_type") == RECORD_TYPE[test]) & _in_scope(scope))
    if scope.ssids is not None:
        keep = keep & pl.col("ssid").is_in(list(scope.ssids))
    return records.filter(keep)


def _in_groups(scope: Scope) -> pl.Expr:
    return _all_of((("scope", scope.groups),)) if scope.groups else pl.lit(True)


def _at_org(level: str, county: str, lea: str, school: str) -> pl.Expr:
    """Records counted under one organisation row (ELPAC.md §3.3)."""
    if level == "state":
        return pl.lit(True)
    if level == "county":
        return pl.col("county_code") == county
    if level == "lea":
        return pl.col("reporting_lea_code") == lea
    return (pl.col("reporting_school_code") == school).fill_null(False)


def _org_columns(org: tuple[str, str, str, str]) -> list[pl.Expr]:
    return [pl.lit(v).alias(k) for k, v in zip(ORG_KEY, org, strict=True)]


@st.composite
def _cohort_specs(draw: st.DrawFn, orgs: pl.DataFrame) -> ReportSpec:
    spec = draw(_specs(orgs))
    years = draw(st.lists(st.sampled_from(YEARS), min_size=2, max_size=3, unique=True))
    return replace(spec, years=tuple(years), longitudinal=True, cohort=True)


@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_cohorts_and_transitions_count_only_students_in_scope(
        snap: Snapshot, records: pl.DataFrame, places: pl.DataFrame,
        data: st.DataObject) -> None:
    orgs = snap.orgs_of(snap.years)
    spec = data.draw(_cohort_specs(orgs), label="spec")
    scope = _report_scope(data, spec, orgs, records)
    present = _present(places, spec.years)
    chosen = _expected_orgs(replace(spec, comparison=False), scope, present)
    calls = {"cohort": lambda: read_longitudinal(snap, spec, scope=scope, suppress=False),
             "transitions": lambda: read_transitions(snap, spec, scope=scope, suppress=False)}
    if not chosen:
        event("no organisation")
        for call in calls.values():
            # No data in the years at all, else none of the organisations in the scope.
            with pytest.raises(ScopeError if present else ValueError,
                               match=None if present else "no results"):
                call()
        return

    # Cohort: per chosen organisation, the SSIDs tested there in every selected year (of the
    # records the scope covers), then each year's rows over those students alone.
    base = _counted_in_scope(records, scope, spec.years, spec.test)
    tested = base.filter(pl.col("is_tested"))
    expected = []
    for org in sorted(chosen):
        ssids = (tested.filter(_at_org(*org)).group_by("ssid")
                 .agg(pl.col("school_year").n_unique().alias("n"))
                 .filter(pl.col("n") == len(set(spec.years))).get_column("ssid"))
        counts = _expected_counts(records.filter(pl.col("ssid").is_in(ssids.implode())),
                                  spec, scope)
        expected.append(counts.join(pl.DataFrame([org], schema=ORG_KEY, orient="row"),
                                    on=ORG_KEY))
    got = calls["cohort"]()
    event(f"cohort: students={got.get_column('n_enrolled').sum() > 0}")
    assert set(got.select(ORG_KEY).unique().iter_rows()) == chosen
    counted = got.select(*ROW_KEY, "n_enrolled").join(
        pl.concat(expected), on=ROW_KEY, how="left").with_columns(
        pl.col("expected").fill_null(0))
    wrong = counted.filter(pl.col("n_enrolled") != pl.col("expected"))
    assert wrong.height == 0, wrong.head(5).to_dicts()
    groups = len(scope.groups or ("001",)) + len(MEMBERS.get(spec.breakdown or "", {})) + len(
        spec.subgroups)
    grades = len(GRADES) + 1 if spec.breakdown == "grade" else len(spec.grades)
    assert got.height == len(set(spec.years)) * len(chosen) * groups * grades

    # Transitions: tested with scores in the organisation in both years, in the filters and
    # the scope's groups, matched by SSID.
    scored = base.filter((pl.col("include_indicator") == "Y")
                         & pl.col("overall_level").is_not_null() & _all_of(spec.filters)
                         & _in_groups(scope))
    years = sorted(set(spec.years))
    pairs = []
    for org in chosen:
        there = scored.filter(_at_org(*org))
        for a, b in zip(years, years[1:], strict=False):
            first = there.filter(pl.col("school_year") == a).select(
                "ssid", pl.col("overall_level").cast(pl.Int64).alias("from_level"))
            second = there.filter(pl.col("school_year") == b).select(
                "ssid", pl.col("overall_level").cast(pl.Int64).alias("to_level"))
            pairs.append(first.join(second, on="ssid").group_by("from_level", "to_level")
                         .len("n_students").with_columns(pl.lit(a).alias("from_year"),
                                                         *_org_columns(org)))
    columns = ["from_year", *ORG_KEY, "from_level", "to_level", "n_students"]
    want = pl.concat(pairs).select(columns).with_columns(pl.col("n_students").cast(pl.Int64))
    got_moves = calls["transitions"]()
    event(f"transitions: students={want.height > 0}")
    assert set(got_moves.select(ORG_KEY).unique().iter_rows()) <= chosen
    assert sorted(got_moves.select(columns).with_columns(
        pl.col("from_level", "to_level").cast(pl.Int64)).rows()) == sorted(want.rows())


@pytest.fixture(scope="module")
def ssr_records(tiny_store_path: Path) -> pl.DataFrame:
    """Every record with its SSR fields and enrolled organisation (ELPAC.md §7), TK too."""
    return pl.concat([pl.read_parquet(path, columns=SSR_COLUMNS)
                      .with_columns(pl.lit(year).alias("school_year"))
                      for year, path in sorted(Store(tiny_store_path).year_files().items())])


def _enrolled_in_scope(scope: Scope) -> pl.Expr:
    """An SSR is in scope if its enrolled county, LEA or school is (not where it tested)."""
    if scope.statewide:
        return pl.lit(True)
    lea, school = pl.col("enrolled_lea_code"), pl.col("enrolled_school_code")
    return (lea.str.slice(0, 2).is_in(list(scope.counties)) | lea.is_in(list(scope.leas))
            | school.is_in(list(scope.schools))).fill_null(False)


@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_ssr_status_and_curve_count_only_students_in_scope(
        snap: Snapshot, ssr_records: pl.DataFrame, data: st.DataObject) -> None:
    orgs = snap.orgs_of(snap.years)
    scope = data.draw(_scopes(orgs, _ssid_pool(ssr_records)), label="scope")
    year = data.draw(st.sampled_from(snap.years), label="year")
    test = data.draw(st.sampled_from(["summative", "summative", "alternate"]), label="test")
    eligible = ssr_records.filter((pl.col("school_year") == year)
                                  & (pl.col("record_type") == RECORD_TYPE[test])
                                  & pl.col("is_ssr_eligible").fill_null(False))
    if data.draw(st.booleans(), label="aim"):
        lea = data.draw(st.sampled_from(sorted(
            eligible.get_column("enrolled_lea_code").unique()) or ["none"]), label="LEA")
        scope = replace(scope, leas=(*scope.leas, lea))
    if scope.ssids is not None and data.draw(st.booleans(), label="aim SSIDs"):
        near = eligible.filter(_enrolled_in_scope(scope)).get_column("ssid").unique().sort()
        if near.len():
            scope = replace(scope, ssids=(*scope.ssids[:20], *data.draw(
                st.lists(st.sampled_from(near.to_list()), min_size=1, max_size=40))))
    spring = int(year[:4]) + 1
    as_of = data.draw(st.dates(date(spring, 4, 1), date(spring, 9, 30)), label="as of")
    by = data.draw(st.sampled_from([None, "lea", "school", "grade", "language"]), label="by")
    note(f"scope: {scope}")
    calls = {"status": lambda: read_ssr_status(snap, year=year, as_of=as_of, scope=scope,
                                               by=by, test=test)}
    if scope.groups:
        event("SSR: student groups refused")
        for call in calls.values():
            with pytest.raises(ValueError, match="student group"):
                call()
        return
    mine = eligible.filter(_enrolled_in_scope(scope)
                           & (pl.col("ssid").is_in(list(scope.ssids))
                              if scope.ssids is not None else pl.lit(True)))
    event(f"SSR: {mine.height > 0}, by={by}, ssids={scope.ssids is not None}")
    key = {"lea": [pl.col("enrolled_lea_code").alias("lea_code")],
           "school": [pl.col("enrolled_school_code").fill_null("").alias("school_code")],
           "grade": [pl.col("grade_assessed").alias("grade")],
           "language": [pl.col("ssr_languages").fill_null("ENG").alias("languages")],
           None: []}[by]
    released = (pl.col("ssr_available_date") <= as_of).fill_null(False)
    primary = pl.col("ssr_languages").fill_null("ENG") != "ENG"
    aggs = [pl.len().cast(pl.Int64).alias("n_eligible"),
            released.sum().cast(pl.Int64).alias("n_released"),
            primary.sum().cast(pl.Int64).alias("n_primary_eligible")]
    want = mine.group_by(key).agg(aggs) if key else mine.select(aggs)
    names = [e.meta.output_name() for e in key]
    got = calls["status"]().select(*names, "n_eligible", "n_released", "n_primary_eligible")
    if by is not None:
        # Rows for the keys with SSRs, no others (a total has its one row, maybe of zeros).
        assert sorted(got.rows()) == sorted(want.rows())
    else:
        assert got.rows() == want.rows()


class _Replayed:
    """Stands in for ``st.data()`` in an ``@example``: each draw returns the value named by its
    label (hypothesis takes no ``DataObject`` in an explicit example)."""

    def __init__(self, by_label: dict[str, object]) -> None:
        self.by_label = by_label

    def draw(self, strategy: st.SearchStrategy[object], label: str | None = None) -> object:
        """The value given for ``label``; an unnamed or unknown draw is an error."""
        if label not in self.by_label:
            raise LookupError(f"the example gives no value for the draw labelled {label!r}")
        return self.by_label[label]

    def __repr__(self) -> str:
        return f"_Replayed({self.by_label!r})"


@settings(max_examples=40, deadline=None)
@given(data=st.data())
# Issue 10: a statewide scope whose only group is nonbinary (not a research group) left the
# reference count with no group at all (pl.concat of nothing), though the product was right.
@example(data=_Replayed({"scope": Scope(statewide=True, groups=("G-X",)), "year": "2024-25",
                         "test": "summative", "LEA": None, "aim": 0}))
def test_research_rows_count_only_students_in_scope(snap: Snapshot, records: pl.DataFrame,
                                                    data: st.DataObject) -> None:
    orgs = snap.orgs_of(snap.years)
    scope = data.draw(_scopes(orgs, _ssid_pool(records)), label="scope")
    year = data.draw(st.sampled_from(snap.years), label="year")
    test = data.draw(st.sampled_from(["summative", "summative", "alternate"]), label="test")
    leas = sorted(snap.orgs.filter((pl.col("org_level") == "lea")
                                   & (pl.col("school_year") == year)).get_column("lea_code"))
    lea = data.draw(st.one_of(st.none(), st.sampled_from(leas)), label="LEA")
    aim = data.draw(st.integers(0, 3), label="aim")
    if aim and lea is not None:
        scope = replace(scope, leas=(*scope.leas, lea))
    elif aim == 1:
        scope = replace(scope, statewide=True)
    if scope.ssids is not None and data.draw(st.booleans(), label="aim SSIDs"):
        near = records.filter((pl.col("school_year") == year) & _in_scope(scope)).get_column(
            "ssid").unique().sort()
        if near.len():
            scope = replace(scope, ssids=(*scope.ssids[:20], *data.draw(
                st.lists(st.sampled_from(near.to_list()), min_size=1, max_size=40))))
    note(f"scope: {scope}")
    # The full file needs a statewide scope; one LEA's rows a scope covering the LEA.
    if lea is None and not scope.statewide or (
            lea is not None and not scope.allows_lea(lea[:2], lea)):
        event("research file: ScopeError")
        with pytest.raises(ScopeError):
            research_rows(snap, year=year, test=test, scope=scope, lea=lea, suppress=False)
        return
    base = _counted_in_scope(records, scope, [year], test).filter(_in_groups(scope))
    if lea is not None:
        base = base.filter(pl.col("reporting_lea_code") == lea)
    # A scope limited to student groups sees only those groups' rows (as read_report). G-X
    # (nonbinary) is the explorer's own group, not a research-file one (ELPAC.md §5.6).
    groups = {g: MEMBER[g] for g in (scope.groups or MEMBER) if g != "G-X"}
    want = _count_rows(base, groups).with_columns(
        pl.when(pl.col("org_level") == "state").then(pl.lit("00000000000000"))
        .when(pl.col("org_level") == "county").then(pl.col("county_code") + "000000000000")
        .when(pl.col("org_level") == "lea").then(pl.col("lea_code"))
        .otherwise(pl.col("school_code")).alias("cds"))
    if lea is not None:
        want = want.filter(pl.col("org_level").is_in(["lea", "school"]))
    got = research_rows(snap, year=year, test=test, scope=scope, lea=lea, suppress=False)
    event(f"research file: rows={got.height > 0}, lea={lea is not None}, "
          f"groups={bool(scope.groups)}, ssids={scope.ssids is not None}")
    if scope.groups:
        assert set(got.get_column("StudentGroupID")) <= set(scope.groups)
    rows = got.filter(pl.col("StudentGroupID").is_in(list(groups))).select(
        pl.col("TypeID").replace_strict(LEVEL_OF_TYPE).alias("org_level"),
        (pl.col("CountyCode") + pl.col("DistrictCode") + pl.col("SchoolCode")).alias("cds"),
        pl.col("StudentGroupID").alias("group_id"), pl.col("Grade").alias("grade"),
        pl.col("TotalEnrolled").cast(pl.Int64))
    assert sorted(rows.rows()) == sorted(want.select(
        "org_level", "cds", "group_id", "grade", "expected").rows())


# -- student-level queries and exports ------------------------------------------------------
# The same random scopes against every query that returns students: search, profile, the
# District/School export and the Student Score Data File extract. A student row is allowed
# when the scope has PII, covers the record's organisation, its student groups hold the
# record and its SSID list (if any) names the student; nothing else may come back.

SIDE_COLUMNS = ["ssid", "enrolled_lea_code", "enrolled_school_code", "tested_lea_code",
                "tested_school_code"]


@pytest.fixture(scope="module")
def sides(tiny_store_path: Path) -> pl.DataFrame:
    """Enrolled and tested organisations of every record (the extract's scope rule)."""
    return pl.concat([pl.read_parquet(path, columns=[*COLUMNS, *SIDE_COLUMNS[1:]])
                      .with_columns(pl.lit(year).alias("school_year"))
                      for year, path in sorted(Store(tiny_store_path).year_files().items())])


def _student_rule(scope: Scope) -> pl.Expr:
    keep = pl.lit(True)
    if scope.groups:
        keep = keep & _all_of((("scope", scope.groups),))
    if scope.ssids is not None:
        keep = keep & pl.col("ssid").is_in(list(scope.ssids))
    return keep


def _visible(records: pl.DataFrame, scope: Scope) -> pl.DataFrame:
    """(school_year, ssid, record_type) of the records the scope may see as students."""
    return records.filter(_in_scope(scope) & _student_rule(scope)).select(
        "school_year", "ssid", "record_type").unique()


def _side_covered(scope: Scope, side: str) -> pl.Expr:
    if scope.statewide:
        return pl.lit(True)
    lea, school = pl.col(f"{side}_lea_code"), pl.col(f"{side}_school_code")
    return (lea.str.slice(0, 2).is_in(list(scope.counties)) | lea.is_in(list(scope.leas))
            | school.is_in(list(scope.schools))).fill_null(False)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_no_student_query_or_export_returns_a_student_outside_the_scope(
        snap: Snapshot, records: pl.DataFrame, sides: pl.DataFrame,
        data: st.DataObject) -> None:
    orgs = snap.orgs_of(snap.years)
    scope = data.draw(_scopes(orgs, _ssid_pool(records)), label="scope")
    scope = replace(scope, pii=data.draw(st.integers(0, 5), label="pii") > 0)
    if scope.ssids is None and data.draw(st.booleans(), label="teacher"):
        # Half the scopes limited to some students: the rule most easily forgotten.
        scope = replace(scope, ssids=())
    year = data.draw(st.sampled_from(snap.years), label="year")
    leas = snap.orgs.filter((pl.col("org_level") == "lea") & (pl.col("school_year") == year))
    lea = data.draw(st.sampled_from(sorted(leas.get_column("lea_code"))), label="LEA")
    if data.draw(st.booleans(), label="aim"):
        scope = replace(scope, leas=(*scope.leas, lea))
    if scope.ssids is not None and data.draw(st.booleans(), label="aim SSIDs"):
        near = records.filter((pl.col("school_year") == year) & _in_scope(scope)).get_column(
            "ssid").unique().sort().to_list()
        if near:
            scope = replace(scope, ssids=(*scope.ssids[:10], *data.draw(
                st.lists(st.sampled_from(near), min_size=1, max_size=30))))
    note(f"scope: {scope}")
    some_ssid = data.draw(st.sampled_from(_ssid_pool(records)), label="profile SSID")
    calls = {
        "search": lambda: find_students(snap, scope=scope, year=year, lea=lea),
        "profile": lambda: read_student(snap, some_ssid, scope=scope),
        "district export": lambda: read_district_results(snap, scope=scope, year=year,
                                                         lea=lea),
        "score data file": lambda: read_ssdf_records(snap, scope=scope, years=[year]),
    }
    if not scope.pii:
        # Aggregate-only: every student-level query refuses, whatever it is asked.
        event("aggregate-only")
        for call in calls.values():
            with pytest.raises(ScopeError):
                call()
        return
    visible = _visible(records, scope)
    allowed = set(visible.select("school_year", "ssid").iter_rows())

    found = calls["search"]()
    assert set(found.select("school_year", "ssid").iter_rows()) <= allowed
    expected = visible.join(records.filter(pl.col("reporting_lea_code") == lea).select(
        "school_year", "ssid", "record_type"), on=["school_year", "ssid", "record_type"])
    expected = expected.filter(pl.col("school_year") == year)
    if expected.height < 500:  # the search lists at most 500 students
        assert set(found.get_column("ssid")) == set(expected.get_column("ssid"))

    profile = calls["profile"]()
    assert set(profile.select("school_year", "ssid").iter_rows()) == {
        k for k in allowed if k[1] == some_ssid}

    county = lea[:2]
    if scope.allows_lea(county, lea):
        district = calls["district export"]()
        event(f"district export: {district.height > 0}")
        assert {(year, s) for s in district.get_column("SSID")} <= allowed
        summative = expected.filter(pl.col("record_type") == "21")
        assert district.height == summative.height
    else:
        with pytest.raises(ScopeError):
            calls["district export"]()

    extract = calls["score data file"]()
    either = (_side_covered(scope, "enrolled") | _side_covered(scope, "tested"))
    allowed_sides = set(sides.filter((pl.col("school_year") == year) & either
                                     & _student_rule(scope)).get_column("ssid"))
    assert set(extract.get_column("ssid")) == allowed_sides
    event(f"extract rows: {extract.height > 0}")
