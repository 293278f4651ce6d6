"""Which standard rows of a unit show scores to an aggregate-only account (rule 2).

A *standard* row is All students, or one student group, of an organisation and a grade (or
all grades), with no filter: the rows of the public research files and of a breakdown. Their
decisions depend on the unit's counts only (``queries.suppression_counts.Cells``), never on
the report, so every report the account makes gets the same ones. Starting from primary
suppression (fewer than the threshold), three things hide more, until nothing changes:

* **nested pairs**: a standard row whose students are all in another standard row of the
  same organisation and grade, or of its parent organisation, or of all grades, with 1 to
  ``threshold - 1`` more, is hidden (the smaller, more specific one). All students holds
  every group; a grade, its organisation's all-grades row; a school, its LEA; an ethnicity
  and economic status group, its ethnicity and its status. Other pairs of groups are nested
  by chance (every Spanish speaker of a school Hispanic): pairs within the threshold of each
  other are checked against the counts of their students in both;
* **splits**: for a standard row split into standard rows - All students by the groups of
  one dimension, a group by grade or by the schools of an LEA (LEAs of a county), an
  ethnicity by economic status and back, a group by another dimension's groups that lie in
  it by chance - the students of the parts not shown are 0 or at least the threshold; else
  the smallest part shown is hidden too, and again (classic secondary suppression);
* **same students**: rows holding the same students (an LEA of one school, a group of one
  grade) take the same decision.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from queries.suppression_counts import (
    ALL_GRADES_SLOT,
    DIM_OF_SLOT,
    DIM_SLOTS,
    GRADE_SLOTS,
    GROUP_SLOTS,
    N_SLOTS,
    NONE_SLOTS,
    STRUCTURAL,
)

if TYPE_CHECKING:
    from queries.suppression_counts import Cells

_CHUNK = 256
"""Contexts compared at once when looking for pairs nested by chance (about 25 MB each)."""


def _pairable() -> np.ndarray:
    """Slot pairs that may be nested by chance.

    Two groups of different dimensions, not nested by their definitions.
    """
    ok = np.zeros((N_SLOTS, N_SLOTS), dtype=bool)
    ok[np.ix_(GROUP_SLOTS, GROUP_SLOTS)] = True
    ok &= DIM_OF_SLOT[:, None] != DIM_OF_SLOT[None, :]
    for x, y in STRUCTURAL:
        ok[x, y] = ok[y, x] = False
    return ok


_PAIRABLE = _pairable()


def _structural_families() -> list[tuple[int, np.ndarray]]:
    """(parent slot, part slots): a group split by the groups of a dimension lying in it."""
    parts: dict[tuple[int, int], list[int]] = {}
    for x, y in STRUCTURAL:
        parts.setdefault((y, int(DIM_OF_SLOT[x])), []).append(x)
    return [(y, np.array(sorted(xs))) for (y, _), xs in sorted(parts.items())]


_FAMILIES = [(0, slots) for slots in DIM_SLOTS] + _structural_families()


def standard_shown(cells: Cells, counts: np.ndarray, threshold: int) -> np.ndarray:
    """Whether each (node, grade slot, slot) standard row shows its scores (rule 2).

    ``counts`` is ``cells.counts()``. None slots are never shown (they are not rows).
    """
    small = _small(threshold)
    shown = counts >= threshold
    shown[:, :, NONE_SLOTS] = False
    hide = small(counts[:, :, :1] - counts)
    for x, y in STRUCTURAL:
        hide[:, :, x] |= small(counts[:, :, y] - counts[:, :, x])
    hide[:, :ALL_GRADES_SLOT] |= small(counts[:, ALL_GRADES_SLOT:] - counts[:, :ALL_GRADES_SLOT])
    parent = cells.tree.parent
    child = np.flatnonzero(parent >= 0)
    hide[child] |= small(counts[parent[child]] - counts[child])
    chance_hide, equal, families = _by_chance(cells, counts, threshold)
    shown &= ~hide
    shown.reshape(-1)[chance_hide] = False
    equal = np.concatenate([equal, _equal_by_definition(cells, counts, threshold)])
    while _split_once(cells, counts, shown, families, threshold) | _same(shown, equal):
        pass
    return shown


def _small(threshold: int):  # noqa: ANN202 (a local helper)
    return lambda a: (a >= 1) & (a < threshold)


def _equal_by_definition(cells: Cells, counts: np.ndarray, threshold: int) -> np.ndarray:
    """Flat index pairs of rows nested by definition and of the same size: the same rows."""
    flat = np.arange(counts.size).reshape(counts.shape)
    big = counts >= threshold
    pairs = []

    def add(a: np.ndarray, b: np.ndarray, same: np.ndarray) -> None:
        pairs.append(np.stack([a[same], b[same]], axis=1))

    groups = flat[:, :, GROUP_SLOTS]
    add(flat[:, :, :1].repeat(len(GROUP_SLOTS), 2), groups,
        big[:, :, GROUP_SLOTS] & (counts[:, :, GROUP_SLOTS] == counts[:, :, :1]))
    for x, y in STRUCTURAL:
        add(flat[:, :, x], flat[:, :, y], big[:, :, x] & (counts[:, :, x] == counts[:, :, y]))
    add(flat[:, :ALL_GRADES_SLOT], flat[:, ALL_GRADES_SLOT:].repeat(ALL_GRADES_SLOT, 1),
        big[:, :ALL_GRADES_SLOT] & (counts[:, :ALL_GRADES_SLOT]
                                    == counts[:, ALL_GRADES_SLOT:]))
    parent = cells.tree.parent
    child = np.flatnonzero(parent >= 0)
    add(flat[child], flat[parent[child]], big[child] & (counts[child] == counts[parent[child]]))
    return np.concatenate(pairs) if pairs else np.zeros((0, 2), dtype=np.int64)


def _by_chance(cells: Cells, counts: np.ndarray, threshold: int
               ) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int, np.ndarray]]]:
    """Pairs and splits of groups nested by chance at one organisation and grade.

    Returns the flat indices to hide (the smaller of a nested pair 1 to threshold - 1 apart),
    flat index pairs of rows with the same students, and the chance splits: (context,
    parent slot, part slots) for a group holding two or more groups of another dimension
    whose sizes could leave fewer than the threshold over.
    """
    flat_counts = counts.reshape(-1, N_SLOTS)
    ctx, x, y, family_parent = [], [], [], []
    for start in range(0, len(flat_counts), _CHUNK):
        c = flat_counts[start:start + _CHUNK]
        diff = c[:, None, :] - c[:, :, None]  # [k, x, y] = count(y) - count(x)
        big = c >= threshold
        near = _PAIRABLE & big[:, :, None] & (diff >= 0) & (diff < threshold)
        # Equal sizes: each pair once.
        near &= (diff > 0) | (np.arange(N_SLOTS)[:, None] < np.arange(N_SLOTS)[None, :])
        # Splits: parent y, parts x of one dimension inside it; only where their sizes
        # could add up to within the threshold of the parent's.
        inside = _PAIRABLE & big[:, :, None] & (diff >= 0)
        for slots in DIM_SLOTS:
            part = inside[:, slots, :]
            room = (part * c[:, slots, None]).sum(1)
            maybe = (part.sum(1) >= 2) & (room > c - threshold) & big
            k, parent = np.nonzero(maybe)
            for kk, pp in zip(k, parent, strict=True):
                xs = slots[part[kk, :, pp]]
                family_parent.append((start + kk, pp, xs))
                near[kk, xs, pp] = True
        k, xx, yy = np.nonzero(near)
        ctx.append(start + k)
        x.append(xx)
        y.append(yy)
    ctx_a, x_a, y_a = (np.concatenate(v) if v else np.zeros(0, np.int64) for v in (ctx, x, y))
    both = cells.pair_counts(ctx_a, x_a, y_a) if len(x_a) else np.zeros(0, np.int64)
    nested = both == flat_counts[ctx_a, x_a]
    gap = flat_counts[ctx_a, y_a] - flat_counts[ctx_a, x_a]
    hide = (ctx_a * N_SLOTS + x_a)[nested & (gap >= 1) & (gap < threshold)]
    same = nested & (gap == 0)
    equal = np.stack([ctx_a * N_SLOTS + x_a, ctx_a * N_SLOTS + y_a], axis=1)[same]
    inside_pairs = set(zip(ctx_a[nested].tolist(), x_a[nested].tolist(),
                           y_a[nested].tolist(), strict=True))
    families = []
    for c_i, parent, xs in family_parent:
        members = np.array([s for s in xs.tolist() if (c_i, s, parent) in inside_pairs])
        if len(members) >= 2:
            families.append((c_i, parent, members))
    return hide, equal, families


def _split_once(cells: Cells, counts: np.ndarray, shown: np.ndarray,
                chance: list[tuple[int, int, np.ndarray]], threshold: int) -> bool:
    """Hide the smallest shown part of every split whose hidden rest is 1 to threshold - 1."""
    small = _small(threshold)
    changed = False
    for parent, slots in _FAMILIES:
        changed |= _hide_smallest(counts[:, :, slots], shown[:, :, slots],
                                  counts[:, :, parent], small, shown, slots, axis=2)
    grades = slice(0, ALL_GRADES_SLOT)
    changed |= _hide_smallest(counts[:, grades], shown[:, grades],
                              counts[:, ALL_GRADES_SLOT], small, shown, None, axis=1)
    parent = cells.tree.parent
    for node in np.unique(parent[parent >= 0]):
        kids = np.flatnonzero(parent == node)
        changed |= _hide_smallest(counts[kids], shown[kids], counts[node], small, shown,
                                  kids, axis=0)
    flat_counts, flat_shown = counts.reshape(-1, N_SLOTS), shown.reshape(-1, N_SLOTS)
    for c_i, parent_slot, members in chance:
        on = flat_shown[c_i, members]
        rest = flat_counts[c_i, parent_slot] - (flat_counts[c_i, members] * on).sum()
        if on.any() and small(rest):
            flat_shown[c_i, members[np.argmin(np.where(on, flat_counts[c_i, members],
                                                       np.iinfo(np.int64).max))]] = False
            changed = True
    return changed


def _hide_smallest(parts: np.ndarray, on: np.ndarray, whole: np.ndarray, small,  # noqa: ANN001
                   shown: np.ndarray, index: np.ndarray | None, axis: int) -> bool:
    """One round of secondary suppression over splits laid out along ``axis``.

    ``parts``/``on`` are the parts' counts and shown flags, ``whole`` the parents' counts
    (``parts`` without ``axis``); ``index`` maps a position on ``axis`` back to ``shown``'s.
    """
    rest = whole - (parts * on).sum(axis)
    bad = small(rest) & on.any(axis)
    if not bad.any():
        return False
    smallest = np.where(on, parts, np.iinfo(np.int64).max).argmin(axis)
    where = list(np.nonzero(bad))
    pick = smallest[bad]
    at = index[pick] if index is not None else pick
    where.insert(axis, at)
    shown[tuple(where)] = False
    return True


def _same(shown: np.ndarray, equal: np.ndarray) -> bool:
    """Give rows holding the same students the same decision (hidden if either is)."""
    flat = shown.reshape(-1)
    changed = False
    while len(equal):
        both = flat[equal[:, 0]] & flat[equal[:, 1]]
        differ = (flat[equal[:, 0]] != both) | (flat[equal[:, 1]] != both)
        if not differ.any():
            break
        flat[equal[differ, 0]] = False
        flat[equal[differ, 1]] = False
        changed = True
    return changed


__all__ = ["GRADE_SLOTS", "standard_shown"]
