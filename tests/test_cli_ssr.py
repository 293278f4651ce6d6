"""``elpac ssr render`` and ``elpac ssr bulk`` on the tiny demo store."""

from __future__ import annotations

import io
import zipfile
from typing import TYPE_CHECKING

import polars as pl
from pypdf import PdfReader
from typer.testing import CliRunner

from data.catalog.accounts import Accounts
from elpac.cli import app

if TYPE_CHECKING:
    from pathlib import Path

    from data.results.store import Store


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["ssr", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        result.exception)
    return result.exit_code, result.output


def eligible(store: Store) -> tuple[str, pl.DataFrame]:
    files = store.year_files()
    year = sorted(files)[-2]
    return year, pl.read_parquet(files[year]).filter(
        (pl.col("record_type") == "21") & pl.col("is_ssr_eligible").fill_null(False)
        & pl.col("overall_scale_score").is_not_null())


def test_render_one_student(store_copy: Store, tmp_path: Path) -> None:
    year, records = eligible(store_copy)
    student = records.filter(pl.col("ssr_languages") == "ENG;SPA").sort("ssid").row(
        0, named=True)
    code, out = run("render", "--ssid", student["ssid"], "--year", year, "-o", str(tmp_path),
                    "--store", str(store_copy.path))
    assert code == 0, out
    (pdf,) = tmp_path.glob("*.pdf")
    assert pdf.name.startswith(f"ssr-{year}-summative-{student['ssid']}-")
    reader = PdfReader(pdf)
    assert len(reader.pages) == 2
    assert str(student["overall_scale_score"]) in reader.pages[0].extract_text()
    target = tmp_path / "es.html"
    code, out = run("render", "--ssid", student["ssid"], "--year", year, "--lang", "es",
                    "-o", str(target), "--store", str(store_copy.path))
    assert code == 0, out
    assert '<html lang="es">' in target.read_text(encoding="utf-8")
    code, out = run("render", "--ssid", "0000000001", "-o", str(tmp_path),
                    "--store", str(store_copy.path))
    assert code == 1
    assert "No Summative ELPAC Student Score Report for SSID 0000000001" in out
    code, out = run("render", "--ssid", student["ssid"], "--lang", "de", "-o",
                    str(tmp_path), "--store", str(store_copy.path))
    assert code == 1
    assert "--lang must be one of" in out


def test_another_leas_administrator_gets_nothing(store_copy: Store, tmp_path: Path) -> None:
    year, records = eligible(store_copy)
    student = records.sort("ssid").row(0, named=True)
    other = records.filter(pl.col("reporting_lea_code") != student["reporting_lea_code"]
                           ).item(0, "reporting_lea_code")
    Accounts(store_copy).add("far@x.org", name="F", role="lea_admin",
                             password="a-long-enough-password", leas=(other,))
    code, out = run("render", "--ssid", student["ssid"], "--year", year, "-o", str(tmp_path),
                    "--user", "far@x.org", "--store", str(store_copy.path))
    assert code == 1
    assert "in your access" in out
    assert not list(tmp_path.glob("*.pdf"))


def test_bulk_by_school_as_a_zip_and_a_merged_pdf(store_copy: Store, tmp_path: Path) -> None:
    year, records = eligible(store_copy)
    school = records.group_by("enrolled_school_code").len().sort(
        ["len", "enrolled_school_code"], descending=[True, False]).item(0, 0)
    here = records.filter(pl.col("enrolled_school_code") == school)
    reports = sum(len((v or "ENG").split(";")) for v in here.get_column("ssr_languages"))
    archive = tmp_path / "school.zip"
    code, out = run("bulk", "--year", year, "--school", school, "-o", str(archive),
                    "--store", str(store_copy.path))
    assert code == 0, out
    assert f"wrote {reports:,} SSRs" in out
    names = zipfile.ZipFile(archive).namelist()
    assert len(names) == reports
    assert {n.split("-")[4] for n in names} == set(here.get_column("ssid"))
    merged = tmp_path / "spanish.pdf"
    code, out = run("bulk", "--year", year, "--school", school, "--lang", "SPA", "-o",
                    str(merged), "--store", str(store_copy.path))
    assert code == 0, out
    spanish = here.filter(pl.col("ssr_languages") == "ENG;SPA").height
    assert len(PdfReader(io.BytesIO(merged.read_bytes())).pages) == 2 * spanish


def test_change_a_students_ssr_languages(store_copy: Store) -> None:
    year, records = eligible(store_copy)
    student = records.filter(pl.col("ssr_languages") == "ENG;SPA").sort("ssid").item(
        0, "ssid")
    where = ["--store", str(store_copy.path)]
    assert run("language", "--ssid", student, "--year", year, "--lang", "ko", *where) == (
        0, f"{student} {year}: SSRs in ENG, KOR\n")
    assert run("language", "--ssid", student, "--year", year, "--lang", "ENG", *where) == (
        0, f"{student} {year}: SSRs in ENG\n")
    assert run("language", "--ssid", student, "--year", year, "--lang", "file", *where) == (
        0, f"{student} {year}: SSRs in ENG, SPA\n")
    code, out = run("language", "--ssid", "0000000001", "--year", year, "--lang", "SPA",
                    *where)
    assert code == 1
    assert "No Summative ELPAC Student Score Report" in out


def test_only_a_coordinator_may_change_ssr_languages_from_the_command_line(
        store_copy: Store) -> None:
    # The rule is queries.ssr_languages', as on the Students page: with --user, the account's.
    year, records = eligible(store_copy)
    row = records.filter(pl.col("ssr_languages") == "ENG;SPA").sort("ssid").row(0, named=True)
    school, lea = row["enrolled_school_code"], row["enrolled_lea_code"]
    accounts = Accounts(store_copy)
    for email, role, where in (("viewer@x.org", "viewer", {"leas": (lea,)}),
                               ("site@x.org", "site_admin", {"schools": (school,)}),
                               ("lea@x.org", "lea_admin", {"leas": (lea,)})):
        accounts.add(email, name=email, role=role, password="correct horse battery", **where)
    args = ["language", "--ssid", row["ssid"], "--year", year, "--lang", "ENG", "--store",
            str(store_copy.path)]
    for refused in ("viewer@x.org", "site@x.org"):
        code, out = run(*args, "--user", refused)
        assert code == 1
        assert "SSR languages" in out
    assert run(*args, "--user", "lea@x.org") == (0, f"{row['ssid']} {year}: SSRs in ENG\n")
