"""What the store tests share: editable copies of the tiny demo's TOMS files, and the store
read back the way the dashboard reads it."""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Callable
from pathlib import Path

import duckdb
import polars as pl
import pytest
from sqlalchemy import text

from data.results.ingest import _decide_kind, _decide_year, _pending
from data.results.loading import PendingLoad
from data.results.store import Store
from data.toms.checked_file import check_file
from data.toms.layout import layout

YEAR = "2024-25"
COUNTY = "19"
"""Los Angeles: the largest tiny file (about 300 records in three LEAs)."""
CREATED = "2025-09-15"
"""ReportCreatedDate of the tiny 2024-25 files (the demo's final file)."""


class Toms:
    """An editable copy of a generated caret file, addressed by canonical field."""

    def __init__(self, source: Path, path: Path, year: str = YEAR) -> None:
        self.path = path
        with source.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle, delimiter="^", quoting=csv.QUOTE_NONE))
        self.header, self.records = rows[0], rows[1:]
        self.column = {c: i for i, c in enumerate(layout(year).canonical) if c}

    def get(self, record: list[str], field: str) -> str:
        return record[self.column[field]]

    def set(self, record: list[str], **values: str) -> None:
        for field, value in values.items():
            record[self.column[field]] = value

    def where(self, **values: str) -> list[list[str]]:
        return [r for r in self.records
                if all(r[self.column[f]] == v for f, v in values.items())]

    def save(self) -> Path:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, delimiter="^", quoting=csv.QUOTE_NONE,
                                lineterminator="\n")
            writer.writerows([self.header, *self.records])
        return self.path


@pytest.fixture
def toms(tiny_files: dict[str, list[Path]], tmp_path: Path) -> Callable[..., Toms]:
    """A copy of a generated file; ``created`` sets its ReportCreatedDate on every record."""

    def make(county: str = COUNTY, created: str | None = None, name: str | None = None) -> Toms:
        source = next(p for p in tiny_files[YEAR] if p.name.startswith(f"County{county}"))
        f = Toms(source, tmp_path / "in" / (name or source.name))
        if created:
            for record in f.records:
                f.set(record, ReportCreatedDate=created)
        return f

    return make



def records(store: Store, year: str | None = None) -> pl.DataFrame:
    """The committed records, read back the way the dashboard reads them."""
    con = duckdb.connect()
    try:
        store.results(con)
        rel = con.sql("SELECT * FROM results WHERE ? IS NULL OR school_year = ?",
                      params=[year, year])
        return rel.pl().sort("school_year", "record_type", "ssid")
    finally:
        con.close()


def pending_for(path: Path) -> PendingLoad:
    """A validated load, built the way ``data.results.ingest.ingest`` builds it."""
    # The parts stay until the test process ends: the pending load reads them when loaded.
    checked = check_file(path, Path(tempfile.mkdtemp(prefix="elpac-pending-")))
    assert checked.problems.height == 0
    src = checked.source
    kind = _decide_kind(src, checked.rows(), None).kind
    return _pending(checked, _decide_year(src, checked.rows(), None), kind)


def catalog(store: Store) -> dict[str, pl.DataFrame]:
    """Every catalog table, in a fixed order."""
    tables = (("loads", "SELECT * FROM loads ORDER BY load_id"),
              ("load_leas", "SELECT * FROM load_leas ORDER BY load_id, lea_code"),
              ("store_meta", "SELECT * FROM store_meta ORDER BY key"))
    out = {}
    with store.catalog.read() as con:
        for name, sql in tables:
            result = con.execute(text(sql))
            columns = list(result.keys())
            out[name] = pl.DataFrame([tuple(r) for r in result], schema=columns, orient="row")
    return out


def directories(path: Path) -> list[str]:
    """Every directory under ``path`` (the digest sees files only)."""
    return sorted(str(p.relative_to(path)) for p in path.rglob("*") if p.is_dir())
