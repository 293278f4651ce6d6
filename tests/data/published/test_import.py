"""`data.published`: a research file is checked row by row and imported all or nothing.

Each rule has a test that breaks one cell of a valid file built here (``conftest.py``) and
expects that row (file line, header = row 1), field and reason, and nothing in the store.
"""

from __future__ import annotations

import zipfile
from typing import TYPE_CHECKING

import polars as pl
import pytest

from data.problems import InputError
from data.published import source
from data.published.research_file import file_columns
from data.published.store import (
    ResearchFileRefused,
    import_research_file,
    published_history,
    published_path,
)
from data.results.store import Store
from queries.published import published_rows
from queries.research import research_columns
from tests.conftest import tree_digest
from tests.data.published.conftest import HEADER, LEA, SCHOOL, YEAR, row, valid_rows, write_file

if TYPE_CHECKING:
    from pathlib import Path


def store_at(tmp_path: Path) -> Store:
    return Store(tmp_path / "store")


def run(store: Store, path: Path, **kw: object) -> object:
    return import_research_file(store, path, imported_by="test", **kw)  # type: ignore[arg-type]


def test_the_columns_are_the_exports_columns() -> None:
    for test in ("summative", "alternate"):
        assert file_columns(test) == research_columns(test)


def test_a_valid_file_is_imported_as_it_reads(tmp_path: Path, research_file: Path) -> None:
    store = store_at(tmp_path)
    result = run(store, research_file)
    assert (result.status, result.n_rows, result.version_label) == ("imported", 7, "v1")
    rows = published_rows(store, YEAR, "summative")
    assert rows.height == 7
    assert rows.get_column("source").unique().to_list() == [
        "published by CDE (sa_elpac2025_all_csv_v1.txt, v1)"]
    assert rows.get_column("org_level").to_list() == ["state", "county", "lea", "lea",
                                                      "school", "school", "school"]
    assert rows.row(0, named=True)["OverallPerfLvl1Pcnt"] == "25.00"
    assert published_rows(store, YEAR, "summative",
                          orgs=["".join(SCHOOL)]).height == 3


# -- one test per rule: the problem names its row, field and reason; nothing is loaded --------

RULES = [
    ("CountyCode", "1", "must be 2 digits"),
    ("DistrictCode", "6473", "must be 5 digits"),
    ("SchoolCode", "60170160", "must be 7 digits"),
    ("TypeID", "05", "must be one of 04, 03, 02, 09, 01, 10"),
    ("TypeID", "02", "TypeID 02 (lea) needs a district code and school 0000000"),
    ("TestYear", "2024", "must be 2025 for 2024-25"),
    ("StudentGroupID", "1", "must be 3 digits"),
    ("Grade", "14", "must be KN, 01 to 12, or 13"),
    ("Grade", "K", "must be KN, 01 to 12, or 13"),
    ("TotalEnrolled", "-3", "must be a whole number of 0 or more"),
    ("TotalTested", "4.5", "must be a whole number of 0 or more"),
    ("OverallPerfLvl1Count", "x", "must be a whole number of 0 or more"),
    ("OverallPerfLvl2Pcnt", "100.01", "must be a percent from 0 to 100"),
    ("ReadingDomainBeginPcnt", "-1", "must be a percent from 0 to 100"),
    ("OverallMeanSclScr", "1149.9", "must be a mean summative scale score for grade KN "
                                    "(1150 to 1700)"),
    ("OralLangMeanSclScr", "1700.1", "must be a mean summative scale score for grade KN"),
    ("OverallPerfLvl4Count", "41", "is more than OverallTotal (40)"),
    ("SpeakingDomainDevelopedCount", "41", "is more than SpeakingDomainTotal (40)"),
    ("Filler", "12345", "must be blank or a charter number"),
    ("AssessmentType", "22", "must be one digit"),
]


@pytest.mark.parametrize(("field", "value", "reason"), RULES)
def test_a_bad_cell_refuses_the_whole_file(tmp_path: Path, field: str, value: str,
                                           reason: str) -> None:
    rows = valid_rows()
    rows[6][field] = value  # the school's kindergarten row: file line 8
    path = write_file(tmp_path / "bad.txt", rows)
    store = store_at(tmp_path)
    with pytest.raises(ResearchFileRefused) as refused:
        run(store, path)
    problems = refused.value.problems
    assert problems.select("row", "field", "value").rows() == [(8, field, value)]
    assert reason in problems.item(0, "reason")
    assert f"row 8: {field}" in str(refused.value)
    assert "nothing was imported" in str(refused.value)
    assert published_history(store).height == 0
    assert not (store.path / "published").exists()


def test_a_refused_file_leaves_a_store_byte_identical(store_copy: Store, tmp_path: Path,
                                                      research_file: Path) -> None:
    run(store_copy, research_file)
    before = tree_digest(store_copy.path)
    rows = valid_rows()
    rows[2]["TestYear"] = "2026"
    with pytest.raises(ResearchFileRefused):
        run(store_copy, write_file(tmp_path / "sa_elpac2025_all_csv_v2.txt", rows))
    assert tree_digest(store_copy.path) == before


def test_every_bad_row_is_listed(tmp_path: Path) -> None:
    rows = valid_rows()
    rows[0]["Grade"] = "00"
    rows[3]["CountyCode"] = "A9"
    rows.append(dict(rows[4]))  # the same school, group and grade twice
    with pytest.raises(ResearchFileRefused) as refused:
        run(store_at(tmp_path), write_file(tmp_path / "bad.txt", rows))
    found = refused.value.problems.select("row", "field").rows()
    assert (2, "Grade") in found
    assert (5, "CountyCode") in found
    assert {(6, "Grade"), (9, "Grade")} <= set(found)  # both copies of the duplicate


def test_a_row_with_the_wrong_number_of_fields(tmp_path: Path, research_file: Path) -> None:
    text = research_file.read_text() + "19^64733^0000000^02\r\n"
    research_file.write_text(text)
    with pytest.raises(ResearchFileRefused) as refused:
        run(store_at(tmp_path), research_file)
    (problem,) = refused.value.problems.iter_rows(named=True)
    assert (problem["row"], problem["field"]) == (9, "(row)")
    assert f"the header has {len(HEADER)}" in problem["reason"]


def test_a_control_character_is_refused(tmp_path: Path) -> None:
    rows = valid_rows()
    rows[1]["Filler"] = "\x1b[2J"
    with pytest.raises(ResearchFileRefused) as refused:
        run(store_at(tmp_path), write_file(tmp_path / "hostile.txt", rows))
    reasons = refused.value.problems.filter(pl.col("row") == 3).get_column("reason").to_list()
    assert "holds a control character" in reasons


def test_a_missing_column_is_named(tmp_path: Path) -> None:
    header = [h for h in HEADER if h != "WritLangTotal"]
    with pytest.raises(InputError, match="the header has no WritLangTotal"):
        run(store_at(tmp_path), write_file(tmp_path / "f.txt", valid_rows(), header))


# -- encodings ---------------------------------------------------------------------------------

def entities(tmp_path: Path, school_name: str, encoding: str) -> Path:
    header = ["CountyCode", "DistrictCode", "SchoolCode", "RecordType", "CharterNumber",
              "TestYear", "CountyName", "DistrictName", "SchoolName", "ZipCode"]
    rows = [dict(zip(header, ["19", "64733", "0000000", "02", "", "2025", "Los Angeles",
                              "Los Angeles Unified", "", ""], strict=True)),
            dict(zip(header, ["19", "64733", "6017016", "01", "", "2025", "Los Angeles",
                              "Los Angeles Unified", school_name, "90001"], strict=True))]
    return write_file(tmp_path / f"entities-{encoding}.txt", rows, header, encoding)


def test_names_come_from_a_cp1252_entities_file(tmp_path: Path, research_file: Path) -> None:
    store = store_at(tmp_path)
    run(store, research_file, entities=entities(tmp_path, "Escuela Peña", "cp1252"))
    rows = published_rows(store, YEAR, "summative", orgs=["".join(SCHOOL)])
    assert rows.get_column("SchoolName").unique().to_list() == ["Escuela Peña"]
    assert published_rows(store, YEAR, "summative", orgs=["".join(LEA)]).get_column(
        "DistrictName").unique().to_list() == ["Los Angeles Unified"]


def test_mixed_encodings_are_refused_with_the_offset(tmp_path: Path,
                                                     research_file: Path) -> None:
    path = entities(tmp_path, "Escuela Peña", "utf-8")
    data = path.read_bytes() + "19^64733^6017017^01^^2025^Los Angeles^LAUSD^Niño^9\r\n".encode(
        "cp1252")
    path.write_bytes(data)
    offset = data.index(b"Ni\xf1o") + 2
    with pytest.raises(InputError, match=f"mixes encodings.*offset {offset:,}"):
        run(store_at(tmp_path), research_file, entities=path)


def test_bytes_of_no_encoding_are_refused_with_the_offset(tmp_path: Path) -> None:
    data = "^".join(HEADER).encode() + b"\r\n19\x81^"
    (tmp_path / "f.txt").write_bytes(data)
    with pytest.raises(InputError, match=f"byte at offset {len(data) - 2:,} \\(0x81\\)"):
        run(store_at(tmp_path), tmp_path / "f.txt")


# -- zips ----------------------------------------------------------------------------------

def zipped(tmp_path: Path, name: str, entries: dict[str, bytes]) -> Path:
    path = tmp_path / name
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for entry, data in entries.items():
            archive.writestr(entry, data)
    return path


def test_a_zip_holding_the_file_is_imported(tmp_path: Path, research_file: Path) -> None:
    path = zipped(tmp_path, "sa_elpac2025_all_csv_v2.zip",
                  {"sa_elpac2025_all_csv_v2.txt": research_file.read_bytes()})
    result = run(store_at(tmp_path), path)
    assert (result.status, result.n_rows, result.version_label) == ("imported", 7, "v2")


def test_a_zip_bomb_is_refused_naming_the_ratio(tmp_path: Path) -> None:
    # 20 MB of one character compresses about 1000:1.
    path = zipped(tmp_path, "bomb.zip", {"bomb.txt": b"0" * 20_000_000})
    with pytest.raises(InputError, match="over the limit of 200:1"):
        run(store_at(tmp_path), path)


def test_a_zip_entry_over_the_size_limit_is_refused(tmp_path: Path, research_file: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # A 1 GiB entry is too slow to build in a test: the same check with a smaller limit.
    monkeypatch.setattr(source, "MAX_ENTRY_BYTES", 1 << 10)
    path = zipped(tmp_path, "big.zip", {"big.txt": research_file.read_bytes()})
    with pytest.raises(InputError, match="over the limit of .* GiB a zip entry may hold"):
        run(store_at(tmp_path), path)


def test_a_zip_with_two_files_is_refused(tmp_path: Path, research_file: Path) -> None:
    data = research_file.read_bytes()
    path = zipped(tmp_path, "two.zip", {"a.txt": data, "b.txt": data})
    with pytest.raises(InputError, match="holds one .txt file; this one holds 2"):
        run(store_at(tmp_path), path)


def test_a_zip_that_lies_about_its_size_is_refused(tmp_path: Path) -> None:
    path = zipped(tmp_path, "lying.zip", {"f.txt": b"abc" * 1000})
    data = bytearray(path.read_bytes())
    # Both headers say 10 bytes uncompressed; the entry holds 3,000.
    for signature, at in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        start = data.index(signature) + at
        data[start:start + 4] = (10).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    with pytest.raises(InputError, match="the zip cannot be read"):
        source.read_bytes(path)


# -- idempotence, versions, old header names -----------------------------------------------

def test_the_same_file_again_changes_nothing(tmp_path: Path, research_file: Path) -> None:
    store = store_at(tmp_path)
    first = run(store, research_file)
    before = tree_digest(store.path)
    again = run(store, research_file)
    assert (again.status, again.file_id) == ("already imported", first.file_id)
    assert tree_digest(store.path) == before


def test_a_new_version_becomes_current_and_the_old_is_kept(tmp_path: Path,
                                                           research_file: Path) -> None:
    store = store_at(tmp_path)
    first = run(store, research_file)
    rows = valid_rows()
    rows[0]["TotalEnrolled"] = "43"
    second = run(store, write_file(tmp_path / "sa_elpac2025_all_csv_v2.txt", rows))
    history = published_history(store)
    assert history.select("file_id", "version_label", "is_current").rows() == [
        (second.file_id, "v2", True), (first.file_id, "v1", False)]
    assert published_path(store, first.file_id).exists()
    assert published_rows(store, YEAR, "summative").item(0, "TotalEnrolled") == "43"


def test_old_header_names_and_the_2018_file(tmp_path: Path) -> None:
    # 2018-19 to 2022-23: RecordType and CharterNumber; 2018: no TotalTestedWithScores.
    rename = {"TypeID": "RecordType", "Filler": "CharterNumber"}
    header = [rename.get(h, h) for h in HEADER if h != "TotalTestedWithScores"]
    rows = [{rename.get(k, k): v for k, v in r.items()} for r in valid_rows()]
    for r in rows:
        r["TestYear"] = "2018"
    store = store_at(tmp_path)
    result = run(store, write_file(tmp_path / "sa_elpac2018_all_csv_v3.txt", rows, header))
    assert (result.school_year, result.n_rows) == ("2017-18", 7)
    back = published_rows(store, "2017-18", "summative")
    assert back.get_column("TotalTestedWithScores").to_list() == ["41"] * 7  # = TotalTested
    assert back.get_column("TypeID").to_list()[:3] == ["04", "03", "02"]


def test_suppressed_and_blank_cells_are_null(tmp_path: Path) -> None:
    rows = [*valid_rows(), row(*SCHOOL, "01", group="128", **{
        c: "*" for c in HEADER[12:]}, TotalEnrolled="*")]
    rows[-1]["OverallMeanSclScr"] = ""
    store = store_at(tmp_path)
    run(store, write_file(tmp_path / "f.txt", rows))
    last = published_rows(store, YEAR, "summative").row(-1, named=True)
    assert all(last[c] is None for c in [*HEADER[12:], "TotalEnrolled"])
    assert last["TotalTested"] == "41"


def test_a_summative_file_is_not_taken_for_an_alternate_one(tmp_path: Path,
                                                             research_file: Path) -> None:
    # Without its oral mean a summative file is still summative: the missing column is named.
    header = [h for h in HEADER if h != "OralLangMeanSclScr"]
    with pytest.raises(InputError, match="the header has no OralLangMeanSclScr"):
        run(store_at(tmp_path), write_file(tmp_path / "f.txt", valid_rows(), header))
    with pytest.raises(InputError, match="not a Summative Alternate ELPAC research file"):
        run(store_at(tmp_path), research_file, test="alternate")


def test_an_alternate_file(tmp_path: Path) -> None:
    header = research_columns("alternate")
    rows = [row("00", "00000", "0000000", "04", OverallMeanSclScr="550.0",
                OverallPerfLvl3Count="20", OverallPerfLvl3Pcnt="50.00"),
            row("00", "00000", "0000000", "04", grade="KN", OverallMeanSclScr="250.0",
                OverallPerfLvl3Count="20", OverallPerfLvl3Pcnt="50.00")]
    store = store_at(tmp_path)
    assert run(store, write_file(tmp_path / "alt.txt", rows, header)).test == "alternate"
    # A kindergarten mean outside the alternate KN band (201-299) is refused.
    rows[1]["OverallMeanSclScr"] = "300.0"
    with pytest.raises(ResearchFileRefused, match="for grade KN \\(201 to 299\\)"):
        run(store, write_file(tmp_path / "alt2.txt", rows, header))


def test_a_header_without_rows_is_a_sentence(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="a header row but no rows"):
        run(store_at(tmp_path), write_file(tmp_path / "empty.txt", []))


def test_rows_all_of_the_wrong_width_are_listed(tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_text("^".join(HEADER) + "\r\n1^2^3\r\n")
    with pytest.raises(ResearchFileRefused) as refused:
        run(store_at(tmp_path), tmp_path / "f.txt")
    assert refused.value.problems.select("row", "field").rows() == [(2, "(row)")]
