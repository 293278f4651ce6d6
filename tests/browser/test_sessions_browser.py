"""A local sign-in outlives a reload, follows a deep link, and ends everywhere (issue 11).

Against ``elpac serve`` on the tiny store with the demo accounts: the browser keeps the
session in an HttpOnly cookie that only the server sets, so these run in a real Chromium.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.conftest import wait_for_app

if TYPE_CHECKING:
    from pathlib import Path

LEA_ADMIN = "lea.admin@demo.example"


def sign_in_as(page: Page, email: str) -> None:
    """Press the demo account's button; wait until the cookie hand-off has brought us back."""
    sidebar = page.get_by_test_id("stSidebar")
    # "Signed in as" shows before the round trip through /auth/session too: wait for the
    # navigation itself, or a next step is undone by it.
    with page.expect_navigation(timeout=30_000):
        sidebar.get_by_role("button", name=f": {email}").click()
    expect(sidebar.get_by_text("Signed in as")).to_be_visible(timeout=30_000)
    wait_for_app(page)


def signed_in(page: Page) -> None:
    expect(page.get_by_test_id("stSidebar").get_by_text("Signed in as")).to_be_visible(
        timeout=30_000)


def signed_out(page: Page) -> None:
    expect(page.get_by_test_id("stSidebar").get_by_label("E-mail")).to_be_visible(
        timeout=30_000)


def test_a_reload_keeps_the_session_and_the_cookie_is_http_only(
        page: Page, context: BrowserContext, accounts_server: str) -> None:
    page.goto(accounts_server)
    wait_for_app(page)
    sign_in_as(page, LEA_ADMIN)
    (cookie,) = [c for c in context.cookies() if c["name"] == "elpac_session"]
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert page.evaluate("document.cookie").find("elpac_session") == -1  # no script reads it
    page.reload()
    wait_for_app(page)
    signed_in(page)
    expect(page.get_by_test_id("stMetric").first).to_be_visible()


def test_a_deep_link_opened_signed_out_returns_there_after_sign_in(
        page: Page, accounts_server: str) -> None:
    page.goto(f"{accounts_server}/students")
    wait_for_app(page)
    expect(page.get_by_text("Page not found")).to_have_count(0)
    expect(page.get_by_text("to see this page")).to_be_visible()
    sign_in_as(page, LEA_ADMIN)
    assert page.url.rstrip("/").endswith("/students")
    expect(page.get_by_role("textbox", name="SSID or name")).to_be_visible()


def test_signing_out_in_one_tab_signs_out_the_other(
        context: BrowserContext, accounts_server: str) -> None:
    first = context.new_page()
    first.goto(accounts_server)
    wait_for_app(first)
    sign_in_as(first, LEA_ADMIN)
    second = context.new_page()
    second.goto(f"{accounts_server}/report")
    wait_for_app(second)
    signed_in(second)

    first.get_by_test_id("stSidebar").get_by_role("button", name="Sign out").click()
    signed_out(first)
    # The other tab's next run finds its session ended (no reload: the same live session).
    second.get_by_test_id("stSidebarNav").get_by_role("link", name="At a glance").click()
    wait_for_app(second)
    signed_out(second)
    expect(second.get_by_test_id("stMetric")).to_have_count(0)


def test_an_idle_session_asks_to_sign_in_again(page: Page, accounts_server: str,
                                                accounts_store: Path) -> None:
    page.goto(accounts_server)
    wait_for_app(page)
    sign_in_as(page, "site.admin@demo.example")
    # As if the last page ran two hours ago.
    with closing(sqlite3.connect(accounts_store / "catalog.sqlite")) as con:
        con.execute("UPDATE sessions SET last_seen_at = ? WHERE email = ? "
                    "AND revoked_at IS NULL",
                    [(datetime.now() - timedelta(hours=2)).isoformat(sep=" "),
                     "site.admin@demo.example"])
        con.commit()
    page.reload()
    wait_for_app(page)
    signed_out(page)
    expect(page.get_by_test_id("stMetric")).to_have_count(0)
