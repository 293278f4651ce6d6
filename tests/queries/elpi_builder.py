"""Two school years of the same hand-built students, written as real TOMS files and loaded.

The prior year is 2024-25 and the current one 2025-26, both in the 2024-25 layout (the newest;
it carries the ``…Minus1`` fields and ``LTELorARLTEL``). Each record is a dict of canonical
field names to values, completed by ``tests/queries/conftest.py``'s ``complete_record`` with
dates moved into its year. ``ELPI_TABLE`` is ELPI.md §1's Table 3 typed in again as printed
(inclusive ranges), so the tests' expectations do not come from the code under test.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from data.results.ingest import ingest
from data.results.store import Store
from queries.snapshot import Snapshot
from tests.queries.conftest import toms_text

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    import pytest

PRIOR, CURRENT = "2024-25", "2025-26"
FINAL_CREATED = {PRIOR: "2025-09-15", CURRENT: "2026-09-15"}
"""Files created in September: final (``queries.snapshot.FINAL_AFTER``)."""

ELPI_TABLE: dict[str, tuple[tuple[int, int], ...]] = {
    # grade: 2L, 2H, 3L, 3H (inclusive), as ELPI.md §1 prints them.
    "KN": ((1374, 1397), (1398, 1421), (1422, 1447), (1448, 1473)),
    "01": ((1411, 1432), (1433, 1454), (1455, 1480), (1481, 1506)),
    "02": ((1424, 1446), (1447, 1470), (1471, 1500), (1501, 1531)),
    "03": ((1448, 1467), (1468, 1487), (1488, 1510), (1511, 1534)),
    "04": ((1459, 1478), (1479, 1498), (1499, 1523), (1524, 1548)),
    "05": ((1467, 1489), (1490, 1513), (1514, 1536), (1537, 1559)),
    "06": ((1475, 1495), (1496, 1516), (1517, 1541), (1542, 1566)),
    "07": ((1481, 1503), (1504, 1526), (1527, 1550), (1551, 1575)),
    "08": ((1486, 1509), (1510, 1533), (1534, 1561), (1562, 1589)),
    "09": ((1493, 1518), (1519, 1544), (1545, 1574), (1575, 1605)),
    "11": ((1500, 1526), (1527, 1554), (1555, 1584), (1585, 1614)),
}
ELPI_TABLE["10"] = ELPI_TABLE["09"]
ELPI_TABLE["12"] = ELPI_TABLE["11"]
LEVELS = ("1", "2L", "2H", "3L", "3H", "4")


def elpi_level(grade: str, score: int) -> str:
    """ELPI level of a Summative overall score, read off the printed table."""
    ranges = ELPI_TABLE[grade]
    if score < ranges[0][0]:
        return "1"
    if score > ranges[-1][1]:
        return "4"
    return next(name for name, (low, high) in zip(LEVELS[1:5], ranges, strict=True)
                if low <= score <= high)


def in_year(record: Mapping[str, object], year: str) -> dict[str, object]:
    """``record`` with its test dates in ``year`` (where the record does not give them)."""
    spring = int(year[:4]) + 1
    out = dict(record)
    tested = out.get("TestedStatus", "Y") != "N"
    if tested:
        out.setdefault("FinalTestCompletedDate", f"{spring}-03-14")
        out.setdefault("ScoreAvailableDate", f"{spring}-04-10")
        if out.get("Attemptedness", "Y") != "P":
            alternate = out.get("RecordType") == "23"
            out.setdefault("SSRAvailableDate", f"{spring}-08-05" if alternate
                           else f"{spring}-05-22")
    return out


def write_year(directory: Path, records: list[Mapping[str, object]], year: str, *,
               created: str | None = None, first: int = 1, tag: str = "Hand") -> Path:
    """A tested-LEA file of ``year`` holding ``records`` (named as TOMS names it)."""
    spring = int(year[:4]) + 1
    path = directory / (f"{tag}{spring}_Summative_ELPAC_and_Summative_Alternate_ELPAC_Student_"
                        f"Score_Data_File_TestedStudentScoreData_{spring}_DLMTR.CSV")
    text = toms_text([in_year(r, year) for r in records],
                     created=created or FINAL_CREATED[year], first=first)
    path.write_text(text, encoding="utf-8")
    return path


def two_years(factory: pytest.TempPathFactory, prior: list[Mapping[str, object]],
              current: list[Mapping[str, object]], *, created: dict[str, str] | None = None
              ) -> Snapshot:
    """A store holding ``prior`` as 2024-25 and ``current`` as 2025-26, loaded by the ingest.

    Records without an SSID get distinct ones (record numbers run on across the two files).
    """
    directory = factory.mktemp("elpi-files")
    dates = {**FINAL_CREATED, **(created or {})}
    paths = []
    if prior:
        paths.append(write_year(directory, prior, PRIOR, created=dates[PRIOR]))
    paths.append(write_year(directory, current, CURRENT, created=dates[CURRENT],
                            first=len(prior) + 1))
    store = Store(factory.mktemp("elpi-store") / "store")
    result = ingest(paths, store=store)
    assert result.ok, (result.file_problems, result.row_problems.head(10).rows())
    return Snapshot(store.path)
