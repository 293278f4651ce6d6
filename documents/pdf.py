"""HTML to PDF with the system's Chromium (the one the chart exports and browser tests use).

Measured on the demo store (2 cores): 200 SSRs (400 pages) in 2.5 s with Chromium against 36 s
with WeasyPrint, so SSRs print through Chromium. A ``PdfPrinter`` keeps one headless browser
open for a bulk job; ``html_to_pdf`` opens one for a single document (about 0.6 s).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from data.problems import InputError

if TYPE_CHECKING:
    from types import TracebackType

    from playwright.sync_api import Browser, Playwright

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


INSTALL_CHROMIUM = ("install Debian's Chromium (`apt-get install chromium`, as root) or start "
                    "the dashboard with `make run`, which installs it")
"""How to get Chromium, for the sentences that say it is missing."""


def configured_chromium() -> str:
    """The Chromium to use: ``$BROWSER_PATH``, else ``chromium`` on the ``PATH``, else Debian's.

    The SSR PDFs and the chart images (kaleido reads ``$BROWSER_PATH`` too) use the same one.
    """
    return os.environ.get("BROWSER_PATH") or shutil.which("chromium") or "/usr/bin/chromium"


def chromium_available() -> bool:
    """Whether the configured Chromium exists.

    Pages ask while drawing, before offering a PDF or a chart image: a download's data is
    made after the click, where an error would only read "Failed to generate file".
    """
    return Path(configured_chromium()).exists()


def chromium_path() -> str:
    """The configured Chromium (:func:`configured_chromium`); ``InputError`` if missing."""
    path = configured_chromium()
    if not Path(path).exists():
        raise InputError(f"PDFs are printed with Chromium, which is not installed: "
                         f"{INSTALL_CHROMIUM} (the HTML version works without it)")
    return path


class PdfPrinter:
    """A headless Chromium that prints HTML documents to PDF, one after another."""

    def __init__(self) -> None:
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None

    def __enter__(self) -> PdfPrinter:
        from playwright.sync_api import sync_playwright

        self._playwright = sync_playwright().start()
        self._browser = self._playwright.chromium.launch(executable_path=chromium_path(),
                                                         args=CHROMIUM_ARGS)
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self._browser is not None:
            self._browser.close()
        if self._playwright is not None:
            self._playwright.stop()

    def print(self, html: str) -> bytes:
        """One HTML document (its CSS decides the page size: Letter for SSRs) as PDF bytes."""
        if self._browser is None:
            raise RuntimeError("use PdfPrinter in a with block")
        page = self._browser.new_page()
        try:
            # Nothing to fetch: the document carries its styles, and no network is used.
            page.route("**/*", lambda route: route.abort())
            page.set_content(html, wait_until="load")
            return page.pdf(prefer_css_page_size=True, print_background=True,
                            tagged=True, outline=False)
        finally:
            page.close()


def html_to_pdf(html: str) -> bytes:
    """One HTML document as PDF bytes (starts and stops a browser)."""
    with PdfPrinter() as printer:
        return printer.print(html)
