"""Hand-built stores for the query tests: a few records written as a real 2024-25 TOMS file.

A test lists its records as dicts of canonical field names (``data.toms.layout``) to values, giving
only what matters to it; ``TomsBuilder`` fills the rest with a consistent scored Summative
record (scores and levels from the cut tables, ELPAC.md §1.3), writes a caret-delimited
tested-LEA file with the 376 headers of 2024-25 and loads it through the real ingest.

Shorthand understood in a record (all optional):

* ``TestedStatus: "N"`` makes a non-tester (condition code NT, include indicator N, no
  scores, no SSR; ELPAC.md §4).
* ``Attemptedness: "P"`` makes a partial test: include indicator T, overall ``NS``, no SSR;
  the written composite and its domains are ``NS`` unless the record says the oral one is.
* ``DomainExN: "Y"`` exempts a domain: its level and raw score become ``NS`` and the
  condition code ``EXD`` (§1.5).
* ``RecordType: "23"`` makes a Summative Alternate ELPAC record: overall score and level only,
  inside the grade span's band (§2).
* Scores left out are filled in: composites at the grade's level-3 cut, overall from the
  composites (rounded half up), every level from its score, domain levels from the composite
  level (1->1, 2->2, 3->2, 4->3).
* CALPADS (enrolled) and final tested district and school default to each other, so a record
  naming either is enrolled and tested in the same place unless it says otherwise (a mover).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

from data import domain
from data.results.ingest import ingest
from data.results.store import Store
from data.toms.layout import layout
from queries.snapshot import Snapshot

LAYOUT = layout("2024-25")
CANONICAL = frozenset(c for c in LAYOUT.canonical if c is not None)

DEFAULT_LEA = "01611920000000"
DEFAULT_SCHOOL = "01611920111111"

# A field and its copy: giving either one fills the other (the locked "for testing" copies
# are what the store keeps, ELPAC.md §3.1 "Demographic snapshot").
_MIRRORED = (
    ("CALPADSGrade", "GradeAssessed"), ("DateofBirth", "DateofBirthforTesting"),
    ("CALPADSSpecialEducation", "SpecialEducationforTesting"),
    ("PrimaryDisabilityType", "PrimaryDisabilityforTesting"),
    ("MigrantStatus", "MigrantStatusforTesting"),
    ("CALPADSPrimaryLanguage", "PrimaryLanguageforTesting"),
    ("CALPADSMilitaryStatus", "MilitaryStatusforTesting"),
    ("CALPADSFosterStatus", "FosterStatusforTesting"),
    ("CALPADSHomelessStatus", "HomelessStatusforTesting"),
    ("CALPADSEconomicDisadvantageStatus", "EconomicDisadvantageTesting"),
    ("ParentEducationLevel", "ParentEducationLevelforTesting"),
    ("CALPADSDistrictCode", "FinalTestedDistrictCode"),
    ("CALPADSSchoolCode", "FinalTestedSchoolCode"),
)
_RACE = {"100": "AmericanIndianorAlaskaNative", "200": "Asian",
         "300": "HawaiianOrOtherPacificIslander", "400": "Filipino", "500": "HispanicorLatino",
         "600": "BlackorAfricanAmerican", "700": "White", "800": "TwoorMoreRaces"}
_DOMAIN_FROM_COMPOSITE = {1: 1, 2: 2, 3: 2, 4: 3}
_COMPOSITES = (("OralLanguage", "oral", (1, 2)), ("WrittenLanguage", "written", (3, 4)))
_DOMAIN_PL = {1: "ListeningPL", 2: "SpeakingPL", 3: "ReadingPL", 4: "WritingPL"}


def complete_record(given: Mapping[str, object], *, number: int, created: str
                    ) -> dict[str, str]:
    """A full record: ``given`` (canonical field -> value) plus consistent defaults."""
    unknown = sorted(set(given) - CANONICAL)
    if unknown:
        raise KeyError(f"not 2024-25 fields: {unknown}")
    r = {k: "" if v is None else str(v) for k, v in given.items()}
    for a, b in _MIRRORED:
        if a in r and b not in r:
            r[b] = r[a]
        elif b in r and a not in r:
            r[a] = r[b]
    d = r.setdefault
    record_type = d("RecordType", "21")
    grade = d("GradeAssessed", "05")
    d("CALPADSGrade", grade)
    d("UIN", f"U{number:07d}")
    d("SSID", f"{8_000_000_000 + number}")
    d("LocalStudentID", f"L{number}")
    d("StudentLastName", f"Last{number}")
    d("StudentFirstName", f"First{number}")
    d("TKIndicator", "No")
    birth_year = 2024 - 5 - domain.GRADES.index(grade)
    d("DateofBirth", f"{birth_year}-03-15")
    d("DateofBirthforTesting", r["DateofBirth"])
    d("Gender", "F")
    _organisations(r)
    d("Section504Status", "No")
    d("CALPADSSpecialEducation", "No")
    d("SpecialEducationforTesting", r["CALPADSSpecialEducation"])
    d("MigrantStatus", "No")
    d("MigrantStatusforTesting", r["MigrantStatus"])
    d("ELEntryDate", "2021-08-20")
    d("ELStatus", "Yes")
    d("FirstEntryDateInUSSchool", "2021-08-15")
    d("ELASforTesting", "EL")
    language = d("CEDSLanguageCode", r.get("PrimaryLanguageforTesting") or "SPA")
    d("CALPADSPrimaryLanguage", language)
    d("PrimaryLanguageforTesting", language)
    for status in ("Military", "Foster", "Homeless"):
        d(f"CALPADS{status}Status", "No")
        d(f"{status}StatusforTesting", r[f"CALPADS{status}Status"])
    d("CALPADSEconomicDisadvantageStatus", "Yes")
    d("EconomicDisadvantageTesting", r["CALPADSEconomicDisadvantageStatus"])
    d("ParentEducationLevel", "14")
    d("ParentEducationLevelforTesting", r["ParentEducationLevel"])
    ethnicity = d("EthnicityforTesting", "500")
    for code, flag in _RACE.items():
        d(flag, "Yes" if code == ethnicity else "No")
    d("StudentAddressStateCode", "US-CA")
    if d("TestedStatus", "Y") == "Y":
        _tested(r, record_type, grade)
    else:
        d("ConditionCode", "NT")
        d("IncludeIndicator", "N")
    d("ReportCreatedDate", created)
    d("EndofRecord", "ZZ")
    return r


def _organisations(r: dict[str, str]) -> None:
    d = r.setdefault
    district = d("FinalTestedDistrictCode", DEFAULT_LEA)
    school = d("FinalTestedSchoolCode", DEFAULT_SCHOOL if district == DEFAULT_LEA
               else district[:7] + "0100001")
    d("CALPADSDistrictCode", district)
    d("CALPADSSchoolCode", school)
    for prefix in ("FinalTested", "CALPADS"):
        d(f"{prefix}DistrictName", f"District {r[f'{prefix}DistrictCode'][2:7]}")
        d(f"{prefix}SchoolName", f"School {r[f'{prefix}SchoolCode'][7:]}")
    d("FinalTestedSchoolNPSFlag", "N")
    d("CALPADSNPSSchoolFlag", "N")


def _tested(r: dict[str, str], record_type: str, grade: str) -> None:
    d = r.setdefault
    attempt = d("Attemptedness", "Y")
    d("FinalTestCompletedDate", "2025-03-14")
    d("ScoreAvailableDate", "2025-04-10")
    d("AccommodationsIndicator", "No")
    d("DesignatedSupportIndicator", "No")
    domains = (1,) if record_type == "23" else (1, 2, 3, 4)
    for n in domains:
        for field, final in (("TestedDistrictName", "FinalTestedDistrictName"),
                             ("TestedDistrictCode", "FinalTestedDistrictCode"),
                             ("TestedSchoolName", "FinalTestedSchoolName"),
                             ("TestedSchoolCode", "FinalTestedSchoolCode"),
                             ("TestedCharterSchoolIndicator", "FinalTestedCharterSchoolIndicator"),
                             ("TestedCharterCode", "FinalTestedCharterCode"),
                             ("TestedSchoolNPSFlag", "FinalTestedSchoolNPSFlag")):
            d(f"{field}{n}", r.get(final, ""))
        d(f"TestStartDate{n}", r["FinalTestCompletedDate"])
        d(f"TestCompletedDate{n}", r["FinalTestCompletedDate"])
        d(f"OpportunityTestingStatus{n}", "C")
    if record_type == "23":
        low = domain.alternate_range(grade).low
        score = int(d("OverallScaleScore", str(low + 50)))
        d("OverallPL", str(domain.alternate_level(grade, score)))
        d("OverallScaleScoreCSEM", "5")
        d("IncludeIndicator", "Y")
        d("SSREligible", "Y")
        d("SSRAvailableDate", "2025-08-05")
        return
    for n in (1, 2, 3, 4):
        d(f"TestMode{n}", "O")
        d(f"RemoteTester{n}", "N")
        d(f"UnlistedResources{n}", "N")
        d(f"DomainEx{n}", "N")
    if attempt == "P":
        if r.get("OralLanguageScaleScore") != "NS":
            d("WrittenLanguageScaleScore", "NS")
        d("OverallScaleScore", "NS")
        d("IncludeIndicator", "T")
        d("SSREligible", "N")
        d("ForceComplete", "Y")
    else:
        d("IncludeIndicator", "Y")
        d("SSREligible", "Y")
        d("ForceComplete", "N")
        d("SSRAvailableDate", "2025-05-22")
    composite: dict[str, int | None] = {}
    for stem, measure, nums in _COMPOSITES:
        cut = domain.summative_cuts(measure, grade)[1]
        value = d(f"{stem}ScaleScore", str(cut))
        if value == "NS":
            composite[measure] = None
            d(f"{stem}PL", "NS")
            for n in nums:
                d(_DOMAIN_PL[n], "NS")
                d(f"RawScore{n}", "NS")
            continue
        score = int(value)
        composite[measure] = score
        level = int(d(f"{stem}PL", str(domain.summative_level(measure, grade, score))))
        d(f"{stem}CSEM", "15")
        for n in nums:
            exempt = r[f"DomainEx{n}"] == "Y"
            d(_DOMAIN_PL[n], "NS" if exempt else str(_DOMAIN_FROM_COMPOSITE[level]))
            d(f"RawScore{n}", "NS" if exempt else "10")
    if any(r[f"DomainEx{n}"] == "Y" for n in (1, 2, 3, 4)):
        d("ConditionCode", "EXD")
    oral, written = composite["oral"], composite["written"]
    if oral is not None and written is not None:
        overall = int(d("OverallScaleScore",
                        str(domain.overall_from_composites(grade, oral, written))))
        d("OverallPL", str(domain.summative_level("overall", grade, overall)))
    else:
        d("OverallScaleScore", "NS")
        d("OverallPL", "NS")


def toms_text(records: Iterable[Mapping[str, object]], *, created: str = "2025-09-15",
              first: int = 1) -> str:
    """A 2024-25 caret-delimited Student Score Data File holding ``records``."""
    lines = ["^".join(LAYOUT.headers)]
    for i, given in enumerate(records, start=first):
        r = complete_record(given, number=i, created=created)
        cells = [r.get(c, "") if c else "" for c in LAYOUT.canonical]
        if any("^" in c for c in cells):
            raise ValueError("a caret cannot occur in a TOMS value")
        lines.append("^".join(cells))
    return "\n".join(lines) + "\n"


class TomsBuilder:
    """Write hand-built TOMS files and load them into fresh stores."""

    def __init__(self, factory: pytest.TempPathFactory) -> None:
        self.factory = factory
        self.written = 0

    def write(self, records: list[Mapping[str, object]], *, created: str = "2025-09-15",
              tag: str = "Hand") -> Path:
        """One tested-LEA file for 2024-25 (the name says so, as TOMS names it)."""
        directory = self.factory.mktemp("toms")
        path = directory / (f"{tag}_Summative_ELPAC_and_Summative_Alternate_ELPAC_Student_"
                            "Score_Data_File_TestedStudentScoreData_2025_DLMTR.CSV")
        # Record numbers run on across files, so default SSIDs never collide.
        path.write_text(toms_text(records, created=created, first=self.written + 1),
                        encoding="utf-8")
        self.written += len(records)
        return path

    def load(self, paths: list[Path]) -> Snapshot:
        """Ingest ``paths`` into a new store; every row must load."""
        store = Store(self.factory.mktemp("store") / "store")
        result = ingest(paths, store=store)
        problems = result.row_problems.head(10).rows()
        assert result.ok, (result.file_problems, problems)
        assert result.loaded
        return Snapshot(store.path)

    def __call__(self, records: list[Mapping[str, object]], *,
                 created: str = "2025-09-15") -> Snapshot:
        """A snapshot of a new store holding one file of ``records``."""
        return self.load([self.write(records, created=created)])


@pytest.fixture(scope="session")
def toms(tmp_path_factory: pytest.TempPathFactory) -> TomsBuilder:
    """Build stores from hand-written records: ``toms([{...}, ...])`` -> ``Snapshot``."""
    return TomsBuilder(tmp_path_factory)
