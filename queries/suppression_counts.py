"""The counts complementary suppression works from (``queries.suppression``).

Every row an aggregate-only account can ask for counts the students *tested with scores*
(ELPAC.md §4) of one organisation and grade who are in some student groups. To compare rows
with each other by the students they hold, the rule needs finer counts than any row: students
by school (or an LEA's students at no school, §3.3 rule 6), grade and their group in every
dimension (``data.student_groups``). ``read_cells`` reads them in one DuckDB statement per
report (a few thousand rows for an LEA: each is a combination of groups some students share);
``Cells.counts`` rolls them up to every organisation, grade and group of a *unit*.

A unit is what the account can see as one tree: a county it covers (with its LEAs and
schools), an LEA it covers whole (with its schools), or a single school. Rows of different
units never hold each other's students, so each unit is decided on its own.

*Slots* number the rows of one organisation and grade: 0 is All students (and All English
learners, the same students), then each dimension's groups followed by a "none" slot (the
students in none of its groups: never a row, but part of every remainder).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import polars as pl

from data.domain import GRADES
from data.student_groups import DIMENSIONS, GROUP_BY_ID, groups_of
from queries.records import RecordQuery, records_relation
from queries.report_plan import filters_duckdb

if TYPE_CHECKING:
    from queries.scope import Scope
    from queries.snapshot import Snapshot

DIMS: tuple[str, ...] = tuple(DIMENSIONS)
"""The student-group dimensions, in slot order."""
ALL_GRADES_SLOT = len(GRADES)
"""Grade slots are 0-12 for KN-12, then this one for all grades ("13")."""
GRADE_SLOTS = len(GRADES) + 1
LEVELS = ("school", "lea", "county", "state")


def _slots() -> tuple[dict[str, int], list[np.ndarray], list[int], np.ndarray]:
    slot_of = {"001": 0, "160": 0}
    dim_slots, none_slots, dim_of = [], [], [-1]
    for d, dim in enumerate(DIMS):
        ids = [g.id for g in groups_of(dim)]
        first = len(dim_of)
        slot_of.update({gid: first + i for i, gid in enumerate(ids)})
        dim_slots.append(np.arange(first, first + len(ids)))
        none_slots.append(first + len(ids))
        dim_of += [d] * (len(ids) + 1)
    return slot_of, dim_slots, none_slots, np.array(dim_of)


SLOT_OF, DIM_SLOTS, NONE_SLOTS, DIM_OF_SLOT = _slots()
"""Group ID -> slot; each dimension's group slots; each dimension's none slot; slot -> dim."""
N_SLOTS = len(DIM_OF_SLOT)
GROUP_SLOTS = np.array(sorted(s for g, s in SLOT_OF.items() if s))
"""Every slot that is a row (not All students, not a none slot)."""


def _structural() -> list[tuple[int, int]]:
    """(x, y): group x's students are always in group y of another dimension.

    Read from the declarations: y's conditions are some of x's (Hispanic and economically
    disadvantaged lies in Hispanic and in economically disadvantaged).
    """
    out = []
    for x, sx in SLOT_OF.items():
        for y, sy in SLOT_OF.items():
            cx, cy = set(GROUP_BY_ID[x].conditions), set(GROUP_BY_ID[y].conditions)
            if sx and sy and cy and cy < cx and DIM_OF_SLOT[sx] != DIM_OF_SLOT[sy]:
                out.append((sx, sy))
    return sorted(set(out))


STRUCTURAL = _structural()


@dataclass(frozen=True)
class Unit:
    """An organisation the account sees as a whole, with what lies in it (module docstring)."""

    level: str
    code: str


def unit_of(scope: Scope, level: str, county: str, lea: str, school: str) -> Unit:
    """The unit an organisation row of the scope belongs to: its largest covered ancestor."""
    if scope.statewide:
        return Unit("state", "00")
    if county in scope.counties:
        return Unit("county", county)
    if level in ("lea", "school") and lea in scope.leas:
        return Unit("lea", lea)
    return Unit("school", school)


@dataclass
class Tree:
    """The organisations of a unit: keys (level, county, LEA, school), parents, levels."""

    keys: list[tuple[str, str, str, str]]
    parent: np.ndarray
    level: np.ndarray
    index: dict[tuple[str, str, str, str], int] = field(init=False)

    def __post_init__(self) -> None:
        self.index = {k: i for i, k in enumerate(self.keys)}

    def ancestors(self, node: int) -> list[int]:
        """The node and its parents, nearest first."""
        out = [node]
        while self.parent[out[-1]] >= 0:
            out.append(int(self.parent[out[-1]]))
        return out


def _tree(unit: Unit, orgs: pl.DataFrame) -> Tree:
    """The unit's organisations from the store's list (``Snapshot.orgs_of``)."""
    column = {"county": "county_code", "lea": "lea_code", "school": "school_code"}
    inside = orgs if unit.level == "state" else orgs.filter(pl.col(column[unit.level])
                                                            == unit.code)
    rank = {"state": 0, "county": 1, "lea": 2, "school": 3}
    keys = sorted({k for k in inside.select("org_level", "county_code", "lea_code",
                                            "school_code").iter_rows()
                   if rank[k[0]] >= rank[unit.level]}, key=lambda k: (rank[k[0]], k))
    index = {k: i for i, k in enumerate(keys)}
    up = {"school": lambda k: ("lea", k[1], k[2], ""), "lea": lambda k: ("county", k[1], "", ""),
          "county": lambda k: ("state", "00", "", ""), "state": lambda k: None}
    parent = np.array([index.get(up[k[0]](k), -1) if up[k[0]](k) else -1 for k in keys])
    level = np.array([LEVELS.index(k[0]) for k in keys])
    return Tree(keys, parent.astype(np.int64), level)


@dataclass
class Cells:
    """Students tested with scores of one unit and year, by school, grade and groups.

    One entry per combination present: ``org`` (index into ``orgs``, an (LEA, school) pair,
    school ``""`` for an LEA's students at no school), ``grade`` (0-12, -1 for another
    grade), ``values`` (its slot in each dimension) and ``n`` (students).
    """

    tree: Tree
    orgs: list[tuple[str, str]]
    org: np.ndarray
    grade: np.ndarray
    values: np.ndarray
    n: np.ndarray
    org_nodes: np.ndarray = field(init=False)
    _at: dict[tuple[int, int], np.ndarray] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        # Each (LEA, school)'s node at every level (-1 where the unit has none).
        nodes = np.full((len(self.orgs), len(LEVELS)), -1, dtype=np.int64)
        for i, (lea, school) in enumerate(self.orgs):
            county = lea[:2]
            for level, key in enumerate((("school", county, lea, school),
                                         ("lea", county, lea, ""), ("county", county, "", ""),
                                         ("state", "00", "", ""))):
                if key[0] != "school" or school:
                    nodes[i, level] = self.tree.index.get(key, -1)
        self.org_nodes = nodes

    def at(self, node: int, grade: int) -> np.ndarray:
        """Indices of the entries in an organisation (node) and grade slot."""
        key = (node, grade)
        if key not in self._at:
            level = self.tree.level[node]
            keep = self.org_nodes[self.org, level] == node
            if grade != ALL_GRADES_SLOT:
                keep &= self.grade == grade
            self._at[key] = np.flatnonzero(keep)
        return self._at[key]

    def context_ids(self, level: int, all_grades: bool) -> np.ndarray:
        """Each entry's (node, grade slot) index at one level (-1 outside the unit)."""
        node = self.org_nodes[self.org, level]
        grade = np.full_like(self.grade, ALL_GRADES_SLOT) if all_grades else self.grade
        return np.where((node >= 0) & (grade >= 0), node * GRADE_SLOTS + grade, -1)

    def counts(self) -> np.ndarray:
        """Students per (node, grade slot, slot): every standard row's count, and more."""
        size = len(self.tree.keys) * GRADE_SLOTS * N_SLOTS
        keys, weights = [], []
        for level in range(len(LEVELS)):
            for all_grades in (False, True):
                ctx = self.context_ids(level, all_grades)
                ok = ctx >= 0
                base = ctx[ok] * N_SLOTS
                keys += [base, *(base + self.values[ok, d] for d in range(len(DIMS)))]
                weights += [self.n[ok]] * (len(DIMS) + 1)
        if not keys:
            return np.zeros((len(self.tree.keys), GRADE_SLOTS, N_SLOTS), dtype=np.int64)
        flat = np.bincount(np.concatenate(keys), weights=np.concatenate(weights),
                           minlength=size)
        return flat.astype(np.int64).reshape(len(self.tree.keys), GRADE_SLOTS, N_SLOTS)

    def pair_counts(self, contexts: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Students in both slot ``x`` and slot ``y`` (other dimensions) at each context.

        ``contexts`` are (node, grade slot) indices as ``context_ids`` gives them. Grouped
        by level, grade kind and pair of dimensions: one sorted lookup each.
        """
        out = np.zeros(len(x), dtype=np.int64)
        node, grade = np.divmod(contexts, GRADE_SLOTS)
        kinds = np.stack([self.tree.level[node], grade == ALL_GRADES_SLOT,
                          DIM_OF_SLOT[x], DIM_OF_SLOT[y]], axis=1)
        for kind in np.unique(kinds, axis=0):
            level, all_grades, dx, dy = (int(v) for v in kind)
            chosen = np.flatnonzero((kinds == kind).all(axis=1))
            ctx = self.context_ids(level, bool(all_grades))
            keep = (ctx >= 0) & np.isin(self.values[:, dx], x[chosen])
            key = (ctx[keep] * N_SLOTS + self.values[keep, dx]) * N_SLOTS + self.values[keep, dy]
            found, inverse = np.unique(key, return_inverse=True)
            sums = np.bincount(inverse, weights=self.n[keep], minlength=len(found))
            wanted = (contexts[chosen] * N_SLOTS + x[chosen]) * N_SLOTS + y[chosen]
            at = np.clip(np.searchsorted(found, wanted), 0, max(len(found) - 1, 0))
            hit = found[at] == wanted if len(found) else np.zeros(len(wanted), bool)
            out[chosen] = np.where(hit, sums[at] if len(found) else 0, 0)
        return out


def _dimension_sql(d: int) -> str:
    """A DuckDB expression naming a record's slot in dimension ``d`` (its none slot if none).

    Rendered from the group declarations' constants, so no user text reaches it.
    """
    members = groups_of(DIMS[d])
    case = duckdb.CaseExpression(members[0].duckdb(),
                                 duckdb.ConstantExpression(SLOT_OF[members[0].id]))
    for group in members[1:]:
        case = case.when(group.duckdb(), duckdb.ConstantExpression(SLOT_OF[group.id]))
    return str(case.otherwise(duckdb.ConstantExpression(NONE_SLOTS[d])))


def read_cells(snap: Snapshot, scope: Scope, years: list[str], record_type: str,
               units: list[Unit]) -> dict[tuple[str, Unit], Cells]:
    """The ``Cells`` of each unit and year, read in one statement.

    Only records tested with scores count (``IncludeIndicator`` Y): every score cell is a
    sum over them, and no other record changes one. The scope applies as for reports.
    """
    orgs = snap.orgs_of(years)
    leas: list[str] | None = []
    for unit in units:
        if unit.level == "state":
            leas = None
            break
        column = {"county": "county_code", "lea": "lea_code", "school": "school_code"}
        leas += orgs.filter(pl.col(column[unit.level]) == unit.code).get_column(
            "lea_code").unique().to_list()
    where = duckdb.ColumnExpression("include_indicator") == duckdb.ConstantExpression("Y")
    if not scope.all_students:
        where = where & filters_duckdb([("scope", scope.groups)])
    select = ("school_year, reporting_lea_code AS lea, coalesce(reporting_school_code, '') "
              "AS school, grade_assessed AS grade, "
              + ", ".join(f"{_dimension_sql(d)} AS d{d}" for d in range(len(DIMS)))
              + ", count(*) AS n")
    rel = records_relation(snap, RecordQuery(
        years, scope=scope, orgs=orgs, record_type=record_type, columns=[],
        leas=sorted(set(leas)) if leas is not None else None, where=where, select=select,
        group_by="ALL", reported_only=True))
    frame = rel.pl() if rel is not None else pl.DataFrame()
    out = {}
    for year in years:
        year_orgs = snap.orgs_of([year])
        for unit in units:
            out[(year, unit)] = _cells(unit, _tree(unit, year_orgs), frame, year)
    return out


def _cells(unit: Unit, tree: Tree, frame: pl.DataFrame, year: str) -> Cells:
    grade_of = {g: i for i, g in enumerate(GRADES)}
    if frame.height:
        frame = frame.filter(pl.col("school_year") == year)
        if unit.level == "county":
            frame = frame.filter(pl.col("lea").str.slice(0, 2) == unit.code)
        elif unit.level in ("lea", "school"):
            frame = frame.filter(pl.col("lea" if unit.level == "lea" else "school")
                                 == unit.code)
    if not frame.height:
        empty = np.zeros(0, dtype=np.int64)
        return Cells(tree, [], empty, empty, np.zeros((0, len(DIMS)), np.int64), empty)
    pairs = frame.select("lea", "school").unique().sort("lea", "school")
    orgs = list(pairs.iter_rows())
    index = {k: i for i, k in enumerate(orgs)}
    org = np.array([index[k] for k in frame.select("lea", "school").iter_rows()])
    grade = np.array([grade_of.get(g, -1) for g in frame.get_column("grade").to_list()])
    values = frame.select([f"d{d}" for d in range(len(DIMS))]).to_numpy().astype(np.int64)
    return Cells(tree, orgs, org, grade, values, frame.get_column("n").to_numpy().astype(
        np.int64))
