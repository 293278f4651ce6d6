"""Complementary suppression: small groups stay hidden when rows are subtracted (issue 15).

Primary suppression hides the scores of a row with fewer than 11 students tested with scores
(ELPAC.md §5.1, ``queries.metrics``). On its own it is undone by subtraction: All students
(72) minus a custom subgroup "every ethnicity except Asian" (64) gives the 8 Asian students'
mean and level counts. For an aggregate-only account (``Scope.aggregate_only``) every score
an output shows also follows the rule below; accounts that may see students are unaffected.

A row's scores describe a set of students tested with scores: those of one school year,
test, organisation and grade (or all grades) who are in the row's group, the report's
advanced filters and its custom subgroup. Counts (enrolled, tested, tested with scores) stay
visible as today. With t the threshold (11), a row shows scores only if it has at least t
students and:

1. **Standard rows** (All students or one group, no filter; ``queries.suppression_standard``):
   (a) a standard row whose students all lie in another standard row of its organisation or
   a larger one (school in LEA in county), of its grade or all grades, with 1 to t-1 more, is
   hidden (the smaller one); (b) for each standard row split into standard rows (All students
   by one dimension's groups; a group by grade, by school, by LEA; an ethnicity by economic
   status and back; a group by groups of another dimension that lie in it), the parts not
   shown hold 0 or at least t students, else the smallest shown part is hidden too, and
   again; (c) rows holding the same students get the same decision.
2. **Any other row** (a filter, a custom subgroup, several groups of a dimension):
   (a) holding exactly the students of a standard row, it takes that row's decision;
   otherwise (b) *slices*: its students in each group of every dimension (and in none of a
   dimension's groups), in each grade (an all-grades row) and in each school of its
   organisation (and at no school) number 0 or at least t; (c) *complements*: every
   standard row holding all its students (All students of its organisation and grade, a
   group it lies in) has 0 or at least t more; (d) *splits*: if it is one part of a standard
   row split by a dimension (Hispanic girls: Hispanic by gender), every part of that split
   has 0 or at least t.
3. Rows of chosen students followed over years (rosters, cohorts) and level-transition
   matrices show no scores: their students are not a group of the year's records, so no
   complement of them can be bounded.

**What it guarantees**, for one year and test, over every row the account can get from any
number of reports (decisions depend on the store and the account, never on the report):

* (i) no two shown rows, one holding all the other's students, differ by 1 to t-1;
* (ii) a shown row minus the shown parts of a split of it (by a dimension, grade, school,
  LEA) leaves 0 or at least t students.

Proof of (i), for shown S inside shown T, differing by d in 1..t-1. Every row is a *box*:
its students are those whose value in each dimension (school, grade, every group dimension)
is in a set. If T is not a standard row's set, T minus S is the union of T's slices at the
values S leaves out, each 0 or >= t by 2(b), so d is not 1..t-1. If T is standard and S is
not: with c the smallest organisation and grade holding S, and Z T's group, Z at c holds S;
if it has more students than S, 2(c) hid S unless that gap is >= t; if not, S is Z at c
and has its decision (2a), and Z at c inside T is a standard pair: 1(a) hid it. If both are
standard, S is its group at c, inside T's group at c, inside T: one of the two steps is 1..t-1
(1a hides S or its equal) or both are 0. Proof of (ii): a non-standard parent's parts are its
slices (2b); a standard parent's parts are standard rows (1b), or its parts by a dimension
are not, and then every one is 0 or >= t (2d); the parts not shown then add up to 0 or >= t.

Not covered: other combinations of three or more rows of different dimensions (All students,
minus Hispanic, minus economically disadvantaged, plus Hispanic economically disadvantaged),
as with the public research files' own suppression.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from data.domain import GRADES
from data.student_groups import GROUP_BY_ID
from queries.suppression_counts import (
    ALL_GRADES_SLOT,
    DIM_OF_SLOT,
    DIM_SLOTS,
    DIMS,
    N_SLOTS,
    NONE_SLOTS,
    SLOT_OF,
    Cells,
    Unit,
    read_cells,
    unit_of,
)
from queries.suppression_standard import standard_shown

if TYPE_CHECKING:
    from collections.abc import Iterable

    from queries.scope import Scope
    from queries.snapshot import Snapshot

Box = tuple[tuple[str, tuple[str, ...]], ...]
"""Student groups a row keeps: within a dimension any of them, across dimensions all
(``ReportSpec.filters``); ``()`` is everyone."""


@dataclass(frozen=True)
class Cell:
    """One row to decide: its year, organisation, grade (``"13"``: all) and box."""

    school_year: str
    org_level: str
    county_code: str
    lea_code: str
    school_code: str
    grade: str
    box: Box


def applies(scope: Scope, suppress: bool) -> bool:
    """Whether an output's suppression is complementary too: aggregate-only accounts.

    Examples
    --------
    >>> from queries.scope import Scope
    >>> applies(Scope(leas=("19647330000000",), suppressed=True), False)
    True
    >>> applies(Scope.state(pii=True), True)
    False
    """
    return (suppress or scope.suppressed) and scope.aggregate_only


def row_box(filters: Box, group: str, subgroups: Iterable[Box] = ()) -> Box:
    """The box of a report row: the filters and its group (an ID, or ``custom:i``)."""
    if group.startswith("custom:"):
        return (*filters, *list(subgroups)[int(group[7:])])
    if group in ("001", "160"):
        return filters
    return (*filters, (GROUP_BY_ID[group].dimension, (group,)))


def hidden_cells(snap: Snapshot, scope: Scope, record_type: str, cells: list[Cell], *,
                 threshold: int) -> np.ndarray:
    """Which of ``cells`` complementary suppression hides (primary suppression aside)."""
    out = np.zeros(len(cells), dtype=bool)
    if not cells:
        return out
    keys = [(c.school_year, unit_of(scope, c.org_level, c.county_code, c.lea_code,
                                    c.school_code)) for c in cells]
    deciders = _deciders(snap, scope, record_type, set(keys), threshold)
    grade_slot = {g: i for i, g in enumerate(GRADES)} | {"13": ALL_GRADES_SLOT}
    for i, (cell, key) in enumerate(zip(cells, keys, strict=True)):
        decider = deciders[key]
        node = decider.cells.tree.index.get((cell.org_level, cell.county_code, cell.lea_code,
                                             cell.school_code))
        # An organisation without a record of the year has no students: nothing to hide.
        if node is not None:
            out[i] = not decider.shows(node, grade_slot[cell.grade], cell.box)
    return out


class _Decider:
    """Every decision for one unit and year: standard rows at once, other rows on demand."""

    def __init__(self, cells: Cells, threshold: int) -> None:
        self.cells = cells
        self.threshold = threshold
        self.counts = cells.counts()
        self.shown = standard_shown(cells, self.counts, threshold)
        self._splits: dict[tuple[int, int, int], np.ndarray] = {}

    def small(self, counts: np.ndarray | int) -> np.ndarray:
        return (np.asarray(counts) >= 1) & (np.asarray(counts) < self.threshold)

    def shows(self, node: int, grade: int, box: Box) -> bool:
        """Whether the row of ``box`` at an organisation (node) and grade slot shows scores."""
        keep = _slots(box)
        if keep is None:
            return False  # two filters on one dimension with no group in common: no one
        if not keep:
            return bool(self.shown[node, grade, 0])
        if len(keep) == 1 and len(next(iter(keep.values()))) == 1:
            return bool(self.shown[node, grade, next(iter(keep.values()))[0]])
        return self._other_row(node, grade, keep)

    def _other_row(self, node: int, grade: int, keep: dict[int, np.ndarray]) -> bool:
        """Rule 2 for a row that is not standard."""
        c = self.cells
        at = c.at(node, grade)
        inside = np.ones(len(at), dtype=bool)
        for d, slots in keep.items():
            inside &= np.isin(c.values[at, d], slots)
        rows = at[inside]
        n, values = c.n[rows], c.values[rows]
        total = int(n.sum())
        if total < self.threshold:
            return False
        node_t = self._tight_node(rows)
        grades = np.unique(c.grade[rows])
        grade_t = int(grades[0]) if len(grades) == 1 and grades[0] >= 0 else grade
        uniform = (values == values[0]).all(axis=0)
        within = [0, *(int(values[0, d]) for d in range(len(DIMS))
                       if uniform[d] and values[0, d] != NONE_SLOTS[d])]
        for group in within:  # 2(a): the students of a standard row
            if self.counts[node_t, grade_t, group] == total:
                return bool(self.shown[node_t, grade_t, group])
        slices = np.bincount(values.ravel(), weights=np.repeat(n, len(DIMS)),
                             minlength=N_SLOTS)
        if self.small(slices).any():  # 2(b)
            return False
        if grade_t == ALL_GRADES_SLOT and self.small(np.bincount(c.grade[rows] + 1,
                                                                 weights=n)).any():
            return False
        if c.tree.level[node_t] > 0 and self.small(np.bincount(c.org[rows], weights=n)).any():
            return False
        if self.small(self.counts[node_t, grade_t, within] - total).any():  # 2(c)
            return False
        return not self._a_split_part(node_t, grade_t, within, values[0], uniform, total)

    def _a_split_part(self, node: int, grade: int, within: list[int], first: np.ndarray,
                      uniform: np.ndarray, total: int) -> bool:
        """2(d): whether the row is one part of a standard row's split with a small part."""
        grades = {grade, ALL_GRADES_SLOT}
        for at in self.cells.tree.ancestors(node):
            for g in grades:
                for group in within:
                    for d in np.flatnonzero(uniform):
                        if d == DIM_OF_SLOT[group]:
                            continue
                        parts = self._split(at, g, group)
                        slots = np.append(DIM_SLOTS[d], NONE_SLOTS[d])
                        if parts[first[d]] == total and self.small(parts[slots]).any():
                            return True
        return False

    def _split(self, node: int, grade: int, group: int) -> np.ndarray:
        """A standard row's students by their slot in every dimension."""
        if group == 0:
            return self.counts[node, grade]
        key = (node, grade, group)
        if key not in self._splits:
            c = self.cells
            at = c.at(node, grade)
            rows = at[c.values[at, DIM_OF_SLOT[group]] == group]
            self._splits[key] = np.bincount(c.values[rows].ravel(), minlength=N_SLOTS,
                                            weights=np.repeat(c.n[rows], len(DIMS)))
        return self._splits[key]

    def _tight_node(self, rows: np.ndarray) -> int:
        """The smallest organisation holding every one of the rows' students."""
        nodes = self.cells.org_nodes[self.cells.org[rows]]
        for level in range(nodes.shape[1]):
            column = nodes[:, level]
            if (column >= 0).all() and (column == column[0]).all():
                return int(column[0])
        raise AssertionError("a row's students lie in its own organisation")


def _slots(box: Box) -> dict[int, np.ndarray] | None:
    """Dimension -> kept slots; several filters on one dimension keep what they share."""
    keep: dict[int, set[int]] = {}
    for dim, ids in box:
        slots = {SLOT_OF[g] for g in ids}
        d = DIMS.index(dim)
        keep[d] = keep[d] & slots if d in keep else slots
    if any(not s for s in keep.values()):
        return None
    return {d: np.array(sorted(s)) for d, s in keep.items()}


_cache: OrderedDict[tuple[object, ...], _Decider] = OrderedDict()
_cache_lock = threading.Lock()
_CACHE_SIZE = 32
"""Units kept: an account tries report after report on the same LEA, and each decision needs
the LEA's counts (one DuckDB statement) and its standard rows' decisions."""


def _deciders(snap: Snapshot, scope: Scope, record_type: str, keys: set[tuple[str, Unit]],
              threshold: int) -> dict[tuple[str, Unit], _Decider]:
    def cache_key(k: tuple[str, Unit]) -> tuple[object, ...]:
        return (str(snap.store.path), snap.version, scope, record_type, threshold, *k)

    out = {}
    with _cache_lock:
        for k in keys:
            if cache_key(k) in _cache:
                _cache.move_to_end(cache_key(k))
                out[k] = _cache[cache_key(k)]
    missing = keys - set(out)
    if missing:
        years = sorted({y for y, _ in missing})
        units = sorted({u for _, u in missing}, key=lambda u: (u.level, u.code))
        for k, cells in read_cells(snap, scope, years, record_type, units).items():
            if k in missing:
                out[k] = _Decider(cells, threshold)
        with _cache_lock:
            for k in missing:
                _cache[cache_key(k)] = out[k]
            while len(_cache) > _CACHE_SIZE:
                _cache.popitem(last=False)
    return out
