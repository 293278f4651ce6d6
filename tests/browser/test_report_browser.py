"""The Custom report page in a real Chromium against ``elpac serve`` on the tiny store.

Builds a report the way a user does (sidebar LEA, breakdown, a custom subgroup, Run), checks
a number in the table against ``queries.reports.read_report`` on the same store, downloads the
CSV, the Excel workbook and the chart as PNG and opens them. Marked ``browser`` by
``conftest.py``; the session's store is only read.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

import polars as pl
import pytest
from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from queries.reports import read_report
from queries.scope import Scope
from queries.snapshot import Snapshot
from queries.spec import ReportSpec, Subgroup
from tests.browser.conftest import wait_for_app

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

LEA = "19619690000000"
LEA_NAME = "Meadow Acres Unified"
YEAR = "2024-25"


def choose(page: Page, label: str, option: str) -> None:
    """Pick an option of a selectbox by its label, and wait for the rerun it causes."""
    box = page.get_by_role("combobox", name=label, exact=True)
    box.click()
    page.get_by_role("option", name=option, exact=True).click()
    expect(box).to_have_value(option)
    wait_for_app(page)


def add(page: Page, label: str, option: str, *, attempts: int = 5) -> None:
    """Add an option to a multiselect by its label (typing filters the list).

    The open list sometimes closes again as the builder fragment's previous rerun settles,
    so the choice is retried until the widget shows it, a few times at most.
    """
    chosen = page.get_by_role("button", name=f"Remove {option}", exact=True)
    for _ in range(attempts):
        wait_for_app(page)
        page.get_by_role("combobox", name=label, exact=True).click()
        page.keyboard.type(option)
        try:
            page.get_by_role("option", name=option, exact=True).click(timeout=3_000)
        except PlaywrightTimeoutError:
            continue
        finally:
            # The list stays open (the rest of the page is inert meanwhile): close it.
            page.keyboard.press("Escape")
        try:
            expect(chosen).to_be_visible(timeout=3_000)
        except AssertionError:
            continue
        wait_for_app(page)
        return
    pytest.fail(f"could not choose {option!r} in {label!r}")


def table_rows(page: Page) -> list[dict[str, str]]:
    """The report table's rows from the grid's accessible copy (header -> cell text).

    The grid paints a canvas and keeps an ARIA table of the cells on screen beside it (rows
    and columns scrolled out of view are left out). That table is visually hidden, so it is
    found by its role attributes rather than by ``get_by_role``, which skips hidden elements.
    """
    grid = page.get_by_test_id("stDataFrame").first
    # The grid draws its cells (and their accessible copies) only once it is on screen.
    grid.scroll_into_view_if_needed()
    expect(grid.locator("[role=gridcell]").first).to_be_attached()
    headers = {h.get_attribute("aria-colindex"): h.inner_text()
               for h in grid.locator("[role=columnheader]").all()}
    rows = []
    for tr in grid.locator("[role=row]").all():
        cells = {headers[c.get_attribute("aria-colindex")]: c.inner_text()
                 for c in tr.locator("[role=gridcell]").all()}
        if cells:
            rows.append(cells)
    return rows


def download(page: Page, label: str, target: Path) -> Path:
    with page.expect_download() as info:
        page.get_by_test_id("stDownloadButton").filter(has_text=label).locator(
            "button, a").first.click()
    path = target / info.value.suggested_filename
    info.value.save_as(path)
    return path


def test_build_run_and_export_a_report(open_app: Callable[[str], Page],
                                       screenshot: Callable[[Page, str], Path],
                                       tiny_store_path: Path, tmp_path: Path) -> None:
    page = open_app("report")
    expect(page.get_by_role("heading", name="Custom report", level=1)).to_be_visible()
    choose(page, "School year", YEAR)
    choose(page, "LEA", f"{LEA_NAME} ({LEA})")
    expect(page.get_by_text(f"{LEA_NAME} ({LEA})").last).to_be_visible()

    choose(page, "Break down by", "Gender")
    page.get_by_text("Advanced filters and custom subgroups").click()
    page.get_by_role("button", name="Add a subgroup").click()
    # Each step waits for the builder's answer (its warnings), not for a fixed time.
    warnings = page.get_by_test_id("stAlertContentWarning")
    expect(warnings.filter(has_text="Custom subgroup 1 needs a name.")).to_be_visible()
    name = page.get_by_label("Subgroup 1 name")
    name.fill("Hispanic girls")
    name.press("Enter")
    expect(warnings.filter(has_text="needs a name")).to_have_count(0)
    wait_for_app(page)
    add(page, "Subgroup 1 groups", "Gender: Female")
    expect(warnings).to_have_count(0)
    add(page, "Subgroup 1 groups", "Race and ethnicity: Hispanic or Latino")
    expect(page.get_by_text("5 rows: 1 organisation × 5 student groups")).to_be_visible()
    page.get_by_role("button", name="Run report").click()
    wait_for_app(page)
    expect(page.get_by_role("heading", name=f"Overall performance levels, {LEA_NAME}")
           ).to_be_visible()
    expect(page.get_by_test_id("stException")).to_have_count(0)

    # One number of the table against the query layer on the same store.
    spec = ReportSpec(years=(YEAR,), orgs=(LEA,), org_level="lea", breakdown="gender",
                      subgroups=(Subgroup("Hispanic girls", (("gender", ("004",)),
                                                             ("ethnicity", ("078",)))),))
    report = read_report(Snapshot(tiny_store_path), spec, scope=Scope.state(), suppress=False)
    want = report.filter(pl.col("row_label") == "Hispanic girls").row(0, named=True)
    rows = {r["Student group"]: r for r in table_rows(page)}
    # Rows with no student are hidden (a gender absent from the LEA, say).
    labels = report.filter(pl.col("n_enrolled") > 0).get_column("row_label").to_list()
    assert {"All students", "Male", "Female", "Hispanic girls"} <= set(labels)
    assert set(rows) == set(labels)
    shown = rows["Hispanic girls"]
    assert shown["CDS code"] == LEA
    assert int(shown["Tested with scores"]) == want["n_scored"]
    # The grid copies only the columns on screen: the level columns are checked in the files.
    assert float(shown["Mean scale score"]) == pytest.approx(want["overall_mean"])
    # The address bar now holds the report.
    assert ReportSpec.from_params({"report": _param(page.url)}) == spec

    csv = download(page, "Download CSV", tmp_path)
    assert csv.name.startswith(f"elpac-report-meadow-acres-unified-{YEAR}-")
    assert csv.suffix == ".csv"
    from_csv = pl.read_csv(csv, infer_schema=False)
    xlsx = download(page, "Download Excel", tmp_path)
    from_excel = pl.read_excel(xlsx)
    for frame in (from_csv, from_excel):
        assert frame.height == len(labels)
        girls = frame.filter(pl.col("Student group") == "Hispanic girls").row(0, named=True)
        assert str(girls["CDS code"]) == LEA
        assert int(girls["Tested with scores"]) == want["n_scored"]
        assert float(girls["Beginning to Develop (%)"]) == pytest.approx(
            want["overall_l1_pct"], abs=0.05)

    png = download(page, "Chart as PNG", tmp_path).read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", png[16:24]) == (1600, 900)

    shot = screenshot(page, "report")
    assert shot.stat().st_size > 10_000


def _param(url: str) -> str:
    from urllib.parse import parse_qs, urlparse

    return parse_qs(urlparse(url).query)["report"][0]
