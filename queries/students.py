"""One student's score status and reports, and finding students: PII, so the scope must allow it.

The score status is what TOMS shows on a student's profile: score-available date, condition
code, attemptedness, include indicator, domain exemptions; the reporting part: SSR eligibility,
languages and release date. Only records in the scope come back, across every year stored.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from data.groups import GROUP_BY_ID
from data.summary import RECORD_COLUMNS
from queries.reports import ScopeError, read_records

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
)
SEARCH_COLUMNS = ("ssid", "last_name", "first_name", "grade_assessed", "record_type",
                  "reporting_lea_code", "reporting_school_code", "tested_school_name",
                  "overall_level")


def _require_pii(scope: Scope) -> None:
    if not scope.pii:
        raise ScopeError("student-level data needs a scope that allows personal information")


def find_students(snap: Snapshot, *, scope: Scope, text: str = "", year: str | None = None,
                  lea: str | None = None, school: str | None = None,
                  grade: str | None = None, group: str | None = None,
                  limit: int = 500) -> pl.DataFrame:
    """Students in scope matching an SSID, a name, or a list filter (school, grade, group).

    ``text`` matches an SSID exactly (leading zeros optional) or the start of a last or first
    name, case-insensitively. One row per student and test: their latest year's record.
    """
    _require_pii(scope)
    years = [year] if year else list(snap.years)
    text = text.strip()
    records = read_records(snap, years, scope=scope, orgs=snap.orgs_of(years),
                           record_type=None,
                           columns=list(dict.fromkeys([*SEARCH_COLUMNS, *RECORD_COLUMNS])),
                           leas=[lea] if lea else None,
                           ssids=[text.zfill(10)] if text.isdigit() else None,
                           name_prefix=text.lower() if text and not text.isdigit() else None)
    if records.height == 0:
        return pl.DataFrame(schema={"ssid": pl.String, "last_name": pl.String,
                                    "first_name": pl.String, "school_year": pl.String,
                                    "grade_assessed": pl.String, "record_type": pl.String,
                                    "reporting_lea_code": pl.String,
                                    "reporting_school_code": pl.String,
                                    "tested_school_name": pl.String, "overall_level": pl.Int8})
    keep = pl.lit(True)
    if school:
        keep = keep & (pl.col("reporting_school_code") == school)
    if grade:
        keep = keep & (pl.col("grade_assessed") == grade)
    if group:
        keep = keep & GROUP_BY_ID[group].polars()
    found = (records.filter(keep).sort("school_year", descending=True)
             .unique(subset=["ssid", "record_type"], keep="first", maintain_order=True)
             .sort("last_name", "first_name", "ssid").head(limit))
    return found.select("ssid", "last_name", "first_name", "school_year", "grade_assessed",
                        "record_type", "reporting_lea_code", "reporting_school_code",
                        "tested_school_name", "overall_level")


def read_student(snap: Snapshot, ssid: str, *, scope: Scope) -> pl.DataFrame:
    """Every record of one student in scope, newest year first (score history included)."""
    _require_pii(scope)
    records = read_records(snap, snap.years, scope=scope, orgs=snap.orgs_of(snap.years),
                           record_type=None, columns=PROFILE_COLUMNS,
                           ssids=[ssid.strip().zfill(10)])
    if records.height == 0:
        return records
    return records.sort("school_year", "record_type", descending=[True, False])
