"""The summary: every organisation x student group x grade of a year, aggregated once at load.

Standard reports and the research-file export read it instead of the records (issue 3: a
report in a few milliseconds at statewide scale). ``data.results.summary_file`` writes it,
sorted by organisation, in small compressed batches with an index of each organisation's rows:
a report decompresses only the batches its rows are in.

Each row holds additive counts and sums, so rows roll up by plain addition (school -> LEA ->
county -> state, grades -> all grades = 13) and every published measure is computed from them
(``queries.metrics``).

Definitions (ELPAC.md §4, UND-SA): *enrolled* = every record of the reporting organisation;
*tested* = ``TestedStatus`` Y; *tested with scores* = ``IncludeIndicator`` Y. Scale-score sums
and level counts use records tested with scores only, each measure over its own records with a
value (a domain level ``NS``, e.g. exempt, is left out of that domain's total). Which LEA and
school a record counts under follows §3.3 (``data.student_groups.derived_columns``): NPS students
are
in their LEA, county and state rows but in no school row.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

import polars as pl

from data.student_groups import GROUPS

if TYPE_CHECKING:
    from collections.abc import Iterator

MEASURES = ("overall", "oral", "written")
"""Scored measures with a scale score: overall (4 levels; Alternate 3) and the composites."""
DOMAINS = ("listening", "speaking", "reading", "writing")
"""Domains: a level 1-3, no scale score (ELPAC.md §1.4)."""

KEYS = ("record_type", "org_level", "county_code", "lea_code", "school_code", "group_id",
        "grade")
"""Key columns of a summary row. ``school_code`` is ``""`` above school level, ``lea_code``
``""`` above LEA level, ``county_code`` ``"00"`` for the state."""

ALL_GRADES = "13"
ORG_LEVELS = ("state", "county", "lea", "school")

Metric = tuple[str, str, tuple[object, ...]]
"""(name, how, arguments): a record contributes to a metric as follows.

* ``one``: 1;
* ``flag`` (column): 1 if the boolean column is true;
* ``equals`` (column, value): 1 if the column equals the value;
* ``scored``: 1 if tested with scores (IncludeIndicator Y);
* ``has`` (column): 1 if tested with scores and the column has a value;
* ``value`` / ``square`` (column): the value, or its square, if tested with scores;
* ``level`` (value column, level column, k): 1 if tested with scores, the value column has a
  value and the level column equals k.
"""


def _metrics() -> list[Metric]:
    out: list[Metric] = [
        ("n_enrolled", "one", ()), ("n_tested", "flag", ("is_tested",)),
        ("n_scored", "scored", ()), ("n_not_tested", "equals", ("condition_code", "NT")),
        ("n_partial", "equals", ("attemptedness", "P")),
        ("n_exempt_domain", "equals", ("condition_code", "EXD")),
    ]
    for m in MEASURES:
        score = f"{m}_scale_score"
        out += [(f"{m}_n", "has", (score,)), (f"{m}_sum", "value", (score,)),
                (f"{m}_sumsq", "square", (score,)),
                *[(f"{m}_l{k}", "level", (score, f"{m}_level", k)) for k in (1, 2, 3, 4)]]
    for d in DOMAINS:
        level = f"{d}_level"
        out += [(f"{d}_n", "has", (level,)),
                *[(f"{d}_l{k}", "level", (level, level, k)) for k in (1, 2, 3)]]
    return out


METRICS: tuple[Metric, ...] = tuple(_metrics())
"""Every additive metric, declared once; ``record_metrics`` (Polars) and ``duckdb_sums_sql``
(DuckDB) are generated from it, so the summary and ad-hoc reports cannot disagree."""


def record_metrics() -> list[pl.Expr]:
    """Each record's contribution to every additive metric (0/1 flags, scores, squares).

    A summary cell is the sum of these over its records.

    Examples
    --------
    >>> [e.meta.output_name() for e in record_metrics()][:4]
    ['n_enrolled', 'n_tested', 'n_scored', 'n_not_tested']
    """
    scored = (pl.col("include_indicator") == "Y").fill_null(False)
    out = []
    for name, how, args in METRICS:
        if how == "one":
            expr = pl.lit(1, pl.Int32)
        elif how == "flag":
            expr = pl.col(args[0]).fill_null(False).cast(pl.Int32)
        elif how == "equals":
            expr = (pl.col(args[0]) == args[1]).fill_null(False).cast(pl.Int32)
        elif how == "scored":
            expr = scored.cast(pl.Int32)
        elif how == "has":
            expr = (scored & pl.col(args[0]).is_not_null()).cast(pl.Int32)
        elif how in ("value", "square"):
            # Integers: scale scores are whole numbers, so sums stay exact.
            value = pl.when(scored).then(pl.col(args[0]).cast(pl.Int64))
            expr = (value if how == "value" else value * value).fill_null(0)
        else:
            value_col, level_col, k = args
            expr = (scored & pl.col(value_col).is_not_null() & (pl.col(level_col) == k)
                    ).fill_null(False).cast(pl.Int32)
        out.append(expr.alias(name))
    return out


@cache
def duckdb_sums_sql() -> str:
    """The same metrics as one DuckDB select list of aggregates.

    Generated from ``METRICS`` (column names and values are this module's constants), so it
    is text no user input reaches. Sums of 0/1 casts rather than ``FILTER`` clauses: on the
    statewide store DuckDB ran them in 35 ms against 62 ms for one LEA's report.
    """
    scored = "include_indicator = 'Y'"
    parts = []
    for name, how, args in METRICS:
        if how == "one":
            agg = "count(*)"
        elif how == "flag":
            agg = f"sum(coalesce({args[0]}, false)::INTEGER)"
        elif how == "equals":
            agg = f"sum(coalesce({args[0]} = '{args[1]}', false)::INTEGER)"
        elif how == "scored":
            agg = f"sum(coalesce({scored}, false)::INTEGER)"
        elif how == "has":
            agg = f"sum(coalesce({scored} AND {args[0]} IS NOT NULL, false)::INTEGER)"
        elif how == "value":
            agg = f"sum(CASE WHEN {scored} THEN {args[0]}::BIGINT ELSE 0 END)"
        elif how == "square":
            agg = (f"sum(CASE WHEN {scored} THEN {args[0]}::BIGINT * {args[0]}::BIGINT "
                   "ELSE 0 END)")
        else:
            value_col, level_col, k = args
            agg = (f"sum(coalesce({scored} AND {value_col} IS NOT NULL AND {level_col} = {k}, "
                   "false)::INTEGER)")
        parts.append(f"coalesce({agg}, 0)::BIGINT AS {name}")
    return ", ".join(parts)


METRIC_COLUMNS: tuple[str, ...] = tuple(e.meta.output_name() for e in record_metrics())


def sum_metrics() -> list[pl.Expr]:
    """Sum metric columns (as Int64), for rolling rows up."""
    return [pl.col(c).sum().cast(pl.Int64) for c in METRIC_COLUMNS]


RECORD_COLUMNS: tuple[str, ...] = (
    "record_type", "grade_assessed", "county_code", "reporting_lea_code",
    "reporting_school_code", "is_tested", "include_indicator", "condition_code",
    "attemptedness", *[f"{m}_{x}" for m in MEASURES for x in ("scale_score", "level")],
    *[f"{d}_level" for d in DOMAINS],
    # what the groups test:
    "gender", "ethnicity", "is_economically_disadvantaged", "is_special_education",
    "is_section504", "is_migrant", "is_homeless", "is_foster", "is_military",
    "parent_education", "ceds_language", "us_school_months", "el_years_in_program",
    "ltel_status", "is_reported",
)
"""Record columns the summary and ad-hoc reports read."""


def dimension_columns() -> list[pl.Expr]:
    """For each breakdown dimension, the ID of the record's group in it (null: none).

    Groups of one dimension never overlap, so one group-by per dimension gives all of its
    groups at once, without filtering the records once per group.
    """
    dims = dict.fromkeys(g.dimension for g in GROUPS if g.conditions)
    out = []
    for dim in dims:
        members = [g for g in GROUPS if g.dimension == dim]
        out.append(pl.coalesce([pl.when(g.polars()).then(pl.lit(g.id)) for g in members])
                   .alias(f"dim:{dim}"))
    return out


UNCONDITIONAL = tuple(g.id for g in GROUPS if not g.conditions)
"""Groups every record belongs to: all students (001) and all English learners (160)."""


SLICE_ROWS = 150_000
"""Records aggregated at a time by ``build_summary``: whole LEAs, about this many (issue 14: a
statewide year of 1.2 M records aggregated at once peaked at 6.1 GB)."""


def build_summary(records: pl.DataFrame, *, every_school_grade: bool = False,
                  slice_rows: int = SLICE_ROWS) -> pl.DataFrame:
    """Aggregate one year's records into summary rows.

    Kept: state, county and LEA rows for every group and grade (each grade and 13); school
    rows for every group over all grades (13) and for all students by grade, or with
    ``every_school_grade`` every group by grade too (the research file needs them; the stored
    summary leaves them to the records, ``queries.report_adhoc``). Only non-empty cells are kept,
    sorted by ``KEYS`` so a report's rows are close together on disk.

    The records are aggregated whole LEAs at a time (``slice_rows``): an LEA's and its
    schools' rows come from its slice alone, and each slice adds its part of every county's
    sums; the county and state rows are those parts added up (every metric is a sum), so the
    rows are the same however the records are sliced.
    """
    records = records.filter(pl.col("is_reported"))
    keys = ["record_type", "county_code", "lea_code", "school_code", "group_id", "grade"]
    out: list[pl.DataFrame] = []
    county_parts: list[pl.DataFrame] = []
    for piece in lea_slices(records, slice_rows):
        cells = _cells(piece)
        county_parts.append(_rolled(cells, keys, lea_code="", school_code=""))
        out += _lea_and_school_rows(cells, keys, every_school_grade=every_school_grade)
        del cells
    # The partial county sums added up: by grade, then over grades; the state from them.
    county = _rolled(pl.concat(county_parts), keys)
    del county_parts
    state = _rolled(county, keys, county_code="00")
    for frame, level in ((state, "state"), (county, "county")):
        out += [_level(frame, level), _level(_all_grades(frame, keys), level)]
    del state, county
    return _sorted(out, KEYS)


def lea_slices(records: pl.DataFrame, slice_rows: int) -> Iterator[pl.DataFrame]:
    """The records in slices of whole reporting LEAs, about ``slice_rows`` records each.

    One slice at a time: each is a copy of its records.
    """
    sizes = records.group_by("reporting_lea_code").len().sort("reporting_lea_code")
    if sizes.height <= 1:
        yield records
        return
    # An LEA goes in the slice where its records start: never split, and past ``slice_rows``
    # only by its own size.
    first = sizes.get_column("len").cum_sum() - sizes.get_column("len")
    slices = sizes.select("reporting_lea_code", (first // max(slice_rows, 1)).alias("slice"))
    labelled = records.select(pl.col("reporting_lea_code")).join(
        slices, on="reporting_lea_code", how="left", nulls_equal=True,
        maintain_order="left").get_column("slice")
    for k in labelled.unique().sort():
        yield records.filter(labelled == k)


def _cells(records: pl.DataFrame) -> pl.DataFrame:
    """Sums by test, county, LEA, school, grade and group: the finest cells, rolled up later."""
    base_keys = ["record_type", "county_code", "reporting_lea_code", "reporting_school_code",
                 "grade_assessed"]
    contributions = records.with_columns(record_metrics()).with_columns(dimension_columns())
    everyone = contributions.group_by(base_keys).agg(sum_metrics())
    parts = [everyone.with_columns(pl.lit(gid).alias("group_id")) for gid in UNCONDITIONAL]
    for dim_col in [c for c in contributions.columns if c.startswith("dim:")]:
        parts.append(contributions.group_by([*base_keys, dim_col]).agg(sum_metrics())
                     .drop_nulls(dim_col).rename({dim_col: "group_id"}))
    return pl.concat(parts, how="diagonal").rename({
        "reporting_lea_code": "lea_code", "reporting_school_code": "school_code",
        "grade_assessed": "grade"})


def _rolled(frame: pl.DataFrame, keys: list[str], **constant: str) -> pl.DataFrame:
    """``frame`` summed by ``keys`` with some keys set to a constant (rolled up a level)."""
    frame = frame.with_columns([pl.lit(v).alias(k) for k, v in constant.items()])
    return frame.group_by(keys).agg(sum_metrics())


def _all_grades(frame: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    return (frame.group_by([k for k in keys if k != "grade"]).agg(sum_metrics())
            .with_columns(pl.lit(ALL_GRADES).alias("grade")))


def _level(frame: pl.DataFrame, level: str) -> pl.DataFrame:
    return frame.with_columns(pl.lit(level).alias("org_level")).select(*KEYS, *METRIC_COLUMNS)


def _lea_and_school_rows(cells: pl.DataFrame, keys: list[str], *,
                         every_school_grade: bool) -> list[pl.DataFrame]:
    """The rows of the LEAs whose every record is in ``cells``, and of their schools."""
    lea = _rolled(cells, keys, school_code="")
    out = [_level(lea, "lea"), _level(_all_grades(lea, keys), "lea")]
    # School rows leave NPS students out (ELPAC.md §3.3 rule 6).
    schools = _rolled(cells.filter(pl.col("school_code").is_not_null()), keys)
    out.append(_level(_all_grades(schools, keys), "school"))
    if not every_school_grade:
        schools = schools.filter(pl.col("group_id") == "001")
    out.append(_level(schools, "school"))
    return out


def _sorted(parts: list[pl.DataFrame], by: tuple[str, ...]) -> pl.DataFrame:
    """The ``parts`` (emptied) as one frame sorted by ``by``, gathered one column at a time.

    ``DataFrame.sort`` holds the unsorted and the sorted frame whole at once; here one column
    of each (issue 14). Keys are unique per row, so the order is the same.
    """
    frame = pl.concat(parts, rechunk=False)
    parts.clear()  # the caller's list: its frames' columns are freed as each is gathered
    order = frame.select(pl.arg_sort_by(list(by))).to_series()
    columns = []
    for name in frame.columns:
        columns.append(frame.get_column(name).gather(order).rechunk())
        frame = frame.drop(name)
    return pl.DataFrame(columns)


INDEX_KEYS = ("record_type", "org_level", "county_code", "lea_code", "school_code")


HEADLINE_GROUP = "001"
"""All students: the group of most reports and of every statewide table, kept apart too."""
