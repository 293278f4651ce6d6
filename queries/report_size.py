"""How many rows a report will have, known before it runs (the report builder's live estimate).

A report is a grid (``queries.report_plan``): school years x organisations x row groups x grades,
every cell a row even when no student is in it. The organisations are the ones
``resolve_orgs`` shows for the user's scope, so the estimate never counts an organisation the
user may not see, and it raises the same ``ScopeError`` as the report when none is visible.
Counting them reads only the snapshot's organisation list: no record is read.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import polars as pl

# The grid's row groups and grades exactly as read_report builds them, so the estimate cannot
# drift from the report (tests/queries/test_report_size.py checks they agree).
from queries.report_plan import report_grades, resolve_orgs, row_groups
from queries.rosters import group_students
from queries.scope import ScopeError

if TYPE_CHECKING:
    from queries.scope import Scope
    from queries.snapshot import Snapshot
    from queries.spec import ReportSpec


@dataclass(frozen=True)
class ReportSize:
    """The dimensions of a report's grid; ``rows`` is their product.

    Examples
    --------
    >>> size = ReportSize(years=1, orgs=2, groups=4, grades=1)
    >>> size.rows
    8
    >>> size.describe()
    '8 rows: 2 organisations × 4 student groups × 1 grade × 1 school year'
    """

    years: int
    orgs: int
    groups: int
    grades: int

    @property
    def rows(self) -> int:
        """Rows the report will have (before any empty row is hidden)."""
        return self.years * self.orgs * self.groups * self.grades

    def describe(self) -> str:
        """The count and how it comes about, as a sentence fragment."""
        parts = [(self.orgs, "organisation"), (self.groups, "student group"),
                 (self.grades, "grade"), (self.years, "school year")]
        product = " × ".join(f"{n:,} {word}{'' if n == 1 else 's'}" for n, word in parts)
        return f"{self.rows:,} row{'' if self.rows == 1 else 's'}: {product}"


def count_row_groups(spec: ReportSpec, scope: Scope) -> int:
    """Rows each organisation gets per grade: its base group(s), breakdown and subgroups.

    The base is All students, or the scope's own student groups when it is limited to some.

    Examples
    --------
    >>> from queries.scope import Scope
    >>> from queries.spec import ReportSpec, Subgroup
    >>> spec = ReportSpec(years=("2024-25",), breakdown="gender",
    ...                   subgroups=(Subgroup("Girls", (("gender", ("004",)),)),))
    >>> count_row_groups(spec, Scope.state())  # all students, 3 genders, 1 subgroup
    5
    """
    return len(row_groups(spec, scope))


def count_grades(spec: ReportSpec) -> int:
    """Grades per organisation and group: the chosen ones, or every grade and all grades.

    Examples
    --------
    >>> from queries.spec import ReportSpec
    >>> count_grades(ReportSpec(years=("2024-25",), grades=("03", "13")))
    2
    >>> count_grades(ReportSpec(years=("2024-25",), breakdown="grade"))  # KN-12 and all
    14
    """
    return len(report_grades(spec))


def estimate_report_size(snap: Snapshot, spec: ReportSpec, *, scope: Scope) -> ReportSize:
    """The size of the report ``spec`` describes, for ``scope``, without running it.

    Parameters
    ----------
    snap
        The store at one data version.
    spec
        The report.
    scope
        Who is asking: only organisations it may see are counted.

    Returns
    -------
    ReportSize
        Years, organisations, row groups and grades; ``rows`` is what ``read_report`` (or
        ``read_longitudinal`` for a longitudinal spec) returns.

    Raises
    ------
    ScopeError
        When none of the chosen organisations is in the scope (as the report would).
    """
    # A cohort report has no comparison rows: each chosen organisation follows its own
    # students (queries.longitudinal).
    org_spec = replace(spec, comparison=False) if spec.cohort else spec
    if spec.org_level == "group":
        n_orgs = len(group_students(snap.store, scope, spec.orgs))  # ScopeError if not theirs
        if spec.comparison and scope.ssids is None:
            n_orgs += _group_comparisons(snap, spec, scope)
    else:
        n_orgs = resolve_orgs(org_spec, snap.orgs_of(spec.years), scope).height
    return ReportSize(years=len(set(spec.years)), orgs=n_orgs,
                      groups=count_row_groups(spec, scope), grades=count_grades(spec))


def _group_comparisons(snap: Snapshot, spec: ReportSpec, scope: Scope) -> int:
    """The comparison rows of a group report: its schools with their LEA, county and state."""
    orgs = snap.orgs_of(spec.years)
    schools = tuple(sorted({k[:14] for k in spec.orgs} & set(
        orgs.filter(pl.col("org_level") == "school").get_column("school_code"))))
    if not schools:
        return 0
    try:
        return resolve_orgs(replace(spec, org_level="school", orgs=schools, comparison=True),
                            orgs, scope).height
    except ScopeError:
        return 0
