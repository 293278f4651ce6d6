"""Student groups from a CSV upload (data/catalog/rosters.py): checked row by row, all or
nothing."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from data.catalog.accounts import Accounts
from data.catalog.rosters import Rosters
from data.problems import InputError
from data.results.store import Store
from elpac.cli import app

PASSWORD = "correct horse battery staple"


@pytest.fixture
def store(store_copy: Store) -> Store:
    Accounts(store_copy).add("teacher@x.org", name="Tia", role="teacher", password=PASSWORD,
                             schools=("19619693907856",))
    return store_copy


def students(store: Store, n: int) -> pl.DataFrame:
    """``n`` students of the newest year's most populous school: (ssid, school_code)."""
    files = store.year_files()
    frame = pl.read_parquet(files[max(files)], columns=["ssid", "reporting_school_code"]
                            ).drop_nulls().rename({"reporting_school_code": "school_code"})
    school = frame.get_column("school_code").mode().sort()[0]
    return frame.filter(pl.col("school_code") == school).unique().sort("ssid").head(n)


def csv_of(rows: list[tuple[str, str, str, str]]) -> str:
    lines = ["Name,School CDS,SSID,User E-mail"] + [",".join(r) for r in rows]
    return "\r\n".join(lines) + "\r\n"


def test_a_good_file_loads_every_group(store: Store) -> None:
    kids = students(store, 3)
    rows = [("Period 1", s, i, "teacher@x.org") for i, s in kids.iter_rows()]
    # A school code that lost its leading zeros in a spreadsheet is restored.
    rows[0] = (rows[0][0], rows[0][1].lstrip("0"), rows[0][2], "TEACHER@x.org")
    result = Rosters(store).import_csv(csv_of(rows), file_name="groups.csv",
                                       uploaded_by="admin@x.org")
    assert (result.loaded, result.n_rows, result.problems) == (True, 3, [])
    listed = Rosters(store).list().row(0, named=True)
    assert (listed["name"], listed["n_students"], listed["users"]) == (
        "Period 1", 3, "teacher@x.org")
    assert Rosters(store).students_of("teacher@x.org") == kids.get_column("ssid").to_list()
    assert Rosters(store).uploads().get_column("loaded").to_list() == [True]


def test_a_bad_row_loads_nothing_and_says_where(store: Store) -> None:
    kids = students(store, 2)
    (s1, school), (s2, _) = kids.iter_rows()
    other = next(c for c in pl.read_parquet(store.year_files()[max(store.year_files())],
                                            columns=["reporting_school_code"])
                 .get_column("reporting_school_code").drop_nulls().unique().sort()
                 if c != school)
    rows = [("Period 1", school, s1, "teacher@x.org"),
            ("", school, s2, ""),
            ("Period 1", "123", s2, ""),
            ("Period 1", other, s1, ""),
            ("Period 1", school, "12AB", "nobody@x.org")]
    result = Rosters(store).import_csv(csv_of(rows), file_name="bad.csv",
                                       uploaded_by="admin@x.org")
    assert not result.loaded
    assert [(row, fld) for row, fld, _, _ in result.problems] == [
        (3, "name"), (4, "school_cds"), (5, "ssid"), (6, "ssid"), (6, "user_email")]
    assert result.problems[2][3] == "no student with this SSID at this school in the newest year"
    assert Rosters(store).list().height == 0
    uploads = Rosters(store).uploads().row(0, named=True)
    assert (uploads["loaded"], uploads["n_problems"], uploads["file_name"]) == (
        False, 5, "bad.csv")


def test_a_file_without_the_columns_is_refused(store: Store) -> None:
    with pytest.raises(InputError, match="missing: ssid"):
        Rosters(store).import_csv("Name,School CDS\nA,19619693907856\n", file_name="x.csv",
                                  uploaded_by="admin@x.org")


def test_the_command_line_imports_and_lists(store: Store, tmp_path: Path) -> None:
    kids = students(store, 2)
    good = tmp_path / "groups.csv"
    good.write_text(csv_of([("Reading club", s, i, "teacher@x.org")
                            for i, s in kids.iter_rows()]))
    runner = CliRunner()
    result = runner.invoke(app, ["groups", "import", str(good), "--store", str(store.path)])
    assert result.exit_code == 0, result.output
    assert "added the groups of 2 rows" in result.output
    listed = runner.invoke(app, ["groups", "list", "--store", str(store.path)]).output
    assert "Reading club" in listed
    assert "teacher@x.org" in listed
    bad = tmp_path / "bad.csv"
    bad.write_text(csv_of([("", "1", "x", "")]))
    result = runner.invoke(app, ["groups", "import", str(bad), "--store", str(store.path)])
    assert result.exit_code == 1
    assert "bad.csv row 2, name '': a group needs a name" in result.output
    assert "nothing added: 3 problem(s) in bad.csv" in result.output
