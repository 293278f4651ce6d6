"""Twenty people at once while an administrator works in the shell (issue 11).

Twenty browser contexts (twenty separate people) sign in as the demo roles, open At a glance,
run a Custom report and download its CSV, while another process adds accounts and imports a
roster CSV in a loop (``elpac users add``, ``elpac rosters import``). No page may show an
error box or stop half way, and the shell's commands must all succeed. The pages are driven in
rounds, each step started on every page before any is waited for, so the server has twenty
sessions running at the same moment.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import polars as pl
from playwright.sync_api import Browser, Page, expect

from data.catalog.rosters import Rosters
from data.results.store import Store
from data.synth.demo_accounts import demo_accounts
from queries.sessions import COOKIE
from tests.browser.conftest import RUN_TIMEOUT_MS, wait_for_app

SESSIONS = 20
ROOT = Path(__file__).resolve().parents[2]


def shell_writer(store: Path, stop: threading.Event, outcomes: list[tuple[str, int, str]],
                 folder: Path) -> None:
    """An administrator at the shell: accounts and rosters, again and again."""
    students = Rosters(Store(store)).newest_students().sort("school_code", "ssid")
    school = students.get_column("school_code").mode().sort()[0]
    ssids = students.filter(pl.col("school_code") == school).get_column("ssid").head(3)
    i = 0
    while not stop.is_set():
        i += 1
        roster = folder / f"roster-{i}.csv"
        roster.write_text("name,school_cds,ssid,user_email\n"
                          + "".join(f"Shell {i},{school},{s},\n" for s in ssids))
        for command, stdin in (
                (["users", "add", f"shell{i}@x.org", "--name", f"Shell {i}", "--role",
                  "site_admin", "--school", school, "--password-stdin"],
                 "correct horse battery\n"),
                (["rosters", "import", str(roster)], "")):
            done = subprocess.run([sys.executable, "-m", "elpac", *command, "--store",
                                   str(store)], cwd=ROOT, input=stdin, capture_output=True,
                                  text=True, timeout=120, check=False)
            outcomes.append((command[0], done.returncode, done.stderr.strip()))


def no_error(page: Page) -> None:
    expect(page.get_by_test_id("stException")).to_have_count(0)
    expect(page.get_by_text("Something went wrong")).to_have_count(0)
    expect(page.get_by_text("could not be checked")).to_have_count(0)


def test_twenty_sessions_sign_in_report_and_download_while_the_shell_writes(
        browser: Browser, accounts_server: str, accounts_store: Path, tmp_path: Path) -> None:
    accounts = demo_accounts(Store(accounts_store))
    stop = threading.Event()
    outcomes: list[tuple[str, int, str]] = []
    shell = threading.Thread(target=shell_writer,
                             args=(accounts_store, stop, outcomes, tmp_path))
    shell.start()
    contexts = [browser.new_context(viewport={"width": 1280, "height": 900},
                                    accept_downloads=True) for _ in range(SESSIONS)]
    pages = [c.new_page() for c in contexts]
    for page in pages:
        page.set_default_timeout(RUN_TIMEOUT_MS * 2)
    try:
        for page in pages:  # every session opens at once
            page.goto(accounts_server, wait_until="commit")
        for page in pages:
            wait_for_app(page)
        for n, page in enumerate(pages):  # each person signs in with their role
            account = accounts[n % len(accounts)]
            page.get_by_test_id("stSidebar").get_by_role(
                "button", name=f": {account.email}").click()
        for page in pages:
            # The sign-in goes once through /auth/session (which sets the cookie) and back:
            # an action before that round trip ends is cut off by it (a download canceled).
            deadline = time.monotonic() + RUN_TIMEOUT_MS * 2 / 1000
            while not any(c["name"] == COOKIE for c in page.context.cookies()):
                assert time.monotonic() < deadline, "no session cookie after signing in"
                page.wait_for_timeout(100)
            wait_for_app(page)
            expect(page.get_by_test_id("stSidebar").get_by_text("Signed in as")).to_be_visible(
                timeout=RUN_TIMEOUT_MS * 2)
            wait_for_app(page)
            expect(page.get_by_text("Go further")).to_be_visible()  # At a glance ran to its end
            no_error(page)
        for page in pages:
            page.goto(f"{accounts_server}/report", wait_until="commit")
        for page in pages:
            wait_for_app(page)
            page.get_by_role("button", name="Run report").click()
        for n, page in enumerate(pages):
            wait_for_app(page)
            no_error(page)
            button = page.get_by_test_id("stDownloadButton").filter(has_text="Download CSV")
            with page.expect_download() as download:
                button.locator("button, a").first.click()
            saved = tmp_path / f"report-{n}.csv"
            download.value.save_as(saved)
            assert saved.stat().st_size > 0
    finally:
        stop.set()
        shell.join(timeout=300)
        for context in contexts:
            context.close()
    failed = [o for o in outcomes if o[1] != 0]
    assert failed == []
    assert {o[0] for o in outcomes} == {"users", "rosters"}
