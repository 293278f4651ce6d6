"""The tested LEA and school of a 2019-20 record, from its per-domain blocks (each rule).

``data.toms.tested_blocks`` states the rule: the block of the domain tested last (by completed
date, else start date), exempt domains passed over, ties to the later domain, non-testers under
the enrolled LEA. Each case edits one generated 2019-20 record so that the blocks name four
different schools, and says by hand which one the record must count under.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from data.synth.generator import DemoSpec, generate_files
from data.toms.layout import layout
from data.toms.normalise import normalise
from data.toms.read import read_file

LAYOUT = layout("2019-20")
COLUMN = {c: i for i, c in enumerate(LAYOUT.canonical) if c}
SCHOOLS = {n: (f"19{n}{n}{n}{n}{n}0000000", f"19{n}{n}{n}{n}{n}{n * 1111111:07d}")
           for n in (1, 2, 3, 4)}
"""Domain n's block names district ``19nnnnn0000000`` and school ``19nnnnnnnnnnnn``."""
DATES = {1: "2020-03-02", 2: "2020-03-05", 3: "2020-03-04", 4: "2020-03-03"}
"""Speaking is the domain tested last."""


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], list[str]]:
    """The header and one scored record, without exemption, of a generated 2019-20 file."""
    spec = DemoSpec(students=300, years="2019-20", seed=11, spring_2020=True)
    (_, paths, *_), = list(generate_files(spec, tmp_path_factory.mktemp("base")))
    with paths[0].open(encoding="utf-8", newline="") as handle:
        header, *records = list(csv.reader(handle, delimiter="^", quoting=csv.QUOTE_NONE))
    record = next(r for r in records if r[COLUMN["Attemptedness"]] == "Y"
                  and not r[COLUMN["ConditionCode"]])
    return header, record


def _blocks(dates: dict[int, str] = DATES, *, started: dict[int, str] | None = None
            ) -> dict[str, str]:
    cells: dict[str, str] = {}
    for n, (district, school) in SCHOOLS.items():
        cells |= {f"TestedDistrictCode{n}": district, f"TestedSchoolCode{n}": school,
                  f"TestedDistrictName{n}": f"District {n}", f"TestedSchoolName{n}":
                  f"School {n}", f"TestCompletedDate{n}": dates.get(n, ""),
                  f"TestStartDate{n}": (started or dates).get(n, "")}
    return cells


NOT_TESTED = {"TestedStatus": "N", "Attemptedness": "", "IncludeIndicator": "N",
              "ConditionCode": "NT", "ScoreAvailableDate": "",
              **{f: "" for f in ("OverallScaleScore", "OverallPL", "OralLanguageScaleScore",
                                 "OralLanguagePL", "OralLanguageCSEM", "WrittenLanguageScaleScore",
                                 "WrittenLanguagePL", "WrittenLanguageCSEM", "ListeningPL",
                                 "SpeakingPL", "ReadingPL", "WritingPL")}}
NO_BLOCKS = {f"{stem}{n}": "" for n in (1, 2, 3, 4) for stem in (
    "TestedDistrictCode", "TestedSchoolCode", "TestedDistrictName", "TestedSchoolName",
    "TestedSchoolNPSFlag", "TestCompletedDate", "TestStartDate")}


def _load(base: tuple[list[str], list[str]], tmp_path: Path, cells: dict[str, str]
          ) -> tuple[pl.DataFrame, pl.DataFrame]:
    header, record = base
    record = list(record)
    for field, value in cells.items():
        record[COLUMN[field]] = value
    path = tmp_path / "2019-20_tested.csv"
    path.write_text("^".join(header) + "\n" + "^".join(record) + "\n", encoding="utf-8")
    norm = normalise(read_file(path))
    return norm.frame, norm.problems


CASES = {
    # Rule 1: the block of the domain completed last (Speaking, 5 March).
    "last-completed": ({}, 2, "2020-03-05"),
    # Rule 2: an exempt domain is passed over; the last non-exempt one is Reading (4 March).
    "exempt-passed-over": ({"DomainEx2": "Y", "ConditionCode": "EXD", "SpeakingPL": "NS"}, 3,
                           "2020-03-05"),
    # Rule 3: Reading and Writing both finished last, on one day: the later domain.
    "same-day": ({**_blocks({1: "2020-03-02", 2: "2020-03-03", 3: "2020-03-06",
                             4: "2020-03-06"})}, 4, "2020-03-06"),
    # Started, never completed: Writing counts on its start date, the latest.
    "started-only": ({**_blocks({1: "2020-03-02", 2: "2020-03-05", 3: "2020-03-04"},
                                started={**DATES, 4: "2020-03-09"})}, 4, "2020-03-05"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_tested_record_counts_where_its_last_domain_was_tested(base, tmp_path, case) -> None:
    edits, domain, completed = CASES[case]
    frame, problems = _load(base, tmp_path, {**_blocks(), **edits})
    assert problems.rows() == []
    district, school = SCHOOLS[domain]
    assert frame.select("tested_district_code", "tested_school_code", "tested_district_name",
                        "tested_school_name", "final_test_completed_date").row(0) == (
        district, school, f"District {domain}", f"School {domain}",
        date.fromisoformat(completed))
    assert frame.get_column("tested_lea_code")[0] == district


def test_a_non_tester_counts_under_the_block_that_names_a_district(base, tmp_path) -> None:
    # TOMS fills a non-tester's blocks with the enrolled LEA: no dates, the last named block.
    cells = {**NO_BLOCKS, **NOT_TESTED, **{k: v for k, v in _blocks().items()
                                           if k[-1] in "12" and "Date" not in k}}
    frame, problems = _load(base, tmp_path, cells)
    assert problems.rows() == []
    assert frame.select("tested_district_code", "tested_school_code",
                        "final_test_completed_date").row(0) == (*SCHOOLS[2], None)


def test_a_non_tester_without_blocks_counts_under_the_enrolled_lea(base, tmp_path) -> None:
    cells = {**NO_BLOCKS, **NOT_TESTED, "CALPADSDistrictCode": "19647330000000",
             "CALPADSSchoolCode": "19647336012345", "CALPADSNPSSchoolFlag": "N"}
    frame, problems = _load(base, tmp_path, cells)
    assert problems.rows() == []
    assert frame.select("tested_district_code", "tested_school_code", "tested_is_nps",
                        "tested_district_name").row(0) == (
        "19647330000000", "19647336012345", False, None)


def test_no_block_and_no_enrolled_district_is_one_problem(base, tmp_path) -> None:
    cells = {**NO_BLOCKS, **NOT_TESTED, "CALPADSDistrictCode": ""}
    frame, problems = _load(base, tmp_path, cells)
    assert frame.height == 0
    ((row, field, value, reason),) = problems.select("row", "field", "value", "reason").rows()
    assert (row, field, value) == (2, "TestedDistrictCode1", None)
    assert reason.startswith("is blank, as are TestedDistrictCode2, TestedDistrictCode3, "
                             "TestedDistrictCode4 and CALPADSDistrictCode")
    assert "FinalTestedDistrictCode" in reason


@pytest.mark.parametrize(("field", "value", "reason"), [
    ("TestedDistrictCode2", "19X", "is not a code of up to 14 digits"),
    ("TestCompletedDate2", "2031-03-05", "is in the future"),
])
def test_a_bad_cell_in_the_chosen_block_is_reported_once_on_its_own_field(
        base, tmp_path, field, value, reason) -> None:
    frame, problems = _load(base, tmp_path, {**_blocks(), field: value})
    assert frame.height == 0
    ((got_field, got_value, got_reason),) = problems.select("field", "value", "reason").rows()
    assert (got_field, got_value) == (field, value)
    assert got_reason.startswith(reason)
