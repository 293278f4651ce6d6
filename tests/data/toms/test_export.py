"""`elpac export students`: every stored record comes back out, in the file layout.

Exports go through the scoped path the CLI and the Exports page use (``queries.extracts``),
here with a statewide scope that may see student records.
"""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

from data.cells import neutralise
from data.results.ingest import ingest
from data.results.store import Store
from data.toms.export import EXCEL_MAX_DATA_ROWS, write_xlsx
from data.toms.normalise import SET_BY_LOAD, normalise
from data.toms.read import read_file
from elpac.cli import app
from queries.scope import Scope
from queries.snapshot import Snapshot
from queries.ssdf_extract import build_ssdf_extract

KEY = ["record_type", "ssid"]
STATE = Scope.state(pii=True)
"""The operator's scope: `elpac export students` without --lea or --user."""


def _export(store: Store, out: Path, *, fmt: str, years: list[str] | None = None) -> int:
    """Export the records of ``years`` (default: every year) statewide; the number written."""
    snap = Snapshot(store)
    return build_ssdf_extract(snap, out, scope=STATE, years=years or list(snap.years),
                              fmt=fmt).n_rows


def _stored(store: Store, year: str) -> pl.DataFrame:
    con = duckdb.connect()
    store.results(con)
    return con.sql("SELECT * FROM results WHERE school_year = ?", params=[year]).pl()


@pytest.mark.parametrize("year", ["2018-19", "2020-21", "2021-22", "2022-23", "2023-24",
                                  "2024-25"])
def test_toms_export_loads_back_to_the_same_records(tiny_store_path: Path, tmp_path: Path,
                                                    year: str) -> None:
    store = Store(tiny_store_path)
    out = tmp_path / f"{year}.txt"
    n = _export(store, out, years=[year], fmt="toms")
    before = _stored(store, year)
    assert n == before.height
    again = normalise(read_file(out)).frame
    cols = [c for c in again.columns if c not in ("extra_fields", *SET_BY_LOAD)]
    assert_frame_equal(again.select(cols).sort(KEY), before.select(cols).sort(KEY))


def test_every_field_round_trips_through_a_second_store(tiny_files: dict[str, list[Path]],
                                                        tmp_path: Path) -> None:
    first = Store(tmp_path / "a")
    assert ingest(tiny_files["2024-25"], store=first).loaded
    out = tmp_path / "export.txt"
    _export(first, out, fmt="toms")
    # Compare the original files and the export cell by cell, as text.
    original = pl.concat([pl.read_csv(p, separator="^", quote_char=None, infer_schema=False)
                          for p in tiny_files["2024-25"]])
    exported = pl.read_csv(out, separator="^", quote_char=None, infer_schema=False)
    assert exported.columns == original.columns
    assert_frame_equal(exported.sort("SSID"), original.sort("SSID"))


def test_csv_export_neutralises_formulas(tmp_path: Path, tiny_files: dict[str, list[Path]]
                                         ) -> None:
    path = tiny_files["2024-25"][0]
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split("^")
    row = lines[1].split("^")
    row[header.index("StudentLastName")] = "=HYPERLINK(\"http://x\")"
    bad = tmp_path / path.name
    bad.write_text("\n".join([lines[0], "^".join(row)]) + "\n", encoding="utf-8")
    store = Store(tmp_path / "store")
    assert ingest([bad], store=store).loaded
    out = tmp_path / "out.csv"
    _export(store, out, fmt="csv")
    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows[0]["StudentLastName"] == "'=HYPERLINK(\"http://x\")"


def test_neutralise() -> None:
    assert [neutralise(v) for v in ["=1", "+1", "-1", "@x", "ok", ""]] == [
        "'=1", "'+1", "'-1", "'@x", "ok", ""]


def test_xlsx_export_reads_back(tiny_store_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.xlsx"
    n = _export(Store(tiny_store_path), out, years=["2023-24"], fmt="xlsx")
    back = pl.read_excel(out, infer_schema_length=0)
    assert back.height == n
    assert back.columns[0] == "RecordType"
    assert back.get_column("EndofRecord").unique().to_list() == ["ZZ"]


def test_xlsx_splits_at_the_excel_row_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                            ) -> None:
    # Same code path as 1,048,575 rows per sheet, shown with a small limit.
    monkeypatch.setattr("data.toms.export.EXCEL_MAX_DATA_ROWS", 4)
    text = pl.DataFrame({"a": [str(i) for i in range(10)], "b": ["x"] * 10})
    names = write_xlsx(text, tmp_path / "t.xlsx")
    assert names == ["Records 1", "Records 2", "Records 3"]
    sheets = pl.read_excel(tmp_path / "t.xlsx", sheet_id=0, infer_schema_length=0)
    assert [s.height for s in sheets.values()] == [4, 4, 2]
    assert EXCEL_MAX_DATA_ROWS == 1_048_575


def test_multi_year_export_adds_the_year(tiny_store_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "all.csv"
    result = CliRunner().invoke(app, ["export", "students", "--store", str(tiny_store_path),
                                      "-o", str(out)])
    assert result.exit_code == 0, result.output
    back = pl.read_csv(out, infer_schema=False)
    assert back.columns[0] == "SchoolYear"
    files = [str(p) for p in Store(tiny_store_path).year_files().values()]
    total = duckdb.sql("SELECT count(*) FROM read_parquet(?)", params=[files]).fetchall()[0][0]
    assert back.height == total


def test_an_lea_gets_its_enrolled_and_tested_records(tiny_store_path: Path,
                                                     tmp_path: Path) -> None:
    # As `elpac export students --lea`: the LEA's own scope, its records on either side.
    store = Store(tiny_store_path)
    records = _stored(store, "2024-25")
    lea = records.get_column("tested_lea_code").mode().item(0)
    out = tmp_path / "lea.txt"
    n = build_ssdf_extract(Snapshot(store), out, scope=Scope.lea(lea, pii=True),
                           years=["2024-25"], lea=lea, fmt="toms").n_rows
    expected = records.filter((pl.col("tested_lea_code") == lea)
                              | (pl.col("enrolled_lea_code") == lea))
    assert n == expected.height > 0
    again = normalise(read_file(out)).frame
    assert_frame_equal(again.select(KEY).sort(KEY), expected.select(KEY).sort(KEY))
