"""Published aggregates: the rows of CDE's public research file, for any account.

The research file is public (CDE publishes it; groups under 11 are already suppressed, ELPAC.md
§5.1), so reading it needs no scope: any account may see published rows, and they are never
student rows. Imported with ``elpac import research-file`` (``data.published``).

Columns mean what ``queries.research.research_rows``' do (``research_columns(test)``, text
cells as the file writes them; a ``*`` or blank cell is null), plus the organisation's names
where the file or its entities file gave them, and ``source``: "published by CDE (file,
version)".
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from data.published.research_file import NAME_COLUMNS, TYPE_IDS
from data.published.store import published_history, read_current
from data.results.store import Store
from queries.research import research_columns

if TYPE_CHECKING:
    from collections.abc import Iterable

    from queries.snapshot import Snapshot

SOURCE_COLUMN = "source"
LEVEL_COLUMN = "org_level"
STATE_CDS = "00000000000000"


def _store(snap_or_store: Snapshot | Store | str | Path) -> Store:
    if isinstance(snap_or_store, Store):
        return snap_or_store
    if isinstance(snap_or_store, str | Path):
        return Store(snap_or_store)
    return snap_or_store.store


def source_label(file_name: str, version: str) -> str:
    """How a published row says where it comes from.

    Examples
    --------
    >>> source_label("sa_elpac2024_all_csv_v1.zip", "v1")
    'published by CDE (sa_elpac2024_all_csv_v1.zip, v1)'
    >>> source_label("research.txt", "")
    'published by CDE (research.txt)'
    """
    return f"published by CDE ({file_name}{', ' + version if version else ''})"


def published_files(snap_or_store: Snapshot | Store | str | Path) -> pl.DataFrame:
    """Every imported research file, newest first, with which is current (any account)."""
    return published_history(_store(snap_or_store))


def published_rows(snap_or_store: Snapshot | Store | str | Path, year: str, test: str, *,
                   orgs: Iterable[str] | None = None) -> pl.DataFrame:
    """The current published research rows of a year and test (no scope: they are public).

    ``orgs`` keeps the rows of those 14-digit CDS codes (county + district + school;
    ``00000000000000`` is the state). Columns: ``research_columns(test)``, ``org_level``
    (state, county, lea, school, from ``TypeID``), the names where known, ``source``. Raises
    ``ValueError`` when no file of that year and test was imported.
    """
    found = read_current(_store(snap_or_store), year, test)
    if found is None:
        raise ValueError(f"no published research file for {year} ({test}) has been imported: "
                         "run `elpac import research-file FILE`")
    rows, meta = found
    if orgs is not None:
        cds = pl.col("CountyCode") + pl.col("DistrictCode") + pl.col("SchoolCode")
        rows = rows.filter(cds.is_in(list(orgs)))
    names = [pl.col(c) if c in rows.columns else pl.lit(None, pl.String).alias(c)
             for c in NAME_COLUMNS]
    return rows.select(
        *research_columns(test),
        pl.col("TypeID").replace_strict(TYPE_IDS, default=None).alias(LEVEL_COLUMN),
        *names,
        pl.lit(source_label(str(meta["file_name"]), str(meta["version_label"])))
        .alias(SOURCE_COLUMN))
