"""SSR web pages pass an automated accessibility check (axe-core in Chromium), every language.

The HTML an SSR is printed from is also what a parent portal shows: axe-core (WCAG 2.x A and
AA rules) must find no violation in either test, in any of the six languages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from axe_playwright_python.sync_playwright import Axe

from documents.i18n import LOCALES
from documents.ssr import render_html
from tests.documents.test_ssr_documents import alternate_content, summative_content

if TYPE_CHECKING:
    from playwright.sync_api import Page

AXE = Axe()


@pytest.mark.parametrize("language", list(LOCALES))
@pytest.mark.parametrize("test", ["summative", "alternate"])
def test_an_ssr_page_has_no_accessibility_violation(page: Page, language: str,
                                                    test: str) -> None:
    content = summative_content() if test == "summative" else alternate_content()
    page.set_content(render_html(content, language))
    results = AXE.run(page, options={"runOnly": {"type": "tag", "values": [
        "wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}})
    problems = [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3])
                for v in results.response["violations"]]
    assert problems == []
