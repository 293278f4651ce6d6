"""One student's score status and reports, and finding students: PII, so the scope must allow it.

The score status is what TOMS shows on a student's profile: score-available date, condition
code, attemptedness, include indicator, domain exemptions; the reporting part: SSR eligibility,
languages and release date. Only records in the scope come back, across every year stored: a
record counts under its reporting LEA and school (``Scope.record_keys``), and a scope limited
to some student groups returns only the records of students in one of those groups.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from data import domain
from data.results.summary import DOMAINS, RECORD_COLUMNS
from data.student_groups import GROUP_BY_ID
from data.toms.export import unpack_extras
from queries.labels import SCORE_STATUSES
from queries.records import read_records
from queries.scope import ScopeError

if TYPE_CHECKING:
    from queries.scope import Scope
    from queries.snapshot import Snapshot

PROFILE_COLUMNS = (
    "ssid", "local_student_id", "last_name", "first_name", "middle_name", "birth_date",
    "gender", "record_type", "grade_assessed", "reporting_lea_code", "reporting_school_code",
    "tested_district_name", "tested_school_name", "enrolled_lea_code", "enrolled_school_code",
    "enrolled_district_name", "enrolled_school_name", "primary_language", "ceds_language",
    "is_tested", "final_test_completed_date", "score_available_date", "condition_code",
    "attemptedness", "include_indicator", "is_listening_exempt", "is_speaking_exempt",
    "is_reading_exempt", "is_writing_exempt", "is_ssr_eligible", "ssr_languages",
    "ssr_available_date", "overall_scale_score", "overall_level", "overall_csem",
    "oral_scale_score", "oral_level", "oral_csem", "written_scale_score", "written_level",
    "written_csem", "listening_level", "speaking_level", "reading_level", "writing_level",
    "raw_score_listening", "raw_score_speaking", "raw_score_reading", "raw_score_writing",
    "is_force_complete", "report_created_date",
)
DOMAIN_DETAILS = {"testing_status": "OpportunityTestingStatus{n}",
                  "completed_date": "TestCompletedDate{n}", "test_mode": "TestMode{n}"}
"""Per-domain fields the store keeps verbatim in ``extra_fields`` (ELPAC.md §3.2, 62-113):
``read_student`` unpacks them as ``{domain}_{detail}`` columns. 2018-19 files have none."""
SEARCH_COLUMNS = ("ssid", "last_name", "first_name", "grade_assessed", "record_type",
                  "reporting_lea_code", "reporting_school_code", "tested_school_name",
                  "overall_level")
FOUND_SCHEMA = {"ssid": pl.String, "last_name": pl.String, "first_name": pl.String,
                "school_year": pl.String, "grade_assessed": pl.String, "record_type": pl.String,
                "reporting_lea_code": pl.String, "reporting_school_code": pl.String,
                "tested_school_name": pl.String, "overall_level": pl.Int8,
                "overall_scale_score": pl.Int16, "score_status": pl.String}
"""Columns of ``find_students``, in order."""
BAND_SCHEMA = {"record_type": pl.String, "grade_assessed": pl.String,
               "min_scale_score": pl.Int16, "level_2_from": pl.Int16,
               "level_3_from": pl.Int16, "level_4_from": pl.Int16,
               "max_scale_score": pl.Int16}


def _require_pii(scope: Scope) -> None:
    if not scope.pii:
        raise ScopeError("student-level data needs a scope that allows personal information")


def _group_columns(scope: Scope) -> list[str]:
    """Columns the scope's student groups test (none for an all-students scope)."""
    return list(dict.fromkeys(c for gid in scope.groups
                              for c, _, _ in GROUP_BY_ID[gid].conditions))


def _in_scope_groups(scope: Scope) -> pl.Expr:
    """A record is in a group-limited scope when its student is in any of the groups."""
    if scope.all_students:
        return pl.lit(True)
    return pl.any_horizontal(*[GROUP_BY_ID[gid].polars() for gid in scope.groups])


def score_status() -> pl.Expr:
    """The record's score status in a few words (``labels.SCORE_STATUSES``).

    The include indicator decides scored or not, after NT and partial tests (ELPAC.md §4).

    Examples
    --------
    >>> frame = pl.DataFrame({"condition_code": ["NT", None, "EXD", None, None],
    ...                       "attemptedness": [None, "P", "Y", "Y", None],
    ...                       "include_indicator": ["N", "T", "Y", "Y", None]})
    >>> frame.select(score_status()).to_series().to_list()  # doctest: +NORMALIZE_WHITESPACE
    ['Eligible but not tested', 'Incomplete test | No score available',
     'Scored, exempt domain', 'Scored', 'Not tested yet']
    """
    code, included = pl.col("condition_code"), pl.col("include_indicator") == "Y"
    return (pl.when(code == "NT").then(pl.lit(SCORE_STATUSES["nt"]))
            .when(pl.col("attemptedness") == "P").then(pl.lit(SCORE_STATUSES["partial"]))
            .when(included & (code == "EXD")).then(pl.lit(SCORE_STATUSES["scored_exd"]))
            .when(included & (code == "ALT")).then(pl.lit(SCORE_STATUSES["scored_alt"]))
            .when(included).then(pl.lit(SCORE_STATUSES["scored"]))
            .otherwise(pl.lit(SCORE_STATUSES["pending"])).alias("score_status"))


def find_students(snap: Snapshot, *, scope: Scope, text: str = "", year: str | None = None,
                  lea: str | None = None, school: str | None = None,
                  grade: str | None = None, group: str | None = None,
                  limit: int = 500) -> pl.DataFrame:
    """Students in scope matching an SSID, a name, or a list filter (school, grade, group).

    ``text`` matches an SSID exactly (leading zeros optional) or the start of a last or first
    name, case-insensitively. One row per student and test: their latest year's record, with
    its overall score and score status. Columns: ``FOUND_SCHEMA``.

    Raises
    ------
    ScopeError
        If the scope does not allow personal information.
    """
    _require_pii(scope)
    years = [year] if year else list(snap.years)
    text = text.strip()
    columns = [*SEARCH_COLUMNS, *RECORD_COLUMNS, *_group_columns(scope)]
    records = read_records(snap, years, scope=scope, orgs=snap.orgs_of(years),
                           record_type=None, columns=list(dict.fromkeys(columns)),
                           leas=[lea] if lea else None,
                           ssids=[text.zfill(10)] if text.isdigit() else None,
                           name_prefix=text.lower() if text and not text.isdigit() else None)
    if records.height == 0:
        return pl.DataFrame(schema=FOUND_SCHEMA)
    keep = _in_scope_groups(scope)
    if school:
        keep = keep & (pl.col("reporting_school_code") == school)
    if grade:
        keep = keep & (pl.col("grade_assessed") == grade)
    if group:
        keep = keep & GROUP_BY_ID[group].polars()
    found = (records.filter(keep).sort("school_year", descending=True)
             .unique(subset=["ssid", "record_type"], keep="first", maintain_order=True)
             .sort("last_name", "first_name", "ssid").head(limit))
    return found.with_columns(score_status()).select(list(FOUND_SCHEMA))


def read_student(snap: Snapshot, ssid: str, *, scope: Scope) -> pl.DataFrame:
    """Every record of one student in scope, newest year first (score history included).

    Columns: ``school_year``, ``PROFILE_COLUMNS``, per domain ``DOMAIN_DETAILS``
    (``listening_testing_status``, ``listening_completed_date``, ``listening_test_mode``, ...)
    and ``score_status``.

    Raises
    ------
    ScopeError
        If the scope does not allow personal information.
    """
    _require_pii(scope)
    columns = [*PROFILE_COLUMNS, "load_id", "extra_fields", *_group_columns(scope)]
    records = read_records(snap, snap.years, scope=scope, orgs=snap.orgs_of(snap.years),
                           record_type=None, columns=list(dict.fromkeys(columns)),
                           ssids=[ssid.strip().zfill(10)])
    if records.height == 0:
        return records
    records = records.filter(_in_scope_groups(scope))
    if records.height == 0:
        return records
    return (_with_domain_details(snap, records).with_columns(score_status())
            .select("school_year", *PROFILE_COLUMNS, *_detail_columns(), "score_status")
            .sort("school_year", "record_type", descending=[True, False]))


def _detail_columns() -> list[str]:
    return [f"{d}_{detail}" for d in DOMAINS for detail in DOMAIN_DETAILS]


def _with_domain_details(snap: Snapshot, records: pl.DataFrame) -> pl.DataFrame:
    """Unpack the per-domain testing fields; each load packs its own list of fields."""
    names = snap.store.extra_names()
    parts = []
    for (load_id,), part in records.group_by("load_id", maintain_order=True):
        extras = unpack_extras(names.get(int(load_id), []))  # type: ignore[call-overload]
        columns = []
        for n, d in enumerate(DOMAINS, start=1):
            for detail, field in DOMAIN_DETAILS.items():
                value = extras.get(field.format(n=n), pl.lit(None, pl.String))
                value = pl.when(value != "").then(value)
                if detail == "completed_date":
                    value = value.str.to_date("%Y-%m-%d", strict=False)
                columns.append(value.alias(f"{d}_{detail}"))
        parts.append(part.with_columns(columns))
    return pl.concat(parts, how="vertical_relaxed")


def level_bands() -> pl.DataFrame:
    """Overall scale-score range and level cuts of each test and grade (ELPAC.md §1.3, §2).

    ``level_4_from`` is null for the Summative Alternate ELPAC (three levels).

    Examples
    --------
    >>> bands = level_bands()
    >>> bands.filter(pl.col("grade_assessed") == "03").rows()  # doctest: +NORMALIZE_WHITESPACE
    [('21', '03', 1150, 1448, 1488, 1535, 1800), ('23', '03', 501, 544, 560, None, 599)]
    """
    rows = []
    for grade in domain.GRADES:
        low, high = domain.summative_range(grade).low, domain.summative_range(grade).high
        rows.append((domain.RECORD_TYPE_SUMMATIVE, grade, low,
                     *domain.summative_cuts("overall", grade), high))
        alt = domain.alternate_range(grade)
        rows.append((domain.RECORD_TYPE_ALTERNATE, grade, alt.low,
                     *domain.alternate_cuts(grade), None, alt.high))
    return pl.DataFrame(rows, schema=BAND_SCHEMA, orient="row")


def score_history(records: pl.DataFrame) -> pl.DataFrame:
    """A student's overall and composite results by year and test, oldest first.

    ``records`` is what ``read_student`` returns. Each row carries its score status and the
    level cuts of its grade and test, so one frame feeds both the table and the chart.

    Examples
    --------
    >>> records = pl.DataFrame({
    ...     "school_year": ["2024-25", "2023-24"], "record_type": ["21", "21"],
    ...     "grade_assessed": ["04", "03"], "condition_code": [None, "NT"],
    ...     "attemptedness": ["Y", None], "include_indicator": ["Y", "N"],
    ...     "overall_scale_score": [1502, None], "overall_level": [3, None],
    ...     "oral_scale_score": [1490, None], "oral_level": [3, None],
    ...     "written_scale_score": [1514, None], "written_level": [2, None]},
    ...     schema_overrides={"overall_scale_score": pl.Int16, "overall_level": pl.Int8,
    ...                       "oral_scale_score": pl.Int16, "oral_level": pl.Int8,
    ...                       "written_scale_score": pl.Int16, "written_level": pl.Int8})
    >>> score_history(records).select("school_year", "score_status", "level_3_from").rows()
    [('2023-24', 'Eligible but not tested', 1488), ('2024-25', 'Scored', 1499)]
    """
    return (records.with_columns(score_status())  # recomputed: any record frame will do
            .join(level_bands(), on=["record_type", "grade_assessed"], how="left")
            .sort("school_year", "record_type")
            .select("school_year", "record_type", "grade_assessed", "score_status",
                    "overall_scale_score", "overall_level", "oral_scale_score", "oral_level",
                    "written_scale_score", "written_level", *list(BAND_SCHEMA)[2:]))
