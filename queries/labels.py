"""Every label the reports, charts and exports show, in one place (STYLE.md rule 10).

Level names follow the SSRs and CERS (ELPAC.md §1.2, §1.4, §2).
"""

from __future__ import annotations

from data.catalog.accounts import ROLES
from data.catalog.ssr_languages import OFFERED
from data.domain import GRADES as GRADES  # KN, 01 ... 12: every grade code in order
from data.domain import INCOMPLETE_YEARS as INCOMPLETE_YEARS  # 2019-20: testing stopped
from data.domain import RECORD_TYPE_ALTERNATE as RECORD_TYPE_ALTERNATE  # 23: overall only
from data.domain import RECORD_TYPE_SUMMATIVE
from data.results.summary import DOMAINS as DOMAINS  # the four domains, level 1-3 each
from data.student_groups import DIMENSIONS, GROUP_BY_ID, GROUPS

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
"""Every grade code, ``KN`` to ``12`` in order, then ``13`` (all grades)."""
GROUP_NAMES: dict[str, str] = {gid: g.name for gid, g in GROUP_BY_ID.items()}
DIMENSION_NAMES: dict[str, str] = {**DIMENSIONS, "grade": "Grade"}
GROUP_DIMENSIONS: dict[str, str] = dict(DIMENSIONS)
"""The state's demographic dimensions (ethnicity, economic status, ...), in breakdown order."""
DIMENSION_OF_GROUP: dict[str, str] = {g.id: g.dimension for g in GROUPS}
GROUP_CHOICES: dict[str, str] = {g.id: f"{DIMENSIONS[g.dimension]}: {g.name}" for g in GROUPS
                                 if g.dimension in DIMENSIONS}
"""The demographic student groups a filter can use, as pickers show them ("Dimension: name").

Every breakdown dimension's groups (not "all students"). *Student groups* are only these, the
state's; the groups users make of their students are *rosters* (``queries.rosters``)."""
ORG_LEVEL_NAMES = {"state": "State", "county": "County", "lea": "LEA", "school": "School"}
TYPE_ID_NAMES = {"04": "State", "03": "County", "02": "District",
                 "09": "Direct Funded Charter School", "01": "School",
                 "10": "Locally Funded Charter School"}
SUPPRESSED = "*"
"""How suppressed cells are written, as in the public research files (ELPAC.md §5.1)."""

# -- one student's score status and reports (Students page; ELPAC.md §4, §7) ------------------

RECORD_TYPE_NAMES: dict[str, str] = {RECORD_TYPE_SUMMATIVE: TESTS["summative"],
                                     RECORD_TYPE_ALTERNATE: TESTS["alternate"]}

CONDITION_CODES: dict[str, tuple[str, str]] = {
    "NT": ("Not Tested", "Eligible but did not test, and was still an English learner at the "
           "end of the testing window; no score and no Student Score Report."),
    "EXD": ("Exempt Domain", "One domain of a composite was exempt (IEP or Section 504 plan): "
            "that composite is scored from its other domain and the overall score is derived "
            "as usual."),
    "ALT": ("Alternate assessment", "A locally determined alternate assessment in all four "
            "domains (2020-21 and earlier): the lowest obtainable scale score, counted as "
            "tested with a score."),
}
"""Condition code -> (name, meaning), from the CDE condition-code table (ELPAC.md §4)."""
NO_CONDITION_CODE = "None: tested, with no exemption or alternate assessment"
ATTEMPTEDNESS_NAMES: dict[str, str] = {
    "Y": "Complete: logged on to at least one domain of each composite",
    "P": "Partial: logged on to the domains of one composite only",
}
NOT_ATTEMPTED = "Not tested"
INCLUDE_INDICATOR_NAMES: dict[str, str] = {
    "Y": "Counted as tested with a score",
    "T": "Counted as tested, without a score (did not meet the participation rule)",
    "N": "Not counted as tested",
}
SCORE_STATUSES: dict[str, str] = {
    "scored": "Scored",
    "scored_exd": "Scored, exempt domain",
    "scored_alt": "Scored, alternate assessment",
    "partial": "Incomplete test | No score available",
    "nt": "Eligible but not tested",
    "pending": "Not tested yet",
}
"""Short score status of a record; the two unscored ones are the SSR score-history messages
(ELPAC.md §7). "Not tested yet": no test and no NT code, so the window was still open."""
RECORD_TYPE_SHORT_NAMES: dict[str, str] = {RECORD_TYPE_SUMMATIVE: "Summative",
                                           RECORD_TYPE_ALTERNATE: "Alternate"}
"""For narrow tables (a student list), where the full test names would crowd other columns."""
OPPORTUNITY_STATUS_NAMES: dict[str, str] = {"C": "Completed", "E": "Expired"}
TEST_MODE_NAMES: dict[str, str] = {"O": "Online", "P": "Paper"}
SSR_LANGUAGE_NAMES: dict[str, str] = {"ENG": "English", "SPA": "Spanish",
                                      "VIE": "Vietnamese", "FIL": "Filipino", "KOR": "Korean",
                                      "CHI": "Chinese (Traditional)"}
"""The SSR languages (ELPAC.md §7; codes as ``data.domain.CEDS_TO_SSR_LANGUAGE`` gives)."""
SSR_SECOND_LANGUAGES: tuple[str, ...] = OFFERED
"""Languages an SSR is made in besides English (ELPAC.md §7): an override's choices."""

# -- accounts and the audit log ---------------------------------------------------------------

ROLE_NAMES: dict[str, str] = dict(ROLES)
"""A local account's role, as the sign-in sidebar and the roster pickers name it."""
AUDIT_ACTION_NAMES: dict[str, str] = {
    "sign_in": "Signed in",
    "sign_in_refused": "Sign-in refused",
    "view_student": "Viewed a student",
    "export": "Exported",
    "portal_credential": "Made a parent-portal credential",
    "groups": "Changed rosters",
}
"""What each audit entry's action is, as the Audit page says it. The key ``groups`` is what
roster changes were stored under before rosters had their name: kept so old entries read."""

# -- the custom report (Custom report page; CERS's Custom Aggregate Report) -------------------

REPORT_TYPES: dict[str, str] = {"yearly": "Yearly", "composite": "Composite",
                                "domain": "Domain", "longitudinal": "Longitudinal"}
"""CERS's report types: overall levels, a composite's levels, a domain's, or over years."""
COMPLETENESS_NAMES: dict[str, str] = {"all": "All records", "complete": "Complete tests only",
                                      "partial": "Partial tests only"}
DATA_STATUS_NAMES: dict[str, str] = {
    "final": "Final", "partial": "Partial", "published": "Published by CDE",
    "incomplete": "Incomplete: testing stopped in March 2020"}  # 2019-20, INCOMPLETE_YEARS
"""``final`` once the LEA's August file is loaded, else ``partial`` (``queries.snapshot``);
``published``: a comparison row from CDE's research file (``queries.report_published``);
``incomplete``: a year whose testing stopped early (``data.domain.INCOMPLETE_YEARS``)."""


def year_note(year: str) -> str | None:
    """The sentence a report or export of ``year`` carries when the year is incomplete.

    Examples
    --------
    >>> year_note("2019-20")
    '2019-20 is incomplete: testing stopped in March 2020, so it holds only the students tested before then.'
    >>> year_note("2020-21") is None
    True
    """  # noqa: E501
    why = INCOMPLETE_YEARS.get(year)
    return (f"{year} is incomplete: {why}, so it holds only the students tested before then."
            if why else None)
REPORT_COLUMN_LABELS: dict[str, str] = {
    "school_year": "School year", "name": "Organisation", "cds_code": "CDS code",
    "org_level": "Level", "row_label": "Student group", "grade_name": "Grade",
    "n_enrolled": "Enrolled", "n_tested": "Tested", "n_scored": "Tested with scores",
    "n_measure": "With a score in the measure", "mean_scale_score": "Mean scale score",
    "se_scale_score": "Error band (±)", "data_status": "Data status", "note": "Note",
}
"""Headers of the report table and its CSV/Excel export; level columns are named per level."""

# -- English learner progress (ELPI page and exports; ELPI.md) --------------------------------

LTEL_STATUS_NAMES: dict[str, str] = {
    "1": "Long-term English learner (LTEL)",
    "2": "At risk of becoming a long-term English learner (AR-LTEL)",
}
"""``LTELorARLTEL`` codes (new in the 2024-25 file). The two groups are sourced (Education
Code §313.1, ELPI.md §6); which code is which is [unconfirmed]: the real file shows only
``2`` and blank. Kept as ``data.student_groups`` groups 250 and 251 do."""
ELPI_REASON_NAMES: dict[str, str] = {
    "kindergarten": "Kindergarten this year (the ELPI counts grades 1-12; TK to K neither)",
    "no_score": "No overall score this year (not tested or incomplete)",
    "no_prior_score": "No overall score last year",
    "different_assessment": "A different test last year (Summative vs Alternate)",
    "lower_grade": "A lower grade this year than last",
    "no_prior_grade": "Last year's grade is not known",
}
"""Why a student is not counted (ELPI.md §3), as ``queries.elpi_rules.REASONS`` names it."""
ELPI_OUTCOME_NAMES: dict[str, str] = {
    "progressed": "Progressed", "maintained_4": "Maintained level 4",
    "maintained_other": "Maintained (not 4)", "declined": "Declined"}
"""A counted student's outcome (ELPI.md §2). An Alternate student at level 3 both years is
counted as maintained level 4 (the Alternate's top level)."""
ELPI_PRIOR_SOURCE_NAMES: dict[str, str] = {
    "file": "Prior-year fields of the score file (Minus1)",
    "store": "The store's record of the previous year"}
