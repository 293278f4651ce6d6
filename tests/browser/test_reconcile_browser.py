"""The Reconcile with CDE page in a real Chromium, against ``elpac serve`` on a store whose
own 2024-25 research file was imported as "published" with one cell changed.

Marked ``browser`` by ``conftest.py``.
"""

from __future__ import annotations

import os
import shutil
from typing import TYPE_CHECKING

import polars as pl
import pytest
from playwright.sync_api import Page, expect

from data.published.store import import_research_file
from data.results.store import Store
from elpac.serving import serve_command, start, stop
from queries.research import research_rows, write_research_file
from queries.scope import Scope
from queries.snapshot import Snapshot
from tests.browser.conftest import STARTUP_TIMEOUT_S, wait_for_app, wait_for_paint

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

YEAR = "2024-25"
LEA = "19619690000000"


@pytest.fixture(scope="module")
def reconcile_server(tiny_store_path: Path,
                     tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int, str]]:
    """A server on a store with a published file; the file's row count and our LEA count."""
    path = tmp_path_factory.mktemp("reconcile-store") / "store"
    shutil.copytree(tiny_store_path, path)
    store = Store(path)
    rows = research_rows(Snapshot(store), year=YEAR, test="summative", scope=Scope.state(),
                         suppress=False)
    own = path.parent / "sa_elpac2025_all_csv_v1.txt"
    write_research_file(rows, own)
    lines = [line.split("^") for line in own.read_text().splitlines()]
    target = next(c for c in lines if c[3] == "02" and "".join(c[:3]) == LEA
                  and c[6] == "001" and c[8] == "13")
    ours = target[9]
    target[9] = str(int(ours) + 1)  # the LEA's TotalEnrolled, one more than we count
    own.write_text("".join("^".join(c) + "\r\n" for c in lines))
    import_research_file(store, own, imported_by="test")
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    env.pop("ELPAC_SCOPE", None)
    with (path.parent / "server.log").open("wb") as log:
        server, url = start(serve_command(path), log=log, env=env, timeout_s=STARTUP_TIMEOUT_S)
    try:
        yield url, len(lines) - 1, ours
    finally:
        stop(server)


def metric_value(page: Page, label: str) -> str:
    metric = page.get_by_test_id("stMetric").filter(
        has=page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True))
    expect(metric).to_have_count(1)
    return metric.get_by_test_id("stMetricValue").inner_text()


def test_reconcile_shows_and_downloads_the_one_difference(
        page: Page, reconcile_server: tuple[str, int, str], tmp_path: Path,
        screenshot: Callable[[Page, str], Path]) -> None:
    url, n_rows, ours = reconcile_server
    page.goto(f"{url}/reconcile")
    wait_for_app(page)
    expect(page).to_have_title("Reconcile with CDE · ELPAC results explorer")
    box = page.get_by_test_id("stSelectbox").filter(
        has=page.get_by_text("School year", exact=True))
    box.click()
    page.keyboard.type(YEAR)
    page.get_by_role("option").filter(has_text=YEAR).first.click()
    wait_for_app(page)
    wait_for_paint(page)

    expect(page.get_by_test_id("stException")).to_have_count(0)
    assert metric_value(page, "Rows compared") == f"{n_rows:,}"
    assert metric_value(page, "Cells compared") == f"{n_rows * 61:,}"
    assert metric_value(page, "Cells that differ") == "1"
    expect(page.get_by_test_id("stDataFrame")).to_have_count(1)
    expect(page.get_by_text("1 cell. Click a column header to sort.")).to_be_visible()
    assert screenshot(page, "reconcile").stat().st_size > 10_000

    button = page.get_by_test_id("stDownloadButton").filter(has_text="Download CSV")
    with page.expect_download() as download:
        button.locator("button, a").first.click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name == f"elpac-reconcile-summative-state-{YEAR}.csv"
    back = pl.read_csv(saved, infer_schema=False)
    assert back.select("org_level", "column", "ours", "published", "status").rows() == [
        ("lea", "TotalEnrolled", ours, str(int(ours) + 1), "differs")]
