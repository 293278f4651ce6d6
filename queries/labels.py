"""Every label the reports, charts and exports show, in one place (STYLE.md rule 10).

Level names follow the SSRs and CERS (ELPAC.md §1.2, §1.4, §2).
"""

from __future__ import annotations

from data.domain import GRADES, RECORD_TYPE_ALTERNATE, RECORD_TYPE_SUMMATIVE
from data.groups import DIMENSIONS, GROUP_BY_ID

TESTS: dict[str, str] = {"summative": "Summative ELPAC", "alternate": "Summative Alternate ELPAC"}
RECORD_TYPE_OF_TEST: dict[str, str] = {"summative": RECORD_TYPE_SUMMATIVE,
                                       "alternate": RECORD_TYPE_ALTERNATE}

MEASURE_NAMES: dict[str, str] = {
    "overall": "Overall", "oral": "Oral Language", "written": "Written Language",
    "listening": "Listening", "speaking": "Speaking", "reading": "Reading",
    "writing": "Writing",
}
SUMMATIVE_LEVELS = ("Beginning to Develop", "Somewhat Developed", "Moderately Developed",
                    "Well Developed")
DOMAIN_LEVELS = ("Beginning to Develop", "Somewhat/Moderately Developed", "Well Developed")
ALTERNATE_LEVELS = ("Novice English Learner", "Intermediate English Learner",
                    "Fluent English Proficient")


def level_names(test: str, measure: str) -> tuple[str, ...]:
    """Names of the levels of a measure, level 1 first.

    Examples
    --------
    >>> level_names("alternate", "overall")[2]
    'Fluent English Proficient'
    >>> len(level_names("summative", "reading"))
    3
    """
    if test == "alternate":
        return ALTERNATE_LEVELS
    return DOMAIN_LEVELS if measure in ("listening", "speaking", "reading", "writing") else (
        SUMMATIVE_LEVELS)


def grade_name(grade: str) -> str:
    """``KN`` -> ``Kindergarten``, ``05`` -> ``Grade 5``, ``13`` -> ``All grades``."""
    if grade == "13":
        return "All grades"
    if grade == "KN":
        return "Kindergarten"
    return f"Grade {int(grade)}"


GRADE_NAMES: dict[str, str] = {g: grade_name(g) for g in (*GRADES, "13")}
GROUP_NAMES: dict[str, str] = {gid: g.name for gid, g in GROUP_BY_ID.items()}
DIMENSION_NAMES: dict[str, str] = {**DIMENSIONS, "grade": "Grade"}
ORG_LEVEL_NAMES = {"state": "State", "county": "County", "lea": "LEA", "school": "School"}
TYPE_ID_NAMES = {"04": "State", "03": "County", "02": "District",
                 "09": "Direct Funded Charter School", "01": "School"}
SUPPRESSED = "*"
"""How suppressed cells are written, as in the public research files (ELPAC.md §5.1)."""
