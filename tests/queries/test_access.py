"""Roles become scopes (queries/access.py), and an aggregate-only scope is always suppressed.

Checked on the tiny demo store against the same queries run with a statewide scope and no
suppression: the viewer sees the same rows, with every small group's scores hidden.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl
import pytest

from data.catalog.accounts import Account
from queries.access import scope_of
from queries.longitudinal import read_longitudinal, read_transitions
from queries.metrics import SUPPRESSION_THRESHOLD
from queries.reports import read_report
from queries.research import research_columns, research_rows
from queries.scope import Scope, ScopeError
from queries.snapshot import Snapshot
from queries.spec import ReportSpec

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture(scope="module")
def snap(tiny_store_path: Path) -> Snapshot:
    return Snapshot(tiny_store_path)


@pytest.fixture(scope="module")
def lea(snap: Snapshot) -> str:
    """The LEA with the most small (1 to 10 students with scores) ethnic groups."""
    spec = ReportSpec(years=(snap.years[-2],), orgs=("00",), org_level="state",
                      breakdown="ethnicity")
    leas = snap.orgs_of(spec.years).filter(pl.col("org_level") == "lea")
    codes = leas.get_column("lea_code").to_list()
    full = read_report(snap, ReportSpec(years=spec.years, orgs=tuple(codes), org_level="lea",
                                        breakdown="ethnicity"),
                       scope=Scope.state(), suppress=False)
    small = full.filter(pl.col("n_scored").is_between(1, SUPPRESSION_THRESHOLD - 1))
    return str(small.group_by("lea_code").len().sort("len", "lea_code", descending=True)
               .item(0, "lea_code"))


def test_roles_become_scopes() -> None:
    lea, school = "19647330000000", "19647331932334"
    assert scope_of(Account("a@x.org", "A", "state_admin")) == Scope(statewide=True, pii=True)
    assert scope_of(Account("a@x.org", "A", "lea_admin", leas=(lea,))) == Scope(
        leas=(lea,), pii=True)
    assert scope_of(Account("a@x.org", "A", "site_admin", schools=(school,))) == Scope(
        schools=(school,), pii=True)
    viewer = scope_of(Account("a@x.org", "A", "viewer", leas=(lea,)))
    assert (viewer.pii, viewer.suppressed, viewer.leas) == (False, True, (lea,))
    with pytest.raises(ValueError, match="needs the store"):
        scope_of(Account("a@x.org", "A", "teacher", schools=(school,)))


def test_a_viewer_report_is_suppressed_whatever_is_asked(snap: Snapshot, lea: str) -> None:
    spec = ReportSpec(years=(snap.years[-2],), orgs=(lea,), org_level="lea",
                      breakdown="ethnicity")
    open_ = read_report(snap, spec, scope=Scope.state(), suppress=False)
    viewer = scope_of(Account("v@x.org", "V", "viewer", leas=(lea,)))
    seen = read_report(snap, spec, scope=viewer, suppress=False)
    assert seen.get_column("row_label").to_list() == open_.get_column("row_label").to_list()
    small = pl.col("n_scored").is_between(1, SUPPRESSION_THRESHOLD - 1)
    hidden = seen.filter(small)
    assert hidden.height > 0
    assert hidden.get_column("is_suppressed").all()
    assert hidden.get_column("overall_mean").is_null().all()
    assert hidden.get_column("overall_l1_pct").is_null().all()
    assert open_.filter(small).get_column("overall_mean").is_not_null().all()
    # Larger groups shown are the same numbers as without suppression (complementary
    # suppression may hide some: tests/queries/test_complementary_suppression.py); counts of
    # tested stay.
    big = (seen.get_column("n_scored") >= SUPPRESSION_THRESHOLD) & ~seen.get_column(
        "is_suppressed")
    assert big.any()
    assert seen.filter(big).select("overall_mean").equals(open_.filter(big).select(
        "overall_mean"))
    assert seen.get_column("n_tested").to_list() == open_.get_column("n_tested").to_list()


def test_a_viewer_research_file_is_suppressed(snap: Snapshot, lea: str) -> None:
    viewer = scope_of(Account("v@x.org", "V", "viewer", leas=(lea,)))
    year = snap.years[-2]
    seen = research_rows(snap, year=year, scope=viewer, lea=lea, suppress=False)
    open_ = research_rows(snap, year=year, scope=Scope.state(), lea=lea, suppress=False)
    assert seen.height == open_.height
    column = research_columns("summative")[12]  # the overall mean scale score
    assert (seen.get_column(column) == "*").any()
    assert not (open_.get_column(column) == "*").any()


def test_a_viewer_gets_no_transition_matrix(snap: Snapshot, lea: str) -> None:
    # Issue 15, finding 2: a matrix follows chosen students, and two matrices (with and
    # without a filter, a school and its LEA) subtract to a small group's levels; an
    # aggregate-only account sees no scores of chosen students, so no matrix either.
    spec = ReportSpec(years=snap.years[-3:-1], orgs=(lea,), org_level="lea")
    viewer = scope_of(Account("v@x.org", "V", "viewer", leas=(lea,)))
    assert read_transitions(snap, spec, scope=Scope.state(), suppress=False).height > 0
    with pytest.raises(ValueError, match="aggregate-only account sees no scores"):
        read_transitions(snap, spec, scope=viewer, suppress=False)


def test_a_viewer_cohort_shows_no_scores(snap: Snapshot, lea: str) -> None:
    # A cohort (students tested there in both years) is chosen students, not a group of a
    # year's records: its rows minus the year's All students give the students who moved,
    # however few. An aggregate-only account gets its counts, no scores.
    spec = ReportSpec(years=snap.years[-3:-1], orgs=(lea,), org_level="lea",
                      longitudinal=True, cohort=True)
    viewer = scope_of(Account("v@x.org", "V", "viewer", leas=(lea,)))
    open_ = read_longitudinal(snap, spec, scope=Scope.state(), suppress=True)
    seen = read_longitudinal(snap, spec, scope=viewer, suppress=False)
    assert (~open_.get_column("is_suppressed")).any()
    assert seen.get_column("n_scored").to_list() == open_.get_column("n_scored").to_list()
    assert seen.get_column("is_suppressed").all()
    assert seen.get_column("overall_mean").is_null().all()


def test_a_teacher_without_groups_sees_nothing(snap: Snapshot, lea: str) -> None:
    teacher = scope_of(Account("t@x.org", "T", "teacher", schools=(lea[:7] + "1234567",)),
                       snap.store)
    assert teacher == Scope(ssids=(), pii=True)  # no student at all, not "no limit"
    spec = ReportSpec(years=(snap.years[-2],), orgs=(lea,), org_level="lea")
    with pytest.raises(ScopeError):
        read_report(snap, spec, scope=teacher, suppress=False)
