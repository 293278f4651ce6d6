"""Comparison and peer rows from CDE's published research file, where the store has none.

CERS lets every district compare itself with its county and the state. The store can compute
a county or state row only for an account whose scope covers it, and only from the files it
holds: an LEA that loads its own files has no county or state data at all. So a report with
comparison rows takes each missing county and state row from the published research file of
its year and test (``queries.published``, public: any account may see it), labelled
"published by CDE (file, version)". So are chosen peer LEAs or schools outside the
account's access (a district comparing itself with its neighbours, as CERS allows). Only
standard rows (All students and the research files' student groups, by grade) exist there;
a custom subgroup or filter has no published row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from queries.labels import GRADE_NAMES
from queries.published import SOURCE_COLUMN, published_rows

if TYPE_CHECKING:
    from queries.scope import Scope
    from queries.snapshot import Snapshot
    from queries.spec import ReportSpec

_BLOCKS = {"overall": "Overall", "oral": "OralLang", "written": "WritLang"}
_DOMAINS = {"listening": "Listening", "speaking": "Speaking", "reading": "Reading",
            "writing": "Writing"}
_DOMAIN_LEVELS = ("Begin", "Moderate", "Developed")


def _number(column: str, dtype: pl.DataType) -> pl.Expr:
    return pl.col(column).cast(pl.Float64, strict=False).cast(dtype)


def _report_columns(rows: pl.DataFrame, test: str) -> list[pl.Expr]:
    """The research columns as the report's (``queries.reports`` names and types)."""
    levels = 3 if test == "alternate" else 4
    out = [_number("TotalEnrolled", pl.Int64).alias("n_enrolled"),
           _number("TotalTested", pl.Int64).alias("n_tested"),
           _number("TotalTestedWithScores", pl.Int64).alias("n_scored")]
    for measure, stem in _BLOCKS.items():
        if f"{stem}Total" not in rows.columns:
            continue
        out += [_number(f"{stem}Total", pl.Int64).alias(f"{measure}_total"),
                _number(f"{stem}MeanSclScr", pl.Float64).alias(f"{measure}_mean")]
        for k in range(1, levels + 1):
            out += [_number(f"{stem}PerfLvl{k}Count", pl.Int64).alias(f"{measure}_l{k}_count"),
                    _number(f"{stem}PerfLvl{k}Pcnt", pl.Float64).alias(f"{measure}_l{k}_pct")]
    for domain, stem in _DOMAINS.items():
        if f"{stem}DomainTotal" not in rows.columns:
            continue
        out.append(_number(f"{stem}DomainTotal", pl.Int64).alias(f"{domain}_total"))
        for k, word in enumerate(_DOMAIN_LEVELS, start=1):
            out += [_number(f"{stem}Domain{word}Count", pl.Int64).alias(f"{domain}_l{k}_count"),
                    _number(f"{stem}Domain{word}Pcnt", pl.Float64).alias(f"{domain}_l{k}_pct")]
    return out


def missing_comparisons(report: pl.DataFrame, spec: ReportSpec, scope: Scope
                        ) -> list[tuple[str, str]]:
    """(level, county code) of the county and state rows a comparison report lacks."""
    if not spec.comparison or spec.org_level in ("state", "group"):
        return []
    have = set(report.select("org_level", "county_code").unique().iter_rows())
    counties = sorted(set(report.filter(pl.col("org_level").is_in(["lea", "school"]))
                          .get_column("county_code").to_list()))
    wanted = [("county", c) for c in counties] + [("state", "00")]
    del scope  # published rows are public: who asks does not change them
    return [w for w in wanted if w not in have]


def missing_peers(report: pl.DataFrame, spec: ReportSpec) -> list[tuple[str, str]]:
    """(level, CDS code) of chosen LEAs or schools the report has no row for.

    Peers outside the account's access, or without results in the store.
    """
    if spec.org_level not in ("lea", "school"):
        return []
    key = "lea_code" if spec.org_level == "lea" else "school_code"
    have = set(report.get_column(key).filter(report.get_column("org_level") == spec.org_level)
               .to_list())
    return [(spec.org_level, code) for code in spec.orgs if code not in have]


def published_comparisons(snap: Snapshot, report: pl.DataFrame, spec: ReportSpec,
                          scope: Scope) -> tuple[pl.DataFrame, list[str]]:
    """The report's missing county and state rows from the published file, and notes.

    Rows come in the report's columns, for the report's years, groups (standard ones only)
    and grades; ``name`` says "published by CDE (file, version)", ``data_status`` is
    ``published``. A note says when a year has no imported file, or a row has no published
    counterpart (a custom subgroup).
    """
    missing = missing_peers(report, spec) + missing_comparisons(report, spec, scope)
    if not missing:
        return report.clear(), []
    cds = {(level, code): code if level in ("lea", "school")
           else (code + "000000000000") if level == "county" else "0" * 14
           for level, code in missing}
    groups = report.select("group_id", "row_label").unique(maintain_order=True)
    standard = groups.filter(~pl.col("group_id").str.starts_with("custom:"))
    grades = report.get_column("grade").unique().to_list()
    frames, notes = [], []
    for year in sorted(set(spec.years)):
        try:
            rows = published_rows(snap, year, spec.test, orgs=cds.values())
        except ValueError:
            notes.append(f"No published row for {year}: CDE's research file for that year "
                         "is not imported (elpac import research-file).")
            continue
        rows = rows.filter(pl.col("StudentGroupID").is_in(standard.get_column("group_id"))
                           & pl.col("Grade").is_in(grades))
        if not rows.height:
            continue
        level = pl.col("org_level")
        code = pl.col("CountyCode") + pl.col("DistrictCode") + pl.col("SchoolCode")
        lea_code = pl.col("CountyCode") + pl.col("DistrictCode") + pl.lit("0000000")
        # The file's own name (or its entities file's), else the store's, else the code.
        orgs = snap.orgs_of([year])
        stored = orgs.select(
            "org_level",
            pl.when(pl.col("org_level") == "county").then(pl.col("county_code") + "0" * 12)
            .when(pl.col("org_level") == "lea").then(pl.col("lea_code"))
            .when(pl.col("org_level") == "school").then(pl.col("school_code"))
            .otherwise(pl.lit("0" * 14)).alias("_code"),
            pl.col("name").alias("_stored")).unique(["org_level", "_code"], keep="last")
        rows = rows.with_columns(code.alias("_code")).join(
            stored, on=["org_level", "_code"], how="left")
        known = pl.col("_stored")
        given = {"county": "CountyName", "lea": "DistrictName", "school": "SchoolName"}
        file_name = pl.lit(None, pl.String)
        for lvl, column in given.items():
            if column in rows.columns:
                file_name = pl.when(level == lvl).then(pl.col(column)).otherwise(file_name)
        name = pl.when(level == "state").then(pl.lit("California")).otherwise(
            pl.coalesce(file_name, known, code))
        frames.append(rows.select(
            pl.lit(year).alias("school_year"), pl.lit(spec.test).alias("test"), level,
            pl.col("CountyCode").alias("county_code"),
            # A direct-funded charter (TypeID 09) is an LEA under its own full CDS code.
            pl.when(level == "lea").then(code).when(level == "school").then(lea_code)
            .otherwise(pl.lit("")).alias("lea_code"),
            pl.when(level == "school").then(code).otherwise(pl.lit("")).alias("school_code"),
            code.alias("cds_code"),
            pl.format("{} ({})", name, pl.col(SOURCE_COLUMN)).alias("name"),
            pl.col("TypeID").alias("type_id"), pl.col("StudentGroupID").alias("group_id"),
            pl.col("Grade").alias("grade"),
            *_report_columns(rows, spec.test)))
    if len(standard) < len(groups):
        notes.append("Custom subgroups have no published county or state row.")
    if not frames:
        return report.clear(), notes
    found = pl.concat(frames, how="diagonal_relaxed").join(standard, on="group_id", how="left")
    found = found.with_columns(
        pl.col("grade").replace_strict(GRADE_NAMES, default=pl.col("grade")).alias("grade_name"),
        (pl.col("n_scored").fill_null(0) > 0).alias("has_scores"),
        # A published "*" (fewer than 11) has no scores: shown as suppressed, as CDE does.
        pl.col("overall_mean").is_null().alias("is_suppressed"),
        pl.lit("published").alias("data_status"))
    # Chosen peers first, then the comparison rows nearest first: the county, then the state.
    rank = pl.col("org_level").replace_strict({"school": 0, "lea": 1, "county": 2, "state": 3},
                                              return_dtype=pl.Int8)
    found = found.sort(rank, "school_year", maintain_order=True)
    return found.select([pl.col(c).cast(t) if c in found.columns else pl.lit(None, t).alias(c)
                         for c, t in report.schema.items()]), notes
