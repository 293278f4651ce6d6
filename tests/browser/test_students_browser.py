"""The Students page in a real Chromium against ``elpac serve`` on the tiny store.

Marked ``browser`` by ``conftest.py``. The served store gets the local default scope
(statewide, personal information allowed).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

import pdfplumber
import polars as pl
from playwright.sync_api import Page, expect

from data.results.store import Store
from tests.browser.conftest import wait_for_app

if TYPE_CHECKING:
    from collections.abc import Callable


def _scored_exempt_student(store: Path) -> dict[str, object]:
    """A student of the newest year with an exempt domain, read from the Parquet files."""
    files = Store(store).year_files()
    year = max(files)
    frame = pl.read_parquet(files[year]).filter(
        (pl.col("condition_code") == "EXD") & (pl.col("record_type") == "21"))
    return frame.sort("ssid").row(0, named=True) | {"school_year": year}


def test_look_up_a_student_by_ssid(open_app: Callable[[str], Page],
                                   screenshot: Callable[[Page, str], Path],
                                   tiny_store_path: Path) -> None:
    student = _scored_exempt_student(tiny_store_path)
    page = open_app("students")
    expect(page.get_by_role("heading", name="Students", level=1)).to_be_visible()

    box = page.get_by_role("textbox", name="SSID or name")
    box.fill(str(student["ssid"]))
    box.press("Enter")
    wait_for_app(page)

    expect(page.get_by_test_id("stException")).to_have_count(0)
    expect(page.get_by_role("heading", level=2).filter(has_text=str(student["last_name"]))
           ).to_contain_text(str(student["first_name"]))
    expect(page.get_by_text(f"SSID {student['ssid']}")).to_be_visible()
    for tab in ("Score status", "Reporting", "Score history"):
        expect(page.get_by_role("tab", name=tab)).to_be_visible()
    # The SSID stays out of the address bar: no shareable link to a student.
    assert str(student["ssid"]) not in page.url
    # The Score status tab shows the stored dates and codes.
    status = page.get_by_test_id("stTable").first
    expect(status).to_contain_text(str(student["score_available_date"]))
    expect(status).to_contain_text("EXD – Exempt Domain")
    expect(status).to_contain_text("Scored, exempt domain")
    scores = page.get_by_test_id("stDataFrame").nth(1)
    expect(scores.locator("canvas").first).to_be_visible()
    shot = screenshot(page, "students_score_status")
    assert shot.stat().st_size > 10_000

    page.get_by_role("tab", name="Reporting").click()
    reporting = page.get_by_test_id("stTable").nth(1)
    # The SSR itself, as a parent gets it: two pages with the student's scores.
    if student["is_ssr_eligible"]:
        with page.expect_download() as info:
            page.get_by_test_id("stDownloadButton").filter(has_text="English: PDF").locator(
                "button, a").first.click()
        pdf = Path(info.value.path()).read_bytes()
        assert info.value.suggested_filename.startswith(f"ssr-{student['school_year']}-")
        with pdfplumber.open(io.BytesIO(pdf)) as doc:
            text = [p.extract_text() or "" for p in doc.pages]
        assert len(text) == 2
        assert str(student["ssid"]) in text[0]
        assert str(student["overall_scale_score"]) in text[0]
        assert "Exempt" in text[1]
    if student["ssr_available_date"]:
        expect(reporting).to_contain_text(str(student["ssr_available_date"]))
    expect(reporting).to_contain_text("English")
    page.get_by_role("tab", name="Score history").click()
    chart = page.locator(".js-plotly-plot")
    expect(chart.first).to_be_visible()
    # The plotted line carries the stored score of the newest year as its label.
    expect(chart.first.get_by_text(str(student["overall_scale_score"]), exact=True).first
           ).to_be_attached()
    screenshot(page, "students_score_history")


def test_a_name_search_lists_students_and_a_row_click_opens_one(
        open_app: Callable[[str], Page], screenshot: Callable[[Page, str], Path],
        tiny_store_path: Path) -> None:
    # The list is sorted by name: its first row, computed from the Parquet files.
    files = Store(tiny_store_path).year_files().values()
    names = pl.concat([pl.read_parquet(p, columns=["ssid", "last_name", "first_name"])
                       for p in files]).unique()
    first = (names.filter(pl.col("last_name").str.to_lowercase().str.starts_with("ro")
                          | pl.col("first_name").str.to_lowercase().str.starts_with("ro"))
             .sort("last_name", "first_name", "ssid").row(0, named=True))
    page = open_app("students")
    box = page.get_by_role("textbox", name="SSID or name")
    box.fill("ro")
    box.press("Enter")
    wait_for_app(page)
    grid = page.get_by_test_id("stDataFrame")
    expect(grid).to_have_count(1)
    expect(page.get_by_role("heading", level=2)).to_have_count(0)
    screenshot(page, "students_list")
    # The grid's own CSV download is off (client.disableDataExport): made in the browser, it
    # would never be audited.
    grid.hover()
    expect(page.get_by_test_id("stElementToolbar").first).to_be_attached()
    expect(page.get_by_role("button", name="Download as CSV")).to_have_count(0)

    # The grid is a canvas: click the selection cell of its first row, as Streamlit's own
    # e2e helpers do (a 35 px header, then 35 px rows; the selection column comes first).
    grid.locator("canvas").first.wait_for()
    grid.click(position={"x": 15, "y": 35 + 17})
    wait_for_app(page)
    picked = page.get_by_test_id("stSelectbox").filter(has_text="Student").first
    expect(picked).not_to_contain_text("Click a row above")
    expect(page.get_by_role("heading", level=2)).to_have_count(1)
    expect(page.get_by_text(f"SSID {first['ssid']}")).to_be_visible()
    expect(page.get_by_role("heading", level=2)).to_contain_text(str(first["last_name"]))
    expect(page.get_by_role("tab", name="Score status")).to_be_visible()
