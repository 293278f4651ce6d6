"""The Student Score Data File's canonical fields: what each means, its type and values.

``FIELDS`` says what each canonical field means, its type (``Kind``) and acceptable values,
and which store column (if any) holds it normalised. Fields without a store column are kept
verbatim (after normalising dates and codes) in the store's ``extra_fields`` column, so every
loaded value can be exported again. Which header names each year's file gives these fields is
``data.toms.layout``.

Parsing, validation, the synthetic writer, the round-trip export and ``elpac layout`` all read
this module; nothing else hard-codes a field name.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ParamSpec, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable

DOMAINS = ("Listening", "Speaking", "Reading", "Writing")
"""Domain numbers 1-4 in field names follow this order (ELPAC.md §3.2, fields 62-97)."""


@dataclass(frozen=True)
class Kind:
    """A field type: how a cell is read, checked and written."""

    name: str
    description: str
    values: tuple[str, ...] = ()
    aliases: dict[str, str] = field(default_factory=dict)
    width: int = 0
    max_length: int = 0
    """Most characters a value may have; set on free text, which no other rule bounds (codes,
    dates and scores are bounded by their own checks). ``data.toms.field_hygiene`` checks it."""


def _enum(*values: str, aliases: dict[str, str] | None = None, description: str = "") -> Kind:
    return Kind("enum", description or "one of the listed codes", values, aliases or {})




def _text(max_length: int, what: str) -> Kind:
    return Kind("text", f"{what}, up to {max_length} characters", max_length=max_length)


# Free text is bounded by its column in TOMS's fixed-width file of the same data: a value
# longer than that cannot have come from TOMS. Names: ELPAC.md §3.2 (SDFL-21: 50, 30, 30).
# The others: the 2022-23 fixed-length layout (SIG-2223, ELPAC.md §0; width = offsetEnd -
# offsetStart + 1). Fields that layout lacks or leaves blank get a generous width [unconfirmed].
LAST_NAME = _text(50, "a name")
GIVEN_NAME = _text(30, "a name")
ORG_NAME = _text(100, "a district or school name")
ADDRESS = _text(60, "an address line or city")
STATE = _text(6, "a state code such as US-CA")
ZIP = _text(12, "a ZIP code")
LOCAL_ID = _text(15, "a local id")
RECORD_ID = _text(16, "a TOMS id")
"""UIN and OpportunityIDN; CTRIDPaper and TestingEligibilityID fill the 16-character blanks."""
RESOURCE = _text(25, "a TOMS resource code")
"""Accommodations and designated supports: the widest, EATexttoSpeechN, is 25."""
COUNT = _text(3, "a count, 000-999")
"""Items answered and attempted; OverallRawScore fills a 3-character blank."""
SHORT_CODE = _text(4, "a short code")
"""StudentExitCode (4), ELASCorrectionCode (1 in SIG-2223; values unconfirmed), and every
prior-year result (the widest, a scale score, is 4)."""
NEW_CODE = _text(10, "a code or number")
"""LTELorARLTEL (new 2024-25, seen: 2), PercentCorrect and PreliminaryIndicator (2021-22 only,
blank in samples) [unconfirmed]."""
COUNTRY = _text(60, "a country")
"""CountryofOrigin (new 2023-24; a 2-character blank in 2022-23) [unconfirmed]."""
DATE = Kind("date", "date, YYYY-MM-DD (day-first or month-first dates from spreadsheets are "
                    "accepted when the file shows which; a trailing time is ignored)")
YES_NO = _enum("Yes", "No", aliases={"Y": "Yes", "N": "No"}, description="Yes or No, or blank")
Y_N = _enum("Y", "N", aliases={"Yes": "Y", "No": "N"}, description="Y or N, or blank")
GRADE = Kind("grade", "assessment grade: KN, 01-12 (a grade without its leading zero is padded)",
             ("KN", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12"),
             {"K": "KN", "TK": "KN"})
RECORD_TYPE = Kind("record_type", "21 Summative ELPAC, 23 Summative Alternate ELPAC; SA and SE are "
                   "read by layout year and score band (see data/toms/record_rules.py)",
                   ("21", "23", "SA", "SE"))
SCALE_SCORE = Kind("scale_score", "whole scale score inside the grade's range for the test, NS "
                   "(no score) or blank (not tested)")
LEVEL = Kind("level", "performance level 1-4 (Alternate: 1-3) matching the scale score's cut "
             "table, NS or blank")
DOMAIN_LEVEL = Kind("domain_level", "domain performance level 1-3, NS or blank")
RAW_SCORE = Kind("raw_score", "raw score 0-99, NS or blank")
CSEM = Kind("csem", "conditional standard error of measurement, whole number 0-999, or blank")
END = Kind("end", "always ZZ", ("ZZ",))


def _code(width: int) -> Kind:
    return Kind("code", f"{width}-digit code; spreadsheets drop leading zeros, which are restored",
                width=width)


CDS14 = _code(14)


@dataclass(frozen=True)
class Field:
    """One canonical field of the Student Score Data File."""

    name: str
    kind: Kind
    meaning: str
    store: str | None = None
    """Store column holding the normalised value; None keeps the value in ``extra_fields``."""
    fallback_for: str | None = None
    """For a CALPADS copy: the store column it fills when the file lacks the locked copy."""
    required: bool = False


def _f(name: str, kind: Kind, meaning: str, store: str | None = None, **kw: object) -> Field:
    return Field(name, kind, meaning, store, **kw)  # type: ignore[arg-type]


_CORE: list[Field] = [
    _f("RecordType", RECORD_TYPE, "Which test: 21 Summative ELPAC, 23 Summative Alternate ELPAC "
       "(2018-19 files call it Assessment Type and write SA, 2019-20 files write SE: both "
       "Summative ELPAC)", "record_type", required=True),
    _f("UIN", RECORD_ID, "Unique identification number of the record in TOMS", "uin"),
    _f("CTRIDPaper", RECORD_ID, "Paper test record id (new 2023-24; meaning unconfirmed)"),
    _f("TestingEligibilityID", RECORD_ID,
       "Testing eligibility id (new 2023-24; meaning unconfirmed)"),
    _f("SSID", Kind("ssid", "Statewide Student Identifier, up to 10 digits (padded to 10)"),
       "Statewide Student Identifier (CALPADS)", "ssid", required=True),
    _f("LocalStudentID", LOCAL_ID, "Local student id from CALPADS", "local_student_id"),
    _f("LocalUse", LOCAL_ID, "Optional local use (paper answer book)"),
    _f("StudentLastName", LAST_NAME, "Student's last name", "last_name"),
    _f("StudentFirstName", GIVEN_NAME, "Student's first name", "first_name"),
    _f("StudentMiddleName", GIVEN_NAME, "Student's middle name", "middle_name"),
    _f("TKIndicator", YES_NO, "Transitional kindergarten (kindergarten results exclude TK from "
       "2024-25, ELPAC.md §1.1)", "is_tk"),
    _f("CountryofOrigin", COUNTRY, "Country of origin (new 2023-24; values unconfirmed)"),
    _f("DateofBirth", DATE, "Date of birth in CALPADS", fallback_for="birth_date"),
    _f("DateofBirthforTesting", DATE, "Date of birth locked at the first test event", "birth_date"),
    _f("Gender", _enum("F", "M", "X", aliases={"Female": "F", "Male": "M", "Nonbinary": "X"}),
       "Gender: F female, M male, X nonbinary (2018-19 writes Female/Male)", "gender"),
    _f("CALPADSGrade", GRADE, "Latest grade in CALPADS", "calpads_grade"),
    _f("GradeAssessed", GRADE, "Grade locked at the first test event (for non-testers, the grade "
       "at which they were eligible); decides the cut table", "grade_assessed", required=True),
    _f("CALPADSDistrictCode", CDS14, "Enrolled (CALPADS responsible) district, 14-digit CDS code",
       "enrolled_district_code"),
    _f("CALPADSDistrictName", ORG_NAME, "Enrolled district name", "enrolled_district_name"),
    _f("CALPADSSchoolCode", CDS14, "Enrolled school, 14-digit CDS code", "enrolled_school_code"),
    _f("CALPADSSchoolName", ORG_NAME, "Enrolled school name", "enrolled_school_name"),
    _f("CALPADSCharterCode", _code(4), "Enrolled charter school number", "enrolled_charter_code"),
    _f("CALPADSCharterSchoolIndicator", _enum("DF", "LF", description="DF direct funded, LF "
       "locally funded, blank not a charter"), "Enrolled charter type",
       "enrolled_charter_indicator"),
    _f("SPEDAcctDist", _code(7), "Special-education district of accountability: county (2) + "
       "district (5); NPS students aggregate to it (ELPAC.md §3.3 rule 6)", "sped_district_code"),
    _f("CALPADSNPSSchoolFlag", Y_N, "Enrolled in a nonpublic, nonsectarian school",
       "enrolled_is_nps"),
    _f("Section504Status", YES_NO, "Section 504 plan", "is_section504"),
    _f("CALPADSSpecialEducation", YES_NO, "Special education (IDEA) in CALPADS (2018-23: IDEA "
       "Indicator)", fallback_for="is_special_education"),
    _f("SpecialEducationforTesting", YES_NO, "Special education (IDEA), locked for testing",
       "is_special_education"),
    _f("PrimaryDisabilityType", _enum("AUT", "DB", "EMN", "HI", "ID", "MD", "OI", "OHI", "SLD",
       "SLI", "TBI", "VI"), "Primary disability in CALPADS", fallback_for="primary_disability"),
    _f("PrimaryDisabilityforTesting", _enum("AUT", "DB", "EMN", "HI", "ID", "MD", "OI", "OHI",
       "SLD", "SLI", "TBI", "VI"), "Primary disability, locked for testing", "primary_disability"),
    _f("MigrantStatus", YES_NO, "Migrant education in CALPADS", fallback_for="is_migrant"),
    _f("ELEntryDate", DATE, "Date the student was first classified EL", "el_entry_date"),
    _f("ELExitDate", DATE, "Date the student left EL status", "el_exit_date"),
    _f("ELStatus", YES_NO, "EL per CALPADS ELAS"),
    _f("FirstEntryDateInUSSchool", DATE, "First enrolment in a US school (drives the "
       "less/more than 12 months groups)", "us_school_entry_date"),
    _f("ELASforTesting", _enum("EL", "IFEP", "RFEP", "EO", "TBD", description="ELAS code"),
       "English Language Acquisition Status, locked for testing"),
    _f("CALPADSPrimaryLanguage", Kind("language", "CALPADS language code: numeric to 2022-23 "
       "(01 Spanish ...), three letters from 2023-24 (SPA)"), "Primary language in CALPADS",
       fallback_for="primary_language"),
    _f("PrimaryLanguageforTesting", Kind("language", "as CALPADSPrimaryLanguage"),
       "Primary language, locked for testing", "primary_language"),
    _f("CEDSLanguageCode", Kind("language", "three-letter CEDS (ISO 639-2 style) code"),
       "Primary language as a CEDS code; decides the SSR language (ELPAC.md §7)", "ceds_language"),
    _f("CALPADSMilitaryStatus", YES_NO, "Armed-forces family member in CALPADS",
       fallback_for="is_military"),
    _f("CALPADSFosterStatus", YES_NO, "Foster youth in CALPADS", fallback_for="is_foster"),
    _f("CALPADSHomelessStatus", YES_NO, "Homeless in CALPADS", fallback_for="is_homeless"),
    _f("CALPADSEconomicDisadvantageStatus", YES_NO, "Economically disadvantaged in CALPADS",
       fallback_for="is_economically_disadvantaged"),
    _f("EconomicDisadvantageTesting", YES_NO, "Economically disadvantaged, locked for testing",
       "is_economically_disadvantaged"),
    _f("HispanicorLatino", YES_NO, "Hispanic or Latino"),
    _f("AmericanIndianorAlaskaNative", YES_NO, "American Indian or Alaska Native"),
    _f("Asian", YES_NO, "Asian"),
    _f("BlackorAfricanAmerican", YES_NO, "Black or African American"),
    _f("White", YES_NO, "White"),
    _f("HawaiianOrOtherPacificIslander", YES_NO, "Native Hawaiian or Other Pacific Islander"),
    _f("Filipino", YES_NO, "Filipino"),
    _f("TwoorMoreRaces", YES_NO, "Two or more races (also Yes when none was reported)"),
    _f("EthnicityforTesting", _enum("100", "200", "300", "400", "500", "600", "700", "800",
       description="100 American Indian or Alaska Native, 200 Asian, 300 Native Hawaiian or "
       "Pacific Islander, 400 Filipino, 500 Hispanic or Latino, 600 Black or African American, "
       "700 White, 800 Two or More Races or none reported"),
       "Single reporting ethnicity, locked for testing (2018-24: Reporting Ethnicity)",
       "ethnicity"),
    _f("ParentEducationLevel", _enum("10", "11", "12", "13", "14", "15", description="10 graduate "
       "degree, 11 college graduate, 12 some college/associate, 13 high-school graduate, 14 not "
       "a high-school graduate, 15 declined to state"), "Parent education level in CALPADS",
       fallback_for="parent_education"),
    _f("StudentAddressLine1", ADDRESS, "Residential address, line 1"),
    _f("StudentAddressLine2", ADDRESS, "Residential address, line 2"),
    _f("StudentAddressCityName", ADDRESS, "Residential city"),
    _f("StudentAddressStateCode", STATE, "Residential state (US-CA)"),
    _f("StudentAddressZipCode", ZIP, "Residential ZIP code"),
    _f("TestedStatus", Y_N, "Y tested (attemptedness P or Y), N not tested (condition code NT)",
       "is_tested", required=True),
    _f("SSRAvailableDate", DATE, "Date the Student Score Report became available (new 2023-24)",
       "ssr_available_date"),
    # 2019-20 files have no FinalTested... fields: data.toms.tested_blocks derives them from the
    # per-domain blocks (TestedDistrictCodeN ...) by the tested-LEA rule it documents.
    _f("FinalTestedDistrictName", ORG_NAME, "Tested LEA used for reporting: district name",
       "tested_district_name"),
    _f("FinalTestedDistrictCode", CDS14, "Tested district, 14-digit CDS code (ELPAC.md §3.3); "
       "the enrolled district for non-testers", "tested_district_code", required=True),
    _f("FinalTestedSchoolName", ORG_NAME, "Tested school name", "tested_school_name"),
    _f("FinalTestedSchoolCode", CDS14, "Tested school, 14-digit CDS code", "tested_school_code"),
    _f("FinalTestedCharterSchoolIndicator", _enum("DF", "LF"), "Tested school's charter type",
       "tested_charter_indicator"),
    _f("FinalTestedCharterCode", _code(4), "Tested school's charter number", "tested_charter_code"),
    _f("FinalTestedSchoolNPSFlag", Y_N, "Tested school is a nonpublic, nonsectarian school",
       "tested_is_nps"),
    _f("FinalTestCompletedDate", DATE, "Date the last domain was completed",
       "final_test_completed_date"),
    _f("StudentExitCode", SHORT_CODE, "CALPADS exit code"),
    _f("StudentExitDate", DATE, "CALPADS exit date (2018-24: Student Exit Withdrawal Date)"),
    _f("StudentExitFileDate", DATE, "Date removed from the CALPADS file"),
    _f("ELASCorrectionCode", SHORT_CODE, "ELAS correction code (values unconfirmed)"),
    _f("ConditionCode", _enum("NT", "EXD", "ALT", description="NT not tested, EXD exempt domain, "
       "ALT locally determined alternate assessment (to 2020-21), blank none"),
       "Condition code (ELPAC.md §4)", "condition_code"),
    _f("Attemptedness", _enum("Y", "P", description="Y complete, P partial, blank not tested"),
       "Attemptedness", "attemptedness"),
    _f("IncludeIndicator", _enum("Y", "T", "N", description="Y counts as tested with a score, T "
       "tested without meeting the participation rule, N not tested"),
       "Include indicator: counts toward aggregates (ELPAC.md §4)", "include_indicator",
       required=True),
    _f("SSREligible", Y_N, "A Student Score Report was created", "is_ssr_eligible"),
    _f("ForceComplete", Y_N, "Force-completed at window close", "is_force_complete"),
    _f("TestMode", _enum("O", "P", description="O online, P paper"), "Test mode of the whole "
       "test (2019-20 only: later files give one per domain, TestMode1-4)"),
    _f("OverallRawScore", COUNT, "Overall raw score (new 2023-24; blank in every sample)"),
    _f("PercentCorrect", NEW_CODE, "Percent correct (2021-22 only; blank in samples)"),
    _f("PreliminaryIndicator", NEW_CODE, "Preliminary score indicator (2021-22 only)"),
    _f("OverallScaleScore", SCALE_SCORE, "Overall scale score", "overall_scale_score"),
    _f("OralLanguageScaleScore", SCALE_SCORE, "Oral Language (Listening + Speaking) scale score",
       "oral_scale_score"),
    _f("WrittenLanguageScaleScore", SCALE_SCORE, "Written Language (Reading + Writing) scale score",
       "written_scale_score"),
    _f("OverallPL", LEVEL, "Overall performance level", "overall_level"),
    _f("OralLanguagePL", LEVEL, "Oral Language performance level", "oral_level"),
    _f("WrittenLanguagePL", LEVEL, "Written Language performance level", "written_level"),
    _f("OverallScaleScoreCSEM", CSEM, "Overall CSEM (set on Alternate records)", "overall_csem"),
    _f("OralLanguageCSEM", CSEM, "Oral Language CSEM", "oral_csem"),
    _f("WrittenLanguageCSEM", CSEM, "Written Language CSEM", "written_csem"),
    _f("OverallNumberAnswered", COUNT, "Items answered over all domains (2021-22: "
       "OverallItemsAttempted)"),
    _f("AccommodationsIndicator", YES_NO, "Any accommodation used"),
    _f("DesignatedSupportIndicator", YES_NO, "Any designated support used"),
    _f("ReportCreatedDate", DATE, "Date TOMS created this file", "report_created_date"),
    _f("ScoreAvailableDate", DATE, "Date the score became available in TOMS",
       "score_available_date"),
    _f("LTELorARLTEL", NEW_CODE, "Long-term EL or at-risk LTEL flag (new 2024-25; codes "
       "unconfirmed, seen: 2)", "ltel_status"),
    _f("MigrantStatusforTesting", YES_NO, "Migrant education, locked for testing", "is_migrant"),
    _f("MilitaryStatusforTesting", YES_NO, "Armed-forces family, locked for testing",
       "is_military"),
    _f("FosterStatusforTesting", YES_NO, "Foster youth, locked for testing", "is_foster"),
    _f("HomelessStatusforTesting", YES_NO, "Homeless, locked for testing", "is_homeless"),
    _f("ParentEducationLevelforTesting", _enum("10", "11", "12", "13", "14", "15"),
       "Parent education level, locked for testing", "parent_education"),
    _f("BrailleAccommodation", RESOURCE, "Braille accommodation (2018-19 only)"),
    _f("EndofRecord", END, "End of record marker"),
]


def _domain_fields() -> list[Field]:
    out: list[Field] = []
    for n, dom in enumerate(DOMAINS, start=1):
        d = dom.lower()
        out += [
            # 2019-20 has no FinalTested... block: the record's tested LEA and school come
            # from these blocks (data.toms.tested_blocks).
            _f(f"TestedDistrictName{n}", ORG_NAME, f"{dom}: tested district name"),
            _f(f"TestedDistrictCode{n}", CDS14, f"{dom}: tested district CDS code (2019-20: "
               "the record's tested LEA is the last tested domain's)"),
            _f(f"TestedSchoolName{n}", ORG_NAME, f"{dom}: tested school name"),
            _f(f"TestedSchoolCode{n}", CDS14, f"{dom}: tested school CDS code"),
            _f(f"TestedCharterSchoolIndicator{n}", _enum("DF", "LF"), f"{dom}: charter type"),
            _f(f"TestedCharterCode{n}", _code(4), f"{dom}: charter number"),
            _f(f"TestedSchoolNPSFlag{n}", Y_N, f"{dom}: tested at an NPS"),
            _f(f"TestStartDate{n}", DATE, f"{dom}: test start date"),
            _f(f"TestCompletedDate{n}", DATE, f"{dom}: test completed date (2019-20: the latest "
               "one names the tested LEA and school)"),
            _f(f"OpportunityID{n}", RECORD_ID, f"{dom}: test-delivery opportunity id"),
            _f(f"OpportunityTestingStatus{n}", _enum("C", "E", description="C completed, E "
               "expired"), f"{dom}: opportunity status"),
            _f(f"UnlistedResources{n}", Y_N, f"{dom}: an unlisted resource changed the construct"),
            _f(f"RemoteTester{n}", _enum("Y", "N", "M", description="Y remote, N local, M mixed"),
               f"{dom}: remote testing"),
            _f(f"TestMode{n}", _enum("O", "P", description="O online, P paper"),
               f"{dom}: test mode"),
            _f(f"RawScore{n}", RAW_SCORE, f"{dom} raw score", f"raw_score_{d}"),
            _f(f"{dom}PL", DOMAIN_LEVEL, f"{dom} performance level", f"{d}_level"),
            _f(f"DomainEx{n}", Y_N, f"{dom} exempt (condition code EXD)", f"is_{d}_exempt"),
            _f(f"ItemsAttempted{n}", COUNT, f"{dom}: items attempted"),
            _f(f"ALTAssessment{n}", Y_N, f"{dom}: locally determined alternate assessment (to "
               "2020-21)"),
            _f(f"Accommodations{n}", Y_N, f"{dom}: accommodations used (2018-19 only)"),
            _f(f"TestingIrregularities{n}", Y_N, f"{dom}: testing irregularity (2018-19 and "
               "2019-20 only)"),
            _f(f"ContractorDirectedExempt{n}", Y_N, f"{dom}: contractor-directed exemption "
               "(2018-19 only)"),
        ]
    return out


_PRIOR = ["SSREligible", "Attemptedness", "GradeAssessed", "ConditionCode",
          "ListeningRawScore", "SpeakingRawScore", "ReadingRawScore", "WritingRawScore",
          "OverallScaleScore", "OverallPL", "OralLanguageScaleScore", "OralLanguageCSEM",
          "OralLanguagePL", "WrittenLanguageScaleScore", "WrittenLanguageCSEM",
          "WrittenLanguagePL", "ListeningPL", "SpeakingPL", "ReadingPL", "WritingPL"]


def _prior_fields() -> list[Field]:
    # Kept verbatim: they are TOMS's copy of earlier years, shown as score history on the SSR.
    return [_f(f"{name}Minus{k}", SHORT_CODE, f"{name} {k} year(s) before (SSR score history)")
            for k in (1, 2, 3) for name in _PRIOR]


# Accommodation and designated-support fields follow one pattern: a prefix, a resource name and
# a domain number (ELPAC.md §3.2, fields 164-307). Their values are TOMS resource codes. The
# 2019-20 file also has paper-test resources, most for the whole test (no domain number):
# their names end in "Paper" (NEABraillePaper), or "Paper" and a domain (NEAScribePaper4).
_ACCOMMODATION = re.compile(r"^(EA|NEA|EDS|NEDS)([A-Za-z]+?)(Paper)?([1-4])$|"
                            r"^(NEA|NEDS)([A-Za-z]+)(Paper)()$")
_ACCOMMODATION_PREFIX = {"EA": "Embedded accommodation", "NEA": "Non-embedded accommodation",
                         "EDS": "Embedded designated support",
                         "NEDS": "Non-embedded designated support"}


def _accommodation_field(name: str) -> Field | None:
    m = _ACCOMMODATION.match(name)
    if not m:
        return None
    groups = m.groups()
    prefix, resource, paper, n = groups[:4] if groups[0] else groups[4:]
    where = DOMAINS[int(n) - 1] if n else "the whole test"
    return _f(name, RESOURCE, f"{_ACCOMMODATION_PREFIX[prefix]} {resource}, "
              f"{where}{', paper test (2019-20)' if paper else ''} (TOMS resource code)")


FIELDS: dict[str, Field] = {f.name: f for f in [*_CORE, *_domain_fields(), *_prior_fields()]}


_P = ParamSpec("_P")
_R = TypeVar("_R")


def per_field_cache(build: Callable[_P, _R]) -> Callable[_P, _R]:
    """Keep what ``build`` makes from its (positional) arguments, a ``Field`` known by its name.

    Every block of every file checks the same fields with the same expressions; building them
    again each time was a fixed cost of about 25 ms a block. A ``Field`` holds dicts, so it
    cannot be a cache key itself: an entry is used only when the field it was built from is
    equal to the one asked for.
    """
    kept: dict[tuple[object, ...], tuple[tuple[object, ...], _R]] = {}

    @functools.wraps(build)
    def cached(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        if kwargs:
            return build(*args, **kwargs)
        key = tuple(a.name if isinstance(a, Field) else a for a in args)
        found = kept.get(key)
        if found is not None and found[0] == args:
            return found[1]
        value = build(*args)
        kept[key] = (args, value)  # a race builds it twice, and either is right
        return value

    return cached


def field_for(name: str) -> Field:
    """The canonical field called ``name``; raises ``KeyError`` if no layout has it."""
    found = FIELDS.get(name) or _accommodation_field(name)
    if found is None:
        raise KeyError(name)
    return found
