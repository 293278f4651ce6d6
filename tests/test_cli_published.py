"""`elpac import research-file`, `elpac published` and `elpac export reconcile`.

Errors end as a sentence and exit code 1, never a traceback; the files written are read back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl
import pytest
from typer.testing import CliRunner

from data.synth.demo_accounts import create_demo_accounts
from elpac.cli import app
from queries.research import research_rows, write_research_file
from queries.scope import Scope
from queries.snapshot import Snapshot
from tests.conftest import tree_digest

if TYPE_CHECKING:
    from pathlib import Path

    from data.results.store import Store

YEAR = "2024-25"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        result.exception)
    return result.exit_code, result.stdout, result.stderr


def own_file(store: Store, path: Path) -> Path:
    rows = research_rows(Snapshot(store), year=YEAR, test="summative", scope=Scope.state(),
                         suppress=False)
    write_research_file(rows, path)
    return path


def test_import_list_and_import_again(store_copy: Store, tmp_path: Path) -> None:
    path = own_file(store_copy, tmp_path / "sa_elpac2025_all_csv_v1.txt")
    code, out, err = run("import", "research-file", str(path), "--store", str(store_copy.path))
    assert code == 0, err
    n_rows = len(path.read_text().splitlines()) - 1
    assert f"imported {n_rows:,} rows from sa_elpac2025_all_csv_v1.txt (2024-25 summative, " \
           "v1) as published file 1" in out
    before = tree_digest(store_copy.path)
    code, out, _ = run("import", "research-file", str(path), "--store", str(store_copy.path))
    assert code == 0
    assert out.startswith("already imported")
    assert tree_digest(store_copy.path) == before
    code, out, _ = run("published", "--store", str(store_copy.path))
    assert code == 0
    assert "2024-25 summative current sa_elpac2025_all_csv_v1.txt v1" in out


def test_a_bad_file_is_refused_with_its_rows(store_copy: Store, tmp_path: Path) -> None:
    path = own_file(store_copy, tmp_path / "bad.txt")
    lines = path.read_text().splitlines()
    cells = lines[3].split("^")
    cells[8] = "14"  # Grade
    lines[3] = "^".join(cells)
    path.write_text("\n".join(lines))
    before = tree_digest(store_copy.path)
    code, out, err = run("import", "research-file", str(path), "--store", str(store_copy.path))
    assert code == 1
    assert "bad.txt row 4: Grade = '14': must be KN, 01 to 12, or 13" in err
    assert "nothing was imported" in err
    assert "Traceback" not in out + err
    assert tree_digest(store_copy.path) == before


def test_a_missing_file_is_a_sentence(tmp_path: Path) -> None:
    code, _, err = run("import", "research-file", str(tmp_path / "nope.txt"), "--store",
                       str(tmp_path / "store"))
    assert (code, err.strip()) == (1, f"error: no such file: {tmp_path / 'nope.txt'}")


def test_export_reconcile(store_copy: Store, tmp_path: Path) -> None:
    path = own_file(store_copy, tmp_path / "own.txt")
    lines = path.read_text().splitlines()
    cells = lines[1].split("^")
    cells[10] = str(int(cells[10]) - 1)  # the state's first row: TotalTested, one fewer
    lines[1] = "^".join(cells)
    path.write_text("\n".join(lines))
    store = str(store_copy.path)
    assert run("import", "research-file", str(path), "--store", store)[0] == 0
    out_csv = tmp_path / "reconcile.csv"
    code, out, err = run("export", "reconcile", "--year", YEAR, "--out", str(out_csv),
                         "--store", store)
    assert code == 0, err
    n_rows = len(lines) - 1
    assert (f"rows compared: {n_rows:,}, cells compared: {n_rows * 61:,}, cells that differ: 1"
            in out)
    back = pl.read_csv(out_csv, infer_schema=False)
    assert back.select("column", "ours", "published", "status").rows() == [
        ("TotalTested", str(int(cells[10]) + 1), cells[10], "differs")]
    out_xlsx = tmp_path / "reconcile.xlsx"
    code, _, err = run("export", "reconcile", "--year", YEAR, "--out", str(out_xlsx), "--all",
                       "--store", store)
    assert (code, err.strip()) == (1, (
        f"error: {n_rows * 61:,} cells are more than an Excel file here holds (200,000): "
        "choose CSV, the differences only, or one LEA"))
    assert not out_xlsx.exists()
    assert not out_xlsx.with_name(out_xlsx.name + ".part").exists()
    code, _, err = run("export", "reconcile", "--year", YEAR, "--out", str(out_xlsx),
                       "--store", store)
    assert code == 0, err
    assert pl.read_excel(out_xlsx, sheet_name="Reconcile").select("column", "status").rows() == [
        ("TotalTested", "differs")]


@pytest.mark.parametrize("name", ["r.txt", "r"])
def test_export_reconcile_names_a_csv_or_excel_file(tmp_path: Path, name: str) -> None:
    code, _, err = run("export", "reconcile", "--year", YEAR, "--out", str(tmp_path / name),
                       "--store", str(tmp_path))
    assert (code, err.strip()) == (1, "error: --out must name a .csv or .xlsx file")


def test_an_lea_administrator_reconciles_their_lea(store_copy: Store, tmp_path: Path) -> None:
    admin = next(a for a in create_demo_accounts(store_copy) if a.role == "lea_admin")
    (lea,) = admin.leas
    store = str(store_copy.path)
    assert run("import", "research-file", str(own_file(store_copy, tmp_path / "own.txt")),
               "--store", store)[0] == 0
    out = tmp_path / "mine.csv"
    code, _, err = run("export", "reconcile", "--year", YEAR, "--out", str(out), "--all",
                       "--user", admin.email, "--store", store)
    assert code == 0, err
    back = pl.read_csv(out, infer_schema=False)
    assert set(back.get_column("org_level")) == {"lea", "school"}
    assert set(back.get_column("county_code") + back.get_column("district_code")) == {lea[:7]}
    assert set(back.get_column("status")) == {"same"}
