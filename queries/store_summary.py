"""What a store holds: records per school year and test, and the load history.

Counts follow ELPAC.md section 4: *tested* is ``TestedStatus = Y`` (store column ``is_tested``)
and *tested with scores* is ``IncludeIndicator = Y``. Every function opens its own in-memory
DuckDB connection and closes it, so callers on different threads never share one
(STYLE.md, caching).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import duckdb
import polars as pl

from data.domain import RECORD_TYPE_ALTERNATE, RECORD_TYPE_SUMMATIVE

if TYPE_CHECKING:
    from data.results.store import Store

TEST_NAMES: dict[str, str] = {
    RECORD_TYPE_SUMMATIVE: "Summative ELPAC",
    RECORD_TYPE_ALTERNATE: "Summative Alternate ELPAC",
}
"""Record type -> the test's name (ELPAC.md section 2: record type 21 or 23)."""

COLUMN_LABELS: dict[str, str] = {
    "school_year": "School year",
    "test": "Test",
    "n_records": "Records",
    "n_students": "Students",
    "n_school_years": "School years",
    "n_leas": "LEAs",
    "n_schools": "Schools",
    "n_tested": "Tested",
    "n_with_scores": "Tested with scores",
    "load_id": "Load",
    "file_name": "File",
    "kind": "File kind",
    "lea_code": "LEA code",
    "n_rejected": "Rejected rows (whole file)",
    "report_created_date": "Report created",
    "loaded_at": "Loaded at",
    "status": "Status",
    "replaced_load_id": "Replaced load",
}
"""Display label of every column these functions return (the frames keep snake_case names)."""

SUMMARY_SCHEMA: dict[str, pl.DataType] = {
    "school_year": pl.String(),
    "test": pl.String(),
    "n_records": pl.Int64(),
    "n_students": pl.Int64(),
    "n_leas": pl.Int64(),
    "n_schools": pl.Int64(),
    "n_tested": pl.Int64(),
    "n_with_scores": pl.Int64(),
}
"""Columns of :func:`read_store_summary`."""

TOTALS_SCHEMA: dict[str, pl.DataType] = {
    "n_records": pl.Int64(),
    "n_students": pl.Int64(),
    "n_school_years": pl.Int64(),
}
"""Columns of :func:`read_store_totals`."""

LOAD_HISTORY_SCHEMA: dict[str, pl.DataType] = {
    "load_id": pl.Int64(),
    "school_year": pl.String(),
    "kind": pl.String(),
    "lea_code": pl.String(),
    "n_records": pl.Int64(),
    "status": pl.String(),
    "replaced_load_id": pl.Int64(),
    "n_rejected": pl.Int64(),
    "report_created_date": pl.Date(),
    "loaded_at": pl.Datetime("us"),
    "file_name": pl.String(),  # last: TOMS file names are long
}
"""Columns of :func:`read_load_history`."""

_SUMMARY_SQL = """
WITH tested_records AS (
    SELECT school_year, record_type, ssid, tested_lea_code, tested_school_code,
           is_tested, include_indicator
    FROM results
),

per_year_and_test AS (
    SELECT school_year,
           record_type,
           count(*) AS n_records,
           count(DISTINCT ssid) AS n_students,
           count(DISTINCT tested_lea_code) AS n_leas,
           count(DISTINCT tested_school_code) AS n_schools,
           count(*) FILTER (WHERE is_tested) AS n_tested,
           count(*) FILTER (WHERE include_indicator = ?) AS n_with_scores
    FROM tested_records
    GROUP BY school_year, record_type
)

SELECT * FROM per_year_and_test ORDER BY school_year, record_type
"""

_TOTALS_SQL = """
SELECT count(*) AS n_records,
       count(DISTINCT ssid) AS n_students,
       count(DISTINCT school_year) AS n_school_years
FROM results
"""

_INCLUDED_WITH_SCORE = "Y"
"""``IncludeIndicator`` of a record tested with a valid score (ELPAC.md section 4)."""


def _query(store: Store, sql: str, params: list[object] | None = None) -> pl.DataFrame:
    con = duckdb.connect()
    try:
        with store.reading() as version:
            store.results(con, version=version)
            return con.sql(sql, params=params).pl()
    finally:
        con.close()


def read_store_summary(store: Store) -> pl.DataFrame:
    """Count records, students, LEAs and schools per school year and test.

    Parameters
    ----------
    store
        The results store to read (its committed data version).

    Returns
    -------
    pl.DataFrame
        One row per school year and test, oldest year first and the Summative ELPAC before
        the Summative Alternate ELPAC, with the columns of ``SUMMARY_SCHEMA``: ``n_students``,
        ``n_leas`` and ``n_schools`` count distinct SSIDs and tested LEA and school codes,
        ``n_tested`` counts ``TestedStatus = Y`` and ``n_with_scores`` counts
        ``IncludeIndicator = Y``.

    Examples
    --------
    >>> import tempfile
    >>> from data.results.store import Store
    >>> with tempfile.TemporaryDirectory() as empty:
    ...     summary = read_store_summary(Store(empty))
    >>> summary.height
    0
    >>> summary.columns  # doctest: +NORMALIZE_WHITESPACE
    ['school_year', 'test', 'n_records', 'n_students', 'n_leas', 'n_schools',
     'n_tested', 'n_with_scores']
    """
    counts = _query(store, _SUMMARY_SQL, [_INCLUDED_WITH_SCORE])
    return (
        counts.with_columns(
            pl.col("record_type")
            .replace_strict(TEST_NAMES, default=pl.col("record_type"), return_dtype=pl.String)
            .alias("test")
        )
        .select(list(SUMMARY_SCHEMA))
        .cast(SUMMARY_SCHEMA)  # type: ignore[arg-type]
    )


def read_store_totals(store: Store) -> pl.DataFrame:
    """Count all records, distinct students and school years in the store.

    Parameters
    ----------
    store
        The results store to read (its committed data version).

    Returns
    -------
    pl.DataFrame
        One row with the columns of ``TOTALS_SCHEMA``. ``n_students`` counts each SSID once
        across all years and tests, so it is not the sum of :func:`read_store_summary`'s
        ``n_students``.

    Examples
    --------
    >>> import tempfile
    >>> from data.results.store import Store
    >>> with tempfile.TemporaryDirectory() as empty:
    ...     read_store_totals(Store(empty)).row(0, named=True)
    {'n_records': 0, 'n_students': 0, 'n_school_years': 0}
    """
    return _query(store, _TOTALS_SQL).cast(TOTALS_SCHEMA)  # type: ignore[arg-type]


def read_load_history(store: Store) -> pl.DataFrame:
    """List every load of the store, newest first, one row per file and LEA.

    Parameters
    ----------
    store
        The results store to read.

    Returns
    -------
    pl.DataFrame
        The columns of ``LOAD_HISTORY_SCHEMA``. ``n_records`` counts the LEA's records in
        that file, ``n_rejected`` the rows refused in the whole file, ``status`` says
        ``current``, which later load replaced the LEA's records (``superseded by load 12``)
        or ``undone`` (``elpac loads undo``), and ``replaced_load_id`` the load whose records
        this one replaced. Empty, with the same columns, when nothing has been loaded.

    Examples
    --------
    >>> import tempfile
    >>> from data.results.store import Store
    >>> with tempfile.TemporaryDirectory() as empty:
    ...     history = read_load_history(Store(empty))
    >>> history.height, history.columns[:3]
    (0, ['load_id', 'school_year', 'kind'])
    """
    loads = store.loads()
    if loads.is_empty():
        return pl.DataFrame(schema=LOAD_HISTORY_SCHEMA)
    status = (
        pl.when(pl.col("is_undone"))
        .then(pl.lit("undone"))
        .when(pl.col("is_current"))
        .then(pl.lit("current"))
        .otherwise(pl.format("superseded by load {}", pl.col("superseded_by")))
        .alias("status")
    )
    return (
        loads.with_columns(status)
        .select(list(LOAD_HISTORY_SCHEMA))
        .cast(LOAD_HISTORY_SCHEMA)  # type: ignore[arg-type]
    )
