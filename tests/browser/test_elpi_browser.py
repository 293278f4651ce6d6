"""The English learner progress page in Chromium, for an LEA administrator and a teacher.

Against ``elpac serve`` on the tiny store with the demo accounts: sign in, open the page from
the menu, read the indicator (the colour gauge's words, the status line, the schools), the
students behind it, and check with axe-core that what the page draws itself (the gauge, the
tables' headings, the controls) has no WCAG 2.x A/AA violation. A teacher sees the students
of their roster only.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import polars as pl
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from data.results.store import Store
from data.synth.demo_accounts import demo_accounts
from queries.access import user_of
from queries.elpi_matrix import read_elpi_cell_students
from queries.elpi_orgs import read_elpi
from queries.snapshot import Snapshot
from tests.browser.conftest import wait_for_app, wait_for_paint
from tests.browser.test_report_browser import table_rows

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

AXE = Axe()
WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


def axe_problems(page: Page) -> list[tuple[str, str, list[object]]]:
    """axe-core's WCAG 2.x A/AA violations in the page's main area.

    Streamlit 1.67's own theme is left out: its captions (grey #828180 on white, 3.88:1) and
    a selected segmented-control option (#c53948 on #f9ebed, 4.47:1) fall short of 4.5:1 on
    every page of the app; that is the app's theme to change, not this page's.
    """
    context = {"include": [["[data-testid=stMain]"]],
               "exclude": [["[data-testid=stCaptionContainer]"],
                           ["button[data-variant=segmented_control]"]]}
    results = AXE.run(page, context=context, options=WCAG)
    return [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3])
            for v in results.response["violations"]]


def sign_in_and_open(page: Page, server: str, email: str) -> str:
    """Sign in with a demo account, open the page from the menu; return the year shown."""
    page.goto(server)
    wait_for_app(page)
    # The sign-in goes once through /auth/session (the session cookie) and back: a click
    # before that round trip ends is undone by it.
    with page.expect_navigation():
        page.get_by_test_id("stSidebar").get_by_role("button", name=f": {email}").click()
    wait_for_app(page)
    page.get_by_test_id("stSidebarNav").get_by_role("link",
                                                    name="English learner progress").click()
    wait_for_app(page)
    expect(page.get_by_role("heading", name="English learner progress", exact=True)
           ).to_be_visible()
    expect(page.get_by_text("Something went wrong")).to_have_count(0)
    return page.get_by_role("combobox", name="School year", exact=True).input_value()


def show_students(page: Page, watch: str) -> None:
    page.get_by_role("radio", name="Students behind it", exact=True).click()
    wait_for_app(page)
    page.get_by_text(watch, exact=True).click()
    wait_for_app(page)
    wait_for_paint(page)


def test_an_lea_administrator_reads_the_indicator_and_the_students_behind_it(
        page: Page, accounts_server: str, accounts_store: Path,
        screenshot: Callable[[Page, str], Path]) -> None:
    store = Store(accounts_store)
    admin = next(a for a in demo_accounts(store) if a.role == "lea_admin")
    (lea,) = admin.leas
    year = sign_in_and_open(page, accounts_server, admin.email)
    snap = Snapshot(store)
    scope = user_of(admin, store).scope
    rows = read_elpi(snap, year, scope=scope, lea=lea, suppress=False)
    top = rows.filter((pl.col("org_level") == "lea") & (pl.col("group_id") == "001")
                      ).row(0, named=True)
    # The gauge says its colour in words (readable without colour), and names each colour.
    words = f"Colour {top['color']}" if top["color"] else "No colour"
    gauge = page.locator("figure[role=img]").first
    expect(gauge).to_have_attribute("aria-label", re.compile(rf"^{re.escape(words)}"))
    for name in ("Red", "Orange", "Yellow", "Green", "Blue"):
        expect(gauge.get_by_text(name, exact=True)).to_be_visible()
    expect(page.get_by_text(f"of {top['n_counted']:,} counted students made progress",
                            exact=False)).to_be_visible()
    expect(page.get_by_role("heading", name="Schools")).to_be_visible()
    expect(page.get_by_role("heading", name="ELPI levels last year and this year")
           ).to_be_visible()
    wait_for_paint(page)
    assert axe_problems(page) == []
    screenshot(page, "elpi_lea_admin")

    show_students(page, "Declined at least one ELPI level")
    declined = read_elpi_cell_students(snap, year, scope=scope, level="lea", code=lea,
                                       watch="declined")
    expect(page.get_by_text(f"{declined.height:,} student(s).", exact=True)).to_be_visible()
    if declined.height:
        shown = table_rows(page)  # the columns on screen: School, Grade, SSID, names, ...
        assert shown
        assert {r["SSID"] for r in shown} <= set(declined.get_column("ssid"))
    screenshot(page, "elpi_lea_admin_students")


def test_a_teacher_sees_their_roster_students_only(
        page: Page, accounts_server: str, accounts_store: Path,
        screenshot: Callable[[Page, str], Path]) -> None:
    store = Store(accounts_store)
    teacher = next(a for a in demo_accounts(store) if a.role == "teacher")
    (school,) = teacher.schools
    year = sign_in_and_open(page, accounts_server, teacher.email)
    expect(page.get_by_text("the students of your rosters at", exact=False)).to_be_visible()
    scope = user_of(teacher, store).scope
    assert scope.ssids is not None
    snap = Snapshot(store)
    show_students(page, "One level from progress (maintained, not at 4)")
    listed = read_elpi_cell_students(snap, year, scope=scope, level="school", code=school,
                                     watch="one_level")
    assert set(listed.get_column("ssid")) <= set(scope.ssids)
    expect(page.get_by_text(f"{listed.height:,} student(s).", exact=True)).to_be_visible()
    if listed.height:
        assert {r["SSID"] for r in table_rows(page)} <= set(scope.ssids)
    assert axe_problems(page) == []
    screenshot(page, "elpi_teacher_students")
