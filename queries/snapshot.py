"""A snapshot: one committed data version of a store, opened once and read by every query.

Pinning the version makes every query of a page read the same data even if a load commits
meanwhile, and keeps the per-version work (organisation list, final/partial status, the DuckDB
views) out of each query. A snapshot is read-only and safe to share between threads: each
thread reads through its own DuckDB cursor (``cursor()``), as DuckDB requires.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import date
from functools import cached_property
from typing import TYPE_CHECKING, TypeVar

import duckdb
import polars as pl

from data.domain import INCOMPLETE_YEARS
from data.results.orgs import ORG_SCHEMA
from data.results.store import Store
from data.results.summary_file import Batch, SummaryCut

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

BATCH_CACHE_BYTES = 64 << 20
"""Decompressed summary batches a snapshot keeps (``summary_batch``), the least recently used
dropped first: a statewide table's and the last reports' (a batch of 8,192 cells is about
1 MB; the uncompressed file's pages a statewide report touched stayed in memory too)."""
MEMO_ENTRIES = 64
"""Derived values a snapshot keeps (``memo``), the least recently used dropped first."""
T = TypeVar("T")
FINAL_AFTER = (8, 15)
"""A year is *final* for an LEA once a file created on or after August 15 of the spring is
loaded for it: the final release comes in August (ELPAC.md §7). [unconfirmed cut-off]"""


class Snapshot:
    """The committed state of a store at one data version."""

    def __init__(self, store: Store | str | Path, version: int | None = None) -> None:
        self.store = store if isinstance(store, Store) else Store(store)
        self.store.check_schema()
        # Pinned for the snapshot's life: no load's clean-up removes its files meanwhile.
        self.version, self._pin = self.store.pin(version)
        self.year_files = self.store.year_files(self.version)
        self.org_files = self.store.org_files(self.version)
        self.years: tuple[str, ...] = tuple(sorted(self.year_files))
        self._con = duckdb.connect()
        self._con.sql("SET parquet_metadata_cache = true")
        self._local = threading.local()
        self._lock = threading.Lock()
        self._orgs_of: dict[tuple[str, ...], pl.DataFrame] = {}
        self._ssr: dict[tuple[str, bool], pl.DataFrame] = {}
        self._statuses: dict[str, pl.Expr] = {}
        self._memo: OrderedDict[tuple[object, ...], object] = OrderedDict()
        self._cuts: dict[tuple[str, str], SummaryCut] = {}
        self._batches: OrderedDict[tuple[str, str, int], Batch] = OrderedDict()
        self._batch_bytes = 0

    def __repr__(self) -> str:
        return f"Snapshot({str(self.store.path)!r}, version={self.version})"

    @property
    def default_years(self) -> tuple[str, ...]:
        """The years a report or export takes when none is named.

        Every loaded year but the incomplete ones (2019-20, ``data.domain.INCOMPLETE_YEARS``),
        which are shown only when asked for; all of them if the store holds nothing else.
        """
        complete = tuple(y for y in self.years if y not in INCOMPLETE_YEARS)
        return complete or self.years

    @property
    def latest_year(self) -> str:
        """The newest of ``default_years``: a command's year when none is given."""
        return self.default_years[-1]

    @property
    def year_choices(self) -> list[str]:
        """The loaded years as a picker offers them: newest first, incomplete years last.

        So the first (a picker's default) is the newest complete year.
        """
        return [*reversed(self.default_years),
                *(y for y in reversed(self.years) if y not in self.default_years)]

    def close(self) -> None:
        """Let the data version go: a later load may remove it (also when garbage collected)."""
        if self._pin is not None:
            self._pin.close()

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
        """``final`` or ``partial`` per school year: final when every LEA's file is final.

        An incomplete year (``data.domain.INCOMPLETE_YEARS``) is ``incomplete``.
        """
        per_year = self.lea_status.group_by("school_year").agg(pl.col("is_final").all())
        status = {y: ("final" if f else "partial") for y, f in per_year.iter_rows()}
        return {y: "incomplete" if y in INCOMPLETE_YEARS else status.get(y, "partial")
                for y in self.years}

    def lea_data_status(self, year: str, lea: str) -> str:
        """``final`` or ``partial`` of an LEA's results: its own file's, else the year's.

        An LEA with no file of its own (an NPS student's special-education district) takes
        the year's status: its records came in other LEAs' files. An incomplete year
        (``data.domain.INCOMPLETE_YEARS``) is ``incomplete`` whatever its files say.
        """
        if year in INCOMPLETE_YEARS:
            return "incomplete"
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
            if year in INCOMPLETE_YEARS:
                out[(year, county)] = "incomplete"
                continue
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
        if year in INCOMPLETE_YEARS:
            return "incomplete"
        if level == "state":
            counties = [s for (y, _), s in self.county_status.items() if y == year]
            final = self.year_status.get(year) == "final" and all(
                s == "final" for s in counties)
            return "final" if final else "partial"
        if level == "county":
            return self.county_status.get((year, county), self.year_status.get(year,
                                                                               "partial"))
        return self.lea_data_status(year, lea)

    def memo(self, key: tuple[object, ...], compute: Callable[[], T]) -> T:
        """``compute()``, kept for this snapshot under ``key`` (the last ``MEMO_ENTRIES``).

        For what queries derive from a version and reuse from report to report (the
        organisation rows of a statewide table and where the summary holds them).
        """
        with self._lock:
            if key in self._memo:
                self._memo.move_to_end(key)
                return self._memo[key]  # type: ignore[no-any-return]
        value = compute()
        with self._lock:
            self._memo[key] = value
            while len(self._memo) > MEMO_ENTRIES:
                self._memo.popitem(last=False)
        return value

    def statuses_of(self, year: str) -> pl.Expr:
        """``org_data_status`` of every organisation row of a year, as one expression.

        Over the columns ``org_level``, ``county_code`` and ``lea_code``; built once per year
        (a statewide table has 11,000 rows and 1,000 LEAs).
        """
        with self._lock:
            found = self._statuses.get(year)
        if found is None:
            default = self.year_status.get(year, "partial")
            leas = {lea: self.lea_data_status(y, lea) for y, lea in self.lea_final if y == year}
            counties = {c: s for (y, c), s in self.county_status.items() if y == year}
            level = pl.col("org_level")
            found = (pl.when(level == "state").then(pl.lit(self.org_data_status(year, "state",
                                                                                "00", "")))
                     .when(level == "county").then(pl.col("county_code").replace_strict(
                         pl.Series(list(counties), dtype=pl.String),
                         pl.Series(list(counties.values()), dtype=pl.String),
                         default=pl.lit(default)))
                     .otherwise(pl.col("lea_code").replace_strict(
                         pl.Series(list(leas), dtype=pl.String),
                         pl.Series(list(leas.values()), dtype=pl.String),
                         default=pl.lit(default)))
                     .alias("data_status"))
            with self._lock:
                self._statuses[year] = found
        return found

    def summary_cut(self, year: str, cut: str) -> SummaryCut | None:
        """One cut of a year's summary (``data.results.summary_file``), opened on first use."""
        if year not in self.year_files:
            return None
        key = (year, cut)
        with self._lock:
            found = self._cuts.get(key)
        if found is None:
            found = SummaryCut(self.year_files[year].with_name(f"{cut}.arrow"))
            with self._lock:
                found = self._cuts.setdefault(key, found)
        return found

    def summary_batch(self, year: str, cut: str, i: int) -> Batch:
        """Batch ``i`` of a cut, decoded; the last ``BATCH_CACHE_BYTES`` of them are kept."""
        key = (year, cut, i)
        with self._lock:
            found = self._batches.get(key)
            if found is not None:
                self._batches.move_to_end(key)
                return found
        cut_file = self.summary_cut(year, cut)
        if cut_file is None:
            raise KeyError(year)
        found = cut_file.batch(i)
        with self._lock:
            if key not in self._batches:
                self._batches[key] = found
                self._batch_bytes += found.nbytes
            while self._batch_bytes > BATCH_CACHE_BYTES and len(self._batches) > 1:
                _, old = self._batches.popitem(last=False)
                self._batch_bytes -= old.nbytes
        return found

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

    def as_of(self) -> date | None:
        """The newest report-created date of the current loads (what the data is as of)."""
        current = self.loads.filter(pl.col("is_current"))
        value = current.get_column("report_created_date").max() if current.height else None
        return value if isinstance(value, date) else None
