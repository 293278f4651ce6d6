"""The ELPI files people download, with the column names the issue fixes.

The page's CSVs and ``elpac export elpi|elpi-students|reclassification`` write the same frames.

* :func:`elpi_table`: one row per organisation x student group (``ELPI_COLUMNS``): ``org_level``
  (state/county/lea/school), ``cds_code`` (14 digits), ``student_group``, ``n_counted``,
  ``n_progressed``, ``n_maintained_level_4``, ``n_maintained_other``, ``n_declined``, ``rate``
  (percent, one decimal), ``status``, ``change`` (points, one decimal), ``color``, and more;
  cells hidden by suppression are empty, with ``is_suppressed`` true.
* :func:`student_table`: the per-student rows with the reasons and outcomes in words too.

Reclassification candidates are written as ``queries.elpi_reclass`` returns them.
"""

from __future__ import annotations

import polars as pl

from queries.labels import ELPI_OUTCOME_NAMES, ELPI_REASON_NAMES

ELPI_COLUMNS: tuple[str, ...] = (
    "school_year", "org_level", "cds_code", "name", "student_group", "group_id",
    "n_enrolled", "n_tested", "n_adjustment", "n_counted", "n_progressed",
    "n_maintained_level_4", "n_maintained_other", "n_declined", "n_alternate", "rate",
    "status", "prior_n_counted", "prior_rate", "prior_status", "change", "change_level",
    "color", "next_status", "n_more_to_next_status", "data_status")
"""Columns of the ELPI file: the issue's, then the participation counts, the prior year, the
change level (``change`` itself is in points), the what-if and the data status."""
def _one_decimal(column: str) -> pl.Expr:
    return pl.col(column).cast(pl.Float64).round(1, mode="half_away_from_zero")


def elpi_table(rows: pl.DataFrame) -> pl.DataFrame:
    """``queries.elpi_orgs.read_elpi`` rows as the ELPI file: ``ELPI_COLUMNS``.

    Rates and the change are rounded to one decimal (half away from zero) from the unrounded
    values; numbers stay numbers (a spreadsheet sorts them), a suppressed cell is empty and
    ``is_suppressed`` says so.

    Examples
    --------
    >>> frame = pl.DataFrame({c: [None] for c in ELPI_COLUMNS} | {
    ...     "rate": [60.526], "change": [-2.459], "is_suppressed": [False]})
    >>> elpi_table(frame).select("rate", "change").row(0)
    (60.5, -2.5)
    """
    return rows.with_columns(_one_decimal("rate"), _one_decimal("prior_rate"),
                             _one_decimal("change")).select(*ELPI_COLUMNS, "is_suppressed")


def student_table(students: pl.DataFrame) -> pl.DataFrame:
    """Per-student rows (``queries.elpi_students.STUDENT_COLUMNS``) with words beside codes."""
    return students.with_columns(
        pl.col("not_counted_reason").replace_strict(ELPI_REASON_NAMES, default=None,
                                                    return_dtype=pl.String)
        .alias("not_counted_why"),
        pl.col("outcome").replace_strict(ELPI_OUTCOME_NAMES, default=None,
                                         return_dtype=pl.String).alias("outcome_name"))
