"""What a Student Score Report says: one student's scores of a year and their score history.

ELPAC.md §7. An SSR exists for a record with ``SSREligible`` = Y (a complete test). Page 1
carries the student, school, grade, year and the overall score and level; page 2 the oral and
written composites, the level of each domain (exemptions marked) and the score history of the
earlier years in the store, with the state's messages: "Eligible but not tested" for a year
the student was eligible but did not test, "Incomplete test" for a partial test, nothing for a
year the student has no record; 2019-20 is never shown. The Summative Alternate ELPAC reports
an overall score and level only (§2).

Every read takes the user's ``Scope``: an SSR is student-level data, so the scope must allow
personal information, and a student outside it is reported as not found.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import duckdb
import polars as pl

from data.catalog.ssr_languages import overrides
from data.domain import GRADES, alternate_cuts, alternate_range, summative_cuts
from queries.labels import RECORD_TYPE_OF_TEST
from queries.records import read_records
from queries.scope import Scope, ScopeError

if TYPE_CHECKING:
    from datetime import date

    from queries.snapshot import Snapshot

DOMAINS = ("listening", "speaking", "reading", "writing")
SSR_LANGUAGES = ("ENG", "SPA", "VIE", "FIL", "KOR", "CHI")
"""SSR languages as the Student Score Data File codes them (§7)."""
NEVER_SHOWN = frozenset({"2019-20"})
"""School years an SSR's score history leaves out (testing suspended in spring 2020, §1.1)."""
HIGHEST = {"KN": 1700, "01": 1700, "02": 1700, "03": 1800, "04": 1800, "05": 1800,
           "06": 1900, "07": 1900, "08": 1900, "09": 1950, "10": 1950, "11": 1950, "12": 1950}
"""Highest obtainable Summative ELPAC scale score per grade (§1.1); the lowest is 1150."""
LOWEST = 1150

_COLUMNS = [
    "ssid", "last_name", "first_name", "middle_name", "birth_date", "local_student_id",
    "record_type", "grade_assessed", "enrolled_lea_code", "enrolled_school_code",
    "enrolled_district_name", "enrolled_school_name", "enrolled_charter_indicator",
    "tested_district_name", "tested_school_name", "reporting_lea_code",
    "reporting_school_code", "is_tested", "attemptedness", "include_indicator",
    "is_ssr_eligible", "ssr_languages", "ssr_available_date", "condition_code",
    "final_test_completed_date", "overall_scale_score", "overall_level", "oral_scale_score",
    "oral_level", "written_scale_score", "written_level",
    *(f"{d}_level" for d in DOMAINS), *(f"is_{d}_exempt" for d in DOMAINS),
]


class NoReportError(ValueError):
    """The student has no Student Score Report for that year and test (or is not in scope)."""


@dataclass(frozen=True)
class Scale:
    """Where a score sits: the scale's ends and the lowest score of each level above 1."""

    low: int
    high: int
    cuts: tuple[int, ...]


@dataclass(frozen=True)
class HistoryRow:
    """One school year of the score history (newest first).

    ``status`` is ``scored``, ``not_tested`` (eligible but not tested) or ``incomplete``
    (logged on, but not to one domain of each composite: no score).
    """

    school_year: str
    grade: str
    status: str
    overall_score: int | None = None
    overall_level: int | None = None
    oral_score: int | None = None
    oral_level: int | None = None
    written_score: int | None = None
    written_level: int | None = None


@dataclass(frozen=True)
class SsrContent:
    """Everything one SSR shows (numbers only: words come from the message catalogues)."""

    ssid: str
    first_name: str
    last_name: str
    birth_date: date | None
    grade: str
    school_year: str
    test: str
    lea_code: str
    lea_name: str
    school_code: str
    school_name: str
    languages: tuple[str, ...]
    released_on: date | None
    tested_on: date | None
    overall_score: int
    overall_level: int
    scale: Scale
    oral_score: int | None = None
    oral_level: int | None = None
    written_score: int | None = None
    written_level: int | None = None
    composite_scales: dict[str, Scale] = field(default_factory=dict)
    domain_levels: dict[str, int | None] = field(default_factory=dict)
    exempt: frozenset[str] = frozenset()
    history: tuple[HistoryRow, ...] = ()

    @property
    def n_levels(self) -> int:
        """4 for the Summative ELPAC's overall and composite scores, 3 for the Alternate."""
        return 3 if self.test == "alternate" else 4


def _scale(test: str, measure: str, grade: str) -> Scale:
    if test == "alternate":
        band = alternate_range(grade)
        return Scale(band.low, band.high, alternate_cuts(grade))
    return Scale(LOWEST, HIGHEST[grade], summative_cuts(measure, grade))


def _int(value: object) -> int | None:
    return None if value is None else int(value)  # type: ignore[call-overload]


def _history_row(row: dict[str, object]) -> HistoryRow | None:
    year, grade = str(row["school_year"]), str(row["grade_assessed"])
    if year in NEVER_SHOWN:
        return None
    if row["is_ssr_eligible"] and row["overall_scale_score"] is not None:
        return HistoryRow(year, grade, "scored", _int(row["overall_scale_score"]),
                          _int(row["overall_level"]), _int(row["oral_scale_score"]),
                          _int(row["oral_level"]), _int(row["written_scale_score"]),
                          _int(row["written_level"]))
    if not row["is_tested"]:
        return HistoryRow(year, grade, "not_tested")
    return HistoryRow(year, grade, "incomplete")


def _content(record: dict[str, object], earlier: list[dict[str, object]],
             test: str) -> SsrContent:
    grade = str(record["grade_assessed"])
    charter = record["enrolled_charter_indicator"] == "DF"
    lea_name = record["enrolled_school_name"] if charter else record["enrolled_district_name"]
    languages = tuple(str(record["ssr_languages"] or "ENG").split(";"))
    history = tuple(h for h in (_history_row(r) for r in earlier) if h is not None)
    content = SsrContent(
        ssid=str(record["ssid"]), first_name=str(record["first_name"] or ""),
        last_name=str(record["last_name"] or ""),
        birth_date=record["birth_date"],  # type: ignore[arg-type]
        grade=grade, school_year=str(record["school_year"]), test=test,
        lea_code=str(record["enrolled_lea_code"] or record["reporting_lea_code"]),
        lea_name=str(lea_name or record["tested_district_name"] or ""),
        school_code=str(record["enrolled_school_code"] or record["reporting_school_code"]
                        or ""),
        school_name=str(record["enrolled_school_name"] or record["tested_school_name"] or ""),
        languages=languages,
        released_on=record["ssr_available_date"],  # type: ignore[arg-type]
        tested_on=record["final_test_completed_date"],  # type: ignore[arg-type]
        overall_score=int(record["overall_scale_score"]),  # type: ignore[call-overload]
        overall_level=int(record["overall_level"]),  # type: ignore[call-overload]
        scale=_scale(test, "overall", grade), history=history)
    if test == "alternate":
        return content
    return SsrContent(**{
        **content.__dict__,
        "oral_score": _int(record["oral_scale_score"]), "oral_level": _int(record["oral_level"]),
        "written_score": _int(record["written_scale_score"]),
        "written_level": _int(record["written_level"]),
        "composite_scales": {m: _scale(test, m, grade) for m in ("oral", "written")},
        "domain_levels": {d: _int(record[f"{d}_level"]) for d in DOMAINS},
        "exempt": frozenset(d for d in DOMAINS if record[f"is_{d}_exempt"]),
    })


def _require_pii(scope: Scope) -> None:
    if not scope.pii:
        raise ScopeError("Student Score Reports are student records: your access shows "
                         "aggregate results only.")


def read_ssr_content(snap: Snapshot, ssid: str, *, scope: Scope, year: str | None = None,
                     test: str = "summative") -> SsrContent:
    """The SSR of one student for a year (default: their newest year with an SSR) and test.

    Raises
    ------
    ScopeError
        The scope does not allow personal information.
    NoReportError
        No SSR for this student, year and test in the scope (not eligible, not tested, or
        not a student the scope covers: the message does not say which).
    """
    _require_pii(scope)
    ssid = ssid.strip().zfill(10)
    record_type = RECORD_TYPE_OF_TEST[test]
    mine = read_records(snap, snap.years, scope=scope, orgs=snap.orgs_of(snap.years),
                        record_type=record_type, columns=_COLUMNS, ssids=[ssid],
                        side="enrolled")
    # The SSRs the scope's LEAs and schools were sent (by enrolment), each with the student's
    # whole score history.
    years = sorted(set(mine.filter(pl.col("is_ssr_eligible").fill_null(False))
                       .get_column("school_year"))) if mine.height else []
    if year is not None:
        years = [y for y in years if y == year]
    found = _build(_with_history(snap, mine, [ssid], record_type), test, years=years,
                   languages=overrides(snap.store, [ssid])) if years else []
    if not found:
        name = "Summative Alternate ELPAC" if test == "alternate" else "Summative ELPAC"
        raise NoReportError(f"No {name} Student Score Report for SSID {ssid}"
                            + (f" in {year}" if year else "") + " in your access.")
    return found[-1]


def _with_history(snap: Snapshot, records: pl.DataFrame, ssids: list[str], record_type: str,
                  *, before: str | None = None) -> pl.DataFrame:
    """The SSR records with every record of those students from other years, any LEA.

    An SSR's score history is the student's, wherever they tested (the state's SSR shows it
    so): for students whose SSR the scope was sent, their earlier records are read whole.
    ``before`` keeps only earlier years (a bulk job of one year).
    """
    years = [y for y in snap.years if before is None or y < before]
    if not ssids or not years:
        return records
    history_scope = Scope(statewide=True, pii=True, ssids=tuple(ssids))
    others = read_records(snap, years, scope=history_scope, orgs=snap.orgs_of(years),
                          record_type=record_type, columns=_COLUMNS)
    # The scope's own records stand; the other years come from the whole store.
    others = others.join(records.select("ssid", "school_year").unique(),
                         on=["ssid", "school_year"], how="anti")
    return pl.concat([others, records.select(others.columns)], how="vertical_relaxed")


def _build(records: pl.DataFrame, test: str, *, years: list[str] | None,
           languages: dict[tuple[str, str, str], tuple[str, ...]] | None = None
           ) -> list[SsrContent]:
    """The SSRs among the records (one per student and year), oldest year first.

    ``languages`` overrides the file's SSR languages per (SSID, year, record type)
    (``data.catalog.ssr_languages``: an LEA coordinator's choice).
    """
    if records.height == 0:
        return []
    records = records.sort("ssid", "school_year")
    out = []
    for (_,), mine in records.group_by(["ssid"], maintain_order=True):
        rows = mine.to_dicts()
        for i, row in enumerate(rows):
            if not row["is_ssr_eligible"] or row["overall_scale_score"] is None:
                continue
            if years is not None and row["school_year"] not in years:
                continue
            earlier = [r for r in reversed(rows[:i]) if r["school_year"] < row["school_year"]]
            chosen = (languages or {}).get((row["ssid"], row["school_year"], row["record_type"]))
            if chosen is not None:
                row = {**row, "ssr_languages": ";".join(chosen)}
            out.append(_content(row, earlier, test))
    return out


def list_ssr_contents(snap: Snapshot, *, scope: Scope, year: str, test: str = "summative",
                      lea: str | None = None, school: str | None = None,
                      grade: str | None = None, language: str | None = None
                      ) -> list[SsrContent]:
    """Every SSR of a year in scope, by enrolled LEA, school, grade and SSR language.

    Ordered by school, grade, last and first name (the order a school prints them in).
    ``language`` keeps the students with an SSR in that language (``ENG``: everyone).
    """
    _require_pii(scope)
    if year not in snap.years:
        raise ValueError(f"The store has no results for {year}.")
    if language is not None and language not in SSR_LANGUAGES:
        raise ValueError(f"SSR languages are {', '.join(SSR_LANGUAGES)}, not {language!r}.")
    # Only well-formed codes reach the SQL the filter renders to (records_relation's rule:
    # no free text from a user in it).
    for name, value in (("LEA", lea), ("school", school)):
        if value is not None and not (len(value) == 14 and value.isdigit()):
            raise ValueError(f"The {name} must be a 14-digit CDS code, not {value!r}.")
    if grade is not None and grade not in GRADES:
        raise ValueError(f"The grade must be KN or 01-12, not {grade!r}.")
    # The choices are filtered inside DuckDB: read first and filtered in Polars, a statewide
    # year's records took 0.9 GB and 2.8 s to print one school's reports (benchmarks/ssr.py).
    column, constant = duckdb.ColumnExpression, duckdb.ConstantExpression
    where = (column("is_ssr_eligible") == constant(True)) & column(
        "overall_scale_score").isnotnull()
    for name, value in (("enrolled_lea_code", lea), ("enrolled_school_code", school),
                        ("grade_assessed", grade)):
        if value is not None:
            where = where & (column(name) == constant(value))
    chosen = read_records(snap, [year], scope=scope, orgs=snap.orgs_of([year]),
                          record_type=RECORD_TYPE_OF_TEST[test], columns=_COLUMNS,
                          side="enrolled", where=where)
    if chosen.height == 0:
        return []
    ssids = chosen.get_column("ssid").unique().to_list()
    contents = _build(_with_history(snap, chosen, ssids, RECORD_TYPE_OF_TEST[test],
                                    before=year), test,
                      years=[year], languages=overrides(snap.store, ssids))
    if language is not None:
        # After the overrides: a coordinator may have changed a student's languages.
        contents = [c for c in contents if language in c.languages]
    order = {g: i for i, g in enumerate(GRADES)}
    return sorted(contents, key=lambda c: (c.school_code, order.get(c.grade, 99),
                                           c.last_name.lower(), c.first_name.lower(), c.ssid))
