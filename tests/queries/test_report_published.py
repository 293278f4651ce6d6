"""Comparison rows below statewide come from CDE's published file (issue 12, item 2).

The issue: with *Add comparison rows* an LEA account got no county or state row and no word.
Here the tiny store's own research file (suppressed, as CDE publishes it) is imported as the
published file; an LEA account's report then carries the county and state rows from it,
labelled, with the file's numbers read back independently from the file's text; a statewide
account still gets the store's own rows; without an imported file nothing is invented.
"""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING

import polars as pl
import pytest

from data.published.store import import_research_file
from data.results.store import Store
from queries.report_published import missing_comparisons
from queries.reports import read_report
from queries.research import research_rows, write_research_file
from queries.scope import Scope
from queries.snapshot import Snapshot
from queries.spec import ReportSpec

if TYPE_CHECKING:
    from pathlib import Path

YEAR = "2024-25"
LEA = "19619690000000"
SPEC = ReportSpec(years=(YEAR,), orgs=(LEA,), org_level="lea", comparison=True,
                  breakdown="gender")


@pytest.fixture(scope="module")
def published(tiny_store_path: Path, tmp_path_factory: pytest.TempPathFactory
              ) -> tuple[Store, pl.DataFrame]:
    target = tmp_path_factory.mktemp("published-cmp") / "store"
    shutil.copytree(tiny_store_path, target)
    store = Store(target)
    rows = research_rows(Snapshot(store), year=YEAR, scope=Scope.state(), suppress=True)
    path = target.parent / "sa_elpac2025_all_csv_v1.txt"
    write_research_file(rows, path)
    import_research_file(store, path, imported_by="test")
    # The file's text read back on its own: what the rows must say.
    text = pl.read_csv(path, separator="^", infer_schema=False)
    return store, text


def test_an_lea_account_compares_with_the_published_county_and_state(
        published: tuple[Store, pl.DataFrame]) -> None:
    store, text = published
    report = read_report(Snapshot(store), SPEC, scope=Scope.lea(LEA), suppress=False)
    assert set(report.get_column("org_level")) == {"lea", "county", "state"}
    assert missing_comparisons(report, SPEC, Scope.lea(LEA)) == []
    theirs = report.filter(pl.col("data_status") == "published")
    assert set(theirs.get_column("org_level")) == {"county", "state"}
    # Nearest first (the county, then the state), named as the store names them.
    assert theirs.get_column("org_level").to_list().index("state") == theirs.filter(
        pl.col("org_level") == "county").height
    assert theirs.filter(pl.col("org_level") == "county").get_column("name").str.starts_with(
        "Los Angeles (published by CDE").all()
    assert theirs.get_column("name").str.contains(
        r"published by CDE \(sa_elpac2025_all_csv_v1.txt, v1\)").all()
    for row in theirs.iter_rows(named=True):
        county = row["county_code"] if row["org_level"] == "county" else "00"
        (line,) = text.filter((pl.col("CountyCode") == county)
                              & (pl.col("DistrictCode") == "00000")
                              & (pl.col("StudentGroupID") == row["group_id"])
                              & (pl.col("Grade") == row["grade"])).iter_rows(named=True)
        assert row["n_enrolled"] == int(line["TotalEnrolled"])
        assert row["n_scored"] == int(line["TotalTestedWithScores"])
        if line["OverallMeanSclScr"] == "*":
            assert row["is_suppressed"]
            assert row["overall_mean"] is None
        else:
            assert row["overall_mean"] == pytest.approx(float(line["OverallMeanSclScr"]))
            assert row["overall_l1_pct"] == pytest.approx(float(line["OverallPerfLvl1Pcnt"]))
            assert row["overall_l4_count"] == int(line["OverallPerfLvl4Count"])
    # Every group of the report that the research files carry has its published county and
    # state rows (nonbinary is not a research-file group: ELPAC.md §5.6).
    carried = report.filter((pl.col("org_level") == "lea") & pl.col("group_id").is_in(
        text.get_column("StudentGroupID").unique().to_list()))
    assert 0 < carried.height < report.filter(pl.col("org_level") == "lea").height
    assert theirs.height == 2 * carried.height


def test_a_statewide_account_keeps_the_stores_own_rows(
        published: tuple[Store, pl.DataFrame]) -> None:
    store, _ = published
    report = read_report(Snapshot(store), SPEC, scope=Scope.state(), suppress=False)
    assert set(report.get_column("org_level")) == {"lea", "county", "state"}
    assert "published" not in set(report.get_column("data_status"))


def test_without_a_published_file_nothing_is_invented(tiny_store_path: Path) -> None:
    report = read_report(Snapshot(tiny_store_path), SPEC, scope=Scope.lea(LEA), suppress=False)
    assert set(report.get_column("org_level")) == {"lea"}
    assert missing_comparisons(report, SPEC, Scope.lea(LEA)) == [("county", LEA[:2]),
                                                                  ("state", "00")]


def test_a_peer_lea_outside_the_account_comes_from_the_published_file(
        published: tuple[Store, pl.DataFrame]) -> None:
    store, text = published
    snap = Snapshot(store)
    leas = snap.orgs_of([YEAR]).filter(pl.col("org_level") == "lea")
    peer = next(c for c in sorted(leas.get_column("lea_code")) if c != LEA)
    spec = ReportSpec(years=(YEAR,), orgs=(LEA, peer), org_level="lea")
    report = read_report(snap, spec, scope=Scope.lea(LEA), suppress=False)
    mine = report.filter(pl.col("lea_code") == LEA)
    theirs = report.filter(pl.col("lea_code") == peer)
    assert mine.get_column("data_status").to_list() != ["published"]
    assert theirs.height == 1
    row = theirs.row(0, named=True)
    assert row["data_status"] == "published"
    assert row["org_level"] == "lea"
    assert row["cds_code"] == peer
    stored_name = leas.filter(pl.col("lea_code") == peer).item(0, "name")
    assert row["name"] == f"{stored_name} (published by CDE (sa_elpac2025_all_csv_v1.txt, v1))"
    (line,) = text.filter((pl.col("CountyCode") + pl.col("DistrictCode")
                           + pl.col("SchoolCode") == peer)
                          & (pl.col("StudentGroupID") == "001")
                          & (pl.col("Grade") == "13")).iter_rows(named=True)
    assert row["n_enrolled"] == int(line["TotalEnrolled"])
    assert row["n_tested"] == int(line["TotalTested"])


def test_without_a_published_file_a_peer_is_left_out(tiny_store_path: Path) -> None:
    snap = Snapshot(tiny_store_path)
    leas = snap.orgs_of([YEAR]).filter(pl.col("org_level") == "lea")
    peer = next(c for c in sorted(leas.get_column("lea_code")) if c != LEA)
    spec = ReportSpec(years=(YEAR,), orgs=(LEA, peer), org_level="lea")
    report = read_report(snap, spec, scope=Scope.lea(LEA), suppress=False)
    assert set(report.get_column("lea_code")) == {LEA}
