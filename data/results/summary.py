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

import polars as pl

from data.student_groups import GROUPS

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


def build_summary(records: pl.DataFrame, *, every_school_grade: bool = False) -> pl.DataFrame:
    """Aggregate one year's records into summary rows.

    Kept: state, county and LEA rows for every group and grade (each grade and 13); school
    rows for every group over all grades (13) and for all students by grade, or with
    ``every_school_grade`` every group by grade too (the research file needs them; the stored
    summary leaves them to the records, ``queries.report_adhoc``). Only non-empty cells are kept,
    sorted by ``KEYS`` so a report's rows are close together on disk.
    """
    base_keys = ["record_type", "county_code", "reporting_lea_code", "reporting_school_code",
                 "grade_assessed"]
    records = records.filter(pl.col("is_reported"))
    contributions = records.with_columns(record_metrics()).with_columns(dimension_columns())
    everyone = contributions.group_by(base_keys).agg(sum_metrics())
    parts = [everyone.with_columns(pl.lit(gid).alias("group_id")) for gid in UNCONDITIONAL]
    for dim_col in [c for c in contributions.columns if c.startswith("dim:")]:
        parts.append(contributions.group_by([*base_keys, dim_col]).agg(sum_metrics())
                     .drop_nulls(dim_col).rename({dim_col: "group_id"}))
    cells = pl.concat(parts, how="diagonal").rename({
        "reporting_lea_code": "lea_code", "reporting_school_code": "school_code",
        "grade_assessed": "grade"})
    keys = ["record_type", "county_code", "lea_code", "school_code", "group_id", "grade"]
    sums = sum_metrics()
    out = []

    def rolled(frame: pl.DataFrame, level: str, *, by_grade: bool, all_grades: bool,
               **constant: str) -> None:
        frame = frame.with_columns([pl.lit(v).alias(k) for k, v in constant.items()])
        if by_grade:
            out.append(frame.group_by(keys).agg(sums).with_columns(pl.lit(level).alias(
                "org_level")))
        if all_grades:
            out.append(frame.group_by([k for k in keys if k != "grade"]).agg(sums)
                       .with_columns(pl.lit(ALL_GRADES).alias("grade"),
                                     pl.lit(level).alias("org_level")))

    rolled(cells, "state", by_grade=True, all_grades=True, county_code="00", lea_code="",
           school_code="")
    rolled(cells, "county", by_grade=True, all_grades=True, lea_code="", school_code="")
    rolled(cells, "lea", by_grade=True, all_grades=True, school_code="")
    # School rows leave NPS students out (ELPAC.md §3.3 rule 6).
    schools = cells.filter(pl.col("school_code").is_not_null())
    rolled(schools, "school", by_grade=every_school_grade, all_grades=True)
    if not every_school_grade:
        rolled(schools.filter(pl.col("group_id") == "001"), "school", by_grade=True,
               all_grades=False)
    return pl.concat(out, how="diagonal").select(*KEYS, *METRIC_COLUMNS).sort(KEYS)


INDEX_KEYS = ("record_type", "org_level", "county_code", "lea_code", "school_code")


HEADLINE_GROUP = "001"
"""All students: the group of most reports and of every statewide table, kept apart too."""
