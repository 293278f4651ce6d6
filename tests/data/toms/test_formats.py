"""The same records saved in other ways load as exactly the same stored rows.

TOMS writes caret-delimited UTF-8 with YYYY-MM-DD dates (ELPAC.md §3.1); people open those files
in spreadsheets and save them again: CRLF, a byte-order mark, cp1252, commas with quoting, tabs,
Excel workbooks with one or many tabs, date cells, numbers that lost their leading zeros, and
day-first or month-first dates. Each variant is built here from one plain caret file and must
give the plain file's rows, column for column.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest
import xlsxwriter
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

from data.results.ingest import ingest
from data.results.store import Store
from data.toms.field_catalogue import field_for
from data.toms.layout import layout
from elpac.cli import app

YEAR = "2020-21"
COUNTY = "19"
"""Los Angeles 2020-21 has NT, partial, EXD, ALT and Alternate records."""

SPECIAL = {"Peña", "José", "Lincoln, Abraham Elementary", "12 Main St, Apt 4", 'Ann "Annie"'}


class Plain:
    """The reference records: header and cells of a caret file, by canonical field."""

    def __init__(self, source: Path) -> None:
        with source.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle, delimiter="^", quoting=csv.QUOTE_NONE))
        self.name = source.name
        self.header, records = rows[0], rows[1:]
        self.column = {c: i for i, c in enumerate(layout(YEAR).canonical) if c}
        self.dates = [i for c, i in self.column.items() if field_for(c).kind.name == "date"]
        # A sample with every kind of record, all of it encodable in cp1252.
        special = [r for r in records if self.cell(r, "ConditionCode")
                   or self.cell(r, "Attemptedness") != "Y" or self.cell(r, "RecordType") == "23"]
        ordinary = [r for r in records if r not in special][:30]
        self.records = [r for r in special + ordinary if _cp1252(r)]
        scored = [r for r in self.records if r in ordinary]
        self.edit(scored[0], StudentLastName="Peña", StudentFirstName="José",
                  CALPADSSchoolName="Lincoln, Abraham Elementary",
                  StudentAddressLine1="12 Main St, Apt 4", StudentMiddleName='Ann "Annie"')
        self.edit(scored[1], DateofBirth="2004-02-29", DateofBirthforTesting="2004-02-29")
        self.edit(scored[2], SSID="0012345678")  # a spreadsheet drops the leading zeros

    def cell(self, record: list[str], field: str) -> str:
        return record[self.column[field]]

    def edit(self, record: list[str], **values: str) -> None:
        for field, value in values.items():
            record[self.column[field]] = value

    def text(self, delimiter: str = "^") -> str:
        return "".join(delimiter.join(r) + "\n" for r in [self.header, *self.records])

    def with_dates(self, convert: Callable[[str, str], str]) -> list[list[str]]:
        """The records with every date cell rewritten by ``convert(field, iso_date)``."""
        names = {i: c for c, i in self.column.items()}
        out = []
        for record in self.records:
            record = list(record)
            for i in self.dates:
                if record[i]:
                    record[i] = convert(names[i], record[i])
            out.append(record)
        return out


def _cp1252(record: list[str]) -> bool:
    try:
        "^".join(record).encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def stored(store: Store) -> pl.DataFrame:
    """Every stored record, in a fixed order."""
    con = duckdb.connect()
    try:
        store.results(con)
        return con.sql("SELECT * FROM results").pl().sort("record_type", "ssid")
    finally:
        con.close()


def load(path: Path, store_dir: Path, **options: object) -> pl.DataFrame:
    store = Store(store_dir)
    result = ingest([path], store=store, **options)  # type: ignore[arg-type]
    assert (result.file_problems, result.row_problems.rows()) == ([], [])
    assert result.loaded is True
    assert [o.status for o in result.outcomes] == ["loaded"]
    return stored(store)


@pytest.fixture(scope="module")
def plain(tiny_files: dict[str, list[Path]]) -> Plain:
    source = next(p for p in tiny_files[YEAR] if p.name.startswith(f"County{COUNTY}"))
    return Plain(source)


@pytest.fixture(scope="module")
def expected(plain: Plain, tmp_path_factory: pytest.TempPathFactory) -> pl.DataFrame:
    """The plain caret file's stored rows."""
    directory = tmp_path_factory.mktemp("plain")
    path = directory / plain.name
    path.write_text(plain.text(), encoding="utf-8", newline="")
    rows = load(path, directory / "store")
    # The sample really holds what the variants must carry through.
    assert rows.height == len(plain.records)
    assert {"Peña", "José", "Lincoln, Abraham Elementary", 'Ann "Annie"'} <= set(
        rows.select(pl.concat_list("last_name", "first_name", "enrolled_school_name",
                                   "middle_name").explode()).to_series().to_list())
    assert "0012345678" in rows.get_column("ssid").to_list()
    assert date(2004, 2, 29) in rows.get_column("birth_date").to_list()
    assert rows.get_column("record_type").unique().sort().to_list() == ["21", "23"]
    return rows


# -- text files ------------------------------------------------------------------------------


def _comma(plain: Plain, encoding: str) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows([plain.header, *plain.records])
    return buffer.getvalue().encode(encoding)


TEXT_VARIANTS: dict[str, Callable[[Plain], bytes]] = {
    "crlf": lambda p: p.text().replace("\n", "\r\n").encode("utf-8"),
    "utf8-bom": lambda p: b"\xef\xbb\xbf" + p.text().encode("utf-8"),
    "cp1252": lambda p: p.text().encode("cp1252"),
    "no-final-newline": lambda p: p.text().rstrip("\n").encode("utf-8"),
    "bom-crlf-no-final-newline": lambda p: b"\xef\xbb\xbf" + p.text().rstrip("\n").replace(
        "\n", "\r\n").encode("utf-8"),
    "tab": lambda p: p.text("\t").encode("utf-8"),
    "comma-quoted": lambda p: _comma(p, "utf-8"),
    "comma-quoted-cp1252": lambda p: _comma(p, "cp1252"),
    "comma-quoted-bom": lambda p: b"\xef\xbb\xbf" + _comma(p, "utf-8"),
}


@pytest.mark.parametrize("variant", list(TEXT_VARIANTS))
def test_text_variant_loads_the_same_rows(plain, expected, tmp_path, variant):
    path = tmp_path / plain.name
    path.write_bytes(TEXT_VARIANTS[variant](plain))
    assert_frame_equal(load(path, tmp_path / "store"), expected)


def test_the_comma_file_really_quotes(plain):
    # Guards the variant above: a cell with a comma is quoted, one with quotes is escaped.
    text = _comma(plain, "utf-8").decode("utf-8")
    assert '"Lincoln, Abraham Elementary"' in text
    assert '"Ann ""Annie"""' in text


# -- Excel -----------------------------------------------------------------------------------


def _workbook(path: Path, plain: Plain, tabs: int = 1, *, typed: bool = False) -> None:
    """Every cell as a string; with ``typed``, dates as date cells and SSIDs as numbers."""
    book = xlsxwriter.Workbook(path)
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    ssid = plain.column["SSID"]
    size = -(-len(plain.records) // tabs)
    for t in range(tabs):
        sheet = book.add_worksheet(f"Records {t + 1}")
        for c, name in enumerate(plain.header):
            sheet.write_string(0, c, name)
        for r, record in enumerate(plain.records[t * size:(t + 1) * size], start=1):
            for c, value in enumerate(record):
                if typed and value and c in plain.dates:
                    sheet.write_datetime(r, c, datetime.fromisoformat(value), date_format)
                elif typed and value and c == ssid:
                    sheet.write_number(r, c, int(value))
                else:
                    sheet.write_string(r, c, value)
    book.close()


@pytest.mark.parametrize(("tabs", "typed"), [(1, False), (3, False), (1, True)],
                         ids=["one-tab", "three-tabs", "date-cells-and-numeric-ssid"])
def test_excel_loads_the_same_rows(plain, expected, tmp_path, tabs, typed):
    path = tmp_path / plain.name.replace(".CSV", ".xlsx")
    _workbook(path, plain, tabs, typed=typed)
    assert_frame_equal(load(path, tmp_path / "store"), expected)


def test_excel_tab_with_another_layout_is_refused(plain, tiny_files, store_copy, digest,
                                                  tmp_path):
    # A workbook's tabs split one file (ELPAC.md §3.1): a tab of another year's layout is a
    # different file pasted in, and the whole workbook is refused.
    other = next(p for p in tiny_files["2024-25"] if p.name.startswith(f"County{COUNTY}"))
    with other.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter="^", quoting=csv.QUOTE_NONE))
    path = tmp_path / plain.name.replace(".CSV", ".xlsx")
    book = xlsxwriter.Workbook(path)
    for name, tab in (("Records 1", [plain.header, *plain.records]), ("Records 2", rows[:20])):
        sheet = book.add_worksheet(name)
        for r, record in enumerate(tab):
            for c, value in enumerate(record):
                sheet.write_string(r, c, value)
    book.close()
    before = digest(store_copy.path)
    result = ingest([path], store=store_copy)
    assert result.loaded is False
    assert [(p.file, p.message) for p in result.file_problems] == [
        (path.name, "tab 'Records 2' has the 2024-25 layout but the first tab has the 2020-21 "
                    "layout")]
    assert result.row_problems.height == 0
    assert digest(store_copy.path) == before


# -- dates from spreadsheets -----------------------------------------------------------------


def _day_first(field: str, iso: str) -> str:
    y, m, d = iso.split("-")
    # A time of day as spreadsheets add it: 11-06-2021 00:00.
    return f"{d}-{m}-{y} 00:00" if field == "FinalTestCompletedDate" else f"{d}-{m}-{y}"


def _day_first_slashes(field: str, iso: str) -> str:
    y, m, d = iso.split("-")
    return f"{d}/{m}/{y}"


def _month_first(field: str, iso: str) -> str:
    y, m, d = iso.split("-")
    return f"{m}/{d}/{y} 12:00 AM" if field == "ScoreAvailableDate" else f"{int(m)}/{int(d)}/{y}"


@pytest.mark.parametrize(("convert", "options"), [
    (_day_first, {}),
    (_day_first, {"date_order": "dmy"}),
    (_day_first_slashes, {}),
    (_month_first, {}),
    (_month_first, {"date_order": "mdy"}),
], ids=["day-first", "day-first-given", "day-first-slashes", "month-first",
        "month-first-given"])
def test_spreadsheet_dates_are_read_the_way_the_file_shows(plain, expected, tmp_path, convert,
                                                           options):
    records = plain.with_dates(convert)
    text = "".join("^".join(r) + "\n" for r in [plain.header, *records])
    if convert is _day_first:
        assert "^29-02-2004^" in text
    path = tmp_path / plain.name
    path.write_text(text, encoding="utf-8")
    assert_frame_equal(load(path, tmp_path / "store", **options), expected)


AMBIGUOUS = "03-04-2021"
"""3 April or 4 March: both in 2020-21, and nothing else in the file settles which."""
AMBIGUOUS_BIRTH = "03-04-2011"
"""As ambiguous, ten years earlier: a birth date on the test date would be refused (age 0)."""


@pytest.fixture
def ambiguous(plain: Plain, tmp_path: Path) -> Path:
    records = plain.with_dates(lambda field, iso: AMBIGUOUS_BIRTH if field.startswith(
        "DateofBirth") else AMBIGUOUS)
    path = tmp_path / plain.name
    path.write_text("".join("^".join(r) + "\n" for r in [plain.header, *records]),
                    encoding="utf-8")
    return path


def test_ambiguous_dates_are_refused(ambiguous, tmp_path):
    store = Store(tmp_path / "store")
    result = ingest([ambiguous], store=store)
    assert result.loaded is False
    (problem,) = result.file_problems
    assert problem.file == ambiguous.name
    assert "--date-order" in problem.message
    assert not store.exists()


@pytest.mark.parametrize(("order", "read_as"), [("dmy", date(2021, 4, 3)),
                                                ("mdy", date(2021, 3, 4))])
def test_ambiguous_dates_load_with_the_order_given(ambiguous, tmp_path, order, read_as):
    rows = load(ambiguous, tmp_path / "store", date_order=order)
    assert set(rows.get_column("final_test_completed_date").drop_nulls()) == {read_as}
    assert set(rows.get_column("birth_date")) == {read_as.replace(year=2011)}


def test_cli_ambiguous_dates_need_date_order(ambiguous, tmp_path):
    store = tmp_path / "store"
    runner = CliRunner()
    refused = runner.invoke(app, ["ingest", str(ambiguous), "--store", str(store)])
    assert refused.exit_code == 1
    assert "--date-order" in refused.stderr
    assert "Traceback" not in refused.output

    loaded = runner.invoke(app, ["ingest", str(ambiguous), "--store", str(store),
                                 "--date-order", "dmy"])
    assert loaded.exit_code == 0, loaded.output
    assert "loaded into" in loaded.stdout
