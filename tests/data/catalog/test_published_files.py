"""The ``published_files`` table on SQLite and PostgreSQL: imports, idempotence, versions.

The files are built by ``tests/data/published/conftest.py``; ``store_copy`` puts the catalog
on this test's backend (``conftest.py`` here).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from data.published.store import import_research_file, published_history
from queries.published import published_rows
from tests.data.published.conftest import YEAR, valid_rows, write_file

if TYPE_CHECKING:
    from pathlib import Path

    from data.results.store import Store


def test_versions_and_idempotence_on_each_backend(store_copy: Store, tmp_path: Path) -> None:
    first = write_file(tmp_path / "sa_elpac2025_all_csv_v1.txt", valid_rows())
    assert import_research_file(store_copy, first, imported_by="a").status == "imported"
    assert import_research_file(store_copy, first, imported_by="a").status == (
        "already imported")
    rows = valid_rows()
    rows[0]["TotalEnrolled"] = "50"
    second = import_research_file(
        store_copy, write_file(tmp_path / "sa_elpac2025_all_csv_v2.txt", rows),
        imported_by="b")
    history = published_history(store_copy)
    assert history.select("version_label", "is_current", "imported_by", "n_rows").rows() == [
        ("v2", True, "b", 7), ("v1", False, "a", 7)]
    assert history.item(0, "file_id") == second.file_id
    assert published_rows(store_copy, YEAR, "summative").item(0, "TotalEnrolled") == "50"
