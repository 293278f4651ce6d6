"""Keyboard-only flows in Chromium: an LEA administrator builds, runs and downloads a report,
and downloads an export, with Tab, Shift+Tab, Enter, Space, the arrow keys and typing only.

Against ``elpac serve`` on the tiny store with the demo accounts. The sign-in is set-up (a
click); from then on the test only uses ``page.keyboard``. Every control reached by Tab must
show where the focus is (WCAG 2.4.7): an outline, a ring (box shadow) or a changed border on
the focused element or the widget box around it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import polars as pl
from playwright.sync_api import Locator, Page, expect

from data.results.store import Store
from data.synth.demo_accounts import demo_accounts
from tests.browser.conftest import wait_for_app, wait_for_paint

if TYPE_CHECKING:
    from pathlib import Path

MAX_TABS = 120
"""More than the controls of any page (menu, sidebar pickers and the page's own)."""

# The focused element's own outline or ring, or (for Streamlit's pickers and text boxes, whose
# focused <input> sits in a styled box) that of the nearest few boxes around it, compared
# with the same box unfocused: the caller records the unfocused style first.
FOCUS_STYLE = """e => {
    const looks = [];
    for (let n = e, i = 0; n && i < 4; n = n.parentElement, i++) {
        const s = getComputedStyle(n);
        looks.push([s.outlineStyle, s.outlineWidth, s.boxShadow, s.borderColor,
                    s.backgroundColor, s.textDecorationLine].join('|'));
    }
    return looks;
}"""


def is_focused(target: Locator) -> bool:
    return target.evaluate(
        "e => e === document.activeElement || e.contains(document.activeElement)")


def tab_to(page: Page, target: Locator, *, backwards: bool = False) -> None:
    """Press Tab (or Shift+Tab) until ``target`` has the focus; check the focus shows."""
    expect(target).to_be_attached()
    unfocused = target.evaluate(FOCUS_STYLE)
    for _ in range(MAX_TABS):
        if is_focused(target):
            break
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
    else:
        raise AssertionError(f"{target} is not reached by the keyboard")
    focused = page.evaluate(f"({FOCUS_STYLE})(document.activeElement)")
    own = focused[0].split("|")
    ring = (own[0] != "none" and own[1] != "0px") or own[2] != "none"
    assert ring or focused != unfocused, f"no visible focus on {target}: {focused}"


def sign_in(page: Page, server: str, email: str) -> None:
    page.goto(server)
    wait_for_app(page)
    # The sign-in sends the browser once through /auth/session (the session cookie) and back.
    with page.expect_navigation():
        page.get_by_test_id("stSidebar").get_by_role("button", name=f": {email}").click()
    wait_for_app(page)
    expect(page.get_by_role("heading", name="At a glance", level=1)).to_be_visible()
    wait_for_app(page)


def open_page(page: Page, title: str) -> None:
    """Open a page of the menu from the keyboard: Tab to its link, Enter."""
    tab_to(page, page.get_by_test_id("stSidebarNav").get_by_role("link", name=title,
                                                                 exact=True))
    page.keyboard.press("Enter")
    wait_for_app(page)
    expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()
    wait_for_paint(page)


def test_an_lea_administrator_runs_a_report_and_downloads_files_by_keyboard(
        page: Page, accounts_server: str, accounts_store: Path, tmp_path: Path) -> None:
    store = Store(accounts_store)
    admin = next(a for a in demo_accounts(store) if a.role == "lea_admin")
    sign_in(page, accounts_server, admin.email)

    # The Custom report: a breakdown chosen by typing in its picker, then Run report.
    open_page(page, "Custom report")
    breakdown = page.get_by_role("combobox", name="Break down by", exact=True)
    tab_to(page, breakdown)
    page.keyboard.type("Gender")
    page.keyboard.press("Enter")
    wait_for_app(page)
    expect(breakdown).to_have_value("Gender")
    run = page.get_by_role("button", name="Run report", exact=True)
    tab_to(page, run)
    page.keyboard.press("Enter")
    wait_for_app(page)
    wait_for_paint(page)
    expect(page.get_by_role("heading", name=re.compile(r"^Overall performance levels, "))
           ).to_be_visible()
    csv_button = page.get_by_test_id("stDownloadButton").filter(
        has_text="Download CSV").locator("button, a").first
    tab_to(page, csv_button)
    with page.expect_download() as report_download:
        page.keyboard.press("Enter")
    report_csv = tmp_path / report_download.value.suggested_filename
    report_download.value.save_as(report_csv)
    # Shift+Tab walks back up the page to the builder.
    tab_to(page, breakdown, backwards=True)
    # The file is the report run: one row per gender, beside the whole LEA's.
    groups = pl.read_csv(report_csv, infer_schema=False).get_column("Student group").to_list()
    assert "Female" in groups
    assert "Male" in groups

    # The Exports page: Build the export, then its download link, both from the keyboard.
    open_page(page, "Exports")
    build = page.get_by_role("button", name="Build the export", exact=True)
    tab_to(page, build)
    page.keyboard.press("Enter")
    wait_for_app(page)
    expect(page.get_by_test_id("stAlertContentSuccess")).to_be_visible()
    link = page.get_by_test_id("elpacDownloadLink")
    # The file is offered as a link after the button (dashboard.file_downloads).
    tab_to(page, link)
    with page.expect_download() as export_download:
        page.keyboard.press("Enter")
    exported = tmp_path / export_download.value.suggested_filename
    export_download.value.save_as(exported)
    assert exported.stat().st_size > 0
