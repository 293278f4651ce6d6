"""A report's grid asks for a group or a grade twice: both rows show the same students.

The grid (``queries.report_summary.Grid``) places summed cells by position (issue 14: a Python
lookup per cell was most of a statewide table's time); a scope limited to Male students and
broken down by gender has Male twice, and both rows must hold its counts (found by the scope
property test, ``test_scope_property.py``: the first Male row of a cohort showed 0).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from queries import reports
from queries.longitudinal import read_longitudinal
from queries.reports import read_report
from queries.scope import Scope
from queries.snapshot import Snapshot
from queries.spec import ReportSpec, Subgroup


@pytest.fixture(scope="module")
def snap(tiny_store_path: Path) -> Snapshot:
    return Snapshot(tiny_store_path)


def test_issue14_a_group_asked_twice_in_a_cohort(snap):
    spec = ReportSpec(years=("2018-19", "2020-21"), orgs=("00",), org_level="state",
                      breakdown="gender", filters=(("disability", ("099",)),),
                      subgroups=(Subgroup("custom", (("disability", ("099",)),)),),
                      longitudinal=True, cohort=True)
    got = read_longitudinal(snap, spec, scope=Scope(statewide=True, groups=("003",)),
                            suppress=False)
    male = got.filter(pl.col("group_id") == "003")
    assert male.height == 4  # two rows a year
    assert male.get_column("n_enrolled").min() > 0
    for _, year in male.group_by("school_year"):
        assert year.drop("row_label").unique().height == 1


@pytest.mark.parametrize("records", [False, True], ids=["summary", "records"])
def test_issue14_a_grade_asked_twice(snap, monkeypatch, records):
    spec = ReportSpec(years=("2024-25",), orgs=("00",), org_level="state",
                      grades=("05", "13", "05"), breakdown="ethnicity")
    if records:
        monkeypatch.setattr(reports, "needs_records", lambda *_: True)
    got = read_report(snap, spec, scope=Scope.state(), suppress=False)
    # Each group's rows come in the grades' order: 05, 13, 05.
    fifth = got.filter(pl.col("grade") == "05")
    assert fifth.height == 2 * got.filter(pl.col("grade") == "13").height
    assert fifth.get_column("n_enrolled").sum() > 0
    assert_frame_equal(fifth.gather_every(2), fifth.gather_every(2, offset=1))
