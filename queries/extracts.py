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

from data.domain import spring_year
from data.student_groups import GROUP_BY_ID
from queries.labels import TESTS
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
                      detail: str | None = None, score_from: date | None = None,
                      score_to: date | None = None, scored_only: bool = False) -> str:
    """A file name saying what the extract holds and the day it was made.

    Two extracts with different filters get different names: the score-available dates
    (``open`` for a side with no date) and ``scored`` when records without one are left out.

    Examples
    --------
    >>> extract_file_name("ssdf", detail="tested", org="19647330000000", year="2024-25",
    ...                   fmt="csv", on=date(2026, 11, 23))
    'elpac-ssdf-tested-19647330000000-2024-25-20261123.csv'
    >>> extract_file_name("ssdf", detail="tested", org="19647330000000", year="2024-25",
    ...                   fmt="csv", on=date(2026, 11, 23), score_from=date(2025, 2, 1))
    'elpac-ssdf-tested-19647330000000-2024-25-scores-20250201-to-open-20261123.csv'
    >>> extract_file_name("district", detail="alternate", org="19647330000000", year="2024-25",
    ...                   fmt="xlsx", on=date(2026, 11, 23))
    'elpac-district-alternate-19647330000000-2024-25-20261123.xlsx'
    """
    parts = ["elpac", kind, *([detail] if detail else []), org, year]
    if score_from or score_to:
        parts.append(f"scores-{f'{score_from:%Y%m%d}' if score_from else 'open'}-to-"
                     f"{f'{score_to:%Y%m%d}' if score_to else 'open'}")
    if scored_only:
        parts.append("scored")
    return "-".join([*parts, f"{on:%Y%m%d}"]) + "." + EXTENSIONS[fmt]


def require_pii(scope: Scope) -> None:
    """Refuse a student-level extract to a scope without student records (``ScopeError``)."""
    if not scope.pii:
        raise ScopeError(_PII_MESSAGE)


def check_year(snap: Snapshot, year: str) -> None:
    """Refuse a school year the store has no results for, naming those it has."""
    if year not in snap.years:
        raise ValueError(f"The store has no results for {year}. Choose one of "
                         f"{', '.join(snap.years) or 'the loaded years'}.")


def check_test(test: str) -> None:
    """Refuse a test other than the Summative ELPAC or the Summative Alternate ELPAC."""
    if test not in TESTS:
        raise ValueError(f"The test must be one of {', '.join(TESTS)}.")


def in_groups(scope: Scope) -> pl.Expr:
    """Records of the scope's student groups and students (all records when it has none)."""
    if scope.all_students:
        return scope.ssid_filter()
    keep = pl.lit(False)
    for gid in scope.groups:
        keep = keep | GROUP_BY_ID[gid].polars()
    return keep & scope.ssid_filter()


def side_in_scope(scope: Scope, side: Side) -> pl.Expr:
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

# -- Writing, with progress ------------------------------------------------------------------

def progress_writer(progress: Callable[[float, str], None] | None, start: float
            ) -> Callable[[int, int], None] | None:
    """Map a writer's (rows done, rows in all) to the remaining part of the progress bar."""
    if progress is None:
        return None

    def report(done: int, total: int) -> None:
        fraction = start + (1 - start) * done / max(total, 1)
        progress(min(fraction, 1.0), f"Writing rows: {done:,} of {total:,}")

    return report


def say(progress: Callable[[float, str], None] | None, fraction: float, text: str) -> None:
    """Report progress (a fraction and a sentence), when someone listens."""
    if progress is not None:
        progress(fraction, text)


def build_research_file(snap: Snapshot, out: Path, *, scope: Scope, year: str,
                        suppress: bool, test: str = "summative", lea: str | None = None,
                        school: str | None = None,
                        progress: Callable[[float, str], None] | None = None) -> Extract:
    """Write the research file (``queries.research``) for a year and test, caret-delimited.

    ``suppress`` has no default, as ``research_rows``: the caller says whether groups under
    the threshold show ``*`` (an aggregate-only scope always does). ``school``: that
    school's rows only (a school's staff see no LEA row: it counts other schools).
    """
    check_test(test)
    check_year(snap, year)
    # A school is checked against the scope by research_rows.
    if school is None and lea is None and not scope.statewide:
        raise ScopeError("The full research file covers all of California, which is outside "
                         "your access. Choose one of your LEAs.")
    if school is None and lea is not None and not scope.allows_lea(lea[:2], lea):
        raise ScopeError(f"LEA {lea} is not in your access. Choose one of your own LEAs.")
    say(progress, 0.0, "Computing every organisation, group and grade")
    rows = research_rows(snap, year=year, test=test, scope=scope, lea=None if school else lea,
                         school=school, suppress=suppress)
    say(progress, 0.8, f"Writing {rows.height:,} rows")
    write_research_file(rows, out)
    say(progress, 1.0, f"Wrote {rows.height:,} rows")
    return Extract(out, rows.height)
