"""Every page of the dashboard, for every demo role, passes axe-core's WCAG 2.1 A/AA rules.

Against ``elpac serve`` on the tiny store with the demo accounts: each role signs in once
(one browser context), then opens every page of its own menu in turn, waits for the page's
script to finish and its elements to paint, and runs axe-core (tags wcag2a, wcag2aa, wcag21a,
wcag21aa) on the whole document: the sidebar, the menu and the page.

One rule pair is checked everywhere but in one place Streamlit draws: the menu's sections
(``st.navigation`` given a dict of sections) are ``<div>`` elements inside the ``<ul>``
``stSidebarNavItems``, each holding its header and its pages' ``<li>`` elements, so axe's ``list``
and ``listitem`` fail there. The app cannot change that markup (only a menu without sections
avoids it); every other list on every page is still checked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from data.results.store import Store
from data.synth.demo_accounts import demo_accounts
from tests.browser.conftest import wait_for_app, wait_for_paint

if TYPE_CHECKING:
    from pathlib import Path

AXE = Axe()
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
LIST_RULES = ["list", "listitem"]
WCAG_BUT_LISTS = {"runOnly": {"type": "tag", "values": TAGS},
                  "rules": {rule: {"enabled": False} for rule in LIST_RULES}}
LISTS = {"runOnly": {"type": "rule", "values": LIST_RULES}}
# Streamlit's sectioned menu: <ul data-testid=stSidebarNavItems> holding <div>s (see above).
BUT_THE_MENU = {"exclude": [["[data-testid=stSidebarNavItems]"]]}
ROLES = ["state_admin", "lea_admin", "site_admin", "teacher", "viewer"]


def violations(page: Page, title: str) -> list[str]:
    """axe-core's WCAG 2.1 A/AA violations on the whole document: page, rule, where, why."""
    found = (AXE.run(page, options=WCAG_BUT_LISTS).response["violations"]
             + AXE.run(page, context=BUT_THE_MENU, options=LISTS).response["violations"])
    return [f"{title}: {v['id']} on {len(v['nodes'])} elements, e.g. "
            f"{[n['target'] for n in v['nodes'][:2]]}: {v['help']}; "
            f"{v['nodes'][0].get('failureSummary', '')[:300]!r}"
            for v in found]


def sign_in(page: Page, server: str, email: str) -> None:
    page.goto(server)
    wait_for_app(page)
    # The sign-in sends the browser once through /auth/session (the session cookie) and back.
    with page.expect_navigation():
        page.get_by_test_id("stSidebar").get_by_role("button", name=f": {email}").click()
    wait_for_app(page)
    expect(page.get_by_test_id("stSidebarNav")).to_be_visible()
    expect(page.get_by_role("heading", name="At a glance", level=1)).to_be_visible()
    wait_for_app(page)


@pytest.mark.parametrize("role", ROLES)
def test_every_page_of_each_role_has_no_wcag_violation(
        browser: Browser, browser_context_args: dict[str, object], accounts_server: str,
        accounts_store: Path, role: str) -> None:
    account = next(a for a in demo_accounts(Store(accounts_store)) if a.role == role)
    context = browser.new_context(**browser_context_args)
    try:
        page = context.new_page()
        sign_in(page, accounts_server, account.email)
        menu = page.get_by_test_id("stSidebarNav").get_by_role("link")
        titles = [t.split("\n")[-1] for t in menu.all_inner_texts()]
        assert "At a glance" in titles
        found: list[str] = []
        for title in titles:
            page.get_by_test_id("stSidebarNav").get_by_role("link", name=title,
                                                            exact=True).click()
            wait_for_app(page)
            expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()
            wait_for_paint(page)
            found += violations(page, title)
        assert found == [], f"{role}:\n" + "\n".join(found)
    finally:
        context.close()


def test_what_an_lea_administrator_opens_has_no_wcag_violation(
        page: Page, accounts_server: str, accounts_store: Path) -> None:
    """The states a page reaches after a choice: a report run, a student list, a built file."""
    account = next(a for a in demo_accounts(Store(accounts_store)) if a.role == "lea_admin")
    sign_in(page, accounts_server, account.email)
    nav = page.get_by_test_id("stSidebarNav")
    found: list[str] = []

    nav.get_by_role("link", name="Custom report", exact=True).click()
    wait_for_app(page)
    page.get_by_role("button", name="Run report", exact=True).click()
    wait_for_app(page)
    expect(page.get_by_test_id("stDownloadButton").first).to_be_visible()
    wait_for_paint(page)
    found += violations(page, "Custom report, run")

    nav.get_by_role("link", name="Students", exact=True).click()
    wait_for_app(page)
    page.get_by_test_id("stRadio").get_by_text("List by school, grade or student group",
                                                exact=True).click()
    wait_for_app(page)
    expect(page.get_by_test_id("stDataFrame").first).to_be_visible()
    wait_for_paint(page)
    found += violations(page, "Students, a list")

    nav.get_by_role("link", name="Exports", exact=True).click()
    wait_for_app(page)
    page.get_by_role("button", name="Build the export", exact=True).click()
    wait_for_app(page)
    expect(page.get_by_test_id("elpacDownloadLink")).to_be_visible()
    found += violations(page, "Exports, built")
    assert found == [], "\n".join(found)
