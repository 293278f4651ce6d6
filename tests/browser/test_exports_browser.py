"""The Exports page in a real Chromium against ``elpac serve`` on the tiny store.

Builds the District/School export and the Student Score Data File extract as CSV and as
Excel, downloads each file, opens it with Polars (fastexcel for Excel) and compares its rows
with the year's Parquet records. Marked ``browser`` by ``conftest.py``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import polars as pl
import pytest
from playwright.sync_api import Page, expect

from data.results.store import Store
from tests.browser.conftest import wait_for_app

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

YEAR = "2023-24"
LEA = "19619690000000"
"""The tiny demo's largest LEA in 2023-24, with students moving in and out."""


def choose(page: Page, label: str, option: str) -> None:
    """Pick an option of a selectbox by typing part of it, as a user would."""
    box = page.get_by_test_id("stSelectbox").filter(has=page.get_by_text(label, exact=True))
    box.click()
    page.keyboard.type(option)
    page.get_by_role("option").filter(has_text=option).first.click()
    wait_for_app(page)


def pick(page: Page, group: str, option: str) -> None:
    """Click a radio option inside the radio group labelled ``group``."""
    radios = page.get_by_test_id("stRadio").filter(has=page.get_by_text(group, exact=True))
    radios.get_by_text(option, exact=True).click()
    wait_for_app(page)


def build_and_download(page: Page, tmp_path: Path, expected_rows: int, name: str) -> Path:
    """Click Build, check the row count and file name shown, download the file.

    ``name`` is a regular expression for the file name. Returns where the file was saved.
    """
    # The built file is streamed from disk by the server (dashboard.web), through a link.
    button = page.get_by_test_id("elpacDownloadLink")
    # Nothing is offered before the build (a changed choice withdraws the last file), so the
    # file checked below cannot be an earlier build's.
    expect(button).to_have_count(0)
    page.get_by_role("button", name="Build the export").click()
    wait_for_app(page)
    expect(page.get_by_test_id("stException")).to_have_count(0)
    success = page.get_by_test_id("stAlertContentSuccess")
    expect(success).to_have_text(re.compile(rf"^{expected_rows:,} records: {name}$"))
    expect(button).to_have_count(1)
    with page.expect_download() as download:
        button.click()
    saved = download.value.suggested_filename
    assert re.fullmatch(name, saved)
    target = tmp_path / saved
    download.value.save_as(target)
    return target


@pytest.fixture
def year_records(tiny_store_path: Path) -> pl.DataFrame:
    """The year's records, straight from its Parquet file."""
    return pl.read_parquet(Store(tiny_store_path).year_files()[YEAR])


def test_exports_build_and_download_csv_and_excel(
        open_app: Callable[[str], Page], screenshot: Callable[[Page, str], Path],
        year_records: pl.DataFrame, tmp_path: Path) -> None:
    page = open_app("exports")
    expect(page.get_by_role("heading", name="Exports", level=1)).to_be_visible()
    choose(page, "School year", YEAR)
    choose(page, "LEA", LEA)
    expect(page.get_by_text(re.compile(rf", {YEAR}\. Choose another LEA"))).to_be_visible()

    # District/School export: one row per student of the LEA's Summative ELPAC records.
    students = year_records.filter((pl.col("reporting_lea_code") == LEA)
                                   & (pl.col("record_type") == "21"))
    district_name = rf"elpac-district-summative-{LEA}-{YEAR}-\d{{8}}"
    csv_file = build_and_download(page, tmp_path, students.height, district_name + r"\.csv")
    district = pl.read_csv(csv_file, infer_schema=False)
    assert sorted(district["SSID"]) == sorted(students["ssid"])

    pick(page, "Format", "Excel")
    xlsx_file = build_and_download(page, tmp_path, students.height, district_name + r"\.xlsx")
    assert sorted(pl.read_excel(xlsx_file, infer_schema_length=0)["SSID"]) == sorted(
        students["ssid"])

    # Student Score Data File, tested-LEA records, both tests.
    pick(page, "Export", "Student Score Data File")
    tested = year_records.filter(pl.col("tested_lea_code") == LEA)
    ssdf_name = rf"elpac-ssdf-tested-{LEA}-{YEAR}-scores-\d{{8}}-to-open-\d{{8}}"
    ssdf_csv = build_and_download(page, tmp_path, tested.height, ssdf_name + r"\.csv")
    back = pl.read_csv(ssdf_csv, infer_schema=False)
    assert sorted(zip(back["SSID"], back["RecordType"], strict=True)) == sorted(
        tested.select("ssid", "record_type").iter_rows())

    pick(page, "Format", "Excel")
    ssdf_xlsx = build_and_download(page, tmp_path, tested.height, ssdf_name + r"\.xlsx")
    sheets = pl.read_excel(ssdf_xlsx, sheet_id=0, infer_schema_length=0)
    assert sum(s.height for s in sheets.values()) == tested.height
    assert list(sheets) == ["Records"]

    shot = screenshot(page, "exports")
    assert shot.stat().st_size > 10_000
