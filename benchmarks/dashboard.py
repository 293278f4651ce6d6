"""Dashboard speed in a real browser, at statewide scale (issue 4's quality bar).

Starts ``elpac serve`` on the statewide store and drives Debian's Chromium with Playwright:

* **first paint**: a new tab opens the default page (At a glance); the time until its headline
  figures (the SSR metrics) are painted, and until the page is complete (its script finished
  and the level chart drawn). The first visit after start-up (cold: the snapshot is opened)
  is reported apart from the median of later visits (warm).
* **filter change**: switching the test (Summative / Alternate) redraws every figure on the
  page; the time from the click until the level chart shows the other test's title.
* **20 concurrent sessions**: 20 tabs open the page at once; then each of 20 open sessions
  changes the filter at the same moment. Median and slowest of the 20.

The same browser also opens a bare Streamlit page with one small Plotly chart
(``reference_app.py``), served the same way: what any such page costs this machine, with no
data behind it. Browser and server share the machine, so with 20 tabs the browser's own work
dominates; the ratio to the reference says what the dashboard adds.

Figures are medians of one run on a shared machine: compare the ratios.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from playwright.async_api import Browser, Page, async_playwright

from elpac.serving import serve_command, start, stop
from queries.snapshot import Snapshot
from queries.spec import ReportSpec

if TYPE_CHECKING:
    import subprocess

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 120_000
CHART_TITLE = "#stMain .js-plotly-plot .gtitle, #stMain .elpac-chart-title"
"""A Plotly chart's title (the reference page) or the home page's HTML level chart's."""
FIGURES = '#stMain [data-testid="stMetricValue"]'
REFERENCE = Path(__file__).resolve().parent / "reference_app.py"


def _serve(store: str | None) -> tuple[subprocess.Popen[bytes], str]:
    """``elpac serve`` on ``store``, or the reference page when ``store`` is ``None``."""
    return start(serve_command(store) if store else
                 [sys.executable, "-m", "streamlit", "run", str(REFERENCE), "--server.port",
                  "{port}", "--server.headless", "true"])


async def _idle(page: Page) -> None:
    app = page.get_by_test_id("stApp")
    await app.and_(page.locator('[data-test-script-state="notRunning"]')).wait_for(
        timeout=TIMEOUT_MS)


async def _chart_title(page: Page, contains: str) -> None:
    await page.wait_for_function(
        "([sel, text]) => [...document.querySelectorAll(sel)]"
        ".some(t => t.textContent.includes(text))",
        arg=[CHART_TITLE, contains], timeout=TIMEOUT_MS, polling=20)


async def _open(browser: Browser, url: str, title: str = "Summative ELPAC: overall",
                first: str = FIGURES) -> tuple[Page, float, float]:
    """A new tab on ``url``: the page, seconds to its ``first`` element, seconds to complete."""
    page = await browser.new_page(viewport={"width": 1400, "height": 900})
    page.set_default_timeout(TIMEOUT_MS)
    started = time.perf_counter()
    await page.goto(url)
    await page.locator(first).first.wait_for(timeout=TIMEOUT_MS)
    figures = time.perf_counter() - started
    await _chart_title(page, title)
    await _idle(page)
    return page, figures, time.perf_counter() - started


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


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


async def _visits(browser: Browser, url: str, title: str, repeats: int
                  ) -> tuple[float, list[float], list[float]]:
    """Cold complete time, then warm first-figures and complete times of ``repeats`` visits."""
    page, _, cold = await _open(browser, url, title)
    await page.close()
    figures, complete = [], []
    for _ in range(repeats):
        page, first, done = await _open(browser, url, title)
        figures.append(first)
        complete.append(done)
        await page.close()
    return cold, figures, complete


async def _crowd(browser: Browser, url: str, title: str, sessions: int,
                 first: str = FIGURES) -> tuple[list[Page], list[float]]:
    opened = await asyncio.gather(*(_open(browser, url, title, first)
                                    for _ in range(sessions)))
    return [page for page, _, _ in opened], [done for _, _, done in opened]


async def _run(url: str, reference: str, report: ReportSpec, repeats: int, sessions: int
               ) -> list[str]:
    median = statistics.median
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        ref_cold, ref_figures, ref_complete = await _visits(browser, reference,
                                                            "Reference chart", repeats)
        cold, figures, complete = await _visits(browser, url, "Summative ELPAC: overall",
                                                repeats)
        page, _, _ = await _open(browser, url)
        # The first switch fills the cache for the other test; later ones are what people see.
        await _filter_changes(page, 1)
        changes = await _filter_changes(page, repeats)
        await page.close()

        ref_pages, ref_loads = await _crowd(browser, reference, "Reference chart", sessions)
        for crowd_page in ref_pages:
            await crowd_page.close()
        pages, loads = await _crowd(browser, url, "Summative ELPAC: overall", sessions)
        switched = await asyncio.gather(*(
            _switch(crowd_page, "Summative Alternate ELPAC", "Summative Alternate ELPAC: overall")
            for crowd_page in pages))
        for crowd_page in pages:
            await crowd_page.close()
        # Another page under the same load: 20 sessions open a shared statewide report link
        # (the report builder, the table and the level bars).
        _, report_loads = await _crowd(
            browser, f"{url}/report?{urlencode(report.to_params())}",
            "Overall performance levels", sessions, first='#stMain [data-testid="stDataFrame"]')
        await browser.close()
    ratio = median(complete) / median(ref_complete)
    crowd_ratio = median(loads) / median(ref_loads)
    return [
        f"first paint, headline figures (warm, median of {repeats})  "
        f"{_ms(median(figures)):>9}   (target <= 2,000 ms; fastest {_ms(min(figures))}, "
        f"slowest {_ms(max(figures))})",
        f"page complete, level chart drawn (warm, median of {repeats})"
        f"{_ms(median(complete)):>9}   reference page {_ms(median(ref_complete))}, "
        f"ratio {ratio:.2f}",
        f"page complete, first visit after start (cold)        {_ms(cold):>9}   "
        f"reference page {_ms(ref_cold)}",
        f"filter change redraws the chart (median of {2 * repeats})       "
        f"{_ms(median(changes)):>9}   (target <= 300 ms)",
        f"{sessions} tabs open the page at once: median {_ms(median(loads))}, slowest "
        f"{_ms(max(loads))}; reference page median {_ms(median(ref_loads))}, "
        f"ratio {crowd_ratio:.2f}",
        f"{sessions} open sessions change the filter at once: median "
        f"{_ms(median(switched))}, slowest {_ms(max(switched))}",
        f"{sessions} tabs open a statewide report link at once: median "
        f"{_ms(median(report_loads))}, slowest {_ms(max(report_loads))}",
    ]


def bench_dashboard(store: str, *, repeats: int = 9, sessions: int = 20) -> list[str]:
    """Run the browser benchmark against ``elpac serve`` on ``store``; lines to print."""
    os.environ.setdefault("BROWSER_PATH", CHROMIUM)
    # The shared report the concurrent sessions open: California by race and ethnicity.
    report = ReportSpec(years=(Snapshot(store).years[-1],), orgs=("00",), org_level="state",
                        breakdown="ethnicity")
    server, url = _serve(store)
    reference, reference_url = _serve(None)
    try:
        return ["# dashboard in Chromium: statewide store, At a glance page "
                "(reference: a bare Streamlit page with one Plotly chart)",
                *asyncio.run(_run(url, reference_url, report, repeats, sessions))]
    finally:
        for process in (server, reference):
            stop(process)
