"""Take the README's screenshots: every main page of ``elpac serve`` on the demo store.

Usage: ``python scripts/screenshots.py [--store data/store] [--out docs/screenshots]``
(``make screenshots``). The demo store is synthetic, so the pictures hold no real student.
Drives Debian's Chromium with Playwright, as the browser tests do; look at every picture
before committing it.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from urllib.parse import urlencode

import polars as pl
from playwright.sync_api import Page, expect, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from data.results.store import Store  # noqa: E402
from elpac.serving import serve_command, start, stop  # noqa: E402
from queries.snapshot import Snapshot  # noqa: E402
from queries.spec import ReportSpec  # noqa: E402

WIDTH = 1280
MAX_HEIGHT = 2400
"""Screenshots are cut at this height: the top of a page is what a reader needs to see."""


def _idle(page: Page) -> None:
    app = page.get_by_test_id("stApp")
    expect(app).to_have_attribute("data-test-connection-state", "CONNECTED", timeout=120_000)
    expect(app).to_have_attribute("data-test-script-state", "notRunning", timeout=120_000)


def _choose(page: Page, label: str, option: str) -> None:
    page.get_by_role("combobox", name=label, exact=True).click()
    page.get_by_role("option", name=option, exact=True).click()
    _idle(page)


def _shoot(page: Page, path: Path) -> None:
    height = page.evaluate(
        "() => Math.max(...['stMain', 'stAppViewContainer']"
        ".map(id => document.querySelector(`[data-testid=\"${id}\"]`)?.scrollHeight ?? 0))")
    page.set_viewport_size({"width": WIDTH, "height": min(MAX_HEIGHT, max(800, int(height)))})
    _idle(page)
    page.wait_for_timeout(800)  # charts finish their transitions
    page.screenshot(path=path)
    page.set_viewport_size({"width": WIDTH, "height": 900})
    print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


def _largest_lea(store: str) -> tuple[str, str, str]:
    """The LEA with the most records in the newest final year: (code, name, year)."""
    snap = Snapshot(store)
    files = Store(store).year_files()
    year = snap.years[-2] if len(snap.years) > 1 else snap.years[-1]
    code = (pl.read_parquet(files[year], columns=["tested_lea_code"])
            .get_column("tested_lea_code").value_counts(sort=True).row(0)[0])
    names = snap.orgs_of(snap.years).filter(pl.col("lea_code") == code,
                                            pl.col("org_level") == "lea")
    return code, names.get_column("name")[0], year


def _ssr_pages(store: str, lea: str, year: str, out: Path) -> None:
    """The two pages of one demo student's SSR in English, and page 1 in Spanish."""
    import pypdfium2

    from documents.ssr import render_pdf
    from queries.scope import Scope
    from queries.ssr_documents import list_ssr_contents

    contents = list_ssr_contents(Snapshot(store), scope=Scope.lea(lea, pii=True), year=year,
                                 lea=lea, language="SPA")
    content = next(c for c in contents if c.history and c.exempt) if any(
        c.history and c.exempt for c in contents) else next(c for c in contents if c.history)
    for language, pages, suffix in (("ENG", (0, 1), ""), ("SPA", (0,), "-es")):
        pdf = pypdfium2.PdfDocument(render_pdf(content, language))
        for i in pages:
            pdf[i].render(scale=1.5).to_pil().save(out / f"ssr-page-{i + 1}{suffix}.png")


def main() -> None:
    """Serve the store, open each page as a user would, save one picture per page."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default=os.environ.get("ELPAC_STORE", "data/store"))
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    lea, lea_name, year = _largest_lea(args.store)
    server, url = start(serve_command(args.store))
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                        args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": WIDTH, "height": 900})
            page.goto(url)
            _idle(page)
            demo = page.get_by_role("button", name="State administrator: ")
            if demo.count():  # a demo store with accounts: sign in as its state administrator
                demo.click()
                _idle(page)
            # The newest year, still partial: SSRs are released grade by grade.
            _choose(page, "School year", Snapshot(args.store).years[-1])
            _choose(page, "LEA", f"{lea_name} ({lea})")
            page.get_by_role("radio", name="Grade", exact=True).click()
            _idle(page)
            _shoot(page, args.out / "at-a-glance.png")

            spec = ReportSpec(years=(year,), orgs=(lea,), org_level="lea",
                              breakdown="ethnicity", comparison=True)
            page.goto(f"{url}/report?{urlencode(spec.to_params())}")
            _idle(page)
            _shoot(page, args.out / "custom-report.png")

            years = Snapshot(args.store).years
            cohort = ReportSpec(years=tuple(y for y in years[-3:]), orgs=(lea,),
                                org_level="lea", longitudinal=True, cohort=True)
            page.goto(f"{url}/report?{urlencode(cohort.to_params())}")
            _idle(page)
            page.get_by_role("heading", name="Level transitions").scroll_into_view_if_needed()
            _shoot(page, args.out / "custom-report-cohort.png")

            page.goto(f"{url}/students")
            _idle(page)
            box = page.get_by_role("textbox", name="SSID or name")
            box.fill("ga")
            box.press("Enter")
            _idle(page)
            grid = page.get_by_test_id("stDataFrame").first
            grid.locator("canvas").first.wait_for()
            grid.click(position={"x": 15, "y": 35 + 17})
            _idle(page)
            _shoot(page, args.out / "students.png")

            page.goto(f"{url}/score-reports")
            _idle(page)
            _choose(page, "LEA", f"{lea_name} ({lea})")
            _shoot(page, args.out / "score-reports.png")

            for path, name in (("exports", "exports"), ("loads", "data-loads")):
                page.goto(f"{url}/{path}")
                _idle(page)
                _choose(page, "LEA", f"{lea_name} ({lea})")
                _shoot(page, args.out / f"{name}.png")
            browser.close()
        # After the browser: the SSR printer starts its own Playwright.
        _ssr_pages(args.store, lea, year, args.out)
    finally:
        stop(server)


if __name__ == "__main__":
    main()
