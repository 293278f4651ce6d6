"""CERS-style aggregate reports: one row per organisation x student group x grade x year.

Two ways to the same numbers, chosen per report (``queries.report_plan.needs_records``):

* the summary built at load time (``data.results.summary``) answers standard reports: whole
  organisations, research-file groups, breakdown by one dimension or by grade
  (``queries.report_summary``);
* the records answer the rest: advanced filters, custom subgroups, completeness, a school
  broken down by grade and a group at once, scopes limited to student groups
  (``queries.report_adhoc``).

Both apply the scope before aggregating (``queries.scope``), and both sum the same per-record
contributions (``data.results.summary.record_metrics``), so they agree exactly; a test checks it.
This module lays the sums out as the report's grid (``queries.report_plan``) and publishes them.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from data.results.summary import METRIC_COLUMNS
from queries.labels import GRADE_NAMES, RECORD_TYPE_OF_TEST
from queries.metrics import SUPPRESSION_THRESHOLD, publish_arrays, to_frame
from queries.report_adhoc import records_sums
from queries.report_plan import needs_records, report_grades, resolve_orgs, row_groups
from queries.report_summary import Sums, summary_sums
from queries.rosters import group_students

if TYPE_CHECKING:
    from queries.scope import Scope
    from queries.snapshot import Snapshot
    from queries.spec import ReportSpec

ROW_KEYS = ("school_year", "org_level", "county_code", "lea_code", "school_code", "group_id",
            "row_label", "grade")
"""The columns that identify a report row."""


def read_report(snap: Snapshot, spec: ReportSpec, *, scope: Scope, suppress: bool,
                threshold: int = SUPPRESSION_THRESHOLD) -> pl.DataFrame:
    """Compute a report: one row per year x organisation x group (or subgroup) x grade.

    Parameters
    ----------
    snap
        The store at one data version (``queries.snapshot.Snapshot``).
    spec
        What to report (``queries.spec.ReportSpec``).
    scope
        Who is asking: rows and students outside it are never counted or returned.
    suppress
        Hide the score cells of rows with fewer than ``threshold`` students tested with
        scores (counts of enrolled and tested stay). Every caller says which it wants.
    threshold
        The suppression threshold (default 11, as the public research files).

    Returns
    -------
    pl.DataFrame
        Keys (``ROW_KEYS``), organisation name, TypeID and 14-digit CDS code, the counts, and
        per measure its total, mean, standard error, error band and count and percent per
        level (``queries.metrics``); ``has_scores``, ``is_suppressed`` and ``data_status``
        (``final`` or ``partial``).
    """
    return _report(snap, spec, scope=scope, suppress=suppress, threshold=threshold)


def cohort_report(snap: Snapshot, spec: ReportSpec, *, scope: Scope, ssids: list[str],
                  suppress: bool, threshold: int = SUPPRESSION_THRESHOLD) -> pl.DataFrame:
    """``read_report`` over the given students only (a longitudinal cohort)."""
    return _report(snap, spec, scope=scope, suppress=suppress, threshold=threshold,
                   ssids=ssids)


def _report(snap: Snapshot, spec: ReportSpec, *, scope: Scope, suppress: bool, threshold: int,
            ssids: list[str] | None = None) -> pl.DataFrame:
    suppress = suppress or scope.suppressed  # an aggregate-only scope cannot turn it off
    if spec.org_level == "group":
        return _group_report(snap, spec, scope=scope, suppress=suppress, threshold=threshold)
    orgs = snap.orgs_of(spec.years)
    rows = resolve_orgs(spec, orgs, scope)
    groups = row_groups(spec, scope)
    grades = report_grades(spec)
    record_type = RECORD_TYPE_OF_TEST[spec.test]
    standard = [g for g in groups if not g[0].startswith("custom:")]
    custom = [g for g in groups if g[0].startswith("custom:")]
    if ssids is not None or needs_records(spec, scope, rows):
        sums = records_sums(snap, spec, scope, rows, orgs, groups, grades, record_type,
                            ssids=ssids)
    else:
        # Standard rows from the summary; only custom subgroups read records, and only the
        # records of those subgroups (the filter runs inside DuckDB). DuckDB releases the GIL,
        # so the records are summed in a worker thread while the summary is read here.
        pending = _POOL.submit(records_sums, snap, spec, scope, rows, orgs, custom, grades,
                               record_type) if custom else None
        parts = [summary_sums(snap, spec.years, rows, standard, grades, record_type)]
        if pending is not None:
            parts.append(pending.result())
        sums = Sums.concat(parts)
    return _assemble(snap, spec, rows, groups, grades, sums, suppress=suppress,
                     threshold=threshold)


def _group_report(snap: Snapshot, spec: ReportSpec, *, scope: Scope, suppress: bool,
                  threshold: int) -> pl.DataFrame:
    """Rows for student groups: each group's students' records, wherever they tested.

    A group row sums its students' records of each year that the scope covers (the scope's
    own SSID limit still applies), as a state row over those students. ``org_level`` is
    ``group``, ``school_code`` the group's key (so two groups of one school stay apart) and
    ``cds_code`` its school's. Comparison rows are the groups' schools with their LEA,
    county and state, for scopes that see whole organisations.
    """
    members = group_students(snap.store, scope, spec.orgs)
    orgs = snap.orgs_of(spec.years)
    groups = row_groups(spec, scope)
    grades = report_grades(spec)
    record_type = RECORD_TYPE_OF_TEST[spec.test]
    base = replace(spec, org_level="state", orgs=("00",), comparison=False)
    school_rows = orgs.filter(pl.col("org_level") == "school").unique(
        "school_code", keep="last")
    school_lea = dict(school_rows.select("school_code", "lea_code").iter_rows())
    frames = []
    for key, ssids in members.items():
        name, school = key.partition(":")[2], key[:14]
        row = pl.DataFrame({"org_level": ["state"], "county_code": ["00"], "lea_code": [""],
                            "school_code": [""], "name": [name], "type_id": [""]})
        sums = records_sums(snap, base, scope, row, orgs, groups, grades, record_type,
                            ssids=ssids)
        lea = school_lea.get(school, "")
        part = _assemble(snap, base, row, groups, grades, sums, suppress=suppress,
                         threshold=threshold)
        frames.append(part.with_columns(
            pl.lit("group").alias("org_level"), pl.lit(school[:2]).alias("county_code"),
            pl.lit(lea).alias("lea_code"), pl.lit(key).alias("school_code"),
            pl.lit(school).alias("cds_code"), _status_expr(snap, lea)))
    if spec.comparison and scope.ssids is None:
        schools = sorted({k[:14] for k in members} & set(school_lea))
        visible = scope.visible_orgs(school_rows.filter(pl.col("school_code").is_in(schools)))
        if visible.height:
            frames.append(_report(snap, replace(spec, org_level="school",
                                                orgs=tuple(visible.get_column("school_code")),
                                                comparison=True),
                                  scope=scope, suppress=suppress, threshold=threshold))
    return pl.concat(frames, how="vertical_relaxed")


def _status_expr(snap: Snapshot, lea: str) -> pl.Expr:
    """A student group row's status per year: its school's LEA's (``Snapshot``)."""
    years = snap.years
    return pl.col("school_year").replace_strict(
        {y: snap.lea_data_status(y, lea) for y in years}, default="partial",
        return_dtype=pl.String).alias("data_status")


_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="elpac-report")
"""Threads for work that overlaps inside one report (each uses its own DuckDB cursor)."""


def _assemble(snap: Snapshot, spec: ReportSpec, rows: pl.DataFrame,
              groups: list[tuple[str, str]], grades: list[str], sums: Sums, *,
              suppress: bool, threshold: int) -> pl.DataFrame:
    """Every requested row in display order, zeros where no record exists, then published.

    Rows are kept for organisations with no record in a group or grade, so a table shows the
    organisation with 0 ("no students") rather than dropping it. Built with plain Python and
    NumPy: a report is small, and per-call Polars planning would cost more than the work.
    """
    org_rows = list(rows.select("org_level", "county_code", "lea_code", "school_code", "name",
                                "type_id").iter_rows())
    years = sorted(set(spec.years))
    grid = [(y, *org[:4], gid, grade, label, org[4], org[5])
            for y in years for org in org_rows for gid, label in groups for grade in grades]
    found = {k: i for i, k in enumerate(sums.keys)}
    at = np.array([found.get(g[:7], -1) for g in grid], dtype=np.int64)
    have = at >= 0
    arrays = {}
    for c in METRIC_COLUMNS:
        values = np.zeros(len(grid), dtype=np.int64)
        values[have] = sums.values[c][at[have]]
        arrays[c] = values
    published = publish_arrays(arrays, test=spec.test, suppress=suppress, threshold=threshold)
    # Per organisation row (a county is final only when all its LEAs are), looked up once
    # per organisation and year rather than once per group and grade.
    statuses = {key: snap.org_data_status(*key) for key in {g[:4] for g in grid}}

    columns: dict[str, object] = {
        "school_year": [g[0] for g in grid], "test": [spec.test] * len(grid),
        "org_level": [g[1] for g in grid], "county_code": [g[2] for g in grid],
        "lea_code": [g[3] for g in grid], "school_code": [g[4] for g in grid],
        "cds_code": [_cds(g[1], g[2], g[3], g[4]) for g in grid],
        "name": [g[8] for g in grid], "type_id": [g[9] for g in grid],
        "group_id": [g[5] for g in grid], "row_label": [g[7] for g in grid],
        "grade": [g[6] for g in grid], "grade_name": [GRADE_NAMES[g[6]] for g in grid],
        **published,
        "data_status": [statuses[g[:4]] for g in grid],
    }
    return to_frame(columns)


def _cds(level: str, county: str, lea: str, school: str) -> str:
    """The 14-digit CDS code of an organisation row (ELPAC.md §6)."""
    if level == "school":
        return school
    if level == "lea":
        return lea
    return county + "000000000000"
