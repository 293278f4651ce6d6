"""The summary: every organisation x student group x grade of a year, aggregated once at load.

Standard reports and the research-file export read it instead of the records (issue 3: a
report in a few milliseconds at statewide scale). It is written as an uncompressed Arrow IPC
file, sorted by organisation, with an index of each organisation's rows: a report memory-maps
the file and slices out its rows without decoding anything else (measured: 0.6 ms for an
LEA's report from a statewide year, against 6-13 ms through a Parquet reader).

Each row holds additive counts and sums, so rows roll up by plain addition (school -> LEA ->
county -> state, grades -> all grades = 13) and every published measure is computed from them
(``queries.metrics``).

Definitions (ELPAC.md §4, UND-SA): *enrolled* = every record of the reporting organisation;
*tested* = ``TestedStatus`` Y; *tested with scores* = ``IncludeIndicator`` Y. Scale-score sums
and level counts use records tested with scores only, each measure over its own records with a
value (a domain level ``NS``, e.g. exempt, is left out of that domain's total). Which LEA and
school a record counts under follows §3.3 (``data.groups.derived_columns``): NPS students are
in their LEA, county and state rows but in no school row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from data.groups import GROUPS

if TYPE_CHECKING:
    from pathlib import Path

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
        # Integers: scale scores are whole numbers, so sums stay exact.
        score = pl.when(_SCORED).then(pl.col(f"{m}_scale_score").cast(pl.Int64))
        level = pl.when(_SCORED & score.is_not_null()).then(pl.col(f"{m}_level"))
        out += [
            flag(score.is_not_null()).alias(f"{m}_n"),
            score.fill_null(0).alias(f"{m}_sum"),
            (score * score).fill_null(0).alias(f"{m}_sumsq"),
            *[flag(level == k).alias(f"{m}_l{k}") for k in (1, 2, 3, 4)],
        ]
    for d in DOMAINS:
        level = pl.when(_SCORED).then(pl.col(f"{d}_level"))
        out += [flag(level.is_not_null()).alias(f"{d}_n"),
                *[flag(level == k).alias(f"{d}_l{k}") for k in (1, 2, 3)]]
    return out


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
    "ltel_status",
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
    summary leaves them to the records, ``queries.reports``). Only non-empty cells are kept,
    sorted by ``KEYS`` so a report's rows are close together on disk.
    """
    base_keys = ["record_type", "county_code", "reporting_lea_code", "reporting_school_code",
                 "grade_assessed"]
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


def write_summary(summary: pl.DataFrame, directory: Path) -> tuple[Path, Path]:
    """Write ``summary.arrow`` and ``summary_index.parquet`` (start/stop rows per org)."""
    compact = summary.with_columns(
        [pl.col(c).cast(pl.Categorical) for c in KEYS]
        + [pl.col(c).cast(pl.Int32) for c in METRIC_COLUMNS
           if not c.endswith(("_sum", "_sumsq"))])
    data = directory / "summary.arrow"
    # The oldest Arrow flavour: plain strings, which PyArrow's compute functions all accept.
    compact.write_ipc(data, compression="uncompressed", compat_level=pl.CompatLevel.oldest())
    index = (summary.select(INDEX_KEYS).with_row_index("start")
             .group_by(INDEX_KEYS, maintain_order=True)
             .agg(pl.col("start").min(), (pl.col("start").max() + 1).alias("stop")))
    index_path = directory / "summary_index.parquet"
    index.write_parquet(index_path)
    return data, index_path
