"""The District/School export: one row per student of an LEA or school, as CERS exports it.

Results and demographics under readable headers, placed where the student finished testing
(the reporting LEA and school, ELPAC.md §3.3); the access is checked as for every extract
(``queries.extracts``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from data.domain import GRADES
from data.student_groups import GROUP_BY_ID, GROUPS, LANGUAGES
from data.toms.export import write_table
from queries.extracts import (
    Extract,
    check_test,
    check_year,
    in_groups,
    progress_writer,
    require_pii,
    say,
)
from queries.labels import RECORD_TYPE_OF_TEST, TESTS, level_names
from queries.records import read_records
from queries.scope import ScopeError

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from queries.scope import Scope
    from queries.snapshot import Snapshot

def _names(dimension: str) -> dict[str, str]:
    """Code -> group name for a one-column dimension (gender, ethnicity, parent education)."""
    return {str(g.conditions[0][2][0]): g.name for g in GROUPS
            if g.dimension == dimension and len(g.conditions) == 1}


def _yes_no(column: str) -> pl.Expr:
    col = pl.col(column)
    return pl.when(col).then(pl.lit("Yes")).when(~col).then(pl.lit("No"))


def _iso(column: str) -> pl.Expr:
    return pl.col(column).dt.strftime("%Y-%m-%d")


def _level(test: str, measure: str) -> pl.Expr:
    names = dict(enumerate(level_names(test, measure), start=1))
    return pl.col(f"{measure}_level").cast(pl.Int64).replace_strict(
        names, default=None, return_dtype=pl.String)


def district_columns(test: str) -> dict[str, pl.Expr]:
    """Header -> expression over store columns, in file order, for the District/School export.

    Codes become names where the state publishes names (gender, race and ethnicity, parent
    education, primary language, levels); flags become Yes/No; dates are ISO text. The
    Summative Alternate ELPAC has an overall score only (ELPAC.md §2).
    """
    ltel = {"1": GROUP_BY_ID["250"].name, "2": GROUP_BY_ID["251"].name}
    cols: dict[str, pl.Expr] = {
        "School Year": pl.col("school_year"),
        "Test": pl.col("record_type").replace_strict(
            {v: TESTS[k] for k, v in RECORD_TYPE_OF_TEST.items()}, default=None),
        "District Code": pl.col("reporting_lea_code"),
        "District Name": pl.col("lea_name"),
        "School Code": pl.col("tested_school_code"),
        "School Name": pl.col("tested_school_name"),
        "Nonpublic School": _yes_no("tested_is_nps"),
        "SSID": pl.col("ssid"),
        "Local Student ID": pl.col("local_student_id"),
        "Last Name": pl.col("last_name"),
        "First Name": pl.col("first_name"),
        "Middle Name": pl.col("middle_name"),
        "Date of Birth": _iso("birth_date"),
        "Grade": pl.col("grade_assessed"),
        "Transitional Kindergarten": _yes_no("is_tk"),
        "Gender": pl.col("gender").replace(_names("gender")),
        "Race/Ethnicity": pl.col("ethnicity").replace(_names("ethnicity")),
        "Economically Disadvantaged": _yes_no("is_economically_disadvantaged"),
        "Special Education (IEP)": _yes_no("is_special_education"),
        "Section 504 Plan": _yes_no("is_section504"),
        "Migrant": _yes_no("is_migrant"),
        "Homeless": _yes_no("is_homeless"),
        "Foster Youth": _yes_no("is_foster"),
        "Military Family": _yes_no("is_military"),
        "Parent Education Level": pl.col("parent_education").replace(_names("parent_education")),
        "Primary Language": pl.coalesce(pl.col("ceds_language"), pl.col("primary_language"))
        .replace(dict(LANGUAGES)),
        "EL Entry Date": _iso("el_entry_date"),
        "First Entry in a US School": _iso("us_school_entry_date"),
        "Years in EL Program": pl.col("el_years_in_program"),
        "LTEL Status": pl.col("ltel_status").replace_strict(ltel, default=None),
        "Tested": _yes_no("is_tested"),
        "Test Completed Date": _iso("final_test_completed_date"),
        "Score Available Date": _iso("score_available_date"),
        "Condition Code": pl.col("condition_code"),
        "Attemptedness": pl.col("attemptedness"),
        "Include Indicator": pl.col("include_indicator"),
        "Overall Scale Score": pl.col("overall_scale_score"),
        "Overall Performance Level": _level(test, "overall"),
        "Overall Standard Error": pl.col("overall_csem"),
    }
    if test == "summative":
        for measure, label in (("oral", "Oral Language"), ("written", "Written Language")):
            cols[f"{label} Scale Score"] = pl.col(f"{measure}_scale_score")
            cols[f"{label} Performance Level"] = _level(test, measure)
            cols[f"{label} Standard Error"] = pl.col(f"{measure}_csem")
        for domain in ("listening", "speaking", "reading", "writing"):
            cols[f"{domain.title()} Performance Level"] = _level(test, domain)
            cols[f"{domain.title()} Exempt"] = _yes_no(f"is_{domain}_exempt")
    return {header: expr.alias(header) for header, expr in cols.items()}


_DISTRICT_SOURCE = (
    "record_type", "reporting_lea_code", "reporting_school_code", "tested_school_code",
    "tested_school_name", "tested_is_nps", "ssid", "local_student_id", "last_name",
    "first_name", "middle_name", "birth_date", "grade_assessed", "is_tk", "gender", "ethnicity",
    "is_economically_disadvantaged", "is_special_education", "is_section504", "is_migrant",
    "is_homeless", "is_foster", "is_military", "parent_education", "ceds_language",
    "primary_language", "el_entry_date", "us_school_entry_date", "el_years_in_program",
    "ltel_status", "us_school_months", "is_tested", "final_test_completed_date",
    "score_available_date", "condition_code", "attemptedness", "include_indicator",
    "overall_scale_score", "overall_level", "overall_csem", "oral_scale_score", "oral_level",
    "oral_csem", "written_scale_score", "written_level", "written_csem", "listening_level",
    "speaking_level", "reading_level", "writing_level", "is_listening_exempt",
    "is_speaking_exempt", "is_reading_exempt", "is_writing_exempt",
)


def read_district_results(snap: Snapshot, *, scope: Scope, year: str, lea: str,
                          school: str | None = None,
                          test: str = "summative") -> pl.DataFrame:
    """Every student record of an LEA (or one of its schools) for a year and test.

    Parameters
    ----------
    snap
        The store at one data version.
    scope
        Who is asking; it must allow personal information and cover the LEA (or the school).
    year
        School year, e.g. ``"2024-25"``.
    lea
        14-digit CDS code of the LEA the records are reported under (ELPAC.md §3.3).
    school
        14-digit CDS code of one of its schools; ``None`` for the whole LEA (nonpublic-school
        students count under the LEA only, §3.3 rule 6).
    test
        ``"summative"`` or ``"alternate"``.

    Returns
    -------
    pl.DataFrame
        One row per record, non-testers included, columns ``district_columns(test)``, sorted
        by school, grade, last and first name.

    Raises
    ------
    ScopeError
        The scope does not allow personal information or does not cover the LEA or school.
    ValueError
        No such year, test, LEA or school in the store.
    """
    require_pii(scope)
    check_test(test)
    check_year(snap, year)
    orgs = snap.orgs_of([year])
    lea_row = orgs.filter((pl.col("org_level") == "lea") & (pl.col("lea_code") == lea))
    if lea_row.height == 0:
        raise ValueError(f"LEA {lea} has no results for {year} in the store.")
    county = lea_row.item(0, "county_code")
    if school is None and not scope.allows_lea(county, lea):
        raise ScopeError(f"LEA {lea} is not in your access. Choose one of your own LEAs or "
                         "schools.")
    if school is not None:
        if orgs.filter((pl.col("org_level") == "school") & (pl.col("lea_code") == lea)
                       & (pl.col("school_code") == school)).height == 0:
            raise ValueError(f"School {school} has no results of LEA {lea} for {year}.")
        if not scope.allows_school(county, lea, school):
            raise ScopeError(f"School {school} is not in your access. Choose one of your own "
                             "schools.")
    records = read_records(snap, [year], scope=scope, orgs=orgs,
                           record_type=RECORD_TYPE_OF_TEST[test], columns=_DISTRICT_SOURCE,
                           leas=[lea])
    columns = district_columns(test)
    keep = in_groups(scope)
    if school is not None:
        keep = keep & (pl.col("reporting_school_code") == school)
    grade_order = {g: i for i, g in enumerate(GRADES)}
    return (records.filter(keep)
            .with_columns(pl.lit(lea_row.item(0, "name")).alias("lea_name"),
                          pl.col("grade_assessed").replace_strict(grade_order, default=99)
                          .alias("_grade"))
            .sort("tested_school_code", "_grade", "last_name", "first_name", "ssid",
                  nulls_last=True)
            .select(list(columns.values())))


# -- Student Score Data File extract ---------------------------------------------------------

def build_district_export(snap: Snapshot, out: Path, *, scope: Scope, year: str, lea: str,
                          school: str | None = None, test: str = "summative",
                          fmt: str = "csv",
                          progress: Callable[[float, str], None] | None = None,
                          max_rows: int | None = None) -> Extract:
    """Write the District/School export (``read_district_results``) as CSV or Excel.

    ``max_rows`` is the data rows per Excel tab (default: Excel's 1,048,575).
    """
    if fmt not in ("csv", "xlsx"):
        raise ValueError("The District/School export is written as csv or xlsx.")
    say(progress, 0.0, "Reading student records")
    frame = read_district_results(snap, scope=scope, year=year, lea=lea, school=school,
                                  test=test)
    say(progress, 0.2, f"Writing {frame.height:,} records")
    sheets = write_table(frame, out, fmt=fmt, progress=progress_writer(progress, 0.2),
                         max_rows=max_rows, sheet_prefix="Students")
    say(progress, 1.0, f"Wrote {frame.height:,} records")
    return Extract(out, frame.height, tuple(sheets))


