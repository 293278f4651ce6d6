"""The Data loads page in a real Chromium against ``elpac serve`` on the tiny store.

The uploads go through the browser's own file input (``set_input_files``), which AppTest
cannot cover. The server's store is shared by every browser test, so nothing here presses
Load: the test checks that the store is byte for byte the same afterwards.
Marked ``browser`` by ``conftest.py``.
"""

from __future__ import annotations

import threading
import time
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
from playwright.sync_api import Page, expect

from data.toms.layout import layout
from tests.browser.conftest import wait_for_app
from tests.data.toms.zip_bomb import write_zip_bomb

if TYPE_CHECKING:
    from collections.abc import Callable

SCORED = (pl.col("RecordType") == "21") & (pl.col("TestedStatus") == "Y") & (
    pl.col("Attemptedness") == "Y") & pl.col("ConditionCode").is_null()


def county_file(tiny_files: dict[str, list[Path]], year: str) -> tuple[str, pl.DataFrame]:
    path = next(p for p in tiny_files[year] if p.name.startswith("County19"))
    return path.name, pl.read_csv(path, separator="^", infer_schema=False, quote_char=None)


def upload(page: Page, name: str, frame: pl.DataFrame) -> None:
    """Choose one file in the page's uploader, as a person's file dialog would."""
    data = frame.write_csv(separator="^", quote_style="never").encode()
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(
        files=[{"name": name, "mimeType": "text/csv", "buffer": data}])
    wait_for_app(page)


def metric_value(page: Page, label: str) -> str:
    metric = page.get_by_test_id("stMetric").filter(
        has=page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True))
    return metric.get_by_test_id("stMetricValue").inner_text()


def test_loads_page_reports_a_bad_file_before_anything_is_loaded(
        open_app: Callable[[str], Page], screenshot: Callable[[Page, str], Path],
        tiny_files: dict[str, list[Path]], tiny_store_path: Path,
        digest: Callable[[Path], dict[str, str]], tmp_path: Path) -> None:
    before = digest(tiny_store_path)
    name, frame = county_file(tiny_files, "2024-25")
    line = int(frame.with_row_index().filter(SCORED)["index"][0]) + 2
    bad = frame.with_columns(
        pl.when(pl.int_range(pl.len()) == line - 2).then(pl.lit("ABC"))
        .otherwise(pl.col("OverallScaleScore")).alias("OverallScaleScore"))

    page = open_app("loads")
    expect(page.get_by_role("heading", name="Data loads", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="Load history")).to_be_visible()
    upload(page, name, bad)

    expect(page.get_by_test_id("stException")).to_have_count(0)
    expect(page.get_by_role("heading", name="Validation report")).to_be_visible()
    assert metric_value(page, "Records read") == f"{frame.height:,}"
    assert metric_value(page, "Would load") == "0"
    assert metric_value(page, "Rejected rows") == "1"
    expect(page.get_by_text("Rejected rows: 1 problem(s) in 1 row(s).")).to_be_visible()
    expect(page.get_by_text("1 row(s) have problems, so nothing would be loaded")
           ).to_be_visible()
    expect(page.get_by_role("button", name="Load", exact=True)).to_be_disabled()

    # The row problems, as the coordinator downloads them: row number, field, value, reason.
    with page.expect_download() as download:
        page.get_by_test_id("stDownloadButton").locator("button, a").first.click()
    saved = tmp_path / "row-problems.csv"
    download.value.save_as(saved)
    problems = pl.read_csv(saved, infer_schema=False)
    assert problems.select("file", "row", "field", "value").rows() == [
        (name, str(line), "OverallScaleScore", "ABC")]
    assert "is not a scale score" in problems["reason"][0]

    shot = screenshot(page, "data_loads_bad_file")
    assert shot.stat().st_size > 10_000
    assert digest(tiny_store_path) == before


def test_loads_page_reports_a_good_file_ready_to_load(
        open_app: Callable[[str], Page], screenshot: Callable[[Page, str], Path],
        tiny_files: dict[str, list[Path]], tiny_store_path: Path,
        digest: Callable[[Path], dict[str, str]]) -> None:
    before = digest(tiny_store_path)
    name, frame = county_file(tiny_files, "2025-26")
    # The August final file of a year the store holds as partial (ELPAC.md §7).
    final = frame.with_columns(ReportCreatedDate=pl.lit("2026-08-20"))

    page = open_app("loads")
    upload(page, name, final)

    expect(page.get_by_test_id("stException")).to_have_count(0)
    assert metric_value(page, "Would load") == f"{frame.height:,}"
    assert metric_value(page, "Rejected rows") == "0"
    expect(page.get_by_text(f"Ready to load {frame.height:,} records.")).to_be_visible()
    expect(page.get_by_text("What loading would replace")).to_be_visible()
    expect(page.get_by_role("button", name="Load", exact=True)).to_be_enabled()

    screenshot(page, "data_loads_good_file")
    # Not pressed: the server's store is shared by every browser test.
    assert digest(tiny_store_path) == before


def _health(base: str) -> str:
    with urllib.request.urlopen(f"{base}/_stcore/health", timeout=10) as answer:
        return answer.read().decode()


def test_loads_page_refuses_a_zip_bomb_and_the_server_keeps_answering(
        open_app: Callable[[str], Page], screenshot: Callable[[Page, str], Path],
        streamlit_server: str, tiny_store_path: Path,
        digest: Callable[[Path], dict[str, str]], tmp_path: Path) -> None:
    # Issue 15, finding 1: this upload killed the whole dashboard (every session with it).
    before = digest(tiny_store_path)
    bomb = tmp_path / "2024-25_tested_bomb.xlsx"
    write_zip_bomb(bomb, list(layout("2024-25").headers))
    page = open_app("loads")

    answers: list[str] = []
    stop = threading.Event()

    def watch() -> None:  # the health check, asked all through the upload and its check
        while not stop.is_set():
            answers.append(_health(streamlit_server))
            time.sleep(0.2)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(files=[{
            "name": bomb.name, "buffer": bomb.read_bytes(),
            "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}])
        wait_for_app(page)
        expect(page.get_by_test_id("stException")).to_have_count(0)
        # The sentence above the tables (the files table repeats it as the file's note).
        refusal = page.get_by_text(f"{bomb.name}: the workbook part xl/worksheets/sheet1.xml "
                                   "is compressed", exact=False)
        expect(refusal).to_be_visible()
        expect(refusal).to_contain_text("a real workbook reaches (a zip bomb?), so it was not "
                                        "opened")
        expect(page.get_by_text("Nothing can be loaded until the file problems listed above "
                                "are fixed")).to_be_visible()
        expect(page.get_by_role("button", name="Load", exact=True)).to_be_disabled()
    finally:
        stop.set()
        watcher.join()
    assert answers, "the health check was never asked"
    assert set(answers) == {"ok"}
    assert _health(streamlit_server) == "ok"
    screenshot(page, "data_loads_zip_bomb")
    assert digest(tiny_store_path) == before


def test_loads_page_asks_before_a_load_removes_students(
        open_app: Callable[[str], Page], tiny_files: dict[str, list[Path]],
        tiny_store_path: Path, digest: Callable[[Path], dict[str, str]]) -> None:
    # Issue 15, finding 4: a newer file lacking students the loaded one lists says how many
    # it would remove, and Load waits for the confirmation box.
    before = digest(tiny_store_path)
    name, frame = county_file(tiny_files, "2025-26")
    fewer = frame.with_columns(ReportCreatedDate=pl.lit("2026-08-20")).slice(3)

    page = open_app("loads")
    upload(page, name, fewer)

    expect(page.get_by_test_id("stException")).to_have_count(0)
    expect(page.get_by_text("Loading would remove 3 student(s)")).to_be_visible()
    load = page.get_by_role("button", name="Load", exact=True)
    expect(load).to_be_disabled()
    page.get_by_text("Remove these 3 student(s) and load").click()
    wait_for_app(page)
    expect(page.get_by_role("checkbox", name="Remove these 3 student(s) and load")
           ).to_be_checked()
    expect(load).to_be_enabled()
    # Not pressed: the server's store is shared by every browser test.
    assert digest(tiny_store_path) == before
