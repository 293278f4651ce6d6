"""The 6 x 6 ELPI level transition matrix of one organisation, and the students behind it.

Rows are last year's ELPI level, columns this year's, cells the counted Summative students
(ELPI.md §1-§3; the Summative Alternate ELPAC has three levels of its own and is left out of
the matrix, its students are in the organisation's counts). Below the diagonal they declined,
on it they maintained (level 4: counts as progress), above it they progressed.

The students behind a cell, or behind one of ``WATCH_LISTS`` (who declined, who stayed at 2H,
who is one level from progress), need student-record access, as every student list.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from data.domain import RECORD_TYPE_SUMMATIVE
from queries.elpi_orgs import read_outcomes, visible_rows
from queries.elpi_rules import ELPI_LEVELS
from queries.elpi_students import read_elpi_students
from queries.metrics import SUPPRESSION_THRESHOLD
from queries.scope import ScopeError

if TYPE_CHECKING:
    from queries.scope import Scope
    from queries.snapshot import Snapshot

WATCH_LISTS: dict[str, str] = {
    "declined": "Declined at least one ELPI level",
    "stayed_2h": "Stayed at level 2H",
    "one_level": "One level from progress (maintained, not at 4)",
}
"""Lists of students a school acts on (the issue's "students behind each cell")."""
_COLUMN = {"school": "reporting_school_code", "lea": "reporting_lea_code",
           "county": "county_code"}


def _org_filter(level: str, code: str) -> pl.Expr:
    if level == "state":
        return pl.lit(True)
    return pl.col(_COLUMN[level]) == code


def _check_org(snap: Snapshot, year: str, scope: Scope, level: str, code: str) -> None:
    rows = visible_rows(snap, year, scope, None)
    key = {"state": "county_code", "county": "county_code", "lea": "lea_code",
           "school": "school_code"}[level]
    if rows.filter((pl.col("org_level") == level) & (pl.col(key) == code)).height == 0:
        raise ScopeError(f"{level} {code} has no {year} results in your scope")


def read_elpi_transitions(snap: Snapshot, year: str, *, scope: Scope, level: str, code: str,
                          suppress: bool, threshold: int = SUPPRESSION_THRESHOLD
                          ) -> pl.DataFrame:
    """Counted Summative students of one organisation by last year's and this year's level.

    ``level`` is ``state``, ``county``, ``lea`` or ``school``; ``code`` its code (``00`` for
    the state). All 36 cells, in level order: ``from_level``, ``to_level``, ``n_students``,
    ``pct_of_from`` (of the row), ``movement`` (``progressed``, ``maintained`` or
    ``declined``) and ``is_suppressed``. With ``suppress`` (always for an aggregate-only
    scope), a matrix with any non-empty row of fewer than ``threshold`` students has no counts
    (dropping only that row would leave it to subtraction, as ``queries.longitudinal``).
    """
    _check_org(snap, year, scope, level, code)
    leas = [code] if level == "lea" else None
    students = read_outcomes(snap, year, scope=scope, leas=leas)
    cells = pl.DataFrame({"from_level": [a for a in ELPI_LEVELS for _ in ELPI_LEVELS],
                          "to_level": [b for _ in ELPI_LEVELS for b in ELPI_LEVELS]})
    if students.height:
        counted = students.filter(_org_filter(level, code) & pl.col("is_counted")
                                  & (pl.col("test") == RECORD_TYPE_SUMMATIVE))
        counts = counted.group_by(pl.col("prior_elpi_level").alias("from_level"),
                                  pl.col("elpi_level").alias("to_level")).len("n_students")
        cells = cells.join(counts, on=["from_level", "to_level"], how="left")
    else:
        cells = cells.with_columns(pl.lit(None, pl.UInt32).alias("n_students"))
    rank = {name: i for i, name in enumerate(ELPI_LEVELS)}
    cells = cells.with_columns(pl.col("n_students").fill_null(0).cast(pl.Int64))
    totals = pl.col("n_students").sum().over("from_level")
    hide = (suppress or scope.suppressed) and bool(
        cells.group_by("from_level").agg(pl.col("n_students").sum())
        .filter((pl.col("n_students") > 0) & (pl.col("n_students") < threshold)).height)
    a = pl.col("from_level").replace_strict(rank, return_dtype=pl.Int8)
    b = pl.col("to_level").replace_strict(rank, return_dtype=pl.Int8)
    out = cells.with_columns(
        pl.when(totals > 0).then(pl.col("n_students") / totals * 100).alias("pct_of_from"),
        pl.when(b > a).then(pl.lit("progressed")).when(b == a).then(pl.lit("maintained"))
        .otherwise(pl.lit("declined")).alias("movement"),
        pl.lit(hide).alias("is_suppressed"))
    if hide:
        out = out.with_columns(pl.lit(None, pl.Int64).alias("n_students"),
                               pl.lit(None, pl.Float64).alias("pct_of_from"))
    return out


def read_elpi_cell_students(snap: Snapshot, year: str, *, scope: Scope, level: str,
                            code: str, watch: str | None = None,
                            cell: tuple[str, str] | None = None) -> pl.DataFrame:
    """The students of one organisation behind a watch list (``WATCH_LISTS``) or a cell.

    ``cell`` is (last year's level, this year's level). Rows as ``read_elpi_students``.
    ``ScopeError`` without student-record access or outside the scope.
    """
    _check_org(snap, year, scope, level, code)
    lea = code if level == "lea" else None
    students = read_elpi_students(snap, year, scope=scope, lea=lea)
    column = {"school": "school_code", "lea": "lea_code", "county": "county_code"}
    there = students if level == "state" else students.filter(pl.col(column[level]) == code)
    counted = pl.col("is_counted")
    if watch == "declined":
        keep = counted & (pl.col("outcome") == "declined")
    elif watch == "stayed_2h":
        keep = counted & (pl.col("prior_elpi_level") == "2H") & (pl.col("elpi_level") == "2H")
    elif watch == "one_level":
        keep = pl.col("is_one_level_from_progress")
    elif cell is not None:
        keep = (counted & (pl.col("test") == RECORD_TYPE_SUMMATIVE)
                & (pl.col("prior_elpi_level") == cell[0]) & (pl.col("elpi_level") == cell[1]))
    else:
        raise ValueError("choose a watch list or a cell")
    return there.filter(keep)
