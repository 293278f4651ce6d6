"""A file's kind from its content when its name is silent (issue 14, item 5).

A TOMS file holds one LEA's records: an enrolled-LEA file the students enrolled there (wherever
they tested), a tested-LEA file the students tested there (wherever they are enrolled). The
files here are the tiny demo's Los Angeles file, cut to one LEA's records and renamed away
from TOMS's name; every expectation is counted from the file's own cells.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from data.results.file_kind import content_kind
from data.results.ingest import ingest
from data.results.store import Store
from elpac.cli import app
from queries.access import User
from queries.data_loads import FileOptions, Upload, check_uploads
from tests.data.results.conftest import Toms

L = "19619690000000"
"""The Los Angeles LEA with the most records in the tiny 2024-25 file."""
M = "19701130000000"
"""Another Los Angeles LEA: two of its students tested at L, one of L's tested here."""
NAME = "lea-file.csv"
"""Renamed away from TOMS's name: no LEA, kind or year in it (the test dates give the year)."""
SIDES = {"enrolled": ("CALPADSDistrictCode", "CALPADSSchoolCode",
                      "CALPADSCharterSchoolIndicator"),
         "tested": ("FinalTestedDistrictCode", "FinalTestedSchoolCode",
                    "FinalTestedCharterSchoolIndicator")}


def lea_of(f: Toms, record: list[str], side: str) -> str:
    """A record's LEA on one side, as ELPAC.md says: a direct-funded charter is its own LEA."""
    district, school, charter = SIDES[side]
    return f.get(record, school) if f.get(record, charter) == "DF" else f.get(record, district)


@pytest.fixture
def cut(toms: Callable[..., Toms]) -> Callable[..., Toms]:
    """The Los Angeles file's records that ``which`` keeps, saved as ``name``."""

    def make(which: Callable[[Toms, list[str]], bool], name: str = NAME) -> Toms:
        f = toms(name=name)
        f.records = [r for r in f.records if which(f, r)]
        assert f.records
        f.save()
        return f

    return make


def keep(**leas: str) -> Callable[[Toms, list[str]], bool]:
    """Keeps the records whose LEA is ``enrolled=`` and/or ``tested=`` the one given."""
    return lambda f, r: all(lea_of(f, r, side) == lea for side, lea in leas.items())


def others(f: Toms, side: str, lea: str) -> tuple[int, list[str]]:
    """How many records have another LEA than ``lea`` on ``side``, and which LEAs."""
    codes = [lea_of(f, r, side) for r in f.records if lea_of(f, r, side) != lea]
    return len(codes), sorted(set(codes))


def refused(f: Toms, tmp_path: Path, kind: str | None = None) -> str:
    """Ingest ``f`` into a new store: the first file problem, nothing loaded or written."""
    result = ingest([f.path], store=Store(tmp_path / "store"), kind=kind)
    assert not result.loaded, result.outcomes[0].lea_records
    assert not (tmp_path / "store").exists()
    return result.file_problems[0].message


def test_enrolled_from_the_content_and_said(cut: Callable[..., Toms], tmp_path: Path) -> None:
    f = cut(keep(enrolled=L))
    n, leas = others(f, "tested", L)
    assert n >= 1

    result = ingest([f.path], store=Store(tmp_path / "store"))

    assert result.loaded
    (o,) = result.outcomes
    assert (o.kind, o.lea_records) == ("enrolled", {L: len(f.records)})
    was = "was" if n == 1 else "were"
    assert o.kind_note == (
        f"kind: enrolled, from the content: every record's enrolled LEA is {L}, and {n} "
        f"{was} tested at {'another LEA' if len(leas) == 1 else 'other LEAs'} "
        f"({', '.join(leas)}), which one LEA's tested-LEA file never holds")


def test_tested_from_the_content_and_said(cut: Callable[..., Toms], tmp_path: Path) -> None:
    f = cut(keep(tested=L))
    n, leas = others(f, "enrolled", L)
    assert n >= 2
    assert len(leas) >= 2

    result = ingest([f.path], store=Store(tmp_path / "store"))

    assert result.loaded
    (o,) = result.outcomes
    assert (o.kind, o.lea_records) == ("tested", {L: len(f.records)})
    assert o.kind_note == (
        f"kind: tested, from the content: every record's tested LEA is {L}, and {n} were "
        f"enrolled at other LEAs ({', '.join(leas)}), which one LEA's enrolled-LEA file never "
        "holds")


def test_one_lea_on_both_sides_is_refused_naming_it(cut: Callable[..., Toms],
                                                    tmp_path: Path) -> None:
    # Both kinds would hold these records today, but the kind decides which later file
    # replaces this one (supersession is per LEA, year and kind): it matters, so ask.
    f = cut(keep(enrolled=L, tested=L))

    assert refused(f, tmp_path) == (
        f"cannot tell an enrolled-LEA file from a tested-LEA file: all {len(f.records)} records "
        f"are enrolled and tested at LEA {L}, so either kind would load the same records, but "
        "a later file replaces only the current file of its own kind (the TOMS file name says "
        "which); pass --kind enrolled or --kind tested")
    assert not (tmp_path / "store").exists()


def test_one_lea_on_both_sides_loads_with_either_kind(cut: Callable[..., Toms],
                                                      tmp_path: Path) -> None:
    f = cut(keep(enrolled=L, tested=L))
    for kind in ("enrolled", "tested"):
        result = ingest([f.path], store=Store(tmp_path / kind), kind=kind)
        assert result.loaded, result.file_problems
        (o,) = result.outcomes
        assert (o.kind, o.lea_records, o.kind_note) == (kind, {L: len(f.records)}, "")


def test_one_enrolled_lea_and_another_tested_lea_is_refused(cut: Callable[..., Toms],
                                                            tmp_path: Path) -> None:
    f = cut(keep(enrolled=M, tested=L))

    assert refused(f, tmp_path) == (
        f"cannot tell an enrolled-LEA file from a tested-LEA file: all {len(f.records)} records "
        f"are enrolled at LEA {M} and tested at LEA {L}, so it is LEA {M}'s enrolled-LEA file "
        f"or LEA {L}'s tested-LEA file (the TOMS file name says which); pass --kind enrolled "
        "or --kind tested")


def test_a_renamed_county_file_of_several_leas_is_refused_naming_them(
        cut: Callable[..., Toms], tmp_path: Path) -> None:
    f = cut(keep())
    enrolled = sorted({lea_of(f, r, "enrolled") for r in f.records})
    tested = sorted({lea_of(f, r, "tested") for r in f.records})
    assert len(enrolled) > 1
    assert len(tested) > 1

    assert refused(f, tmp_path) == (
        "cannot tell an enrolled-LEA file from a tested-LEA file: its records are enrolled "
        f"at {len(enrolled)} LEAs and tested at {len(tested)} LEAs: a file of several LEAs, "
        "whose content does not show the kind that decides the LEA each record is loaded "
        "under (the TOMS file name says which); pass --kind enrolled or --kind tested")


def test_issue14_kind_contradicting_the_content_is_refused_with_the_evidence(
        cut: Callable[..., Toms], tmp_path: Path) -> None:
    # Found: an enrolled-LEA file loaded with --kind tested went in under every tested LEA
    # of its records: as LEA M's tested-LEA file too, holding one of M's students.
    f = cut(keep(enrolled=L))
    n, leas = others(f, "tested", L)

    result = ingest([f.path], store=Store(tmp_path / "store"), kind="tested")

    assert not result.loaded, result.outcomes[0].lea_records
    (problem,) = result.file_problems
    assert problem.message.startswith(
        f"--kind is tested, but every record's enrolled LEA is {L}, and {n} ")
    assert f"({', '.join(leas)})" in problem.message
    assert problem.message.endswith(
        "which one LEA's tested-LEA file never holds: this is an enrolled-LEA file; pass "
        "--kind enrolled, or leave --kind out")
    assert not (tmp_path / "store").exists()


def test_a_kind_in_the_file_name_still_wins(cut: Callable[..., Toms], tmp_path: Path) -> None:
    name = (f"{L}_Summative_ELPAC_and_Summative_Alternate_ELPAC_Student_Score_Data_File_"
            "TestedStudentScoreData_2025_DLMTR.CSV")
    f = cut(keep(enrolled=L), name=name)
    result = ingest([f.path], store=Store(tmp_path / "store"), kind="enrolled")
    assert "the file name says tested but --kind is enrolled" in result.file_problems[0].message

    result = ingest([f.path], store=Store(tmp_path / "store"))
    (o,) = result.outcomes
    assert (o.status, o.kind, o.kind_note) == ("loaded", "tested", "")


def test_a_direct_funded_charter_is_its_own_lea(cut: Callable[..., Toms],
                                                tmp_path: Path) -> None:
    # A DF charter's LEA code is its school code (normalise._store_rows): its enrolled file
    # names the school on the enrolled side, with the students who tested there on the other.
    f = cut(keep(enrolled=L))
    charter = f.get(f.records[0], "CALPADSSchoolCode")
    for r in f.records:
        f.set(r, CALPADSSchoolCode=charter, CALPADSCharterSchoolIndicator="DF",
              CALPADSCharterCode="1234")
        if lea_of(f, r, "tested") == L:
            f.set(r, FinalTestedSchoolCode=charter, FinalTestedCharterSchoolIndicator="DF",
                  FinalTestedCharterCode="1234")
    f.save()
    n, _ = others(f, "tested", charter)

    result = ingest([f.path], store=Store(tmp_path / "store"))

    (o,) = result.outcomes
    assert (o.status, o.kind, o.lea_records) == ("loaded", "enrolled", {charter: len(f.records)})
    assert o.kind_note.startswith(
        f"kind: enrolled, from the content: every record's enrolled LEA is {charter}, and {n} ")


def test_nonpublic_school_placements_do_not_move_a_record_to_another_lea(
        cut: Callable[..., Toms], tmp_path: Path) -> None:
    # A student the LEA places in a nonpublic school tests there under the LEA's own code.
    f = cut(keep(enrolled=L, tested=L))
    for r in f.records[:3]:
        f.set(r, FinalTestedSchoolNPSFlag="Y", CALPADSNPSSchoolFlag="Y")
    f.save()
    result = ingest([f.path], store=Store(tmp_path / "store"))
    assert f"records are enrolled and tested at LEA {L}," in result.file_problems[0].message


@pytest.mark.parametrize("kind", [None, "enrolled"])
def test_issue14_a_record_without_its_lea_is_refused_not_loaded_under_none(
        cut: Callable[..., Toms], tmp_path: Path, kind: str | None) -> None:
    # Found: a blank CALPADSDistrictCode (not a required field) in a renamed enrolled-LEA
    # file loaded that record under an LEA called "None".
    f = cut(keep(enrolled=L))
    ssid = f.get(f.records[5], "SSID")
    f.set(f.records[5], CALPADSDistrictCode="", CALPADSSchoolCode="")
    f.save()

    assert refused(f, tmp_path, kind=kind) == (
        f"1 record (SSID {ssid}) has no enrolled LEA: CALPADSDistrictCode is blank (or "
        "CALPADSSchoolCode, on a direct-funded charter's record), and a file whose name does "
        "not say its LEA is loaded under each record's enrolled LEA; fill in the code")
    assert not (tmp_path / "store").exists()


def test_issue14_a_tested_record_without_its_lea_is_refused(cut: Callable[..., Toms],
                                                           tmp_path: Path) -> None:
    f = cut(keep(tested=L))
    ssid = f.get(f.records[0], "SSID")
    f.set(f.records[0], FinalTestedCharterSchoolIndicator="DF", FinalTestedSchoolCode="")
    f.save()
    assert refused(f, tmp_path, kind="tested").startswith(
        f"1 record (SSID {ssid}) has no tested LEA: FinalTestedDistrictCode is blank (or "
        "FinalTestedSchoolCode, on a direct-funded charter's record)")


def test_a_batch_decides_each_file_by_its_own_content(cut: Callable[..., Toms],
                                                     tmp_path: Path) -> None:
    enrolled, tested = cut(keep(enrolled=L), name="a.csv"), cut(keep(tested=L), name="b.csv")

    result = ingest([enrolled.path, tested.path], store=Store(tmp_path / "store"))

    assert result.loaded
    assert [(o.kind, o.kind_note.split(",")[0]) for o in result.outcomes] == [
        ("enrolled", "kind: enrolled"), ("tested", "kind: tested")]
    # One --kind for the batch: the file it contradicts stops the batch.
    result = ingest([enrolled.path, tested.path], store=Store(tmp_path / "other"),
                    kind="enrolled")
    assert not result.loaded
    assert [p.file for p in result.file_problems] == ["b.csv"]
    assert result.file_problems[0].message.startswith(
        f"--kind is enrolled, but every record's tested LEA is {L}")


def test_cli_says_the_kind_came_from_the_content(cut: Callable[..., Toms],
                                                tmp_path: Path) -> None:
    f = cut(keep(enrolled=L))
    store = str(tmp_path / "store")
    result = CliRunner().invoke(app, ["ingest", str(f.path), "--store", store, "--check"])
    assert result.exit_code == 0, result.output
    assert (f"kind: enrolled, from the content: every record's enrolled LEA is {L}, and"
            in result.stdout)

    result = CliRunner().invoke(app, ["ingest", str(f.path), "--store", store,
                                      "--kind", "tested"])
    assert result.exit_code == 1
    assert f"error: {NAME}: --kind is tested, but every record's enrolled LEA" in result.stderr
    assert "Traceback" not in result.output


def test_the_data_loads_page_says_it_too(cut: Callable[..., Toms], tmp_path: Path) -> None:
    f = cut(keep(enrolled=L))
    user = User.operator("local:test")
    upload = [Upload(NAME, f.path.read_bytes())]

    report = check_uploads(upload, store=Store(tmp_path / "store"), user=user)

    assert not report.file_problems
    (note,) = report.files.get_column("message").to_list()
    assert note.startswith(f"kind: enrolled, from the content: every record's enrolled LEA "
                           f"is {L}, and")

    report = check_uploads(upload, store=Store(tmp_path / "store"), user=user,
                           options=FileOptions(kind="tested"))
    (problem,) = report.file_problems
    assert problem.startswith(f"{NAME}: File options say tested, but every record's enrolled")
    assert problem.endswith("this is an enrolled-LEA file; choose Enrolled LEA or From the "
                            "file under File options")


@pytest.mark.parametrize(("pairs", "kind"), [
    ([(L, L, 5), (L, M, 1)], "enrolled"),
    ([(L, L, 5), (M, L, 1)], "tested"),
    ([(L, L, 5), (L, None, 1), (L, M, 1)], "enrolled"),  # a blank code is no evidence
    ([(L, L, 5), (L, None, 1)], None),
    ([(L, L, 5), (None, L, 1), (L, M, 1)], "enrolled"),  # then refused: one has no LEA
    ([(None, L, 5)], None),
    ([], None),
    ([(L, L, 5)], None),
    ([(M, L, 5)], None),
    ([(L, L, 5), (M, M, 1), (L, M, 1)], None),
])
def test_what_the_content_shows(pairs: list[tuple[str, str | None, int]],
                                kind: str | None) -> None:
    frame = pl.DataFrame(pairs, schema={"enrolled_lea_code": pl.String,
                                        "tested_lea_code": pl.String, "n": pl.UInt32},
                         orient="row")
    assert content_kind(frame)[0] == kind
