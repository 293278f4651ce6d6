"""An LEA administrator makes a roster in Chromium and reports on it (issue 5).

Against ``elpac serve`` on the tiny store with the demo accounts: sign in, paste SSIDs on the
Rosters page, see the roster with its students, then choose it as the organisation of a Custom
report and read its row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl
from playwright.sync_api import Page, expect

from data.results.store import Store
from data.synth.demo_accounts import demo_accounts
from tests.browser.conftest import wait_for_app
from tests.browser.test_report_browser import add, choose, table_rows

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path


def test_an_lea_administrator_makes_a_roster_and_reports_on_it(
        page: Page, accounts_server: str, accounts_store: Path,
        screenshot: Callable[[Page, str], Path]) -> None:
    store = Store(accounts_store)
    made = {a.role: a for a in demo_accounts(store)}
    (school,) = made["site_admin"].schools
    (lea,) = made["lea_admin"].leas
    files = store.year_files()
    newest = pl.read_parquet(files[max(files)])
    here = newest.filter(pl.col("reporting_school_code") == school)
    ssids = sorted(set(here.get_column("ssid")))[-4:]  # not the demo teacher's first ones

    page.goto(accounts_server)
    wait_for_app(page)
    sidebar = page.get_by_test_id("stSidebar")
    # The sign-in goes once through /auth/session (the session cookie) and back: a click
    # before that round trip ends is undone by it (CI failed here once under load).
    with page.expect_navigation():
        sidebar.get_by_role("button", name=": lea.admin@demo.example").click()
    wait_for_app(page)
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Rosters").click()
    wait_for_app(page)
    page.get_by_role("radio", name="New roster", exact=True).click()
    wait_for_app(page)
    choose(page, "School", f"{school_name(here)} ({school})")
    page.get_by_role("textbox", name="Roster name").fill("Browser ELD 2")
    page.get_by_role("textbox", name="SSIDs").fill("\n".join(ssids))
    # Ctrl+Enter applies a text area's value (as a click elsewhere would).
    page.get_by_role("textbox", name="SSIDs").press("Control+Enter")
    wait_for_app(page)
    page.get_by_role("button", name="Make the roster").click()
    wait_for_app(page)
    expect(page.get_by_text("The roster “Browser ELD 2”")).to_be_visible()
    expect(page.get_by_text(f"now has {len(ssids)} students")).to_be_visible()
    screenshot(page, "rosters_made")

    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Custom report").click()
    wait_for_app(page)
    choose(page, "Level", "Rosters")
    add(page, "Organisations", f"Browser ELD 2 ({school_name(here)})")
    page.get_by_role("button", name="Run report").click()
    wait_for_app(page)
    year = page.get_by_role("combobox", name="School year", exact=True).input_value()
    shown = table_rows(page)
    assert len(shown) == 1, shown
    records = pl.read_parquet(files[year]).filter(
        pl.col("ssid").is_in(ssids) & (pl.col("record_type") == "21") & pl.col("is_reported")
        & (pl.col("reporting_lea_code") == lea))
    assert int(shown[0]["Tested with scores"]) == records.filter(
        pl.col("include_indicator") == "Y").height
    assert shown[0]["CDS code"] == school
    screenshot(page, "rosters_report")


def school_name(records: pl.DataFrame) -> str:
    return str(records.get_column("tested_school_name").drop_nulls().mode().sort()[0])
