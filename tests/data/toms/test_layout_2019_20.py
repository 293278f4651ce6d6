"""The 2019-20 layout, from generated 2019-20 files (caret and comma) and hand-edited records.

2019-20 has no FinalTested... block: the tested LEA and school come from the per-domain blocks
(``data.toms.tested_blocks``). Every expectation here is written from what the test built: the
generator's own tested site, or the codes a test put in each block.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

from data.results.ingest import ingest
from data.results.store import Store
from data.synth.population import SPRING_2020_STOPPED, Generator
from data.synth.toms_files import write_toms_files
from data.toms.field_catalogue import field_for
from data.toms.layout import layout
from data.toms.normalise import normalise
from data.toms.read import read_file
from elpac.cli import app

YEAR = "2019-20"
LAYOUT = layout(YEAR)
COLUMN = {c: i for i, c in enumerate(LAYOUT.canonical) if c}


@dataclass
class Generated:
    """The generator's 2019-20 records (store-shaped) and the caret files written from them."""

    frame: pl.DataFrame
    paths: list[Path]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    gen = Generator(600, 7)
    for year in ("2018-19", YEAR):
        gen.advance(int(year[:4]) + 1)
        frame = gen.records(year, date(2021, 6, 1))
    paths = write_toms_files(frame, YEAR, tmp_path_factory.mktemp("files-2019-20"))
    return Generated(frame, paths)


@pytest.fixture(scope="module")
def loaded(generated: Generated, tmp_path_factory: pytest.TempPathFactory) -> pl.DataFrame:
    store = Store(tmp_path_factory.mktemp("store-2019-20") / "store")
    result = ingest(generated.paths, store=store)
    assert (result.file_problems, result.row_problems.rows()) == ([], [])
    assert {o.layout_year for o in result.outcomes} == {YEAR}
    return stored(store)


def stored(store: Store) -> pl.DataFrame:
    """Every stored record, in a fixed order."""
    con = duckdb.connect()
    try:
        store.results(con)
        return con.sql("SELECT * FROM results").pl().sort("ssid")
    finally:
        con.close()


def _rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle, delimiter="^", quoting=csv.QUOTE_NONE))


def test_the_layout_has_a_block_per_domain_and_no_final_one() -> None:
    assert len(LAYOUT.headers) == 293
    assert LAYOUT.headers[45] == "Tested LEA Name 1-Listening "  # as the real file writes it
    assert not any(c and c.startswith("FinalTest") for c in LAYOUT.canonical)
    for n in range(1, 5):
        for stem in ("TestedDistrictCode", "TestedSchoolCode", "TestCompletedDate",
                     "TestStartDate", "DomainEx", "ItemsAttempted"):
            assert f"{stem}{n}" in COLUMN
    assert field_for("NEABraillePaper").meaning.endswith("paper test (2019-20) (TOMS resource "
                                                         "code)")
    assert field_for("TestMode").kind.values == ("O", "P")


def test_cli_prints_the_2019_20_layout() -> None:
    result = CliRunner().invoke(app, ["layout", "--year", YEAR])
    assert result.exit_code == 0, result.output
    assert "293 fields" in result.output
    assert "| 81 | `Testing Completed Date 4-Writing` | date |" in result.output
    assert "testing stopped in March 2020" in result.output
    assert "domain tested last" in result.output


def test_generated_file_is_the_students_tested_before_march_2020(generated, loaded) -> None:
    frame = generated.frame
    # The demo's 2019-20: tested students only, all by the stop, Summative only.
    assert frame.height == loaded.height > 100
    assert frame.get_column("is_tested").all()
    assert frame.get_column("final_test_completed_date").max() <= date.fromisoformat(
        SPRING_2020_STOPPED)
    assert set(frame.get_column("record_type")) == {"21"}
    header, *records = _rows(generated.paths[0])
    assert header == list(LAYOUT.headers)
    assert {r[0] for r in records} == {"SE"}  # the record type the real 2019-20 file writes
    assert set(loaded.get_column("record_type")) == {"21"}


def test_the_tested_school_is_the_last_tested_domains(generated, loaded) -> None:
    # The generator puts a mover's Listening and Speaking at the enrolled school and Reading
    # and Writing, later, at the tested one: the load must name the tested one.
    want = generated.frame.select(
        "ssid", "tested_district_code", "tested_school_code", "tested_school_name",
        "tested_is_nps", "final_test_completed_date").sort("ssid")
    got = loaded.select(want.columns).sort("ssid")
    assert_frame_equal(got, want)
    movers = generated.frame.filter(
        pl.col("enrolled_school_code") != pl.col("tested_school_code"))
    assert movers.height > 0
    first = {r[COLUMN["SSID"]]: r[COLUMN["TestedSchoolCode1"]]
             for p in generated.paths for r in _rows(p)[1:]}
    for ssid, enrolled in movers.select("ssid", "enrolled_school_code").iter_rows():
        assert first[ssid] == enrolled  # the first block really is elsewhere


def _mdy(value: str) -> str:
    y, m, d = value.split("-")
    return f"{m}/{d}/{y}"


def _comma_month_first(path: Path) -> str:
    """The caret file as comma text with MM/DD/YYYY dates, as the real 2019-20 sample."""
    header, *records = _rows(path)
    dates = [i for c, i in COLUMN.items() if field_for(c).kind.name == "date"]
    for record in records:
        for i in dates:
            if record[i]:
                record[i] = _mdy(record[i])
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows([header, *records])
    return buffer.getvalue()


def test_comma_file_with_month_first_dates_loads_the_same_rows(generated, tmp_path) -> None:
    source = max(generated.paths, key=lambda p: p.stat().st_size)
    caret = Store(tmp_path / "caret")
    assert ingest([source], store=caret).loaded
    comma_path = tmp_path / source.name
    comma_path.write_text(_comma_month_first(source), encoding="utf-8", newline="")
    assert "/2020," in comma_path.read_text(encoding="utf-8")
    comma = Store(tmp_path / "comma")
    result = ingest([comma_path], store=comma)
    assert (result.file_problems, result.row_problems.rows()) == ([], [])
    assert_frame_equal(stored(comma), stored(caret))


@pytest.mark.parametrize("fmt", ["toms", "csv"])
def test_every_generated_record_comes_back_out(generated, tmp_path, fmt) -> None:
    store = Store(tmp_path / "store")
    assert ingest(generated.paths, store=store).loaded
    out = tmp_path / f"out.{fmt}"
    result = CliRunner().invoke(app, ["export", "students", "--store", str(store.path),
                                      "--year", YEAR, "--format", fmt, "-o", str(out)])
    assert result.exit_code == 0, result.output
    n = generated.frame.height
    assert f"wrote {n:,} records" in result.stdout
    if fmt == "csv":
        with out.open(encoding="utf-8-sig", newline="") as handle:
            header, *records = list(csv.reader(handle))
    else:
        header, *records = _rows(out)
    assert header == list(LAYOUT.headers)
    # Cell by cell, every value of every generated file, per-domain blocks included; the
    # record type comes back resolved (SE is a Summative ELPAC record, 21).
    exported = {r[COLUMN["SSID"]]: r for r in records}
    originals = [r for p in generated.paths for r in _rows(p)[1:]]
    assert len(exported) == len(originals) == n
    for record in originals:
        back = exported[record[COLUMN["SSID"]]]
        assert back[1:] == record[1:]
        assert (record[0], back[0]) == ("SE", "21")
    if fmt == "toms":  # and it reads again as the same rows (the extras compared above)
        again = normalise(read_file(out)).frame.drop("extra_fields").sort("ssid")
        first = pl.concat([normalise(read_file(p)).frame for p in generated.paths])
        assert_frame_equal(again, first.drop("extra_fields").sort("ssid"))
