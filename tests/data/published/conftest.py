"""A small research file built here, row by row, in the layout of ELPAC.md §5.3."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from queries.research import research_columns

if TYPE_CHECKING:
    from pathlib import Path

YEAR = "2024-25"
HEADER = research_columns("summative")
LEA = ("19", "64733", "0000000")
SCHOOL = ("19", "64733", "6017016")


def row(county: str, district: str, school: str, type_id: str, grade: str = "13",
        group: str = "001", **cells: str) -> dict[str, str]:
    """One valid summative row: 40 tested, 10 at each level (overall, oral, written) and
    domains 10/10/20; ``cells`` overrides any column."""
    out = dict.fromkeys(HEADER, "")
    out.update(CountyCode=county, DistrictCode=district, SchoolCode=school, TypeID=type_id,
               TestYear="2025", StudentGroupID=group, AssessmentType="2", Grade=grade,
               TotalEnrolled="42", TotalTested="41", TotalTestedWithScores="40")
    for stem in ("Overall", "OralLang", "WritLang"):
        out[f"{stem}MeanSclScr"] = "1480.5"
        for k in (1, 2, 3, 4):
            out[f"{stem}PerfLvl{k}Pcnt"] = "25.00"
            out[f"{stem}PerfLvl{k}Count"] = "10"
        out[f"{stem}Total"] = "40"
    for stem in ("Listening", "Speaking", "Reading", "Writing"):
        for name, n, pct in (("Begin", "10", "25.00"), ("Moderate", "10", "25.00"),
                             ("Developed", "20", "50.00")):
            out[f"{stem}Domain{name}Pcnt"] = pct
            out[f"{stem}Domain{name}Count"] = n
        out[f"{stem}DomainTotal"] = "40"
    out.update(cells)
    return out


def valid_rows() -> list[dict[str, str]]:
    """State, county, LEA and school rows: all grades and kindergarten, two groups."""
    return [row("00", "00000", "0000000", "04"), row("19", "00000", "0000000", "03"),
            row(*LEA, "02"), row(*LEA, "02", grade="KN"), row(*SCHOOL, "01"),
            row(*SCHOOL, "01", group="160"), row(*SCHOOL, "01", grade="KN")]


def write_file(path: Path, rows: list[dict[str, str]], header: list[str] | None = None,
               encoding: str = "utf-8") -> Path:
    """Rows caret-delimited with CRLF line ends, as CDE writes them."""
    header = header or HEADER
    lines = ["^".join(header), *("^".join(r.get(h, "") for h in header) for r in rows)]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


@pytest.fixture
def research_file(tmp_path: Path) -> Path:
    """A valid seven-row research file."""
    return write_file(tmp_path / "sa_elpac2025_all_csv_v1.txt", valid_rows())
