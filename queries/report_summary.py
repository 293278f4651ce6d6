"""A report's grid of summed cells, and the summary path: standard reports read the summary.

A report's numbers are sums of per-record contributions (``data.results.summary``), one per
cell of its grid (``Grid``: years x organisations x row groups x grades). Standard reports read
them from the summary built at load time (``summary_cells``); the others sum records
(``queries.report_adhoc``, keyed ``Sums`` placed with ``Grid.place``). ``queries.reports``
publishes the grid.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from data.results.summary import METRIC_COLUMNS
from data.results.summary_file import cut_of, org_key

if TYPE_CHECKING:
    from collections.abc import Iterable

    from data.results.summary_file import SummaryCut
    from queries.snapshot import Snapshot

SUM_KEYS = ("school_year", "org_level", "county_code", "lea_code", "school_code", "group_id",
            "grade")
"""The key of a report cell, in the order ``Sums.keys`` holds it."""
ORG_KEYS = ("org_level", "county_code", "lea_code", "school_code")


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


@dataclass(frozen=True)
class Grid:
    """A report's cells: years x organisation rows x row groups x grades, in that order.

    Cell ``((y * orgs + o) * groups + g) * grades + k`` is year ``y``, organisation row ``o``
    (of ``orgs``), row group ``g`` and grade ``k``. ``orgs`` holds the report's organisation
    rows with what every cell of them shows (``make_grid``).
    """

    years: list[str]
    orgs: pl.DataFrame
    groups: list[tuple[str, str]]
    grades: list[str]

    @property
    def size(self) -> int:
        """Number of cells."""
        return len(self.years) * self.orgs.height * len(self.groups) * len(self.grades)

    def cell(self, year: np.ndarray | int, org: np.ndarray | int, group: np.ndarray | int,
             grade: np.ndarray | int) -> np.ndarray:
        """Cell numbers of (year, organisation, group, grade) positions."""
        return ((np.asarray(year) * self.orgs.height + org) * len(self.groups)
                + group) * len(self.grades) + grade

    def parts(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Each cell's year, organisation, group and grade positions."""
        n_k, n_g, n_o = len(self.grades), len(self.groups), self.orgs.height
        at = np.arange(self.size)
        return at // (n_k * n_g * n_o), at // (n_k * n_g) % n_o, at // n_k % n_g, at % n_k

    @cached_property
    def org_keys(self) -> list[tuple[str, str, str, str]]:
        """(level, county, LEA, school) of each organisation row."""
        return list(self.orgs.select(ORG_KEYS).iter_rows())

    def zeros(self) -> np.ndarray:
        """An empty cell array: one column per ``METRIC_COLUMNS`` entry."""
        return np.zeros((self.size, len(METRIC_COLUMNS)), dtype=np.int64, order="F")

    def place(self, cells: np.ndarray, sums: Sums) -> None:
        """Write keyed sums (``queries.report_adhoc``) into their cells; others are ignored."""
        if not sums.keys:
            return
        year_at = {y: i for i, y in enumerate(self.years)}
        org_at = {k: i for i, k in enumerate(self.org_keys)}
        group_at, grade_at = self.first_group, self.first_grade
        found, at = [], []
        for i, key in enumerate(sums.keys):
            parts = (year_at.get(key[0]), org_at.get(key[1:5]), group_at.get(key[5]),
                     grade_at.get(key[6]))
            if None not in parts:
                found.append(i)
                at.append(self.cell(*parts))
        if found:
            cells[np.array(at, dtype=np.int64)] = np.column_stack(
                [sums.values[c][found] for c in METRIC_COLUMNS])
        self.copy_repeats(cells)

    @property
    def first_group(self) -> dict[str, int]:
        """Each row group's first position (a group can be asked for twice, ``copy_repeats``)."""
        return {g: i for i, (g, _) in reversed(list(enumerate(self.groups)))}

    @property
    def first_grade(self) -> dict[str, int]:
        """Each grade's first position."""
        return {g: i for i, g in reversed(list(enumerate(self.grades)))}

    def copy_repeats(self, cells: np.ndarray) -> None:
        """Give a group or grade asked for twice its first position's cells.

        A scope limited to Male students, broken down by gender, has Male as its own row and
        as one of the breakdown's: both show the same students.
        """
        first_group, first_grade = self.first_group, self.first_grade
        group_src = np.array([first_group[g] for g, _ in self.groups], dtype=np.int64)
        grade_src = np.array([first_grade[g] for g in self.grades], dtype=np.int64)
        if (group_src == np.arange(len(self.groups))).all() and (
                grade_src == np.arange(len(self.grades))).all():
            return
        year, org, group, grade = self.parts()
        repeat = (group_src[group] != group) | (grade_src[grade] != grade)
        cells[repeat] = cells[self.cell(year[repeat], org[repeat], group_src[group[repeat]],
                                        grade_src[grade[repeat]])]


CDS = (pl.when(pl.col("org_level") == "school").then(pl.col("school_code"))
       .when(pl.col("org_level") == "lea").then(pl.col("lea_code"))
       .otherwise(pl.col("county_code") + "000000000000").alias("cds_code"))
"""The 14-digit CDS code of an organisation row (ELPAC.md §6)."""


def report_orgs(snap: Snapshot, years: Iterable[str]) -> pl.DataFrame:
    """``snap.orgs_of(years)`` with what a report's rows show and look up, kept per version.

    Added: ``org`` (the row's number here), ``key`` (``org_key``), ``cds_code`` and
    ``status:<year>`` for each year. ``queries.report_plan.resolve_orgs`` keeps them on the
    rows it picks, so a statewide table of 11,000 rows works none of it out again.
    """
    key = tuple(sorted(set(years)))
    return snap.memo(("report_orgs", key), lambda: _report_columns(
        snap, snap.orgs_of(key), key).with_row_index("org"))


def _report_columns(snap: Snapshot, rows: pl.DataFrame, years: tuple[str, ...]
                    ) -> pl.DataFrame:
    return rows.with_columns(org_key(), CDS,
                             *[snap.statuses_of(y).alias(f"status:{y}") for y in years])


def make_grid(snap: Snapshot, years: Iterable[str], rows: pl.DataFrame,
              groups: list[tuple[str, str]], grades: list[str]) -> Grid:
    """The grid of a report's organisation rows.

    Rows from ``report_orgs`` carry what the grid needs; others (a student group's row) get
    it here.
    """
    ordered = tuple(sorted(set(years)))
    if not all(c in rows.columns for c in ("key", "cds_code",
                                           *[f"status:{y}" for y in ordered])):
        rows = _report_columns(snap, rows.drop("org", strict=False), ordered)
    return Grid(list(ordered), rows, groups, grades)


def summary_cells(snap: Snapshot, grid: Grid, standard: list[str], record_type: str,
                  cells: np.ndarray) -> None:
    """Fill the cells of the ``standard`` groups from the load-time summary.

    Only organisations the scope fully covers reach here (``queries.report_plan``), so the
    summary's whole-organisation counts are what the scope may see. Each year reads the
    smallest cut holding the groups and grades (``data.results.summary_file``) and only the
    batches holding the organisations' rows.
    """
    if not standard or grid.size == 0:
        return
    group_at = {g: i for g, i in grid.first_group.items() if g in standard}
    grade_at = grid.first_grade
    cut_name = cut_of(set(group_at), set(grade_at))
    for y, year in enumerate(grid.years):
        cut = snap.summary_cut(year, cut_name)
        if cut is None:
            continue
        org, start, stop = _spans(snap, cut_name, year, grid, record_type)
        if len(org) == 0:
            continue
        lengths = stop - start
        owner = np.repeat(org, lengths)
        # Row numbers of every span, in one vector: each span's start plus 0..length-1.
        rows = np.repeat(start - np.cumsum(lengths) + lengths, lengths) + np.arange(
            lengths.sum())
        group_of = _positions(cut.group_ids, group_at)
        grade_of = _positions(cut.grades, grade_at)
        batch_of = rows // cut.batch_rows
        order = np.argsort(batch_of, kind="stable")
        rows, owner, batch_of = rows[order], owner[order], batch_of[order]
        bounds = np.flatnonzero(np.diff(batch_of)) + 1
        for part_rows, part_owner in zip(np.split(rows, bounds), np.split(owner, bounds),
                                         strict=True):
            b = int(part_rows[0] // cut.batch_rows)
            batch = snap.summary_batch(year, cut_name, b)
            local = part_rows - b * cut.batch_rows
            g, k = group_of[batch.groups[local]], grade_of[batch.grades[local]]
            keep = (g >= 0) & (k >= 0)
            cells[grid.cell(y, part_owner[keep], g[keep], k[keep])] = batch.values(local[keep])
    grid.copy_repeats(cells)


def _positions(labels: list[str], at: dict[str, int]) -> np.ndarray:
    """For each dictionary code of a cut, its position in the grid (-1: not asked for)."""
    return np.array([at.get(label, -1) for label in labels] or [-1], dtype=np.int64)


def _spans(snap: Snapshot, cut_name: str, year: str, grid: Grid, record_type: str
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(organisation row, start, stop) of each grid organisation the cut has rows for."""
    cut = snap.summary_cut(year, cut_name)
    if cut is None:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64)
    if "org" not in grid.orgs.columns:  # rows made by hand (a student group's state row)
        return cut.find(record_type, grid.orgs.get_column("key"))
    # Where each organisation of report_orgs is in the cut, joined once per version: then a
    # report of one LEA or of every school looks its rows up alike, in NumPy.
    years = tuple(c.removeprefix("status:") for c in grid.orgs.columns
                  if c.startswith("status:"))
    start_of, stop_of = snap.memo(("spans", years, year, cut_name, record_type),
                                  lambda: _org_spans(report_orgs(snap, years), cut,
                                                     record_type))
    at = grid.orgs.get_column("org").to_numpy()
    start, stop = start_of[at], stop_of[at]
    org = np.flatnonzero(start >= 0)
    return org, start[org], stop[org]


def _org_spans(orgs: pl.DataFrame, cut: SummaryCut, record_type: str
               ) -> tuple[np.ndarray, np.ndarray]:
    """Start and stop (-1: none) of each row of ``orgs`` in a cut."""
    matched = orgs.select("key").join(cut.keyed(record_type), on="key", how="left",
                                      maintain_order="left")
    return (matched.get_column("start").fill_null(-1).to_numpy().astype(np.int64),
            matched.get_column("stop").fill_null(-1).to_numpy().astype(np.int64))
