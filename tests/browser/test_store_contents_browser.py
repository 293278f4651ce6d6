"""The Store contents page in a real Chromium against ``elpac serve`` on the tiny store.

Marked ``browser`` by ``conftest.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl
from playwright.sync_api import Page, expect

from data.results.store import Store

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path


def metric_value(page: Page, label: str) -> str:
    metric = page.get_by_test_id("stMetric").filter(
        has=page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True))
    expect(metric).to_have_count(1)
    return metric.get_by_test_id("stMetricValue").inner_text()


def test_store_page_shows_what_the_store_holds(open_app: Callable[[str], Page],
                                         screenshot: Callable[[Page, str], Path],
                                         tiny_store_path: Path) -> None:
    page = open_app("store")

    expect(page.get_by_test_id("stException")).to_have_count(0)
    expect(page.get_by_role("heading", name="Store contents", level=1)).to_be_visible()
    # Counted here from the Parquet files, independently of queries/ and of DuckDB.
    files = Store(tiny_store_path).year_files().values()
    records = pl.concat([pl.scan_parquet(p).select("ssid") for p in files]).collect()
    assert metric_value(page, "Records") == f"{records.height:,}"
    assert metric_value(page, "Students") == f"{records['ssid'].n_unique():,}"
    expect(page.get_by_test_id("stDataFrame")).to_have_count(2)
    expect(page.get_by_role("heading", name="Load history")).to_be_visible()

    shot = screenshot(page, "store_contents")
    assert shot.stat().st_size > 10_000


def test_at_a_glance_is_the_default_page(open_app: Callable[[str], Page]) -> None:
    page = open_app("")

    # st.navigation names the browser tab after the page it runs.
    expect(page).to_have_title("At a glance · ELPAC results explorer")
    expect(page.get_by_role("dialog", name="Page not found")).to_have_count(0)
