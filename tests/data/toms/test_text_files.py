"""Text files are decoded strictly and described honestly (issue 15, findings 3 and 8).

A file is UTF-8, or Windows cp1252 through and through; one that mixes them is refused with the
row, field and byte offset of the first byte that is not UTF-8, because decoding it as cp1252
garbles every name in it ("Núñez" becomes "NÃºÃ±ez") and those names go home on Student Score
Reports. Names are written in the script of every language a report is sent in (ELPAC.md §7:
Spanish, Vietnamese, Filipino, Korean, Chinese).
"""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

import duckdb
import pytest

from data.problems import InputError
from data.results.ingest import ingest
from data.toms.layout import layout
from data.toms.read import decode_text

if TYPE_CHECKING:
    from pathlib import Path

    from data.results.store import Store

YEAR = "2024-25"

NAMES = [
    # (last, first, CEDS language): real-world names in each SSR language's script.
    ("Núñez", "José María", "SPA"),
    ("Peña Muñoz", "Begoña", "SPA"),
    ("Nguyễn", "Thị Thu Hà", "VIE"),
    ("Trần", "Đức Anh", "VIE"),
    ("Dela Cruz", "Mañalac", "FIL"),
    ("Santo Niño", "Ma. Cristina", "TGL"),
    ("김", "민준", "KOR"),
    ("이", "서연", "KOR"),
    ("陳", "美玲", "CHI"),
    ("黃", "志明", "YUE"),
    ("𠮷田", "太郎", "CMN"),  # a character outside the Basic Multilingual Plane: 4 UTF-8 bytes
]


class Records:
    """The 2024-25 Los Angeles file of the tiny demo, its cells editable by field."""

    def __init__(self, source: Path) -> None:
        with source.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle, delimiter="^", quoting=csv.QUOTE_NONE))
        self.name = source.name
        self.header, self.records = rows[0], rows[1:]
        self.column = {c: i for i, c in enumerate(layout(YEAR).canonical) if c}

    def set(self, index: int, **values: str) -> None:
        for field, value in values.items():
            self.records[index][self.column[field]] = value

    def text(self, delimiter: str = "^") -> str:
        if delimiter == ",":
            buffer = io.StringIO()
            csv.writer(buffer, lineterminator="\n").writerows([self.header, *self.records])
            return buffer.getvalue()
        return "".join(delimiter.join(r) + "\n" for r in [self.header, *self.records])


@pytest.fixture
def records(tiny_files: dict[str, list[Path]]) -> Records:
    return Records(next(p for p in tiny_files[YEAR] if p.name.startswith("County19")))


def stored_names(store: Store) -> set[tuple[str, str]]:
    con = duckdb.connect()
    try:
        store.results(con)
        rows = con.sql("SELECT last_name, first_name FROM results").pl()
    finally:
        con.close()
    return set(rows.iter_rows())


def load(path: Path, store: Store) -> None:
    result = ingest([path], store=store)
    assert (result.file_problems, result.row_problems.rows()) == ([], [])
    assert result.loaded


def refused(path: Path, store: Store) -> str:
    result = ingest([path], store=store)
    assert result.loaded is False
    assert result.row_problems.height == 0
    assert [p.file for p in result.file_problems] == [path.name]
    return result.file_problems[0].message


# -- names in every script -------------------------------------------------------------------


@pytest.mark.parametrize(("variant", "delimiter", "bom"), [
    ("caret", "^", b""), ("caret-bom", "^", b"\xef\xbb\xbf"), ("comma", ",", b""),
    ("tab-bom", "\t", b"\xef\xbb\xbf")])
def test_names_in_every_report_language_load_as_written(records, store_copy, tmp_path, variant,
                                                        delimiter, bom):
    for i, (last, first, language) in enumerate(NAMES):
        records.set(i, StudentLastName=last, StudentFirstName=first, CEDSLanguageCode=language)
    path = tmp_path / records.name
    path.write_bytes(bom + records.text(delimiter).encode("utf-8"))
    load(path, store_copy)
    assert {(last, first) for last, first, _ in NAMES} <= stored_names(store_copy)


def test_a_cp1252_file_is_read_as_cp1252(records, store_copy, tmp_path):
    records.set(0, StudentLastName="Peña", StudentFirstName="Muñoz")
    records.set(1, StudentLastName="Ibáñez", StudentFirstName="Élodie")
    path = tmp_path / records.name
    path.write_bytes(records.text().encode("cp1252"))
    load(path, store_copy)
    assert {("Peña", "Muñoz"), ("Ibáñez", "Élodie")} <= stored_names(store_copy)


# -- mixed encodings are refused -------------------------------------------------------------


def test_utf8_names_with_one_stray_byte_are_refused_with_row_field_and_offset(
        records, store_copy, digest, tmp_path):
    # The file: UTF-8 names, and one 0x81 byte (undefined in cp1252) in an address.
    records.set(0, StudentLastName="Núñez")
    records.set(1, StudentLastName="Nguyễn")
    records.set(4, StudentAddressLine1="12 Main St STRAY")
    data = records.text().encode("utf-8").replace(b"STRAY", b"\x81")
    offset = data.index(b"\x81")
    path = tmp_path / records.name
    path.write_bytes(data)
    before = digest(store_copy.path)
    message = refused(path, store_copy)
    assert message == (
        f"row 6, field StudentAddressLine1: byte 0x81 at byte offset {offset:,} is not UTF-8, "
        "and the file is not Windows-1252 (cp1252) throughout either; it was not loaded: save "
        "it again as UTF-8 (CSV UTF-8 in Excel)")
    assert digest(store_copy.path) == before


def test_utf8_names_beside_a_cp1252_byte_are_refused_not_garbled(records, store_copy, tmp_path):
    # 0xE9 is "é" in cp1252, so the whole file decodes as cp1252 without an error; but it also
    # holds UTF-8 letters, which cp1252 would turn into "NÃºÃ±ez".
    records.set(0, StudentLastName="Núñez")
    records.set(2, StudentFirstName="RenSTRAY")
    data = records.text().encode("utf-8").replace(b"STRAY", b"\xe9")
    offset = data.index(b"Ren\xe9") + 3
    path = tmp_path / records.name
    path.write_bytes(data)
    assert refused(path, store_copy) == (
        f"row 4, field StudentFirstName: byte 0xE9 at byte offset {offset:,} is not UTF-8, "
        "while row 2 holds UTF-8 text: the file mixes two encodings, and its names would be "
        "garbled; it was not loaded: save it again as UTF-8 (CSV UTF-8 in Excel)")


def test_a_stray_byte_in_the_header_names_the_header(records, store_copy, tmp_path):
    data = records.text().encode("utf-8").replace(b"^UIN^", b"^UI\x81N^", 1)
    path = tmp_path / records.name
    path.write_bytes(data)
    assert refused(path, store_copy).startswith(
        "row 1 (the header), column 2: byte 0x81 at byte offset 13 is not UTF-8")


@pytest.mark.parametrize(("data", "expected"), [
    ("Peña".encode("cp1252"), ("Peña", "cp1252")),
    (b"\xef\xbb\xbfNguy\xe1\xbb\x85n", ("Nguyễn", "utf-8")),
    ("김민준".encode(), ("김민준", "utf-8")),
    (b"plain ascii", ("plain ascii", "utf-8")),
])
def test_decode_text(data, expected):
    assert decode_text(data) == expected


def test_decode_text_refuses_what_is_neither():
    with pytest.raises(InputError, match=r"row 1 \(the header\), column 1: byte 0x9D at "
                                         r"byte offset 1 is not UTF-8"):
        decode_text(b"a\x9db")


# -- one long line ---------------------------------------------------------------------------


def test_a_ten_megabyte_line_is_not_called_empty(records, store_copy, tmp_path):
    path = tmp_path / records.name
    path.write_bytes(b"x" * (10 << 20))
    assert refused(path, store_copy) == (
        "the file is one line of 10,485,760 bytes with no line break: it is not a Student "
        "Score Data File, or its line breaks were lost (a record per line is needed)")


def test_a_first_line_longer_than_any_header_is_named(records, store_copy, tmp_path):
    path = tmp_path / records.name
    path.write_bytes(b"y" * 300_000 + b"\n" + records.text().encode())
    assert refused(path, store_copy) == (
        "the first line is longer than 200,000 characters; a Student Score Data File starts "
        "with a header row of 99 to 376 names separated by ^ or commas")


def test_records_on_one_line_under_the_look_ahead_are_refused_as_before(records, store_copy,
                                                                         tmp_path):
    # Short enough to be read as a header row (with unknown names after the layout's).
    path = tmp_path / records.name
    path.write_text("^".join(records.header + records.records[0]), encoding="utf-8")
    assert refused(path, store_copy) == "the file has a header but no records"
