"""Sign in as each demo role in Chromium and see only what that role may see (issue 5).

Runs against ``elpac serve`` on a copy of the tiny store with the demo accounts; a store
with accounts asks every session to sign in.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect

from data.results.store import Store
from data.synth.demo_accounts import demo_accounts
from tests.browser.conftest import wait_for_app

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path


def open_signed_out(page: Page, server: str, path: str = "") -> Page:
    page.goto(f"{server}/{path}")
    wait_for_app(page)
    return page


def test_nothing_before_signing_in_and_a_wrong_password(page: Page,
                                                        accounts_server: str) -> None:
    open_signed_out(page, accounts_server)
    expect(page.get_by_text("Sign in with your e-mail and password")).to_be_visible()
    expect(page.get_by_test_id("stMetric")).to_have_count(0)
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_label("E-mail").fill("lea.admin@demo.example")
    sidebar.get_by_label("Password", exact=True).fill("not the password")
    sidebar.get_by_role("button", name="Sign in", exact=True).click()
    wait_for_app(page)
    expect(sidebar.get_by_text("The e-mail or the password is wrong, or the account is "
                               "locked")).to_be_visible()
    expect(page.get_by_test_id("stMetric")).to_have_count(0)


ROLE_VIEWS = {
    # role: (sidebar access sentence, may look up students, may load files)
    "state_admin": ("Access: all of California; student records visible.", True, True),
    "lea_admin": ("Access: 1 LEAs; student records visible.", True, True),
    "site_admin": ("Access: 1 schools; student records visible.", True, False),
    "viewer": ("Access: 1 LEAs; aggregates only.", False, False),
    "teacher": (re.compile(r"^Access: 1 schools, only the \d+ students of your rosters; "
                           r"student records visible\.$"), True, False),
}


@pytest.mark.parametrize("role", list(ROLE_VIEWS))
def test_each_demo_role_sees_its_own(page: Page, accounts_server: str, accounts_store: Path,
                                     screenshot: Callable[[Page, str], Path],
                                     role: str) -> None:
    account = next(a for a in demo_accounts(Store(accounts_store)) if a.role == role)
    access, students, loads = ROLE_VIEWS[role]
    open_signed_out(page, accounts_server)
    sidebar = page.get_by_test_id("stSidebar")
    # The sign-in goes once through /auth/session (the session cookie) and back.
    with page.expect_navigation():
        sidebar.get_by_role("button", name=f": {account.email}").click()
    wait_for_app(page)
    expect(sidebar.get_by_text(f"Signed in as {account.name}")).to_be_visible()
    expect(sidebar.get_by_text(access)).to_be_visible()
    expect(page.get_by_test_id("stMetric").first).to_be_visible()
    expect(page.get_by_text("Go further")).to_be_visible()  # the page ran to its end
    expect(page.get_by_text("Something went wrong")).to_have_count(0)
    # The sidebar offers California, the account's LEA, or (a site administrator) its school.
    picker = page.get_by_role("combobox", name="School" if role in ("site_admin", "teacher")
                              else "LEA", exact=True)
    code = (account.schools or account.leas or ("",))[0]
    if role == "state_admin":
        expect(picker).to_have_value("California (all LEAs)")
    else:
        expect(picker).to_have_value(re.compile(rf"\({code}\)$"))
    screenshot(page, f"signed_in_{role}")

    menu = page.get_by_test_id("stSidebarNav")
    expect(menu.get_by_role("link", name="Store contents")).to_have_count(
        1 if role == "state_admin" else 0)
    if students:
        menu.get_by_role("link", name="Students").click()
        wait_for_app(page)
        expect(page.get_by_role("textbox", name="SSID or name")).to_be_visible()
    else:
        # Not in the menu (the queries refuse student rows to this scope anyway).
        expect(menu.get_by_role("link", name="Students")).to_have_count(0)

    page.get_by_role("link", name="Data loads").first.click()
    wait_for_app(page)
    refusal = page.get_by_text("cannot load files")
    if loads:
        expect(page.get_by_test_id("stFileUploader")).to_be_visible()
    else:
        expect(refusal).to_be_visible()
        expect(page.get_by_test_id("stFileUploader")).to_have_count(0)

    sidebar.get_by_role("button", name="Sign out").click()
    wait_for_app(page)
    expect(sidebar.get_by_label("E-mail")).to_be_visible()
    expect(sidebar.get_by_text("Access: nothing; aggregates only.")).to_be_visible()
    expect(page.get_by_test_id("stFileUploader")).to_have_count(0)
