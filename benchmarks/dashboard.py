"""Dashboard speed in a real browser, at statewide scale (issue 4's quality bar).

Starts ``elpac serve`` on the statewide store and drives Debian's Chromium with Playwright:

* **first paint**: a new browser tab opens the default page (At a glance); the time until its
  script has finished and the level chart is drawn. The first visit after start-up (cold:
  the snapshot is opened) is reported apart from the median of later visits (warm).
* **filter change**: switching the test (Summative / Alternate) redraws every figure on the
  page; the time from the click until the level chart shows the other test's title.
* **20 concurrent sessions**: 20 tabs open the page at once, then each changes the filter;
  median and slowest of the 20.

Figures are medians of one run on a shared machine.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from playwright.async_api import Browser, Page, async_playwright

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 120_000
CHART_TITLE = "#stMain .js-plotly-plot .gtitle"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return bool(response.read().strip() == b"ok")
    except (urllib.error.URLError, OSError):
        return False


def _serve(store: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "elpac", "serve", "--store", store, "--port", str(port)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    deadline = time.monotonic() + 120
    while not _healthy(url):
        if server.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the dashboard server did not start")
        time.sleep(0.2)
    return server, url


async def _idle(page: Page) -> None:
    app = page.get_by_test_id("stApp")
    await app.and_(page.locator('[data-test-script-state="notRunning"]')).wait_for(
        timeout=TIMEOUT_MS)


async def _chart_title(page: Page, contains: str) -> None:
    await page.wait_for_function(
        "([sel, text]) => [...document.querySelectorAll(sel)]"
        ".some(t => t.textContent.includes(text))",
        arg=[CHART_TITLE, contains], timeout=TIMEOUT_MS, polling=20)


async def _open(browser: Browser, url: str) -> tuple[Page, float]:
    page = await browser.new_page(viewport={"width": 1400, "height": 900})
    page.set_default_timeout(TIMEOUT_MS)
    started = time.perf_counter()
    await page.goto(url)
    await _chart_title(page, "Summative ELPAC: overall")
    await _idle(page)
    return page, time.perf_counter() - started


async def _switch(page: Page, test: str, title: str) -> float:
    started = time.perf_counter()
    await page.get_by_role("radio", name=test, exact=True).click()
    await _chart_title(page, title)
    elapsed = time.perf_counter() - started
    await _idle(page)
    return elapsed


async def _filter_changes(page: Page, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        times.append(await _switch(page, "Summative Alternate ELPAC",
                                   "Summative Alternate ELPAC: overall"))
        times.append(await _switch(page, "Summative ELPAC", "Summative ELPAC: overall"))
    return times


async def _run(url: str, repeats: int, sessions: int) -> list[str]:
    lines = []
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page, cold = await _open(browser, url)
        await page.close()
        warm = []
        for _ in range(repeats):
            page, seconds = await _open(browser, url)
            warm.append(seconds)
            await page.close()
        page, _ = await _open(browser, url)
        # The first switch fills the cache for the other test; later ones are what people see.
        await _filter_changes(page, 1)
        changes = await _filter_changes(page, repeats)
        await page.close()
        lines += [
            f"first paint, cold (first visit after start)   {cold * 1000:8.0f} ms",
            f"first paint, warm (median of {repeats})              "
            f"{statistics.median(warm) * 1000:8.0f} ms   (target <= 2000)",
            f"filter change redraws the chart (median of {2 * repeats}) "
            f"{statistics.median(changes) * 1000:8.0f} ms   (target <= 300)",
        ]

        opened = await asyncio.gather(*(_open(browser, url) for _ in range(sessions)))
        loads = [seconds for _, seconds in opened]
        switched = await asyncio.gather(*(
            _switch(page, "Summative Alternate ELPAC", "Summative Alternate ELPAC: overall")
            for page, _ in opened))
        lines += [
            f"{sessions} concurrent sessions, page load: median "
            f"{statistics.median(loads) * 1000:.0f} ms, slowest {max(loads) * 1000:.0f} ms",
            f"{sessions} concurrent sessions, filter change: median "
            f"{statistics.median(switched) * 1000:.0f} ms, slowest {max(switched) * 1000:.0f} ms",
        ]
        await browser.close()
    return lines


def bench_dashboard(store: str, *, repeats: int = 5, sessions: int = 20) -> list[str]:
    """Run the browser benchmark against ``elpac serve`` on ``store``; lines to print."""
    os.environ.setdefault("BROWSER_PATH", CHROMIUM)
    server, url = _serve(store)
    try:
        return ["# dashboard in Chromium: statewide store, At a glance page",
                *asyncio.run(_run(url, repeats, sessions))]
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
