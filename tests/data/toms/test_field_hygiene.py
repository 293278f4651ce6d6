"""Field hygiene: what no Student Score Data File field holds is refused at ingest, and the
TOMS export never writes a file that would not load again (issue 15, finding 5).

A control character (U+0000-U+001F: TOMS fields never hold one; tab, CR and LF are only
delimiters and line ends), a ``^`` (the TOMS delimiter) or a value longer than the layout's
width is a row problem with its row and field. The unit separator matters most: the store
packs fields without a column of their own with it, so one in ``LocalUse`` shifted 115
exported fields of its record. A store written before these checks may still hold such
values: the TOMS export refuses them instead of writing a broken file.
"""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

import polars as pl
import pytest
import xlsxwriter
from typer.testing import CliRunner

from data.problems import InputError
from data.results.ingest import ingest
from data.toms.export import delimited_writer
from data.toms.field_catalogue import FIELDS
from data.toms.layout import all_layouts, layout
from elpac.cli import app
from queries.scope import Scope
from queries.snapshot import Snapshot
from queries.ssdf_extract import build_ssdf_extract

if TYPE_CHECKING:
    from pathlib import Path

    from data.results.store import Store

YEAR = "2024-25"
SCORED = {"RecordType": "21", "TestedStatus": "Y", "Attemptedness": "Y", "ConditionCode": ""}


class Records:
    """The 2024-25 Los Angeles file of the tiny demo, its cells editable by field and line."""

    def __init__(self, source: Path) -> None:
        with source.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle, delimiter="^", quoting=csv.QUOTE_NONE))
        self.name = source.name
        self.header, self.records = rows[0], rows[1:]
        self.column = {c: i for i, c in enumerate(layout(YEAR).canonical) if c}

    def line(self, skip: int = 0) -> int:
        """File line (header = 1) of the ``skip``-th scored Summative record."""
        lines = [n for n, r in enumerate(self.records, start=2)
                 if all(r[self.column[f]] == v for f, v in SCORED.items())]
        return lines[skip]

    def set(self, line: int, **values: str) -> None:
        for field, value in values.items():
            self.records[line - 2][self.column[field]] = value

    def caret(self, path: Path) -> Path:
        text = "".join("^".join(r) + "\n" for r in [self.header, *self.records])
        path.write_bytes(text.encode("utf-8"))
        return path

    def comma(self, path: Path) -> Path:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows([self.header, *self.records])
        path.write_bytes(buffer.getvalue().encode("utf-8"))
        return path


@pytest.fixture
def records(tiny_files: dict[str, list[Path]]) -> Records:
    return Records(next(p for p in tiny_files[YEAR] if p.name.startswith("County19")))


def problems(path: Path, store: Store) -> list[tuple[int, str, str | None, str]]:
    """Ingest ``path``; it must be refused. Its row problems: (row, field, value, reason)."""
    result = ingest([path], store=store)
    assert result.loaded is False
    assert result.file_problems == []
    return result.row_problems.select("row", "field", "value", "reason").rows()


# -- control characters and the delimiter ----------------------------------------------------


def test_unit_separator_in_local_use_is_refused(records, store_copy, digest, tmp_path):
    line = records.line()
    records.set(line, LocalUse="A\x1fB")
    before = digest(store_copy.path)
    assert problems(records.caret(tmp_path / records.name), store_copy) == [
        (line, "LocalUse", "A␟B", "holds a control character (U+001F, shown as ␟); no field "
                                  "of a Student Score Data File does")]
    assert digest(store_copy.path) == before


@pytest.mark.parametrize(("field", "value", "shown", "code"), [
    ("StudentFirstName", "Ana\x00", "Ana␀", "U+0000"),
    ("StudentLastName", "Lee\x07", "Lee␇", "U+0007"),
    ("GradeAssessed", "{}\t", "{}␉", "U+0009"),
    ("UIN", "\x1b[31m", "␛[31m", "U+001B"),
    ("CALPADSSchoolName", "Lincoln\x7f", "Lincoln␡", "U+007F"),
])
def test_control_characters_are_refused_in_every_field(records, store_copy, tmp_path, field,
                                                       value, shown, code):
    line = records.line()
    current = records.records[line - 2][records.column[field]]
    value, shown = value.format(current), shown.format(current)  # a tab after the grade
    records.set(line, **{field: value})
    symbol = next(c for c in shown if "\u2400" <= c <= "\u2421")
    assert problems(records.caret(tmp_path / records.name), store_copy) == [
        (line, field, shown, f"holds a control character ({code}, shown as {symbol}); no "
                             "field of a Student Score Data File does")]


@pytest.mark.parametrize(("field", "value", "reason"), [
    ("StudentLastName", "Smith^Jones", "holds a ^, the delimiter of Student Score Data Files; "
                                       "such a file could never be written back"),
    ("StudentAddressLine1", "12 Main St\nApt 4", "holds a control character (U+000A, shown as "
                                                 "␊); no field of a Student Score Data File "
                                                 "does"),
    ("CALPADSSchoolName", "Lincoln\r\nElementary", "holds a control character (U+000D, shown "
                                                   "as ␍); no field of a Student Score Data "
                                                   "File does"),
])
def test_a_comma_file_with_a_quoted_caret_or_line_break_is_refused(records, store_copy, digest,
                                                                   tmp_path, field, value,
                                                                   reason):
    # Quoted, these are legal CSV; exported as TOMS text they made rows of 8, 369 or 377
    # fields, which the ingest then refused. Refused here, they can never be exported.
    line = records.line()
    records.set(line, **{field: value})
    before = digest(store_copy.path)
    found = problems(records.comma(tmp_path / records.name.replace(".CSV", ".csv")), store_copy)
    assert [(r, f, why) for r, f, _, why in found] == [(line, field, reason)]
    assert digest(store_copy.path) == before


def test_a_line_break_inside_an_excel_cell_is_refused(records, store_copy, tmp_path):
    line = records.line()
    records.set(line, StudentLastName="Garcia\nLopez")
    path = tmp_path / records.name.replace(".CSV", ".xlsx")
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet("Records")
    for r, record in enumerate([records.header, *records.records]):
        for c, value in enumerate(record):
            if value:
                sheet.write_string(r, c, value)
    book.close()
    result = ingest([path], store=store_copy)
    assert result.row_problems.select("sheet", "row", "field", "value").rows() == [
        ("Records", line, "StudentLastName", "Garcia␊Lopez")]


# -- lengths ---------------------------------------------------------------------------------


def test_a_five_megabyte_name_is_refused_and_shown_short(records, store_copy, tmp_path):
    line = records.line()
    records.set(line, StudentLastName="A" * (5 << 20))
    [(row, field, value, reason)] = problems(records.caret(tmp_path / records.name), store_copy)
    assert (row, field) == (line, "StudentLastName")
    assert reason == ("is 5,242,880 characters long; StudentLastName holds at most 50 (its "
                      "width in the TOMS layout)")
    assert value == "A" * 60 + "… (5,242,880 characters)"


def test_names_at_the_layout_widths_load(records, store_copy, tmp_path):
    line = records.line()
    records.set(line, StudentLastName="L" * 50, StudentFirstName="F" * 30,
                StudentMiddleName="M" * 30, LocalUse="U" * 15)
    result = ingest([records.caret(tmp_path / records.name)], store=store_copy)
    assert (result.file_problems, result.row_problems.rows()) == ([], [])
    assert result.loaded


@pytest.mark.parametrize(("field", "width"), [
    ("StudentFirstName", 30), ("StudentMiddleName", 30), ("LocalUse", 15), ("UIN", 16),
    ("CALPADSSchoolName", 100), ("StudentAddressLine1", 60), ("OpportunityID1", 16)])
def test_one_character_over_the_width_is_refused(records, store_copy, tmp_path, field, width):
    line = records.line()
    records.set(line, **{field: "x" * (width + 1)})
    found = problems(records.caret(tmp_path / records.name), store_copy)
    assert [(r, f, why) for r, f, _, why in found] == [
        (line, field, f"is {width + 1} characters long; {field} holds at most {width} (its "
                      "width in the TOMS layout)")]


def test_every_text_field_of_every_layout_has_a_width():
    for lay in all_layouts():
        for f in lay.fields:
            if f.kind.name == "text":
                assert f.kind.max_length > 0, f.name
    assert FIELDS["StudentLastName"].kind.max_length == 50


# -- the TOMS export -------------------------------------------------------------------------


def _tamper(store: Store, year: str, **values: str) -> str:
    """Rewrite one stored record (as a store written before these checks could hold it)."""
    path = Snapshot(store).year_files[year]
    frame = pl.read_parquet(path)
    first = pl.int_range(pl.len()) == 0
    frame = frame.with_columns(pl.when(first).then(pl.lit(v)).otherwise(pl.col(c)).alias(c)
                               for c, v in values.items())
    frame.write_parquet(path)
    return frame.get_column("ssid")[0]


@pytest.mark.parametrize(("value", "what"), [("Smith^Jones", "a ^"), ("Garcia\nLopez",
                                                                      "a line break")])
def test_the_toms_export_refuses_a_value_it_cannot_write(store_copy, tmp_path, value, what):
    _tamper(store_copy, YEAR, last_name=value)
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "records.txt"
    with pytest.raises(InputError) as refused:
        build_ssdf_extract(Snapshot(store_copy), out, scope=Scope.state(pii=True), years=[YEAR],
                           fmt="toms")
    message = str(refused.value)
    assert f"field StudentLastName holds {what}" in message
    assert "a caret-delimited TOMS file cannot carry it, so nothing was written" in message
    assert list(out.parent.iterdir()) == []  # neither the file nor its part
    # CSV quotes such a value: that export still works.
    build_ssdf_extract(Snapshot(store_copy), tmp_path / "out" / "records.csv",
                       scope=Scope.state(pii=True), years=[YEAR], fmt="csv")


def test_the_cli_toms_export_refuses_in_one_sentence(store_copy, tmp_path):
    _tamper(store_copy, YEAR, first_name="Ana\rMaria")
    done = CliRunner().invoke(app, ["export", "students", "--year", YEAR, "--format", "toms",
                                    "-o", str(tmp_path / "out.txt"), "--store",
                                    str(store_copy.path)])
    assert done.exit_code == 1
    assert "field StudentFirstName holds a carriage return" in done.output
    assert "Traceback" not in done.output
    assert not (tmp_path / "out.txt").exists()


def test_a_packed_record_that_does_not_unpack_is_refused_not_shifted(store_copy, tmp_path):
    # What a unit separator in LocalUse did: one more separator in the packed fields, and
    # every later field of the record moved one place (DateofBirth became "B").
    path = Snapshot(store_copy).year_files[YEAR]
    packed = pl.read_parquet(path).get_column("extra_fields")[0]
    ssid = _tamper(store_copy, YEAR, extra_fields="A\x1fB" + packed)
    with pytest.raises(InputError, match=rf"the stored record of SSID {ssid} \(load \d+\) "
                                         r"holds \d+ packed fields where its load has \d+"):
        build_ssdf_extract(Snapshot(store_copy), tmp_path / "records.csv",
                           scope=Scope.state(pii=True), years=[YEAR], fmt="csv")


def test_delimited_writer_checks_every_part(tmp_path):
    out = tmp_path / "x.txt"

    def two_parts() -> None:
        with delimited_writer(out, fmt="toms") as write:
            write(pl.DataFrame({"A": ["1", "2"], "B": ["x", "y"]}))
            write(pl.DataFrame({"A": ["3"], "B": ["a^b"]}))

    with pytest.raises(InputError, match=r"line 4 of the file, field B holds a \^"):
        two_parts()
    assert list(tmp_path.iterdir()) == []
