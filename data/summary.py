"""The summary: every organisation x student group x grade of a year, aggregated once at load.

Standard reports and the research-file export read it instead of the records (issue 3: a
report in a few milliseconds at statewide scale). Each row holds additive counts and sums, so
rows roll up by plain addition (school -> LEA -> county -> state, grades -> all grades = 13)
and every published measure is computed from them (``queries.metrics``).

Definitions (ELPAC.md §4, UND-SA): *enrolled* = every record of the reporting organisation;
*tested* = ``TestedStatus`` Y; *tested with scores* = ``IncludeIndicator`` Y. Scale-score sums
and level counts use records tested with scores only, each measure over its own records with a
value (a domain level ``NS``, e.g. exempt, is left out of that domain's total). Which LEA and
school a record counts under follows §3.3 (``data.groups.derived_columns``): NPS students are
in their LEA, county and state rows but in no school row.
"""

from __future__ import annotations

import polars as pl

from data.groups import GROUPS

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

_SCORED = pl.col("include_indicator") == "Y"


def record_metrics() -> list[pl.Expr]:
    """Each record's contribution to every additive metric (0/1 flags, scores, squares).

    A summary cell is the sum of these over its records, so one definition serves the
    summary built at load time and ad-hoc reports over records.

    Examples
    --------
    >>> [e.meta.output_name() for e in record_metrics()][:4]
    ['n_enrolled', 'n_tested', 'n_scored', 'n_not_tested']
    """
    def flag(expr: pl.Expr) -> pl.Expr:
        return expr.fill_null(False).cast(pl.Int32)

    out: list[pl.Expr] = [
        pl.lit(1, pl.Int32).alias("n_enrolled"),
        flag(pl.col("is_tested")).alias("n_tested"),
        flag(_SCORED).alias("n_scored"),
        flag(pl.col("condition_code") == "NT").alias("n_not_tested"),
        flag(pl.col("attemptedness") == "P").alias("n_partial"),
        flag(pl.col("condition_code") == "EXD").alias("n_exempt_domain"),
    ]
    for m in MEASURES:
        score = pl.when(_SCORED).then(pl.col(f"{m}_scale_score").cast(pl.Float64))
        level = pl.when(_SCORED & score.is_not_null()).then(pl.col(f"{m}_level"))
        out += [
            flag(score.is_not_null()).alias(f"{m}_n"),
            score.fill_null(0.0).alias(f"{m}_sum"),
            (score * score).fill_null(0.0).alias(f"{m}_sumsq"),
            *[flag(level == k).alias(f"{m}_l{k}") for k in (1, 2, 3, 4)],
        ]
    for d in DOMAINS:
        level = pl.when(_SCORED).then(pl.col(f"{d}_level"))
        out += [flag(level.is_not_null()).alias(f"{d}_n"),
                *[flag(level == k).alias(f"{d}_l{k}") for k in (1, 2, 3)]]
    return out


METRIC_COLUMNS: tuple[str, ...] = tuple(e.meta.output_name() for e in record_metrics())


def sum_metrics() -> list[pl.Expr]:
    """Sum metric columns (counts as Int64), for rolling rows up."""
    return [pl.col(c).sum().cast(pl.Float64 if c.endswith(("_sum", "_sumsq")) else pl.Int64)
            for c in METRIC_COLUMNS]


RECORD_COLUMNS: tuple[str, ...] = (
    "record_type", "grade_assessed", "county_code", "reporting_lea_code",
    "reporting_school_code", "is_tested", "include_indicator", "condition_code",
    "attemptedness", *[f"{m}_{x}" for m in MEASURES for x in ("scale_score", "level")],
    *[f"{d}_level" for d in DOMAINS],
    # what the groups test:
    "gender", "ethnicity", "is_economically_disadvantaged", "is_special_education",
    "is_section504", "is_migrant", "is_homeless", "is_foster", "is_military",
    "parent_education", "ceds_language", "us_school_months", "el_years_in_program",
    "ltel_status",
)
"""Record columns the summary and ad-hoc reports read."""


def build_summary(records: pl.DataFrame) -> pl.DataFrame:
    """Aggregate one year's records into summary rows for every organisation, group, grade.

    Only non-empty cells are kept. Rows are sorted by ``KEYS`` so a report's rows are close
    together on disk.
    """
    base_keys = ["record_type", "county_code", "reporting_lea_code", "reporting_school_code",
                 "grade_assessed"]
    contributions = records.with_columns(record_metrics())
    parts = []
    for group in GROUPS:
        members = contributions.filter(group.polars())
        if members.height == 0:
            continue
        parts.append(members.group_by(base_keys).agg(sum_metrics())
                     .with_columns(pl.lit(group.id).alias("group_id")))
    cells = pl.concat(parts).rename({"reporting_lea_code": "lea_code",
                                     "reporting_school_code": "school_code",
                                     "grade_assessed": "grade"})
    # Every grade, then all grades (13), at each level: school rows leave NPS students out.
    levels = {
        "school": cells.filter(pl.col("school_code").is_not_null()),
        "lea": cells.with_columns(pl.lit("").alias("school_code")),
        "county": cells.with_columns(pl.lit("").alias("school_code"), pl.lit("").alias(
            "lea_code")),
        "state": cells.with_columns(pl.lit("").alias("school_code"), pl.lit("").alias(
            "lea_code"), pl.lit("00").alias("county_code")),
    }
    keys = ["record_type", "county_code", "lea_code", "school_code", "group_id", "grade"]
    sums = sum_metrics()
    out = []
    for level, frame in levels.items():
        by_grade = frame.group_by(keys).agg(sums)
        all_grades = by_grade.group_by([k for k in keys if k != "grade"]).agg(sums).with_columns(
            pl.lit(ALL_GRADES).alias("grade"))
        for f in (by_grade, all_grades):
            out.append(f.with_columns(pl.lit(level).alias("org_level")))
    summary = pl.concat(out, how="diagonal").select(*KEYS, *METRIC_COLUMNS)
    return summary.sort(KEYS)
