"""Summed report cells, and the summary path: standard reports read from the load-time summary.

A report's numbers are sums of per-record contributions (``data.results.summary``) keyed by
report cell (``Sums``). Standard reports read them from the summary built at load time
(``summary_sums``); the others sum records (``queries.report_adhoc``). Both give ``Sums``,
which ``queries.reports`` lays out and publishes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from data.results.summary import METRIC_COLUMNS

if TYPE_CHECKING:
    from collections.abc import Iterable

    import polars as pl

    from queries.snapshot import Snapshot

SUM_KEYS = ("school_year", "org_level", "county_code", "lea_code", "school_code", "group_id",
            "grade")
"""The key of a report cell, in the order ``Sums.keys`` holds it."""


@dataclass
class Sums:
    """Summed metric columns keyed by (year, level, county, LEA, school, group, grade)."""

    keys: list[tuple[str, ...]]
    values: dict[str, np.ndarray]

    @classmethod
    def from_frame(cls, frame: pl.DataFrame) -> Sums:
        """From a Polars frame with the key and metric columns."""
        if frame.height == 0:
            return cls([], {c: np.zeros(0, np.int64) for c in METRIC_COLUMNS})
        keys = list(zip(*[frame.get_column(c).to_list() for c in SUM_KEYS], strict=True))
        return cls(keys, {c: frame.get_column(c).to_numpy().astype(np.int64)
                          for c in METRIC_COLUMNS})

    @classmethod
    def concat(cls, parts: list[Sums]) -> Sums:
        """All parts, in order."""
        keys = [k for p in parts for k in p.keys]
        values = {c: np.concatenate([p.values[c] for p in parts]) if parts
                  else np.zeros(0, np.int64) for c in METRIC_COLUMNS}
        return cls(keys, values)


def summary_sums(snap: Snapshot, years: Iterable[str], rows: pl.DataFrame,
                 groups: list[tuple[str, str]], grades: list[str], record_type: str) -> Sums:
    """The sums of report rows ``rows`` x ``groups`` x ``grades`` from the load-time summary.

    Only organisations the scope fully covers reach here (``queries.report_plan``), so the
    summary's whole-organisation counts are what the scope may see.
    """
    orgs = list(rows.select("org_level", "county_code", "lea_code", "school_code").iter_rows())
    wanted_groups = [g for g, _ in groups]
    parts = []
    for year in years:
        table = snap.summary_rows(year, record_type, orgs, wanted_groups, grades)
        if table.num_rows == 0:
            continue
        # Decode the dictionary columns in Arrow first: to_pylist on a dictionary array is
        # many times slower (measured 67 ms for 11k rows).
        key_columns = [table.column(c).cast(pa.string()).to_pylist() for c in
                       ("org_level", "county_code", "lea_code", "school_code", "group_id",
                        "grade")]
        keys = [(year, *k) for k in zip(*key_columns, strict=True)]
        values = {c: table.column(c).to_numpy().astype(np.int64) for c in METRIC_COLUMNS}
        parts.append(Sums(keys, values))
    return Sums.concat(parts)
