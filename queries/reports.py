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
from queries.labels import GRADE_NAMES, GROUP_NAMES, RECORD_TYPE_OF_TEST
from queries.metrics import SUPPRESSION_THRESHOLD, publish_arrays, to_frame
from queries.report_adhoc import records_sums
from queries.report_plan import needs_records, report_grades, resolve_orgs, row_groups
from queries.report_published import published_comparisons
from queries.report_summary import ORG_KEYS, make_grid, report_orgs, summary_cells
from queries.rosters import group_students
from queries.suppression import Cell, applies, hidden_cells, row_box

if TYPE_CHECKING:
    from queries.report_summary import Grid
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
        (``final`` or ``partial``; ``published`` for a chosen peer or a county or state
        comparison row taken from CDE's research file because the store cannot give it:
        ``queries.report_published``).
    """
    report = _report(snap, spec, scope=scope, suppress=suppress, threshold=threshold)
    # Chosen peers and comparison rows the store cannot give, from CDE's published file.
    published, _ = published_comparisons(snap, report, spec, scope)
    if published.height:
        report = pl.concat([report, published])
    return report


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
    rows = resolve_orgs(spec, report_orgs(snap, spec.years), scope)
    groups = row_groups(spec, scope)
    grades = report_grades(spec)
    record_type = RECORD_TYPE_OF_TEST[spec.test]
    standard = [g for g in groups if not g[0].startswith("custom:")]
    custom = [g for g in groups if g[0].startswith("custom:")]
    grid = make_grid(snap, spec.years, rows, groups, grades)
    cells = grid.zeros()
    if ssids is not None or needs_records(spec, scope, rows):
        grid.place(cells, records_sums(snap, spec, scope, rows, orgs, groups, grades,
                                       record_type, ssids=ssids))
    else:
        # Standard rows from the summary; only custom subgroups read records, and only the
        # records of those subgroups (the filter runs inside DuckDB). DuckDB releases the GIL,
        # so the records are summed in a worker thread while the summary is read here.
        pending = _POOL.submit(records_sums, snap, spec, scope, rows, orgs, custom, grades,
                               record_type) if custom else None
        summary_cells(snap, grid, [g for g, _ in standard], record_type, cells)
        if pending is not None:
            grid.place(cells, pending.result())
    report = _assemble(snap, spec, grid, cells, suppress=suppress, threshold=threshold,
                       scope=scope, followed=ssids is not None)
    if scope.every_student:
        return report
    # A scope limited to some students (a teacher's rosters, a demographic group) counts
    # only them: the row must not read as the whole school's, in tables, titles or files.
    return report.with_columns(
        pl.format("{} ({})", "name", pl.lit(students_counted(scope))).alias("name"))


def students_counted(scope: Scope) -> str:
    """Whose results a limited scope's rows hold, for their names: "your rosters' students".

    Examples
    --------
    >>> from queries.scope import Scope
    >>> students_counted(Scope(schools=("19647336012345",), ssids=("1",)))
    "your rosters' students only"
    >>> students_counted(Scope(leas=("19647330000000",), groups=("004",)))
    'Female students only'
    """
    if scope.ssids is not None:
        return "your rosters' students only"
    names = " or ".join(GROUP_NAMES.get(g, g) for g in scope.groups)
    return f"{names} students only"


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
        grid = make_grid(snap, base.years, row, groups, grades)
        cells = grid.zeros()
        grid.place(cells, records_sums(snap, base, scope, row, orgs, groups, grades,
                                       record_type, ssids=ssids))
        lea = school_lea.get(school, "")
        part = _assemble(snap, base, grid, cells, suppress=suppress, threshold=threshold,
                         scope=scope, followed=True)
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


def _assemble(snap: Snapshot, spec: ReportSpec, grid: Grid, cells: np.ndarray, *,
              suppress: bool, threshold: int, scope: Scope, followed: bool) -> pl.DataFrame:
    """Every cell of the grid in display order, zeros where no record exists, then published.

    Rows are kept for organisations with no record in a group or grade, so a table shows the
    organisation with 0 ("no students") rather than dropping it. Built column by column
    (NumPy, Polars gathers): a statewide table has 11,000 rows, where a Python loop per cell
    cost more than everything else (issue 14). ``followed`` rows count chosen students (a
    cohort, a roster): an aggregate-only account gets no scores for them
    (``queries.suppression``, rule 3).
    """
    year_i, org_i, group_i, grade_i = grid.parts()
    arrays = {c: cells[:, j] for j, c in enumerate(METRIC_COLUMNS)}
    group_ids = [g for g, _ in grid.groups]
    hidden = None
    if suppress and applies(scope, suppress):
        keys = grid.org_keys
        hidden = np.ones(grid.size, dtype=bool) if followed else hidden_cells(
            snap, scope, RECORD_TYPE_OF_TEST[spec.test],
            [Cell(grid.years[y], *keys[o], grid.grades[k],
                  row_box(spec.filters, group_ids[g], [s.filters for s in spec.subgroups]))
             for y, o, g, k in zip(year_i.tolist(), org_i.tolist(), group_i.tolist(),
                                   grade_i.tolist(), strict=True)], threshold=threshold)
    published = publish_arrays(arrays, test=spec.test, suppress=suppress, threshold=threshold,
                               also_hidden=hidden)
    per_cell = grid.orgs[org_i]
    # Each (year, organisation row)'s status, in one column: year y's rows, then y + 1's.
    statuses = pl.concat([grid.orgs.get_column(f"status:{y}") for y in grid.years]
                         ) if grid.years else pl.Series("status", [], dtype=pl.String)
    labels = pl.Series([label for _, label in grid.groups], dtype=pl.String)
    columns: dict[str, object] = {
        "school_year": pl.Series(grid.years, dtype=pl.String)[year_i],
        "test": pl.repeat(spec.test, grid.size, dtype=pl.String, eager=True),
        **{c: per_cell.get_column(c) for c in (*ORG_KEYS, "cds_code", "name", "type_id")},
        "group_id": pl.Series(group_ids, dtype=pl.String)[group_i],
        "row_label": labels[group_i],
        "grade": pl.Series(grid.grades, dtype=pl.String)[grade_i],
        "grade_name": pl.Series([GRADE_NAMES[g] for g in grid.grades], dtype=pl.String)[grade_i],
        **published,
        "data_status": statuses[year_i * grid.orgs.height + org_i],
    }
    return to_frame(columns)
