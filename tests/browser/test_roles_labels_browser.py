"""What each role is offered works and says what it is (issue 12, items 5 to 7), in Chromium.

* A teacher's school report is titled and named as their rosters' students, not the school.
* A site administrator's research file (Exports page) holds their school's rows only.
* Files open right in Excel: the District/School CSV starts with a byte-order mark; no cell
  of a table on the page reads "None".
Signed in with the demo accounts against ``elpac serve``; screenshots in ``test-artifacts/``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlencode

import polars as pl
from playwright.sync_api import Page, expect

from data.synth.demo_accounts import DEMO_PASSWORD
from queries.spec import ReportSpec
from tests.browser.conftest import wait_for_app, wait_for_paint
from tests.browser.test_exports_browser import pick

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path


def sign_in(page: Page, server: str, email: str, path: str = "") -> Page:
    page.goto(f"{server}/{path}")
    wait_for_app(page)
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_label("E-mail").fill(email)
    sidebar.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    # The sign-in sends the browser once through /auth/session (the session cookie) and
    # back: going elsewhere before that lands signed out.
    with page.expect_navigation():
        sidebar.get_by_role("button", name="Sign in", exact=True).click()
    wait_for_app(page)
    expect(page.get_by_test_id("stSidebarNav")).to_be_visible()
    return page


def test_a_teachers_report_is_named_for_their_rosters(
        page: Page, accounts_server: str, accounts_store: Path,
        screenshot: Callable[[Page, str], Path]) -> None:
    from data.catalog.accounts import Accounts
    from data.results.store import Store

    teacher = Accounts(Store(accounts_store)).get("teacher@demo.example")
    assert teacher is not None
    school = teacher.schools[0]
    spec = ReportSpec(years=("2024-25",), orgs=(school,), org_level="school")
    sign_in(page, accounts_server, teacher.email, "report?" + urlencode(spec.to_params()))
    page.goto(f"{accounts_server}/report?{urlencode(spec.to_params())}")
    wait_for_app(page)
    wait_for_paint(page)
    expect(page.get_by_test_id("stException")).to_have_count(0)
    heading = page.get_by_role("heading", level=2).filter(has_text="performance levels")
    expect(heading).to_contain_text("(your rosters' students only)")
    bars = page.evaluate("() => [...document.querySelectorAll('.js-plotly-plot')]"
                         ".flatMap(p => p.data[0].y)")
    assert bars
    assert all("your rosters' students only" in b or "(n=" in b for b in bars)
    screenshot(page, "teacher-report-labels")


def test_a_site_administrators_research_file_is_their_schools(
        page: Page, accounts_server: str, accounts_store: Path, tmp_path: Path) -> None:
    from data.catalog.accounts import Accounts
    from data.results.store import Store

    admin = Accounts(Store(accounts_store)).get("site.admin@demo.example")
    assert admin is not None
    school = admin.schools[0]
    sign_in(page, accounts_server, admin.email, "exports")
    page.goto(f"{accounts_server}/exports")
    wait_for_app(page)
    pick(page, "Export", "Research file")
    page.get_by_role("button", name="Build the export").click()
    wait_for_app(page)
    expect(page.get_by_test_id("stException")).to_have_count(0)
    expect(page.get_by_test_id("stAlertContentError")).to_have_count(0)
    link = page.get_by_test_id("elpacDownloadLink")
    expect(link).to_have_count(1)
    with page.expect_download() as download:
        link.click()
    target = tmp_path / download.value.suggested_filename
    download.value.save_as(target)
    rows = pl.read_csv(target, separator="^", infer_schema=False)
    assert rows.height > 0
    codes = set((rows.get_column("CountyCode") + rows.get_column("DistrictCode")
                 + rows.get_column("SchoolCode")).to_list())
    assert codes == {school}


def test_district_csv_opens_right_and_tables_show_no_none(
        page: Page, accounts_server: str, tmp_path: Path) -> None:
    sign_in(page, accounts_server, "lea.admin@demo.example", "exports")
    page.goto(f"{accounts_server}/exports")
    wait_for_app(page)
    page.get_by_role("button", name="Build the export").click()
    wait_for_app(page)
    link = page.get_by_test_id("elpacDownloadLink")
    expect(link).to_have_count(1)
    with page.expect_download() as download:
        link.click()
    target = tmp_path / download.value.suggested_filename
    download.value.save_as(target)
    assert target.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel reads it as UTF-8
    # The Students list: incomplete tests have no score; the cell is a dash, not "None".
    page.goto(f"{accounts_server}/students")
    wait_for_app(page)
    page.get_by_test_id("stRadio").get_by_text("List by school, grade or student group",
                                                exact=True).click()
    wait_for_app(page)
    wait_for_paint(page)
    grid = page.get_by_test_id("stDataFrame").first
    grid.scroll_into_view_if_needed()
    expect(grid.locator("[role=gridcell]").first).to_be_attached()
    cells = [c.inner_text() for c in grid.locator("[role=gridcell]").all()]
    assert cells
    assert "None" not in cells
