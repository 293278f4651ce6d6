"""Extracts for analysts: student-level files and the research file, always inside the scope.

Three extracts, the ones an LEA analyst gets from CERS and TOMS:

* **District/School export** (``read_district_results``): one row per student of an LEA or
  one of its schools for a school year and test, results and demographics under readable
  headers, as CERS's student results export offers. Records are placed where they are
  reported (the final tested LEA and school, ELPAC.md §3.3), as every report of this app.
* **Student Score Data File extract** (``read_ssdf_records``): the stored records in the TOMS
  layout of the year (``data.toms.export``), by **enrolled** LEA (the students whose CALPADS
  enrolment is there, wherever they tested) or by **tested** LEA (the students whose final
  tested LEA it is), as TOMS offers the two files (ELPAC.md §3.1), filtered by score-available
  date like TOMS's request form.
* **Research file** (``queries.research``): the public aggregate layout for a year and test.

``build_*`` write the file and report progress; ``extract_file_name`` names it after what it
holds and when it was made. Student-level extracts need a scope with ``pii``; a record enters
an extract only when its organisation (enrolled or tested, by the extract's side) is in the
scope and it belongs to the scope's student groups.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Literal

import polars as pl

from data.domain import GRADES, spring_year
from data.problems import InputError
from data.student_groups import GROUP_BY_ID, GROUPS, LANGUAGES
from data.toms.export import delimited_writer, records_text, write_table
from data.toms.normalise import STORE_SCHEMA
from queries.labels import RECORD_TYPE_OF_TEST, TESTS, level_names
from queries.records import read_records
from queries.research import research_rows, write_research_file
from queries.scope import ScopeError

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from queries.scope import Scope
    from queries.snapshot import Snapshot

Side = Literal["enrolled", "tested"]
SIDES: tuple[Side, ...] = ("enrolled", "tested")
EXTENSIONS = {"csv": "csv", "xlsx": "xlsx", "toms": "txt"}
"""File extension of each output format (``toms`` is caret-delimited text)."""
STATE = "00"
"""Organisation code of a statewide extract in file names (the sidebar's California)."""
WINDOW_OPENS = (2, 1)
"""February 1: the Summative ELPAC testing window opens then, so no score of a school year is
available earlier; the default start of the score-available filter (ELPAC.md §7; the same
date ``data.student_groups`` uses for non-testers)."""

_PII_MESSAGE = ("Student-level exports need an account that may see student records. Ask your "
                "LEA ELPAC coordinator for that access, or use the research file instead.")


@dataclass(frozen=True)
class Extract:
    """A written extract: where, how many data rows, and the Excel tabs (empty otherwise)."""

    path: Path
    n_rows: int
    sheets: tuple[str, ...] = ()


def score_window_start(year: str) -> date:
    """The default start of the score-available filter: February 1 of the spring.

    Examples
    --------
    >>> score_window_start("2024-25")
    datetime.date(2025, 2, 1)
    """
    return date(spring_year(year), *WINDOW_OPENS)


def extract_file_name(kind: str, *, org: str, year: str, fmt: str, on: date,
                      detail: str | None = None) -> str:
    """A file name saying what the extract holds and the day it was made.

    Examples
    --------
    >>> extract_file_name("ssdf", detail="tested", org="19647330000000", year="2024-25",
    ...                   fmt="csv", on=date(2026, 11, 23))
    'elpac-ssdf-tested-19647330000000-2024-25-20261123.csv'
    >>> extract_file_name("district", detail="alternate", org="19647330000000", year="2024-25",
    ...                   fmt="xlsx", on=date(2026, 11, 23))
    'elpac-district-alternate-19647330000000-2024-25-20261123.xlsx'
    """
    parts = ["elpac", kind, *([detail] if detail else []), org, year, f"{on:%Y%m%d}"]
    return "-".join(parts) + "." + EXTENSIONS[fmt]


def _require_pii(scope: Scope) -> None:
    if not scope.pii:
        raise ScopeError(_PII_MESSAGE)


def _check_year(snap: Snapshot, year: str) -> None:
    if year not in snap.years:
        raise ValueError(f"The store has no results for {year}. Choose one of "
                         f"{', '.join(snap.years) or 'the loaded years'}.")


def _check_test(test: str) -> None:
    if test not in TESTS:
        raise ValueError(f"The test must be one of {', '.join(TESTS)}.")


def _in_groups(scope: Scope) -> pl.Expr:
    """Records of the scope's student groups and students (all records when it has none)."""
    if scope.all_students:
        return scope.ssid_filter()
    keep = pl.lit(False)
    for gid in scope.groups:
        keep = keep | GROUP_BY_ID[gid].polars()
    return keep & scope.ssid_filter()


def _side_in_scope(scope: Scope, side: Side) -> pl.Expr:
    """Whether a record's enrolled or tested organisation is one the scope covers."""
    if scope.statewide:
        return pl.lit(True)
    lea, school = pl.col(f"{side}_lea_code"), pl.col(f"{side}_school_code")
    return (lea.str.slice(0, 2).is_in(list(scope.counties)) | lea.is_in(list(scope.leas))
            | school.is_in(list(scope.schools))).fill_null(False)


def list_schools(snap: Snapshot, *, scope: Scope, year: str, lea: str) -> pl.DataFrame:
    """The schools of an LEA with results in ``year`` that the scope covers, by name.

    Returns ``school_code`` (14-digit CDS) and ``name``.
    """
    orgs = scope.visible_orgs(snap.orgs_of([year]))
    return (orgs.filter((pl.col("org_level") == "school") & (pl.col("lea_code") == lea))
            .select("school_code", "name").sort("name", "school_code"))


# -- District/School export ------------------------------------------------------------------

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
    _require_pii(scope)
    _check_test(test)
    _check_year(snap, year)
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
    keep = _in_groups(scope)
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

def _ssdf_filter(snap: Snapshot, *, scope: Scope, years: list[str], lea: str | None,
                 by: Side | None, score_from: date | None, score_to: date | None,
                 scored_only: bool) -> tuple[pl.Expr, Side]:
    """Which stored records an extract holds (``read_ssdf_records``), and the side it sorts by."""
    _require_pii(scope)
    if by is not None and by not in SIDES:
        raise ValueError("Choose enrolled or tested records.")
    for year in years:
        _check_year(snap, year)
    if score_from and score_to and score_from > score_to:
        raise ValueError(f"The score-available start date ({score_from}) is after the end date "
                         f"({score_to}). Choose an end date on or after the start date.")
    sides: tuple[Side, ...] = SIDES if by is None else (by,)
    if lea is not None and not scope.allows_lea(lea[:2], lea):
        raise ScopeError(f"LEA {lea} is not in your access. Choose one of your own LEAs.")
    keep = _in_groups(scope)
    in_scope = pl.lit(False)
    for side in sides:
        in_scope = in_scope | _side_in_scope(scope, side)
    keep = keep & in_scope
    if lea is not None:
        keep = keep & pl.any_horizontal([pl.col(f"{s}_lea_code") == lea for s in sides]
                                        ).fill_null(False)
    scored = pl.col("score_available_date")
    window = pl.lit(True)
    if score_from is not None:
        window = window & (scored >= score_from)
    if score_to is not None:
        window = window & (scored <= score_to)
    keep = keep & (window.fill_null(False) | (scored.is_null() & pl.lit(not scored_only)))
    return keep, sides[0]


def read_ssdf_records(snap: Snapshot, *, scope: Scope, years: list[str],
                      lea: str | None = None, by: Side | None = None,
                      score_from: date | None = None, score_to: date | None = None,
                      scored_only: bool = False) -> pl.DataFrame:
    """Stored records for a Student Score Data File extract, both tests, in file order.

    Parameters
    ----------
    snap
        The store at one data version.
    scope
        Who is asking; it must allow personal information. A record is in scope when its
        organisation on the ``by`` side (either side when ``by`` is ``None``) is covered.
    years
        School years to extract.
    lea
        14-digit CDS code; ``None`` for every record in scope.
    by
        ``"enrolled"``: records whose CALPADS enrolled LEA is ``lea``; ``"tested"``: records
        whose final tested LEA is ``lea`` (ELPAC.md §3.1, §3.3); ``None``: either.
    score_from, score_to
        Keep records whose score became available on or between these dates (both
        inclusive, either may be ``None``).
    scored_only
        Leave out records without a score-available date (non-testers, scores not yet
        released). Kept by default, as an enrolled-LEA file lists eligible students who did
        not test [unconfirmed: how TOMS's date filter treats them].

    Returns
    -------
    pl.DataFrame
        Store rows (``data.toms.normalise.STORE_SCHEMA``), sorted by year, the side's LEA and
        school, SSID and record type; ``data.toms.export.records_text`` gives their file text.
    """
    keep, sort_side = _ssdf_filter(snap, scope=scope, years=years, lea=lea, by=by,
                                   score_from=score_from, score_to=score_to,
                                   scored_only=scored_only)
    frames = [pl.scan_parquet(snap.year_files[y]).with_columns(pl.lit(y).alias("school_year"))
              .filter(keep) for y in sorted(set(years))]
    if not frames:
        return pl.DataFrame(schema=STORE_SCHEMA)
    return (pl.concat(frames).select(list(STORE_SCHEMA))
            .sort("school_year", f"{sort_side}_lea_code", f"{sort_side}_school_code", "ssid",
                  "record_type", nulls_last=True).collect())


def ssdf_text(snap: Snapshot, records: pl.DataFrame, *, year: str | None = None
              ) -> pl.DataFrame:
    """Records from ``read_ssdf_records`` as the text of the Student Score Data File layout.

    ``year`` picks the layout (default: the latest year among the records).
    """
    return records_text(records, snap.store.extra_names(), year=year)


# -- Writing, with progress ------------------------------------------------------------------

def _writer(progress: Callable[[float, str], None] | None, start: float
            ) -> Callable[[int, int], None] | None:
    """Map a writer's (rows done, rows in all) to the remaining part of the progress bar."""
    if progress is None:
        return None

    def report(done: int, total: int) -> None:
        fraction = start + (1 - start) * done / max(total, 1)
        progress(min(fraction, 1.0), f"Writing rows: {done:,} of {total:,}")

    return report


def _say(progress: Callable[[float, str], None] | None, fraction: float, text: str) -> None:
    if progress is not None:
        progress(fraction, text)


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
    _say(progress, 0.0, "Reading student records")
    frame = read_district_results(snap, scope=scope, year=year, lea=lea, school=school,
                                  test=test)
    _say(progress, 0.2, f"Writing {frame.height:,} records")
    sheets = write_table(frame, out, fmt=fmt, progress=_writer(progress, 0.2),
                         max_rows=max_rows, sheet_prefix="Students")
    _say(progress, 1.0, f"Wrote {frame.height:,} records")
    return Extract(out, frame.height, tuple(sheets))


XLSX_MAX_RECORDS = 200_000
"""Above this, a Student Score Data File extract is offered as CSV or TOMS text only: Excel
of every field takes minutes and gigabytes (../shared/TOOLCHAIN.md), CSV streams."""
BATCH_RECORDS = 50_000
"""Records laid out and written at a time: memory stays that of one batch, whatever the size."""


def build_ssdf_extract(snap: Snapshot, out: Path, *, scope: Scope, years: list[str],
                       lea: str | None = None, by: Side | None = None,
                       score_from: date | None = None, score_to: date | None = None,
                       scored_only: bool = False, fmt: str = "csv",
                       progress: Callable[[float, str], None] | None = None,
                       max_rows: int | None = None) -> Extract:
    """Write a Student Score Data File extract (``read_ssdf_records``) in the year's layout.

    ``fmt`` is ``csv`` or ``xlsx`` (neutralised cells) or ``toms`` (caret, loads again). CSV
    and TOMS text are written a batch of schools at a time, in the order of
    ``read_ssdf_records``: a statewide extract never sits in memory whole. ``InputError`` for
    Excel beyond ``XLSX_MAX_RECORDS``.
    """
    _say(progress, 0.0, "Counting records")
    keep, side = _ssdf_filter(snap, scope=scope, years=years, lea=lea, by=by,
                              score_from=score_from, score_to=score_to,
                              scored_only=scored_only)
    plan = _batches(snap, keep, side, sorted(set(years)))
    total = sum(n for *_, n in plan)
    if fmt == "xlsx":
        if total > XLSX_MAX_RECORDS:
            raise InputError(f"{total:,} records are too many for Excel here (at most "
                             f"{XLSX_MAX_RECORDS:,}): choose CSV or TOMS text, or one LEA")
        records = read_ssdf_records(snap, scope=scope, years=years, lea=lea, by=by,
                                    score_from=score_from, score_to=score_to,
                                    scored_only=scored_only)
        _say(progress, 0.1, f"Laying out {records.height:,} records")
        text = ssdf_text(snap, records, year=years[0] if len(set(years)) == 1 else None)
        _say(progress, 0.3, f"Writing {records.height:,} records")
        sheets = write_table(text, out, fmt=fmt, progress=_writer(progress, 0.3),
                             max_rows=max_rows)
        return Extract(out, records.height, tuple(sheets))
    if fmt not in EXTENSIONS:
        raise ValueError(f"format must be one of {', '.join(EXTENSIONS)}")
    found = sorted({year for year, _, n in plan if n})
    layout_year = years[0] if len(set(years)) == 1 else (found[-1] if found else None)
    names = snap.store.extra_names()
    done = 0
    out.parent.mkdir(parents=True, exist_ok=True)
    with delimited_writer(out, fmt=fmt) as write:
        for year, keys, n in plan:
            lea_col, school_col = pl.col(f"{side}_lea_code"), pl.col(f"{side}_school_code")
            batch = (pl.scan_parquet(snap.year_files[year])
                     .with_columns(pl.lit(year).alias("school_year"))
                     .filter(keep & _key(lea_col, school_col).is_in(keys))
                     .select(list(STORE_SCHEMA))
                     .sort(f"{side}_lea_code", f"{side}_school_code", "ssid", "record_type",
                           nulls_last=True).collect())
            write(records_text(batch, names, year=layout_year, with_year=len(found) > 1))
            done += n
            _say(progress, done / max(total, 1), f"Writing records: {done:,} of {total:,}")
        if total == 0:
            empty = pl.DataFrame(schema=STORE_SCHEMA)
            write(records_text(empty, names, year=layout_year, with_year=len(found) > 1))
    _say(progress, 1.0, f"Wrote {total:,} records")
    return Extract(out, total, ())


def _key(lea: pl.Expr, school: pl.Expr) -> pl.Expr:
    """One text per (LEA, school), nulls included, to pick a batch's records."""
    return pl.concat_str([lea.fill_null("-"), school.fill_null("-")], separator="|")


def _batches(snap: Snapshot, keep: pl.Expr, side: Side, years: list[str]
             ) -> list[tuple[str, list[str], int]]:
    """(year, the (LEA, school) keys of a batch, its records), in the extract's order."""
    lea_col, school_col = f"{side}_lea_code", f"{side}_school_code"
    plan = []
    for year in years:
        counts = (pl.scan_parquet(snap.year_files[year])
                  .with_columns(pl.lit(year).alias("school_year")).filter(keep)
                  .group_by(lea_col, school_col).len()
                  .sort(lea_col, school_col, nulls_last=True).collect())
        keys: list[str] = []
        n = 0
        for lea_code, school_code, count in counts.iter_rows():
            keys.append(f"{lea_code or '-'}|{school_code or '-'}")
            n += count
            if n >= BATCH_RECORDS:
                plan.append((year, keys, n))
                keys, n = [], 0
        if keys:
            plan.append((year, keys, n))
    return plan


def build_research_file(snap: Snapshot, out: Path, *, scope: Scope, year: str,
                        suppress: bool, test: str = "summative", lea: str | None = None,
                        progress: Callable[[float, str], None] | None = None) -> Extract:
    """Write the research file (``queries.research``) for a year and test, caret-delimited.

    ``suppress`` has no default, as ``research_rows``: the caller says whether groups under
    the threshold show ``*`` (an aggregate-only scope always does).
    """
    _check_test(test)
    _check_year(snap, year)
    if lea is None and not scope.statewide:
        raise ScopeError("The full research file covers all of California, which is outside "
                         "your access. Choose one of your LEAs.")
    if lea is not None and not scope.allows_lea(lea[:2], lea):
        raise ScopeError(f"LEA {lea} is not in your access. Choose one of your own LEAs.")
    _say(progress, 0.0, "Computing every organisation, group and grade")
    rows = research_rows(snap, year=year, test=test, scope=scope, lea=lea, suppress=suppress)
    _say(progress, 0.8, f"Writing {rows.height:,} rows")
    write_research_file(rows, out)
    _say(progress, 1.0, f"Wrote {rows.height:,} rows")
    return Extract(out, rows.height)
