"""Twenty signed-in people at once, with an administrator at the shell (issue 11).

Starts ``elpac serve`` on the statewide store with the demo accounts and drives Debian's
Chromium: 20 browser contexts (20 people) sign in as the demo roles, open At a glance, run a
Custom report and download its CSV, each step started on every page before any is waited
for, while another process adds accounts and imports a roster in a loop. Reports the
server's memory (RSS) when idle after start-up, after one signed-in visit, and after the 20
sessions; the time until all 20 had their report; error boxes seen; shell commands that
failed. The test ``tests/browser/test_many_sessions_browser.py`` asserts the same on the tiny
store.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from elpac.serving import serve_command, start, stop

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 300_000


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _settled(page: Page) -> None:
    app = page.get_by_test_id("stApp")
    app.wait_for(state="attached", timeout=TIMEOUT_MS)
    page.wait_for_function(
        "() => { const a = document.querySelector('[data-testid=stApp]');"
        " return a && a.dataset.testConnectionState === 'CONNECTED'"
        " && a.dataset.testScriptState === 'notRunning'; }", timeout=TIMEOUT_MS)


def _errors(page: Page) -> int:
    return (page.get_by_test_id("stException").count()
            + page.get_by_text("Something went wrong").count())


def _shell(store: str, stop_at: threading.Event, failures: list[str], folder: Path) -> None:
    from data.catalog.rosters import Rosters
    from data.results.store import Store

    students = Rosters(Store(store)).newest_students().sort("school_code", "ssid")
    school = students.get_column("school_code").mode().sort()[0]
    ssids = students.filter(students["school_code"] == school).get_column("ssid").head(3)
    i = 0
    while not stop_at.is_set():
        i += 1
        roster = folder / f"roster-{i}.csv"
        roster.write_text("name,school_cds,ssid,user_email\n"
                          + "".join(f"Bench {i},{school},{s},\n" for s in ssids))
        for command, stdin in ((["users", "add", f"bench{time.time_ns()}@x.org", "--name",
                                 "Bench", "--role", "site_admin", "--school", school,
                                 "--password-stdin"], "correct horse battery\n"),
                               (["rosters", "import", str(roster)], "")):
            done = subprocess.run([sys.executable, "-m", "elpac", *command, "--store", store],
                                  cwd=ROOT, input=stdin, capture_output=True, text=True,
                                  check=False)
            if done.returncode:
                failures.append(done.stderr.strip()[-200:])


def bench_sessions(store: str, sessions: int = 20) -> list[str]:
    """Server RSS and time for ``sessions`` signed-in people at once, with a shell writer."""
    from data.results.store import Store
    from data.synth.demo_accounts import create_demo_accounts

    accounts = create_demo_accounts(Store(store))
    server, url = start(serve_command(store), timeout_s=300)
    failures: list[str] = []
    stop_at = threading.Event()
    try:
        time.sleep(5)
        idle = _rss_mb(server.pid)
        with sync_playwright() as p, tempfile.TemporaryDirectory() as folder:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            first = browser.new_page()
            first.goto(url)
            _settled(first)
            first.get_by_role("button", name=f": {accounts[1].email}").click()
            first.get_by_text("Signed in as").wait_for(timeout=TIMEOUT_MS)
            _settled(first)
            one = _rss_mb(server.pid)
            first.close()
            shell = threading.Thread(target=_shell, args=(store, stop_at, failures,
                                                          Path(folder)))
            shell.start()
            started = time.perf_counter()
            pages = [browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
                     for _ in range(sessions)]
            for page in pages:
                page.set_default_timeout(TIMEOUT_MS)
                page.goto(url, wait_until="commit")
            for n, page in enumerate(pages):
                _settled(page)
                page.get_by_role("button",
                                 name=f": {accounts[n % len(accounts)].email}").click()
            done_at = []
            for page in pages:
                page.get_by_text("Signed in as").wait_for()
                _settled(page)
                page.goto(f"{url}/report", wait_until="commit")
            for page in pages:
                _settled(page)
                page.get_by_role("button", name="Run report").click()
            for page in pages:
                _settled(page)
                with page.expect_download():
                    page.get_by_test_id("stDownloadButton").filter(
                        has_text="Download CSV").locator("button, a").first.click()
                done_at.append(time.perf_counter() - started)
            errors = sum(_errors(page) for page in pages)
            after = _rss_mb(server.pid)
            stop_at.set()
            shell.join()
            browser.close()
    finally:
        stop_at.set()
        stop(server)
    return [f"sessions on {store}: {sessions} signed-in people at once, shell writing",
            f"  server RSS: idle {idle:,.0f} MB, one signed-in visit {one:,.0f} MB, after "
            f"{sessions} sessions {after:,.0f} MB",
            f"  all {sessions} had their report CSV after {max(done_at):.1f} s (median "
            f"{statistics.median(done_at):.1f} s); error boxes {errors}; shell commands "
            f"failed {len(failures)}"]
