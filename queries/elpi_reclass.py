"""Reclassification candidates: who met criterion 1 this year (ELPI.md §5), by school and grade.

As TOMS's "ELPAC Students Meeting Reclassification Criteria 1 Report": criterion 1, the
English proficiency assessment, is **Summative ELPAC overall level 4** or, for the Summative
Alternate ELPAC, **overall level 3** (CDE letter of June 13, 2023). Criteria 2-4 (teacher
evaluation, parent consultation, basic skills) are local and not in the file.

Two additions for planning, both said apart from criterion 1:

* ``met_last_year``: the student met criterion 1 the year before too (prior year from the
  file's ``…Minus1`` fields or the store, as ``queries.elpi_students``): a candidate not yet
  reclassified;
* local domain minimums an LEA coordinator may record (``data.catalog.local_criteria``):
  ``meets_local_minimums`` says whether the student's domain levels reach them. CDE's
  guidance is that no criteria be added to the overall level (``STATE_GUIDANCE``, shown
  beside the setting everywhere). A domain without a level (exempt, ``NS``) is not held
  against the student; the Alternate has no domain levels, so minimums do not apply to it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from data.catalog.local_criteria import DOMAINS, minimums, set_minimums
from data.domain import RECORD_TYPE_ALTERNATE, RECORD_TYPE_SUMMATIVE
from queries.access import require_lea, require_loads
from queries.elpi_students import student_frame
from queries.scope import ScopeError

if TYPE_CHECKING:
    from queries.access import User
    from queries.scope import Scope
    from queries.snapshot import Snapshot
    from queries.store import Store

STATE_GUIDANCE = (
    "The State Board set the Summative ELPAC overall performance level 4 (for the Summative "
    "Alternate ELPAC, overall level 3) as the statewide English proficiency criterion, and "
    "CDE's guidance is that no additional sub-scores or criteria be added to it. Local domain "
    "minimums here are shown beside criterion 1, never in place of it.")
"""CDE's reclassification guidance (ELPI.md §5), shown wherever minimums are set or used."""
CRITERION_LEVEL = {RECORD_TYPE_SUMMATIVE: 4, RECORD_TYPE_ALTERNATE: 3}
"""Overall level that meets criterion 1, per test (ELPI.md §5)."""
STUDENT_COLUMNS = (
    "school_year", "lea_code", "school_code", "school_name", "grade", "ssid",
    "local_student_id", "last_name", "first_name", "test", "score", "overall_level",
    *[f"{d}_level" for d in DOMAINS], "meets_criterion_1", "met_last_year",
    "meets_local_minimums", "ltel_status")
SUMMARY_COLUMNS = ("school_year", "lea_code", "school_code", "school_name", "grade",
                   "n_scored", "n_meeting_criterion_1", "pct_meeting_criterion_1",
                   "n_met_last_year_too", "n_meeting_local_minimums")


def read_local_minimums(store: Store, lea: str) -> dict[str, int]:
    """The LEA's local domain minimums (anyone may read what their list is filtered by)."""
    return minimums(store, lea)


def set_local_minimums(store: Store, user: User, lea: str, values: dict[str, int]) -> None:
    """Record the LEA's local domain minimums; ``{}`` removes them.

    Only an LEA coordinator (``queries.access.require_loads``), for their own LEAs.
    ``InputError`` for a domain or level that does not exist.
    """
    require_loads(user, "Setting local reclassification minimums")
    require_lea(user, lea, "Setting local reclassification minimums")
    set_minimums(store, lea, values)


def read_candidates(snap: Snapshot, year: str, *, scope: Scope, lea: str | None = None,
                    local: dict[str, int] | None = None,
                    only_candidates: bool = True) -> pl.DataFrame:
    """Students who met criterion 1 in ``year`` (all scored students without ``only_candidates``).

    ``local`` applies domain minimums (``meets_local_minimums``; null without them). Sorted by
    school, grade and name. Columns: ``STUDENT_COLUMNS``.

    Raises
    ------
    ScopeError
        If the scope does not allow student records.
    """
    if not scope.pii:
        raise ScopeError("Reclassification candidates are a list of students: your account "
                         "shows aggregate results only")
    domains = tuple(f"{d}_level" for d in DOMAINS)
    frame = student_frame(snap, year, scope=scope, leas=[lea] if lea else None,
                          columns=("local_student_id", "last_name", "first_name",
                                   "tested_school_name", *domains))
    scored = frame.filter(pl.col("score").is_not_null())
    level = pl.col("test").replace_strict(CRITERION_LEVEL, default=None, return_dtype=pl.Int8)
    met_before = ((pl.col("prior_test") == RECORD_TYPE_SUMMATIVE) & (pl.col("prior_rank") == 6)
                  ) | ((pl.col("prior_test") == RECORD_TYPE_ALTERNATE)
                       & (pl.col("prior_alt_level") == CRITERION_LEVEL[RECORD_TYPE_ALTERNATE]))
    out = scored.with_columns(
        (pl.col("overall_level") == level).fill_null(False).alias("meets_criterion_1"),
        met_before.fill_null(False).alias("met_last_year"),
        _local(local).alias("meets_local_minimums"),
        pl.col("reporting_lea_code").alias("lea_code"),
        pl.col("reporting_school_code").alias("school_code"),
        pl.col("tested_school_name").alias("school_name"))
    if only_candidates:
        out = out.filter(pl.col("meets_criterion_1"))
    return out.select(STUDENT_COLUMNS).sort("school_code", "grade", "last_name", "first_name",
                                            "ssid", nulls_last=True)


def _local(local: dict[str, int] | None) -> pl.Expr:
    if not local:
        return pl.lit(None, pl.Boolean)
    meets = pl.lit(True)
    for domain, minimum in local.items():
        # An exempt domain (no level) is not held against the student.
        meets = meets & (pl.col(f"{domain}_level") >= minimum).fill_null(True)
    alternate = pl.col("test") == RECORD_TYPE_ALTERNATE
    return pl.when(alternate).then(None).otherwise(meets)


def summarise_candidates(students: pl.DataFrame) -> pl.DataFrame:
    """By school and grade: scored, meeting criterion 1 (count, percent), also last year, local.

    ``students`` is :func:`read_candidates` with ``only_candidates=False``.
    """
    met = pl.col("meets_criterion_1")
    return (students.group_by("school_year", "lea_code", "school_code", "school_name", "grade")
            .agg(pl.len().cast(pl.Int64).alias("n_scored"),
                 met.sum().cast(pl.Int64).alias("n_meeting_criterion_1"),
                 (met & pl.col("met_last_year")).sum().cast(pl.Int64)
                 .alias("n_met_last_year_too"),
                 pl.when(pl.col("meets_local_minimums").is_null().all()).then(None)
                 .otherwise((met & pl.col("meets_local_minimums").fill_null(True)).sum())
                 .cast(pl.Int64).alias("n_meeting_local_minimums"))
            .with_columns((pl.col("n_meeting_criterion_1") / pl.col("n_scored") * 100)
                          .round(1, mode="half_away_from_zero")
                          .alias("pct_meeting_criterion_1"))
            .select(SUMMARY_COLUMNS).sort("school_code", "grade", nulls_last=True))
