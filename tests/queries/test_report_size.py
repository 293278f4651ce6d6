"""The report builder's row estimate (``queries.report_size``) against the reports themselves.

The estimate must equal the number of rows ``read_report`` / ``read_longitudinal`` return for
the same specification and scope, and never count an organisation outside the scope.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from queries.longitudinal import read_longitudinal
from queries.report_size import ReportSize, estimate_report_size
from queries.reports import read_report
from queries.scope import Scope, ScopeError
from queries.snapshot import Snapshot
from queries.spec import ReportSpec, Subgroup

HISPANIC_GIRLS = Subgroup("Hispanic girls", (("gender", ("004",)), ("ethnicity", ("078",))))


@pytest.fixture(scope="module")
def snap(tiny_store_path: Path) -> Snapshot:
    return Snapshot(tiny_store_path)


@pytest.fixture(scope="module")
def leas(snap: Snapshot) -> list[str]:
    """The tiny store's LEAs with records in 2024-25, in code order."""
    orgs = snap.orgs_of(("2024-25",))
    return orgs.filter(pl.col("org_level") == "lea").get_column("lea_code").to_list()


def _specs(lea: str, other: str) -> list[ReportSpec]:
    return [
        ReportSpec(years=("2024-25",)),
        ReportSpec(years=("2024-25",), orgs=(lea,), org_level="lea", breakdown="gender",
                   subgroups=(HISPANIC_GIRLS,), comparison=True),
        ReportSpec(years=("2023-24", "2024-25"), orgs=(lea, other), org_level="lea",
                   expand="schools_of_leas", breakdown="grade"),
        ReportSpec(years=("2024-25",), orgs=(lea[:2],), org_level="county",
                   grades=("KN", "05", "13"), filters=(("economic", ("031",)),)),
        ReportSpec(years=("2024-25",), orgs=(lea,), org_level="lea", test="alternate",
                   breakdown="ethnicity_economic", completeness="complete"),
        ReportSpec(years=("2022-23", "2023-24", "2024-25"), orgs=(lea,), org_level="lea",
                   longitudinal=True, breakdown="economic"),
        ReportSpec(years=("2023-24", "2024-25"), orgs=(lea,), org_level="lea",
                   expand="schools_of_leas", longitudinal=True, cohort=True, comparison=True,
                   subgroups=(HISPANIC_GIRLS,)),
    ]


def _scopes(lea: str) -> list[Scope]:
    return [Scope.state(), Scope.lea(lea), Scope(counties=(lea[:2],)),
            Scope(leas=(lea,), groups=("003", "004"))]


@pytest.mark.parametrize("case", range(7))
@pytest.mark.parametrize("scope_case", range(4))
def test_estimate_is_the_number_of_rows_the_report_returns(snap: Snapshot, leas: list[str],
                                                           case: int, scope_case: int) -> None:
    spec = _specs(leas[0], leas[1])[case]
    scope = _scopes(leas[0])[scope_case]
    read = read_longitudinal if spec.longitudinal else read_report
    try:
        report = read(snap, spec, scope=scope, suppress=False)
    except ScopeError:
        with pytest.raises(ScopeError):
            estimate_report_size(snap, spec, scope=scope)
        return
    size = estimate_report_size(snap, spec, scope=scope)

    assert size.rows == report.height
    assert size.years == report.get_column("school_year").n_unique()
    orgs = report.select("org_level", "county_code", "lea_code", "school_code").unique()
    assert size.orgs == orgs.height


def test_only_organisations_in_scope_are_counted(snap: Snapshot, leas: list[str]) -> None:
    mine, other = leas[0], leas[1]
    spec = ReportSpec(years=("2024-25",), orgs=(mine, other), org_level="lea",
                      comparison=True)

    statewide = estimate_report_size(snap, spec, scope=Scope.state())
    scoped = estimate_report_size(snap, spec, scope=Scope.lea(mine))

    # Statewide: both LEAs, their counties and the state. One LEA's coordinator: that LEA
    # only (its county and the state are comparison rows it does not fully cover).
    counties = len({mine[:2], other[:2]})
    assert statewide.orgs == 2 + counties + 1
    assert scoped.orgs == 1
    assert scoped.rows == 1


@pytest.mark.parametrize("spec_case", ["state", "another LEA"])
def test_nothing_in_scope_raises_like_the_report(snap: Snapshot, leas: list[str],
                                                 spec_case: str) -> None:
    spec = (ReportSpec(years=("2024-25",)) if spec_case == "state"
            else ReportSpec(years=("2024-25",), orgs=(leas[1],), org_level="lea"))
    scope = Scope.lea(leas[0])

    with pytest.raises(ScopeError):
        read_report(snap, spec, scope=scope, suppress=False)
    with pytest.raises(ScopeError):
        estimate_report_size(snap, spec, scope=scope)


def test_scope_groups_replace_all_students(snap: Snapshot, leas: list[str]) -> None:
    spec = ReportSpec(years=("2024-25",), orgs=(leas[0],), org_level="lea", breakdown="gender")
    # A scope limited to two student groups gets a row for each instead of All students.
    size = estimate_report_size(snap, spec, scope=Scope(leas=(leas[0],), groups=("003", "004")))
    assert size.groups == 2 + 3


def test_describe_counts_each_dimension() -> None:
    assert ReportSize(years=2, orgs=1, groups=5, grades=14).describe() == (
        "140 rows: 1 organisation × 5 student groups × 14 grades × 2 school years")
    assert ReportSize(years=1, orgs=1, groups=1, grades=1).describe() == (
        "1 row: 1 organisation × 1 student group × 1 grade × 1 school year")
