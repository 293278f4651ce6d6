"""The Reconcile with CDE page: the counts, the differing cells, the filter, on the tiny store.

The published file is the store's own research-file export with one cell changed, so the
page must show exactly that cell; the counts are checked against the file's own line count.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from data.published.store import import_research_file
from queries.research import research_rows, write_research_file
from queries.scope import Scope
from queries.snapshot import Snapshot
from tests.dashboard.conftest import ok, open_local

if TYPE_CHECKING:
    from pathlib import Path

    from data.results.store import Store

PAGE = "app_pages/reconcile.py"
YEAR = "2024-25"
LEA = "19619690000000"


@pytest.fixture
def published(store_copy: Store, tmp_path: Path) -> tuple[Store, int, str]:
    """The store with its own 2024-25 file imported, the LEA row's TotalEnrolled one more;
    with the file's row count and the LEA's enrolled count as we have it."""
    rows = research_rows(Snapshot(store_copy), year=YEAR, test="summative",
                         scope=Scope.state(), suppress=False)
    path = tmp_path / "own.txt"
    write_research_file(rows, path)
    lines = [line.split("^") for line in path.read_text().splitlines()]
    target = next(c for c in lines if c[3] == "02" and "".join(c[:3]) == LEA
                  and c[6] == "001" and c[8] == "13")
    ours = target[9]
    target[9] = str(int(ours) + 1)
    path.write_text("".join("^".join(c) + "\r\n" for c in lines))
    import_research_file(store_copy, path, imported_by="test")
    return store_copy, len(lines) - 1, ours


def metrics(at: object) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}  # type: ignore[attr-defined]


def test_without_a_published_file_the_page_says_how(monkeypatch: pytest.MonkeyPatch,
                                                    tiny_store_path: Path) -> None:
    at = open_local(monkeypatch, tiny_store_path, PAGE)
    assert [t.value for t in at.title] == ["Reconcile with CDE"]
    assert any("elpac import research-file" in i.value for i in at.info)
    assert not at.dataframe


def test_statewide_the_one_changed_cell_is_the_one_shown(
        monkeypatch: pytest.MonkeyPatch, published: tuple[Store, int, str]) -> None:
    store, n_rows, ours = published
    at = open_local(monkeypatch, store.path, PAGE)
    at = ok(at.selectbox(key="ctx_year").select(YEAR).run())
    assert metrics(at) == {"Rows compared": f"{n_rows:,}", "Cells compared": f"{n_rows * 61:,}",
                           "Cells that differ": "1"}
    (table,) = at.dataframe
    frame = table.value.data if hasattr(table.value, "data") else table.value
    assert frame[["org_level", "column", "ours", "published", "status"]].values.tolist() == [
        ["lea", "TotalEnrolled", ours, str(int(ours) + 1), "differs"]]
    assert [b.label for b in at.get("download_button")] == ["Download CSV", "Download Excel"]
    # Every cell of the state is more than an Excel file holds: CSV only, and the page says so.
    at = ok(at.toggle(key="reconcile_differences").set_value(False).run())
    assert [b.label for b in at.get("download_button")] == ["Download CSV"]
    assert any(c.value == (f"Excel: {n_rows * 61:,} cells are more than an Excel file here "
                           "holds (200,000): choose CSV, the differences only, or one LEA.")
               for c in at.caption)


def test_an_lea_account_sees_its_lea_and_every_cell_when_asked(
        monkeypatch: pytest.MonkeyPatch, published: tuple[Store, int, str]) -> None:
    store, _, _ = published
    at = open_local(monkeypatch, store.path, PAGE, scope={"leas": [LEA]})
    at = ok(at.selectbox(key="ctx_year").select(YEAR).run())
    assert metrics(at)["Cells that differ"] == "1"
    cells = int(metrics(at)["Cells compared"].replace(",", ""))
    at = ok(at.toggle(key="reconcile_differences").set_value(False).run())
    (table,) = at.dataframe
    frame = table.value.data if hasattr(table.value, "data") else table.value
    assert len(frame) == cells
    assert set(frame["county_code"] + frame["district_code"]) == {LEA[:7]}
    assert set(frame["status"]) == {"same", "differs"}
