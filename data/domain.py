"""Score scales, cut scores and code lists of the Summative ELPAC and Summative Alternate ELPAC.

Every table cites its section of ``../shared/domain/ELPAC.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

GRADES: tuple[str, ...] = (
    "KN", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12")
"""Assessment grades as the student file writes them (ELPAC.md §3.2, field 17)."""

COUNTIES = (
    "Alameda", "Alpine", "Amador", "Butte", "Calaveras", "Colusa", "Contra Costa", "Del Norte",
    "El Dorado", "Fresno", "Glenn", "Humboldt", "Imperial", "Inyo", "Kern", "Kings", "Lake",
    "Lassen", "Los Angeles", "Madera", "Marin", "Mariposa", "Mendocino", "Merced", "Modoc",
    "Mono", "Monterey", "Napa", "Nevada", "Orange", "Placer", "Plumas", "Riverside",
    "Sacramento", "San Benito", "San Bernardino", "San Diego", "San Francisco", "San Joaquin",
    "San Luis Obispo", "San Mateo", "Santa Barbara", "Santa Clara", "Santa Cruz", "Shasta",
    "Sierra", "Siskiyou", "Solano", "Sonoma", "Stanislaus", "Sutter", "Tehama", "Trinity",
    "Tulare", "Tuolumne", "Ventura", "Yolo", "Yuba",
)
"""County names in county-code order, 01-58 (00 is the state)."""

RECORD_TYPE_SUMMATIVE = "21"
RECORD_TYPE_ALTERNATE = "23"

INCOMPLETE_YEARS: dict[str, str] = {"2019-20": "testing stopped in March 2020"}
"""School years whose results hold only some students, and why (ELPAC.md §1.1: spring 2020
testing was suspended, so a 2019-20 file holds the students tested before then). Reports show
them only when asked, marked incomplete; SSR score history never shows 2019-20 (§7)."""

LOSS = 1150
"""Lowest obtainable scale score, every grade (ELPAC.md §1.1)."""

_HOSS_BY_GRADE = {
    "KN": 1700, "01": 1700, "02": 1700, "03": 1800, "04": 1800, "05": 1800,
    "06": 1900, "07": 1900, "08": 1900, "09": 1950, "10": 1950, "11": 1950, "12": 1950,
}

# Minimum scale score of levels 2, 3 and 4 (ELPAC.md §1.3, "the same cuts as minimum scale scores").
# Grades 9-10 and 11-12 share a table.
_CUTS: dict[str, dict[str, tuple[int, int, int]]] = {
    "overall": {
        "KN": (1374, 1422, 1474), "01": (1411, 1455, 1507), "02": (1424, 1471, 1532),
        "03": (1448, 1488, 1535), "04": (1459, 1499, 1549), "05": (1467, 1514, 1560),
        "06": (1475, 1517, 1567), "07": (1481, 1527, 1576), "08": (1486, 1534, 1590),
        "09": (1493, 1545, 1606), "11": (1500, 1555, 1615),
    },
    "oral": {
        "KN": (1386, 1427, 1478), "01": (1408, 1451, 1493), "02": (1414, 1460, 1510),
        "03": (1435, 1466, 1512), "04": (1439, 1472, 1522), "05": (1447, 1477, 1533),
        "06": (1450, 1484, 1542), "07": (1456, 1498, 1554), "08": (1461, 1505, 1569),
        "09": (1465, 1512, 1579), "11": (1470, 1514, 1583),
    },
    "written": {
        "KN": (1346, 1410, 1463), "01": (1414, 1459, 1520), "02": (1433, 1481, 1554),
        # Grade 3 level 3 starts at 1509: the range table says 1509-1556 and 15 real 2018-19
        # records score 1508 at level 2; the "minimum" table in ELPAC.md §1.3 misprints 1508.
        "03": (1461, 1509, 1557), "04": (1478, 1525, 1575), "05": (1487, 1550, 1587),
        "06": (1499, 1550, 1592), "07": (1505, 1556, 1598), "08": (1510, 1562, 1610),
        "09": (1520, 1578, 1632), "11": (1529, 1595, 1646),
    },
}
for _table in _CUTS.values():
    _table["10"] = _table["09"]
    _table["12"] = _table["11"]

# Summative Alternate ELPAC: each grade span owns a hundred band, base+1 .. base+99, with
# levels 2 and 3 starting at base+44 and base+60 (ELPAC.md §2).
_ALT_BASE = {
    "KN": 200, "01": 300, "02": 400, "03": 500, "04": 500, "05": 500,
    "06": 600, "07": 600, "08": 600, "09": 700, "10": 700, "11": 800, "12": 800,
}

SUMMATIVE_WEIGHT_ORAL = {g: (0.7 if g == "KN" else 0.5) for g in GRADES}
"""Weight of Oral Language in the overall score: K 70/30, grades 1-12 50/50 (ELPAC.md §1.1)."""


@dataclass(frozen=True)
class ScoreRange:
    """Lowest and highest obtainable scale score of one test and grade."""

    low: int
    high: int


def summative_range(grade: str) -> ScoreRange:
    """Return the Summative ELPAC scale-score range of an assessment grade.

    Examples
    --------
    >>> summative_range("KN")
    ScoreRange(low=1150, high=1700)
    """
    return ScoreRange(LOSS, _HOSS_BY_GRADE[grade])


def alternate_range(grade: str) -> ScoreRange:
    """Return the Summative Alternate ELPAC scale-score range of an assessment grade.

    Examples
    --------
    >>> alternate_range("07")
    ScoreRange(low=601, high=699)
    """
    base = _ALT_BASE[grade]
    return ScoreRange(base + 1, base + 99)


def summative_cuts(measure: str, grade: str) -> tuple[int, int, int]:
    """Minimum scale scores of levels 2, 3 and 4 for ``measure`` (overall, oral, written)."""
    return _CUTS[measure][grade]


def alternate_cuts(grade: str) -> tuple[int, int]:
    """Minimum scale scores of levels 2 and 3 of the Summative Alternate ELPAC."""
    base = _ALT_BASE[grade]
    return (base + 44, base + 60)


def summative_level(measure: str, grade: str, score: int) -> int:
    """Performance level (1-4) of a Summative ELPAC scale score.

    Examples
    --------
    >>> summative_level("overall", "02", 1417)
    1
    >>> summative_level("overall", "KN", 1539)
    4
    """
    return 1 + sum(score >= cut for cut in _CUTS[measure][grade])


def alternate_level(grade: str, score: int) -> int:
    """Performance level (1-3) of a Summative Alternate ELPAC scale score.

    Examples
    --------
    >>> alternate_level("07", 644)
    2
    """
    return 1 + sum(score >= cut for cut in alternate_cuts(grade))


def overall_from_composites(grade: str, oral: int, written: int) -> int:
    """Overall scale score: the grade's weighted mean of the composites, rounded half up.

    Observed in every scored record of the real files (ELPAC.md §1.1).

    Examples
    --------
    >>> overall_from_composites("02", 1415, 1418)
    1417
    >>> overall_from_composites("KN", 1540, 1535)
    1539
    """
    # Integer arithmetic in tenths avoids binary rounding of 0.7 * x.
    w = 7 if grade == "KN" else 5
    tenths = w * oral + (10 - w) * written
    return (tenths + 5) // 10


def school_year_label(spring_year: int) -> str:
    """``2025`` -> ``"2024-25"``.

    Examples
    --------
    >>> school_year_label(2025)
    '2024-25'
    """
    return f"{spring_year - 1}-{spring_year % 100:02d}"


def spring_year(school_year: str) -> int:
    """``"2024-25"`` -> ``2025``; raises ``ValueError`` for anything else.

    Examples
    --------
    >>> spring_year("2024-25")
    2025
    """
    head, sep, tail = school_year.partition("-")
    if not (sep and head.isdigit() and len(head) == 4 and tail.isdigit() and len(tail) == 2):
        raise ValueError(f"school year {school_year!r} is not like 2024-25")
    start = int(head)
    if (start + 1) % 100 != int(tail):
        raise ValueError(f"school year {school_year!r} does not span two consecutive years")
    return start + 1


def expand_years(spec: str) -> list[str]:
    """Expand ``"2018-19..2021-22"`` or ``"2023-24,2024-25"`` into school-year labels.

    Examples
    --------
    >>> expand_years("2018-19..2020-21")
    ['2018-19', '2019-20', '2020-21']
    """
    years: list[str] = []
    for part in spec.split(","):
        part = part.strip()
        if ".." in part:
            first, last = (spring_year(p.strip()) for p in part.split("..", 1))
            if last < first:
                raise ValueError(f"year range {part!r} runs backwards")
            years.extend(school_year_label(y) for y in range(first, last + 1))
        elif part:
            years.append(school_year_label(spring_year(part)))
    return years


SSR_PRIMARY_LANGUAGES = {"SPA": "Spanish", "VIE": "Vietnamese", "FIL": "Filipino",
                         "KOR": "Korean", "CHI": "Chinese (Traditional)"}
"""Languages with a primary-language SSR besides English (ELPAC.md §7).

Korean was added after 2019-20. Chinese covers Mandarin and Cantonese (CEDS codes ``CMN``,
``YUE``, ``ZHO``/``CHI``), Filipino covers Tagalog (``TGL``)."""

CEDS_TO_SSR_LANGUAGE = {
    "SPA": "SPA", "VIE": "VIE", "FIL": "FIL", "TGL": "FIL", "KOR": "KOR",
    "CHI": "CHI", "ZHO": "CHI", "CMN": "CHI", "YUE": "CHI",
}

# CALPADS numeric language codes used up to 2022-23 (ELPAC.md §3.2, fields 37-38).
CALPADS_LANGUAGE_TO_CEDS = {
    "00": "ENG", "01": "SPA", "02": "VIE", "03": "YUE", "04": "KOR", "05": "FIL",
    "07": "CMN", "11": "ARA",
}


def ssr_languages(school_year: str, ceds_language: str | None) -> str:
    """SSR languages of an SSR-eligible student: ``ENG`` plus the primary language if offered.

    Examples
    --------
    >>> ssr_languages("2024-25", "SPA")
    'ENG;SPA'
    >>> ssr_languages("2019-20", "KOR")
    'ENG'
    """
    lang = CEDS_TO_SSR_LANGUAGE.get((ceds_language or "").upper())
    if lang is None or (lang == "KOR" and spring_year(school_year) <= 2020):
        return "ENG"
    return f"ENG;{lang}"
