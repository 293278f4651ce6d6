"""A snapshot: one committed data version of a store, opened once and read by every query.

Pinning the version makes every query of a page read the same data even if a load commits
meanwhile, and keeps the per-version work (organisation list, final/partial status, the DuckDB
views) out of each query. A snapshot is read-only and safe to share between threads: each
thread reads through its own DuckDB cursor (``cursor()``), as DuckDB requires.
"""

from __future__ import annotations

import threading
from datetime import date
from functools import cached_property
from typing import TYPE_CHECKING

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc

from data.results.orgs import ORG_SCHEMA
from data.results.store import Store
from data.results.summary import HEADLINE_GROUP, INDEX_KEYS

if TYPE_CHECKING:
    from pathlib import Path

FINAL_AFTER = (8, 15)
"""A year is *final* for an LEA once a file created on or after August 15 of the spring is
loaded for it: the final release comes in August (ELPAC.md §7). [unconfirmed cut-off]"""


def _dictionary_in(column: pa.ChunkedArray, values: list[str]) -> pa.ChunkedArray:
    """Which cells of a dictionary-encoded column hold one of ``values``.

    Tested on the dictionary codes, not the decoded strings: a level block is over a million
    rows, and decoding it first cost more than the rest of a report.
    """
    wanted = set(values)
    masks = []
    for chunk in column.chunks:
        codes = [i for i, v in enumerate(chunk.dictionary.to_pylist()) if v in wanted]
        masks.append(pc.is_in(chunk.indices, pa.array(codes, chunk.indices.type)))
    return pa.chunked_array(masks, pa.bool_())


class Snapshot:
    """The committed state of a store at one data version."""

    def __init__(self, store: Store | str | Path, version: int | None = None) -> None:
        self.store = store if isinstance(store, Store) else Store(store)
        self.store.check_schema()
        self.version = self.store.version() if version is None else version
        self.year_files = self.store.year_files(self.version)
        self.summary_files = self.store.summary_files(self.version)
        self.org_files = self.store.org_files(self.version)
        self.years: tuple[str, ...] = tuple(sorted(self.year_files))
        self._con = duckdb.connect()
        self._con.sql("SET parquet_metadata_cache = true")
        self._local = threading.local()
        self._lock = threading.Lock()
        self._orgs_of: dict[tuple[str, ...], pl.DataFrame] = {}
        self._ssr: dict[tuple[str, bool], pl.DataFrame] = {}
        self._summaries: dict[tuple[str, str], tuple[pa.Table, dict[str, tuple[int, int]]]] = {}

    def __repr__(self) -> str:
        return f"Snapshot({str(self.store.path)!r}, version={self.version})"

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """The calling thread's DuckDB cursor (STYLE.md: one cursor per thread)."""
        cur = getattr(self._local, "cursor", None)
        if cur is None:
            with self._lock:
                cur = self._con.cursor()
            self._local.cursor = cur
        return cur

    @cached_property
    def orgs(self) -> pl.DataFrame:
        """Every organisation with records, per school year (``data.results.orgs``)."""
        frames = [pl.read_parquet(p).with_columns(pl.lit(y).alias("school_year"))
                  for y, p in sorted(self.org_files.items())]
        if not frames:
            return pl.DataFrame(schema={**ORG_SCHEMA, "school_year": pl.String})
        return pl.concat(frames)

    def orgs_of(self, years: tuple[str, ...] | list[str]) -> pl.DataFrame:
        """Organisations with records in any of ``years``; the latest year's name wins."""
        key = tuple(sorted(set(years)))
        with self._lock:
            cached = self._orgs_of.get(key)
        if cached is None:
            cached = self._compute_orgs_of(key)
            with self._lock:
                self._orgs_of[key] = cached
        return cached

    def _compute_orgs_of(self, years: tuple[str, ...]) -> pl.DataFrame:
        return (self.orgs.filter(pl.col("school_year").is_in(list(years)))
                .sort("school_year", descending=True)
                .unique(subset=["org_level", "county_code", "lea_code", "school_code"],
                        keep="first", maintain_order=True)
                .drop("school_year").sort("county_code", "lea_code", "school_code"))

    @cached_property
    def loads(self) -> pl.DataFrame:
        """The load history as of this snapshot (loads committed later are left out)."""
        loads = self.store.loads(self.version)
        return loads if loads.height else pl.DataFrame(
            schema={"load_id": pl.Int32, "school_year": pl.String, "lea_code": pl.String,
                    "report_created_date": pl.Date, "is_current": pl.Boolean})

    @cached_property
    def lea_status(self) -> pl.DataFrame:
        """``is_final`` per school year and LEA (see ``FINAL_AFTER``), from current loads."""
        current = self.loads.filter(pl.col("is_current"))
        cutoff = pl.date(pl.col("school_year").str.slice(0, 4).cast(pl.Int32) + 1, *FINAL_AFTER)
        return (current.group_by("school_year", "lea_code")
                .agg(pl.col("report_created_date").max().alias("created"))
                .with_columns((pl.col("created") >= cutoff).fill_null(False).alias("is_final"))
                .select("school_year", "lea_code", "is_final"))

    @cached_property
    def lea_final(self) -> dict[tuple[str, str], bool]:
        """``lea_status`` as a lookup: (school year, LEA) -> final."""
        return {(y, lea): bool(f) for y, lea, f in self.lea_status.iter_rows()}

    @cached_property
    def year_status(self) -> dict[str, str]:
        """``final`` or ``partial`` per school year: final when every LEA's file is final."""
        per_year = self.lea_status.group_by("school_year").agg(pl.col("is_final").all())
        status = {y: ("final" if f else "partial") for y, f in per_year.iter_rows()}
        return {y: status.get(y, "partial") for y in self.years}

    def lea_data_status(self, year: str, lea: str) -> str:
        """``final`` or ``partial`` of an LEA's results: its own file's, else the year's.

        An LEA with no file of its own (an NPS student's special-education district) takes
        the year's status: its records came in other LEAs' files.
        """
        if not lea or (year, lea) not in self.lea_final:
            return self.year_status.get(year, "partial")
        return "final" if self.lea_final[(year, lea)] else "partial"

    @cached_property
    def county_status(self) -> dict[tuple[str, str], str]:
        """(school year, county) -> ``final`` or ``partial``.

        A county row sums its LEAs' records, so it is final only when every LEA of the county
        with records that year is final (``lea_data_status``), whatever other counties' files
        say (issue 3: a county is not held partial by another county's early file).
        """
        leas = self.orgs.filter(pl.col("org_level") == "lea")
        out: dict[tuple[str, str], str] = {}
        for year, county, lea in leas.select("school_year", "county_code",
                                             "lea_code").iter_rows():
            final = self.lea_data_status(year, lea) == "final"
            out[(year, county)] = ("final" if final and out.get((year, county), "final")
                                   == "final" else "partial")
        return out

    def org_data_status(self, year: str, level: str, county: str, lea: str) -> str:
        """``final`` or ``partial`` of one organisation row of a year.

        Schools and student groups take their LEA's status, LEAs their own, counties
        ``county_status``. The state is final only when every county is and every LEA's file
        of the year is (``year_status``): the second also covers a file whose records all
        count under other LEAs.
        """
        if level == "state":
            counties = [s for (y, _), s in self.county_status.items() if y == year]
            final = self.year_status.get(year) == "final" and all(
                s == "final" for s in counties)
            return "final" if final else "partial"
        if level == "county":
            return self.county_status.get((year, county), self.year_status.get(year,
                                                                               "partial"))
        return self.lea_data_status(year, lea)

    def _summary(self, year: str, name: str) -> tuple[pa.Table, dict[str, tuple[int, int]]]:
        """One year's summary table (memory-mapped) and its index, opened on first use."""
        key = (year, name)
        with self._lock:
            cached = self._summaries.get(key)
        if cached is not None:
            return cached
        path = self.summary_files[year].with_name(f"{name}.arrow")
        # Memory-mapped: only the pages a report touches are read (see data.results.summary).
        table = pa.ipc.open_file(pa.memory_map(str(path))).read_all()
        index = pl.read_parquet(path.with_name(f"{name}_index.parquet"))
        keys = index.select(pl.concat_str(list(INDEX_KEYS), separator="|")).to_series()
        spans = dict(zip(keys.to_list(), zip(index.get_column("start").to_list(),
                                             index.get_column("stop").to_list(), strict=True),
                         strict=True))
        levels = index.group_by("record_type", "org_level").agg(
            pl.col("start").min(), pl.col("stop").max())
        for rt, level, start, stop in levels.iter_rows():
            spans[f"{rt}|{level}|*"] = (start, stop)
        with self._lock:
            self._summaries[key] = (table, spans)
        return table, spans

    def ssr(self, year: str, *, by_lea: bool = False) -> pl.DataFrame:
        """The year's SSR release counts (``data.results.ssr_release``), read once, kept (MBs).

        ``by_lea`` gives them summed over schools and grades: what an LEA-level status
        needs, a fraction of the rows.
        """
        key = (year, by_lea)
        with self._lock:
            cached = self._ssr.get(key)
        if cached is None:
            if by_lea:
                # Summed straight from the file: the school-level rows need not stay in memory.
                cached = (pl.scan_parquet(self.store.ssr_files(self.version)[year]).group_by(
                    "record_type", "county_code", "lea_code", "languages", "released_on")
                    .agg(pl.col("n_students").sum(), pl.col("lea_name").first()).collect())
            else:
                cached = pl.read_parquet(self.store.ssr_files(self.version)[year])
            with self._lock:
                self._ssr[key] = cached
        return cached

    def summary_rows(self, year: str, record_type: str, orgs: list[tuple[str, str, str, str]],
                     groups: list[str], grades: list[str]) -> pa.Table:
        """Summary rows of some organisations (level, county, LEA, school) in one year.

        A few organisations are sliced out one by one; many of one level are read as that
        level's block. Either way only rows of ``groups`` and ``grades`` come back (rows of
        other organisations in a block are left for the caller's key lookup to ignore).
        """
        if year not in self.summary_files:
            return pa.table({})
        table, spans = self._summary(year, "headline" if set(groups) == {HEADLINE_GROUP}
                                     else "summary")
        by_level: dict[str, list[tuple[str, str, str, str]]] = {}
        for org in orgs:
            by_level.setdefault(org[0], []).append(org)
        pieces = []
        for level, members in by_level.items():
            if len(members) > 40:
                # Many organisations of a level: its whole block, filtered below and by the
                # caller's key lookup, is cheaper than thousands of slices.
                start, stop = spans.get(f"{record_type}|{level}|*", (0, 0))
                pieces.append(table.slice(start, stop - start))
            else:
                pieces += [table.slice(a, b - a) for a, b in (
                    spans.get("|".join((record_type, *org)), (0, 0)) for org in members)]
        rows = pa.concat_tables(pieces) if pieces else table.slice(0, 0)
        wanted = pc.and_(_dictionary_in(rows.column("group_id"), groups),
                         _dictionary_in(rows.column("grade"), grades))
        return rows.filter(wanted)

    def as_of(self) -> date | None:
        """The newest report-created date of the current loads (what the data is as of)."""
        current = self.loads.filter(pl.col("is_current"))
        value = current.get_column("report_created_date").max() if current.height else None
        return value if isinstance(value, date) else None
