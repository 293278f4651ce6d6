"""Longitudinal reports: the same organisation, grade and group over several years.

* *All students*: each year's report row as it stands (``queries.reports``).
* *Cohort*: only students tested in the same organisation in every selected year, matched by
  SSID (students who moved, left or arrived are left out), each year's measures over them.
* The level transition matrix (not in CERS): for students matched in two consecutive selected
  years, how many moved from each overall level to each overall level.

Grades are assessment grades *of each year*, so a cohort's row for "all grades" follows the
same students as they move up.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import polars as pl

from data.results.summary import RECORD_COLUMNS
from queries.labels import RECORD_TYPE_OF_TEST
from queries.metrics import SUPPRESSION_THRESHOLD
from queries.records import read_records
from queries.report_plan import resolve_orgs, subgroup_filter
from queries.reports import cohort_report, read_report
from queries.rosters import group_students
from queries.suppression import applies

if TYPE_CHECKING:
    from queries.scope import Scope
    from queries.snapshot import Snapshot
    from queries.spec import ReportSpec

_ORG_COLUMN = {"school": "reporting_school_code", "lea": "reporting_lea_code",
               "county": "county_code"}


def read_longitudinal(snap: Snapshot, spec: ReportSpec, *, scope: Scope, suppress: bool
                      ) -> pl.DataFrame:
    """A report over ``spec.years`` for All students, or for the cohort if ``spec.cohort``.

    Same columns as ``queries.reports.read_report``; one row per year, organisation, group
    and grade. For a cohort, ``row_label`` says so.
    """
    if not spec.cohort:
        return read_report(snap, replace(spec, longitudinal=False), scope=scope,
                           suppress=suppress)
    cohorts = _cohort_ssids(snap, spec, scope)
    frames = []
    for key, ssids in cohorts.items():
        level, code = key
        single = replace(spec, orgs=(code,), org_level=level, comparison=False,
                         expand="none", cohort=False, longitudinal=False,
                         filters=(*spec.filters,))
        frames.append(_report_for_students(snap, single, scope, ssids, suppress))
    if not frames:
        return read_report(snap, replace(spec, cohort=False, longitudinal=False), scope=scope,
                           suppress=suppress).head(0)
    return pl.concat(frames, how="diagonal_relaxed")


def _cohort_ssids(snap: Snapshot, spec: ReportSpec, scope: Scope
                  ) -> dict[tuple[str, str], list[str]]:
    """For each chosen organisation, the SSIDs tested there in every selected year."""
    orgs = snap.orgs_of(spec.years)
    rows = resolve_orgs(replace(spec, comparison=False), orgs, scope)
    records = read_records(snap, spec.years, scope=scope, orgs=orgs,
                           record_type=RECORD_TYPE_OF_TEST[spec.test],
                           columns=["ssid", "is_tested", *_ORG_COLUMN.values()],
                           reported_only=True)
    out: dict[tuple[str, str], list[str]] = {}
    years = len(set(spec.years))
    tested = records.filter(pl.col("is_tested"))
    for level, county, lea, school in rows.select(
            "org_level", "county_code", "lea_code", "school_code").iter_rows():
        code = {"school": school, "lea": lea, "county": county}.get(level)
        there = tested if code is None else tested.filter(pl.col(_ORG_COLUMN[level]) == code)
        every_year = (there.group_by("ssid").agg(pl.col("school_year").n_unique().alias("n"))
                      .filter(pl.col("n") == years))
        out[(level, code or "00")] = every_year.get_column("ssid").to_list()
    return out


def _report_for_students(snap: Snapshot, spec: ReportSpec, scope: Scope, ssids: list[str],
                         suppress: bool) -> pl.DataFrame:
    # A cohort is a custom population: the records path with an SSID restriction.
    report = cohort_report(snap, spec, scope=scope, ssids=ssids, suppress=suppress)
    return report.with_columns((pl.col("row_label") + " (cohort)").alias("row_label"))


def read_transitions(snap: Snapshot, spec: ReportSpec, *, scope: Scope, suppress: bool,
                     threshold: int = SUPPRESSION_THRESHOLD) -> pl.DataFrame:
    """Overall-level transitions between consecutive selected years, per organisation.

    Students are matched by SSID among those tested with scores in the organisation in both
    years (the matrix of a cohort). Columns: ``from_year``, ``to_year``, organisation keys,
    ``from_level``, ``to_level``, ``n_students``, ``pct_of_from`` (share of the students at
    ``from_level`` who reached ``to_level``) and ``data_status``: ``final`` when the
    organisation's data of both years is final (``Snapshot.org_data_status``), else
    ``partial`` (``incomplete`` when either year is).

    ``suppress`` leaves out an organisation's matrix for a pair of years when any of its
    from-levels has fewer than ``threshold`` matched students (their moves would show who
    they are). An aggregate-only scope gets no matrix (``ValueError``): a matrix follows
    chosen students, and two of them (with and without a filter, a school and its LEA)
    subtract to a small group's levels, so no complement of it can be bounded
    (``queries.suppression``, rule 3; its cohort rows show no scores either).
    """
    years = sorted(set(spec.years))
    if len(years) < 2:
        raise ValueError("a transition matrix needs at least two school years")
    if applies(scope, suppress):
        raise ValueError("level transitions follow chosen students, and an aggregate-only "
                         "account sees no scores of chosen students (README, Report "
                         "definitions: complementary suppression)")
    orgs = snap.orgs_of(years)
    members: dict[str, list[str]] = {}
    if spec.org_level == "group":
        # A group follows its students wherever they tested (as its report rows do).
        members = group_students(snap.store, scope, spec.orgs)
        leas = dict(orgs.filter(pl.col("org_level") == "school")
                    .select("school_code", "lea_code").iter_rows())
        rows = pl.DataFrame({"org_level": ["group"] * len(members),
                             "county_code": [k[:2] for k in members],
                             "lea_code": [leas.get(k[:14], "") for k in members],
                             "school_code": list(members)}, schema=dict.fromkeys(
            ["org_level", "county_code", "lea_code", "school_code"], pl.String))
    else:
        rows = resolve_orgs(replace(spec, comparison=False), orgs, scope)
    records = read_records(snap, years, scope=scope, orgs=orgs,
                           record_type=RECORD_TYPE_OF_TEST[spec.test],
                           columns=["ssid", "include_indicator", "overall_level",
                                    *_ORG_COLUMN.values(), *RECORD_COLUMNS],
                           reported_only=True)
    scored = records.filter((pl.col("include_indicator") == "Y")
                            & pl.col("overall_level").is_not_null())
    scored = scored.filter(subgroup_filter(spec, scope))
    frames = []
    for level, county, lea, school in rows.select(
            "org_level", "county_code", "lea_code", "school_code").iter_rows():
        code = {"school": school, "lea": lea, "county": county}.get(level)
        if level == "group":
            there = scored.filter(pl.col("ssid").is_in(members[school]))
        elif code is None:
            there = scored
        else:
            there = scored.filter(pl.col(_ORG_COLUMN[level]) == code)
        for a, b in zip(years, years[1:], strict=False):
            first = there.filter(pl.col("school_year") == a).select(
                "ssid", pl.col("overall_level").alias("from_level"))
            second = there.filter(pl.col("school_year") == b).select(
                "ssid", pl.col("overall_level").alias("to_level"))
            pairs = first.join(second, on="ssid")
            counts = pairs.group_by("from_level", "to_level").len("n_students")
            frames.append(counts.with_columns(
                pl.lit(a).alias("from_year"), pl.lit(b).alias("to_year"),
                pl.lit(level).alias("org_level"), pl.lit(county).alias("county_code"),
                pl.lit(lea).alias("lea_code"), pl.lit(school).alias("school_code")))
    if not frames:
        return pl.DataFrame()
    out = pl.concat(frames).with_columns(pl.col("n_students").cast(pl.Int64))
    totals = pl.col("n_students").sum().over("from_year", "org_level", "county_code",
                                             "lea_code", "school_code", "from_level")
    if suppress or scope.suppressed:
        # The whole matrix goes when one from-level has fewer than the threshold's students:
        # dropping only that level's rows would leave them to be worked out from the cohort's
        # level counts minus the rows shown.
        matrix = ["from_year", "to_year", "org_level", "county_code", "lea_code",
                  "school_code"]
        smallest = (out.with_columns(totals.alias("from_total"))
                    .select(pl.col("from_total").min().over(matrix)).to_series())
        out = out.filter(smallest >= threshold)
    return out.with_columns((pl.col("n_students") / totals * 100).alias("pct_of_from"),
                            _pair_status(snap, out)).select(
        "from_year", "to_year", "org_level", "county_code", "lea_code", "school_code",
        "from_level", "to_level", "n_students", "pct_of_from", "data_status").sort(
        "from_year", "org_level", "county_code", "lea_code", "school_code", "from_level",
        "to_level")


def _pair_status(snap: Snapshot, pairs: pl.DataFrame) -> pl.Series:
    """``final`` when the row's organisation is final in both years, else ``partial``.

    ``incomplete`` when either year is (2019-20, ``data.domain.INCOMPLETE_YEARS``). A student
    group row takes its school's LEA's status, as its report rows do.
    """
    keys = ["from_year", "to_year", "org_level", "county_code", "lea_code"]

    def status(year: str, level: str, county: str, lea: str) -> str:
        return snap.org_data_status(year, "lea" if level == "group" else level, county, lea)

    def pair(a: str, b: str, level: str, county: str, lea: str) -> str:
        found = {status(a, level, county, lea), status(b, level, county, lea)}
        return ("incomplete" if "incomplete" in found else "final" if found == {"final"}
                else "partial")

    both = {k: pair(*k) for k in pairs.select(keys).unique().iter_rows()}
    return pl.Series("data_status", [both[k] for k in pairs.select(keys).iter_rows()],
                     dtype=pl.String)
