"""Board-ready reports in Chromium (issue 12): every row charted and exported, state comparison.

1. Five school years by grade (70 rows): the page draws every row in panels, one per year;
   the CSV holds the 70 rows, the all-charts PDF a page per panel, and the PowerPoint a slide
   per panel (title, picture) and the table, opened with python-pptx.
2. An LEA administrator of a store holding CDE's research file compares with the county and
   the state: the rows are there, marked "published by CDE".
Screenshots go to ``test-artifacts/`` and were looked at.
"""

from __future__ import annotations

import io
import shutil
from typing import TYPE_CHECKING

import pikepdf
import polars as pl
import pytest
from playwright.sync_api import Page, expect
from pptx import Presentation

from data.published.store import import_research_file
from data.results.store import Store
from data.synth.demo_accounts import DEMO_PASSWORD, create_demo_accounts
from queries.research import research_rows, write_research_file
from queries.scope import Scope
from queries.snapshot import Snapshot
from queries.spec import ReportSpec
from tests.browser.conftest import _serving, wait_for_app, wait_for_paint
from tests.browser.test_report_browser import download

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

LEA = "19619690000000"
YEARS = ("2021-22", "2022-23", "2023-24", "2024-25", "2025-26")
GRADES = ("KN", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12", "13")
BARS = "() => [...document.querySelectorAll('.js-plotly-plot')].map(p => p.data[0].y.length)"


def _link(spec: ReportSpec) -> str:
    from urllib.parse import urlencode

    return "report?" + urlencode(spec.to_params())


def test_seventy_rows_are_charted_and_exported_whole(
        open_app: Callable[[str], Page], screenshot: Callable[[Page, str], Path],
        tmp_path: Path) -> None:
    spec = ReportSpec(years=YEARS, orgs=(LEA,), org_level="lea", grades=GRADES)
    page = open_app(_link(spec))
    wait_for_paint(page)
    expect(page.get_by_test_id("stException")).to_have_count(0)
    expect(page.get_by_text("70 rows in 5 charts")).to_be_visible()
    expect(page.locator(".js-plotly-plot")).to_have_count(5)
    assert page.evaluate(BARS) == [14] * 5  # every row, a year a panel
    screenshot(page, "board-report-70-rows")

    csv = pl.read_csv(download(page, "Download CSV", tmp_path), infer_schema=False)
    assert csv.height == 70
    assert sorted(set(csv.get_column("School year"))) == list(YEARS)
    pdf = pikepdf.open(download(page, "All 5 charts as one PDF", tmp_path))
    assert len(pdf.pages) == 5
    deck_path = download(page, "Slides (PowerPoint)", tmp_path)
    assert deck_path.suffix == ".pptx"
    deck = Presentation(io.BytesIO(deck_path.read_bytes()))
    slides = list(deck.slides)
    charts = [s for s in slides if any(sh.shape_type == 13 for sh in s.shapes)]
    assert [s.shapes.title.text.rsplit(": ", 1)[-1] for s in charts] == list(YEARS)
    tables = [s for s in slides if any(sh.has_table for sh in s.shapes)]
    assert tables
    assert len(slides) == len(charts) + len(tables)
    first_rows = sum(len(sh.table.rows) - 1 for s in tables for sh in s.shapes
                     if sh.has_table and "(1 of" in s.shapes.title.text
                     or sh.has_table and "(" not in s.shapes.title.text)
    assert first_rows == 70
    assert "n: students tested with scores" in charts[0].notes_slide.notes_text_frame.text


@pytest.fixture(scope="module")
def published_server(tiny_store_path: Path, tmp_path_factory: pytest.TempPathFactory
                     ) -> Iterator[tuple[str, str]]:
    """A store with the demo accounts and its own research file imported as CDE's: its URL
    and the LEA administrator's LEA."""
    path = tmp_path_factory.mktemp("board-store") / "store"
    shutil.copytree(tiny_store_path, path)
    store = Store(path)
    made = create_demo_accounts(store)
    lea = next(a for a in made if a.role == "lea_admin").leas[0]
    rows = research_rows(Snapshot(store), year="2024-25", scope=Scope.state(), suppress=True)
    source = path.parent / "sa_elpac2025_all_csv_v1.txt"
    write_research_file(rows, source)
    import_research_file(store, source, imported_by="test")
    with _serving(path, tmp_path_factory) as url:
        yield url, lea


def test_an_lea_administrator_compares_with_the_published_county_and_state(
        page: Page, published_server: tuple[str, str],
        screenshot: Callable[[Page, str], Path]) -> None:
    server, lea = published_server
    page.goto(server)
    wait_for_app(page)
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_label("E-mail").fill("lea.admin@demo.example")
    sidebar.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    # The sign-in goes once through /auth/session (the session cookie) and back.
    with page.expect_navigation():
        sidebar.get_by_role("button", name="Sign in", exact=True).click()
    wait_for_app(page)
    expect(page.get_by_test_id("stSidebarNav")).to_be_visible()
    spec = ReportSpec(years=("2024-25",), orgs=(lea,), org_level="lea", comparison=True)
    page.goto(f"{server}/{_link(spec)}")
    wait_for_app(page)
    wait_for_paint(page)
    expect(page.get_by_test_id("stException")).to_have_count(0)
    bars = page.evaluate(
        "() => [...document.querySelectorAll('.js-plotly-plot')].flatMap(p => p.data[0].y)")
    assert len(bars) == 3, bars
    assert sum("published by CDE (sa_elpac2025_all_csv_v1.txt, v1)" in b for b in bars) == 2
    screenshot(page, "board-report-published-comparison")
