"""English learner progress per student: each current-year record with its prior year (ELPI.md).

Every record of the year in the scope (both tests), placed where it counts: the school and LEA
where the student took the current year's test (ELPI.md §3; ``reporting_*`` codes, ELPAC.md
§3.3). Its prior year comes from one of two places, and ``prior_source`` says which:

* ``file``: the record's own ``…Minus1`` fields, the state's record of the student's previous
  year wherever they tested (§3: ``OverallScaleScoreMinus1``, ``GradeAssessedMinus1``,
  ``AttemptednessMinus1``, ``ConditionCodeMinus1``). The store keeps them in each load's
  ``extra_fields`` (``data.toms.normalise``), read here with the load's own field order. The
  score's range says its test (Summative 1150 and up, Alternate 201-899: ELPAC.md §1.1, §2);
* ``store``: when the file has none of them, the store's record of the same SSID in the
  previous school year (a scored one first, the Summative first).

The prior year follows the student (§3: "the prior-year score may come from anywhere in the
state"), so it is read for the scope's current students whatever organisation it was in;
only its test, grade and score come back, never where it was.

Then the rules of ``queries.elpi_rules`` (counted or why not, ELPI level, outcome).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import duckdb
import polars as pl

from data.domain import GRADES, school_year_label, spring_year
from data.toms.normalise import EXTRA_SEPARATOR
from queries.elpi_rules import (
    ALTERNATE_GAIN,
    SPLITS,
    SUMMATIVE_LOWEST,
    student_duckdb,
    student_polars,
)
from queries.records import RecordQuery, records_relation
from queries.report_plan import filters_duckdb
from queries.scope import Scope, ScopeError

if TYPE_CHECKING:
    from queries.snapshot import Snapshot

PRIOR_FIELDS: dict[str, str] = {
    "score": "OverallScaleScoreMinus1", "grade": "GradeAssessedMinus1",
    "attempt": "AttemptednessMinus1", "condition": "ConditionCodeMinus1",
}
"""The file's prior-year fields the ELPI reads (ELPI.md §3)."""
ALTERNATE_RANGE = (201, 899)
"""Alternate scale scores (ELPAC.md §2: K 201-299 ... grades 11-12 801-899)."""
GROUP_COLUMNS = ("ethnicity", "is_economically_disadvantaged", "is_special_education",
                 "ltel_status")
"""What the ELPI's student groups read (``queries.elpi_orgs``)."""
BASE_COLUMNS = ("ssid", "record_type", "grade_assessed", "overall_scale_score",
                "overall_level", "include_indicator", "is_tested", "county_code",
                "reporting_lea_code", "reporting_school_code", *GROUP_COLUMNS)
PII_COLUMNS = ("local_student_id", "last_name", "first_name", "tested_school_name")
"""Who the student is, for the per-student rows (student-record access only)."""


def prior_school_year(year: str) -> str:
    """The school year before ``year``.

    Examples
    --------
    >>> prior_school_year("2024-25")
    '2023-24'
    """
    return school_year_label(spring_year(year) - 1)


def _fields(snap: Snapshot) -> list[list[int | None]]:
    """Per load: its id and the 1-based place of each prior field in its ``extra_fields``."""
    rows: list[list[int | None]] = [[] for _ in range(1 + len(PRIOR_FIELDS))]
    for load_id, names in snap.store.extra_names().items():
        rows[0].append(load_id)
        for i, field in enumerate(PRIOR_FIELDS.values(), start=1):
            rows[i].append(names.index(field) + 1 if field in names else None)
    return rows


_INPUTS_SQL = """
WITH fields AS (
    SELECT unnest(?::BIGINT[]) AS f_load, unnest(?::INTEGER[]) AS i_score,
           unnest(?::INTEGER[]) AS i_grade, unnest(?::INTEGER[]) AS i_attempt,
           unnest(?::INTEGER[]) AS i_condition
), prior AS (
    SELECT ssid AS p_ssid, record_type AS p_test, grade_assessed AS p_grade,
           CASE WHEN include_indicator = 'Y' THEN overall_scale_score END AS p_score
    FROM prior_records
    QUALIFY row_number() OVER (
        PARTITION BY ssid
        ORDER BY (include_indicator = 'Y' AND overall_scale_score IS NOT NULL) DESC,
                 record_type) = 1
), minus1 AS (
    SELECT c.*, p.*,
           nullif(trim(split_part(c.extra_fields, ?, f.i_score)), '') AS m1_score_text,
           upper(nullif(trim(split_part(c.extra_fields, ?, f.i_grade)), '')) AS m1_grade_text,
           nullif(trim(split_part(c.extra_fields, ?, f.i_attempt)), '') AS m1_attempt,
           nullif(trim(split_part(c.extra_fields, ?, f.i_condition)), '') AS m1_condition
    FROM current_records AS c
    LEFT JOIN fields AS f ON c.load_id = f.f_load
    LEFT JOIN prior AS p ON c.ssid = p.p_ssid
), prior_file AS (
    SELECT *,
           coalesce(m1_score_text, m1_grade_text, m1_attempt, m1_condition) IS NOT NULL
               AS m1_present,
           try_cast(m1_score_text AS INTEGER) AS m1_score,
           CASE WHEN m1_grade_text IN ('K', 'TK', '0', '00') THEN 'KN'
                WHEN regexp_full_match(m1_grade_text, '[0-9]') THEN '0' || m1_grade_text
                ELSE m1_grade_text END AS m1_grade_any
    FROM minus1
)
SELECT * EXCLUDE (load_id, extra_fields,
                  p_ssid, p_test, p_grade, p_score, m1_score_text, m1_grade_text, m1_attempt,
                  m1_condition, m1_present, m1_score, m1_grade_any),
       record_type AS test, grade_assessed AS grade,
       CASE WHEN include_indicator = 'Y' THEN overall_scale_score::INTEGER END AS score,
       CASE WHEN m1_present THEN 'file' WHEN p_ssid IS NOT NULL THEN 'store' END
           AS prior_source,
       CASE WHEN m1_present THEN
                CASE WHEN m1_score >= ? THEN '21' WHEN m1_score BETWEEN ? AND ? THEN '23' END
            ELSE p_test END AS prior_test,
       CASE WHEN m1_present THEN
                CASE WHEN list_contains(?, m1_grade_any) THEN m1_grade_any END
            ELSE p_grade END AS prior_grade,
       CASE WHEN m1_present THEN
                CASE WHEN m1_score >= ? OR m1_score BETWEEN ? AND ? THEN m1_score END
            ELSE p_score::INTEGER END AS prior_score
FROM prior_file
"""


def elpi_inputs(snap: Snapshot, year: str, *, scope: Scope, leas: list[str] | None = None,
                columns: tuple[str, ...] = ()) -> duckdb.DuckDBPyRelation | None:
    """The year's records in scope with their prior year: ``queries.elpi_rules``' inputs.

    One row per record (both tests; TK students left out, as every aggregate leaves them,
    ELPAC.md §1.1), with ``BASE_COLUMNS``, ``columns``, ``school_year`` and the rules'
    ``INPUT_COLUMNS`` plus ``prior_source``. ``leas`` narrows to some reporting LEAs. A scope
    limited to student groups keeps their students only. ``None`` when the store has no
    results for ``year``.
    """
    if year not in snap.year_files:
        return None
    orgs = snap.orgs_of([year])
    wanted = list(dict.fromkeys(["school_year", *BASE_COLUMNS, *columns, "load_id",
                                 "extra_fields"]))
    where = None if scope.all_students else filters_duckdb([("scope", scope.groups)])
    # Both relations are read by name in the SQL below (DuckDB's replacement scans).
    current_records = records_relation(snap, RecordQuery(  # noqa: F841
        [year], scope=scope, orgs=orgs, record_type=None, columns=wanted, leas=leas,
        where=where, reported_only=True))
    before = prior_school_year(year)
    cursor = snap.cursor()
    if before in snap.year_files:
        # The prior year travels with the student (module docstring): read statewide, for
        # the scope's own students only where it lists them (a teacher's).
        prior_records = records_relation(snap, RecordQuery(  # noqa: F841
            [before], scope=Scope(statewide=True, ssids=scope.ssids),
            orgs=snap.orgs_of([before]), record_type=None,
            columns=["ssid", "record_type", "grade_assessed", "overall_scale_score",
                     "include_indicator"]))
    else:
        prior_records = cursor.sql(  # noqa: F841
            "SELECT NULL::VARCHAR AS ssid, NULL::VARCHAR AS record_type, "
            "NULL::VARCHAR AS grade_assessed, NULL::SMALLINT AS overall_scale_score, "
            "NULL::VARCHAR AS include_indicator WHERE false")
    alt_low, alt_high = ALTERNATE_RANGE
    return cursor.sql(_INPUTS_SQL, params=[
        *_fields(snap), *[EXTRA_SEPARATOR] * 4,
        SUMMATIVE_LOWEST, alt_low, alt_high, list(GRADES), SUMMATIVE_LOWEST, alt_low,
        alt_high])


def with_rules_duckdb(inputs: duckdb.DuckDBPyRelation) -> duckdb.DuckDBPyRelation:
    """``inputs`` with the rules' columns, computed by DuckDB (``student_duckdb``)."""
    for stage in student_duckdb():
        inputs = inputs.project(duckdb.StarExpression(), *stage)
    return inputs


def with_rules_polars(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` (the inputs, read) with the rules' columns, computed by Polars."""
    for stage in student_polars():
        frame = frame.with_columns(stage)
    return frame


def student_frame(snap: Snapshot, year: str, *, scope: Scope, leas: list[str] | None = None,
                  columns: tuple[str, ...] = ()) -> pl.DataFrame:
    """``elpi_inputs`` read, with the rules' columns (Polars execution).

    For the modules that check ``pii`` themselves. Narrowing to an LEA none of whose
    organisations the scope covers is refused (``ScopeError``), not answered with no rows.
    """
    if year in snap.years:
        for lea in leas or ():
            check_narrowing(snap, year, scope, lea=lea)
    inputs = elpi_inputs(snap, year, scope=scope, leas=leas, columns=columns)
    if inputs is None:
        raise ValueError(f"no results for {year} in the store")
    return with_rules_polars(inputs.pl())


def check_narrowing(snap: Snapshot, year: str, scope: Scope, *, lea: str | None = None,
                    school: str | None = None) -> None:
    """Refuse an LEA or school none of whose organisations of ``year`` the scope covers.

    A school's teacher or site administrator may narrow to their own school's LEA (they see
    their school's students in it), so the test is "covers one of its organisations", as the
    organisation rows of ``queries.elpi_orgs`` are chosen.
    """
    orgs = snap.orgs_of([year]).filter(pl.col("org_level").is_in(["lea", "school"]))
    if lea is not None:
        orgs = orgs.filter(pl.col("lea_code") == lea)
    if school is not None:
        orgs = orgs.filter((pl.col("org_level") == "school") & (pl.col("school_code") == school))
    if scope.visible_orgs(orgs).height == 0:
        what = f"school {school}" if school is not None else f"LEA {lea}"
        raise ScopeError(f"{what} has no {year} results in your access")


def points_to_next_level() -> pl.Expr:
    """Scale-score points a Summative student is below their next ELPI level (null at 4)."""
    expr = pl.lit(None, pl.Int32)
    for grade, cuts in SPLITS.items():
        step = pl.lit(None, pl.Int32)
        for rank, cut in enumerate(cuts, start=1):
            step = pl.when(pl.col("rank") == rank).then(cut - pl.col("score")).otherwise(step)
        expr = pl.when(pl.col("grade") == grade).then(step).otherwise(expr)
    return expr.cast(pl.Int32).alias("points_to_next_level")


STUDENT_COLUMNS = (
    "school_year", "county_code", "lea_code", "school_code", "school_name", "ssid",
    "local_student_id", "last_name", "first_name", "grade", "test", "score",
    "overall_level", "elpi_level", "alt_level", "prior_source", "prior_year", "prior_grade",
    "prior_test", "prior_score", "prior_elpi_level", "prior_alt_level", "alt_gain",
    "is_counted", "not_counted_reason", "outcome", "is_progress", "is_one_level_from_progress",
    "points_to_next_level", "ltel_status")
"""Columns of :func:`read_elpi_students`."""


def read_elpi_students(snap: Snapshot, year: str, *, scope: Scope, lea: str | None = None,
                       school: str | None = None) -> pl.DataFrame:
    """Every record of ``year`` in scope with its ELPI: counted or why not, and the outcome.

    ``lea``/``school`` narrow to an LEA or one school (where the student took this year's
    test). ``is_one_level_from_progress``: counted, not progressing, and one ELPI level (or
    Alternate level) higher this year would have been progress (maintained other).
    ``alt_gain`` is the Alternate change after dropping each score's first digit (progress at
    ``ALTERNATE_GAIN`` or more). Sorted by school, grade and name. Columns: ``STUDENT_COLUMNS``.

    Raises
    ------
    ScopeError
        If the scope does not allow student records, or covers nothing of ``lea``/``school``.
    """
    if not scope.pii:
        raise ScopeError("English learner progress by student lists students: your account "
                         "shows aggregate results only")
    if year not in snap.years:
        raise ValueError(f"no results for {year} in the store")
    if school is not None:
        check_narrowing(snap, year, scope, school=school)
    frame = student_frame(snap, year, scope=scope, leas=[lea] if lea else None,
                          columns=PII_COLUMNS)
    if school is not None:
        frame = frame.filter(pl.col("reporting_school_code") == school)
    one_level = pl.col("is_counted") & (pl.col("outcome") == "maintained_other")
    return (frame.with_columns(
        pl.col("reporting_lea_code").alias("lea_code"),
        pl.col("reporting_school_code").alias("school_code"),
        pl.col("tested_school_name").alias("school_name"),
        pl.when(pl.col("prior_source").is_not_null()).then(pl.lit(prior_school_year(year)))
        .alias("prior_year"),
        one_level.fill_null(False).alias("is_one_level_from_progress"),
        points_to_next_level())
        .select(STUDENT_COLUMNS)
        .sort("school_code", "grade", "last_name", "first_name", "ssid", nulls_last=True))


__all__ = ["ALTERNATE_GAIN", "check_narrowing", "elpi_inputs", "prior_school_year",
           "read_elpi_students", "student_frame"]
