"""Every page of the dashboard opens in a real Chromium without an error, and the default
page (At a glance) shows the figures the query layer gives. A screenshot of each page is kept
in test-artifacts/ for people to look at.
"""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING

import polars as pl
import pytest
from playwright.sync_api import Page, expect

from data.results.store import Store
from data.synth.demo_accounts import demo_accounts
from tests.browser.conftest import wait_for_app

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

# The default page lives at the bare URL ("/glance" is not routable). Every page of the menu
# (dashboard/app.py): a store without accounts opens as a single analyst's install, who sees
# them all, Audit included (the signed-in administrator's Audit is checked below too).
PAGES = {"": "At a glance", "report": "Custom report", "progress": "English learner progress",
         "students": "Students",
         "rosters": "Rosters", "score-reports": "Score reports", "exports": "Exports",
         "loads": "Data loads", "delivery": "SSR delivery", "store": "Store contents",
         "audit": "Audit", "reconcile": "Reconcile with CDE"}


def metric_value(page: Page, label: str) -> str:
    metric = page.get_by_test_id("stMetric").filter(
        has=page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True))
    expect(metric).to_have_count(1)
    return metric.get_by_test_id("stMetricValue").inner_text()


@pytest.mark.parametrize(("path", "title"), PAGES.items())
def test_every_page_opens(open_app: Callable[[str], Page],
                          screenshot: Callable[[Page, str], Path], path: str,
                          title: str) -> None:
    page = open_app(path)

    expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()
    expect(page.get_by_role("dialog", name="Page not found")).to_have_count(0)
    expect(page.get_by_test_id("stException")).to_have_count(0)
    expect(page.get_by_test_id("stAlertContentError")).to_have_count(0)
    # st.navigation names the browser tab after the page it runs.
    expect(page).to_have_title(f"{title} · ELPAC results explorer")
    assert screenshot(page, f"page_{path or 'glance'}").stat().st_size > 10_000


def test_the_menu_is_every_page(open_app: Callable[[str], Page]) -> None:
    page = open_app("")
    links = page.get_by_test_id("stSidebarNav").get_by_role("link")
    # Each link's text is its icon's ligature name, then its title.
    assert sorted(t.split("\n")[-1] for t in links.all_inner_texts()) == sorted(PAGES.values())


def test_audit_page_of_a_signed_in_administrator(
        page: Page, accounts_server: str, accounts_store: Path,
        screenshot: Callable[[Page, str], Path]) -> None:
    account = next(a for a in demo_accounts(Store(accounts_store)) if a.role == "lea_admin")
    page.goto(accounts_server)
    wait_for_app(page)
    sidebar = page.get_by_test_id("stSidebar")
    # The sign-in goes once through /auth/session (the session cookie) and back.
    with page.expect_navigation():
        sidebar.get_by_role("button", name=f": {account.email}").click()
    wait_for_app(page)
    expect(sidebar.get_by_text(f"Signed in as {account.name}")).to_be_visible()
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Audit").click()
    wait_for_app(page)

    expect(page.get_by_role("heading", name="Audit", level=1)).to_be_visible()
    expect(page).to_have_title("Audit · ELPAC results explorer")
    expect(page.get_by_test_id("stException")).to_have_count(0)
    # The sign-in just made is in the log (the entries of the LEA's accounts).
    expect(page.get_by_text("the accounts of your LEAs")).to_be_visible()
    expect(page.get_by_test_id("stDataFrame")).to_have_count(1)
    expect(page.get_by_text(re.compile(r"^[1-9][\d,]* entries\.$"))).to_be_visible()
    screenshot(page, "page_audit_signed_in")


def test_navigation_reaches_every_page(open_app: Callable[[str], Page]) -> None:
    page = open_app("")
    for path, title in PAGES.items():
        page.get_by_test_id("stSidebarNav").get_by_role("link", name=title).click()
        wait_for_app(page)
        expect(page).to_have_url(re.compile(rf"/{path}$"))
        expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()


def test_at_a_glance_counts_match_the_store(open_app: Callable[[str], Page],
                                            tiny_store_path: Path) -> None:
    page = open_app("")
    files = Store(tiny_store_path).year_files()
    year = max(files)
    records = pl.read_parquet(files[year]).filter(
        (pl.col("record_type") == "21") & ~pl.col("is_tk").fill_null(False))
    as_of = pl.read_parquet(files[year]).get_column("report_created_date").max()
    assert isinstance(as_of, date)
    eligible = records.filter(pl.col("is_ssr_eligible"))
    released = eligible.filter(pl.col("ssr_available_date") <= as_of)

    assert metric_value(page, "Students tested") == f"{int(records['is_tested'].sum()):,}"
    assert metric_value(page, "Students with a released SSR") == f"{released.height:,}"
    expect(page.get_by_test_id("stAlertContentWarning")).to_contain_text("results are partial")

    # Breaking the SSRs down by grade draws a chart and its table.
    page.get_by_role("radio", name="Grade", exact=True).click()
    wait_for_app(page)
    expect(page.locator(".js-plotly-plot")).to_have_count(1)  # the level chart is HTML
    expect(page.get_by_test_id("stDataFrame")).to_have_count(1)  # the SSR breakdown's
    expect(page.get_by_test_id("stTable")).to_have_count(1)  # the level distribution's
    # Switching the test redraws the level chart for the Alternate ELPAC.
    page.get_by_role("radio", name="Summative Alternate ELPAC", exact=True).click()
    wait_for_app(page)
    # A list asserts the count as well: while the rerun paints, the stale chart of the
    # previous test can still be on the page next to the new one.
    expect(page.locator(".elpac-chart-title")).to_have_text(
        ["Summative Alternate ELPAC: overall performance levels"])


def test_the_home_page_works_from_the_keyboard(open_app: Callable[[str], Page],
                                               tiny_store_path: Path) -> None:
    page = open_app("")
    # Choose an LEA in the sidebar with the keyboard only: focus the box, type, Enter.
    files = Store(tiny_store_path).year_files()
    lea = pl.read_parquet(files[max(files)], columns=["tested_lea_code", "tested_district_name"]
                          ).filter(pl.col("tested_lea_code").str.ends_with("0000000")).row(0)
    box = page.get_by_role("combobox", name="LEA", exact=True)
    box.focus()
    page.keyboard.type(lea[1])
    page.keyboard.press("Enter")
    wait_for_app(page)
    expect(box).to_have_value(f"{lea[1]} ({lea[0]})")
    # Then switch the test: an arrow key moves from one option to the next (a radio group),
    # Space chooses it.
    first = page.get_by_role("radio", name="Summative ELPAC", exact=True)
    first.focus()
    page.keyboard.press("ArrowRight")
    second = page.get_by_role("radio", name="Summative Alternate ELPAC", exact=True)
    expect(second).to_be_focused()
    page.keyboard.press("Space")
    wait_for_app(page)
    # A list asserts the count as well: while the rerun paints, the stale chart of the
    # previous test can still be on the page next to the new one.
    expect(page.locator(".elpac-chart-title")).to_have_text(
        ["Summative Alternate ELPAC: overall performance levels"])
    expect(page.get_by_text(f"Summative Alternate ELPAC, {lea[1]}")).to_be_visible()
