"""`elpac export district` and `elpac export students` against Polars over the Parquet files.

The CLI is the operator's tool: statewide with student records unless ``--lea`` narrows it.
Each written file is read back and compared with the year's records filtered here.
"""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING

import polars as pl
import pytest
from typer.testing import CliRunner

from data.results.store import Store
from elpac.cli import app

if TYPE_CHECKING:
    from pathlib import Path

YEAR = "2023-24"
LEA = "19619690000000"
"""The tiny demo's largest LEA in 2023-24; some of its students moved in or out."""


def records(store: Path, year: str = YEAR) -> pl.DataFrame:
    return pl.read_parquet(Store(store).year_files()[year])


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["export", *args])
    # Errors end as a sentence and exit code 1, never as a traceback.
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        result.exception)
    return result.exit_code, result.stdout, result.stderr


# -- elpac export district -------------------------------------------------------------------

def test_district_csv_has_every_student_of_the_lea(tiny_store_path: Path, tmp_path: Path
                                                   ) -> None:
    out = tmp_path / "district.csv"
    code, stdout, _ = run("district", "--store", str(tiny_store_path), "--lea", LEA,
                          "--year", YEAR, str(out))
    assert code == 0
    back = pl.read_csv(out, infer_schema=False)
    expected = records(tiny_store_path).filter((pl.col("reporting_lea_code") == LEA)
                                               & (pl.col("record_type") == "21"))
    assert sorted(back["SSID"]) == sorted(expected["ssid"])
    assert f"wrote {expected.height:,} students ({YEAR}, summative)" in stdout
    assert "Reading student records" in stdout  # one line per step


def test_district_xlsx_of_a_school_alternate_into_a_directory(tiny_store_path: Path,
                                                              tmp_path: Path) -> None:
    year = records(tiny_store_path).filter((pl.col("reporting_lea_code") == LEA)
                                           & (pl.col("record_type") == "23"))
    school = year["reporting_school_code"].drop_nulls().mode().sort().item(0)
    code, stdout, _ = run("district", "--store", str(tiny_store_path), "--lea", LEA,
                          "--school", school, "--year", YEAR, "--test", "alternate",
                          "--format", "xlsx", "-o", str(tmp_path))
    assert code == 0, stdout
    name = f"elpac-district-alternate-{school}-{YEAR}-{date.today():%Y%m%d}.xlsx"
    back = pl.read_excel(tmp_path / name, infer_schema_length=0)
    expected = year.filter(pl.col("reporting_school_code") == school)
    assert sorted(back["SSID"]) == sorted(expected["ssid"])
    assert set(back["Test"]) == {"Summative Alternate ELPAC"}


@pytest.mark.parametrize(("args", "message"), [
    ([], "--lea is required"),
    (["--lea", "01234560000000"], "has no results for"),
    (["--lea", LEA, "--school", "19619690000000"], "has no results of LEA"),
    (["--lea", LEA, "--year", "2019-20"], "no results for 2019-20"),
    (["--lea", LEA, "--format", "toms"], "--format must be csv or xlsx"),
    (["--lea", LEA, "--test", "initial"], "--test must be summative or alternate"),
])
def test_district_bad_options_say_what_to_do(tiny_store_path: Path, tmp_path: Path,
                                             args: list[str], message: str) -> None:
    out = tmp_path / "x.csv"
    code, _, stderr = run("district", "--store", str(tiny_store_path), *args, str(out))
    assert code == 1
    assert message in stderr
    assert not out.exists()


def test_district_needs_exactly_one_output(tiny_store_path: Path, tmp_path: Path) -> None:
    code, _, stderr = run("district", "--store", str(tiny_store_path), "--lea", LEA)
    assert code == 1
    assert "give the file to write once" in stderr


# -- elpac export students -------------------------------------------------------------------

@pytest.mark.parametrize("by", ["enrolled", "tested"])
def test_students_by_side_is_the_leas_records(tiny_store_path: Path, tmp_path: Path,
                                              by: str) -> None:
    out = tmp_path / f"{by}.csv"
    code, stdout, _ = run("students", "--store", str(tiny_store_path), "--year", YEAR,
                          "--lea", LEA, "--by", by, "-o", str(out))
    assert code == 0, stdout
    back = pl.read_csv(out, infer_schema=False)
    expected = records(tiny_store_path).filter(pl.col(f"{by}_lea_code") == LEA)
    assert sorted(zip(back["SSID"], back["RecordType"], strict=True)) == sorted(
        expected.select("ssid", "record_type").iter_rows())
    # One year: the default start is February 1 of the spring (ELPAC.md §7 / the window).
    assert "scores available 2024-02-01" in stdout
    assert f"wrote {expected.height:,} records" in stdout


def test_students_score_dates_are_inclusive(tiny_store_path: Path, tmp_path: Path) -> None:
    year = records(tiny_store_path).filter(pl.col("tested_lea_code") == LEA)
    day = year["score_available_date"].drop_nulls().mode().sort().item(0)
    out = tmp_path / "day.csv"
    code, _, _ = run("students", "--store", str(tiny_store_path), "--year", YEAR, "--lea", LEA,
                     "--by", "tested", "--score-from", day.isoformat(), "--score-to",
                     day.isoformat(), "--scored-only", "-o", str(out))
    assert code == 0
    back = pl.read_csv(out, infer_schema=False)
    expected = year.filter(pl.col("score_available_date") == day)
    assert back.height == expected.height > 1
    assert set(back["ScoreAvailableDate"]) == {day.isoformat()}


def test_students_xlsx_into_a_directory(tiny_store_path: Path, tmp_path: Path) -> None:
    code, stdout, _ = run("students", "--store", str(tiny_store_path), "--year", YEAR, "--lea",
                          LEA, "--by", "tested", "--format", "xlsx", "-o", str(tmp_path))
    assert code == 0, stdout
    [written] = tmp_path.glob("*.xlsx")
    assert re.fullmatch(rf"elpac-ssdf-tested-{LEA}-{YEAR}-scores-20240201-to-open-\d{{8}}\.xlsx",
                        written.name)
    back = pl.read_excel(written, infer_schema_length=0)
    assert back.height == records(tiny_store_path).filter(
        pl.col("tested_lea_code") == LEA).height


def test_students_lea_without_by_is_either_side(tiny_store_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "either.txt"
    code, _, _ = run("students", "--store", str(tiny_store_path), "--year", YEAR, "--lea", LEA,
                     "--format", "toms", "-o", str(out))
    assert code == 0
    back = pl.read_csv(out, separator="^", quote_char=None, infer_schema=False)
    year = records(tiny_store_path)
    mine = year.filter((pl.col("tested_lea_code") == LEA) | (pl.col("enrolled_lea_code") == LEA))
    assert back.height == mine.height
    # Nothing of an LEA the student neither enrolled nor tested in.
    ssids = set(back["SSID"])
    assert ssids == set(mine["ssid"])


@pytest.mark.parametrize(("args", "message"), [
    (["--by", "school"], "--by must be enrolled or tested"),
    (["--score-from", "2024-13-01"], "--score-from must be a date written YYYY-MM-DD"),
    (["--score-from", "2024-05-02", "--score-to", "2024-05-01"],
     "Choose an end date on or after the start date"),
    (["--format", "pdf"], "--format must be one of csv, xlsx, toms"),
    (["--year", "2019-20"], "no results for 2019-20"),
])
def test_students_bad_options_say_what_to_do(tiny_store_path: Path, tmp_path: Path,
                                             args: list[str], message: str) -> None:
    out = tmp_path / "x.csv"
    code, _, stderr = run("students", "--store", str(tiny_store_path), *args, "-o", str(out))
    assert code == 1
    assert message in stderr
    assert not out.exists()


def test_students_from_a_missing_store(tmp_path: Path) -> None:
    code, _, stderr = run("students", "--store", str(tmp_path / "nowhere"), "-o",
                          str(tmp_path / "x.csv"))
    assert code == 1
    assert "no store at" in stderr
