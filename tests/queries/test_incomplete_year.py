"""2019-20 loaded: reports show it only when asked, marked incomplete; SSR history never shows it.

The store holds 2018-19, 2019-20 (the students tested before testing stopped in March 2020,
written in the 2019-20 layout) and 2020-21. Expected counts are read from the store's Parquet
files with Polars.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from data.results.store import Store
from elpac.cli import app
from queries.labels import DATA_STATUS_NAMES, year_note
from queries.longitudinal import read_transitions
from queries.reports import read_report
from queries.scope import Scope
from queries.snapshot import Snapshot
from queries.spec import ReportSpec
from queries.ssr_documents import read_ssr_content

YEARS = ("2018-19", "2019-20", "2020-21")


@pytest.fixture(scope="module")
def snap(spring_2020_store_path: Path) -> Snapshot:
    return Snapshot(spring_2020_store_path)


def _records(store: Path, year: str) -> pl.DataFrame:
    return pl.read_parquet(Store(store).year_files()[year])


def test_2019_20_is_loaded_but_not_a_default_year(snap) -> None:
    assert snap.years == YEARS
    assert snap.default_years == ("2018-19", "2020-21")
    assert snap.latest_year == "2020-21"
    assert snap.year_choices == ["2020-21", "2018-19", "2019-20"]  # the picker's default first
    assert snap.year_status["2019-20"] == "incomplete"
    assert snap.year_status["2020-21"] == "partial"  # as of June 1, 2021


def test_a_report_that_names_2019_20_has_it_marked_incomplete(snap, spring_2020_store_path):
    spec = ReportSpec(years=YEARS, orgs=("00",), org_level="state", comparison=False)
    report = read_report(snap, spec, scope=Scope.state(), suppress=False)
    status = dict(report.filter(pl.col("row_label") == "All students")
                  .select("school_year", "data_status").iter_rows())
    assert status == {"2018-19": "final", "2019-20": "incomplete", "2020-21": "partial"}
    assert DATA_STATUS_NAMES["incomplete"] == "Incomplete: testing stopped in March 2020"
    # The numbers are 2019-20's own records: tested students only, counted as usual.
    rows = _records(spring_2020_store_path, "2019-20").filter(pl.col("record_type") == "21")
    row = report.filter((pl.col("school_year") == "2019-20")
                        & (pl.col("row_label") == "All students")).row(0, named=True)
    assert (row["n_enrolled"], row["n_tested"], row["n_scored"]) == (
        rows.height, int(rows["is_tested"].sum()),
        int((rows["include_indicator"] == "Y").sum()))
    assert rows.height > 50
    assert rows["is_tested"].all()


def test_every_organisation_row_of_2019_20_is_marked(snap) -> None:
    lea = snap.orgs_of(["2019-20"]).filter(pl.col("org_level") == "lea").get_column(
        "lea_code")[0]
    spec = ReportSpec(years=("2019-20", "2020-21"), orgs=(lea,), org_level="lea",
                      comparison=True)
    report = read_report(snap, spec, scope=Scope.state(), suppress=False)
    marked = report.group_by("school_year").agg(pl.col("data_status").unique().sort())
    assert dict(marked.iter_rows()) == {"2019-20": ["incomplete"], "2020-21": ["partial"]}
    assert set(report.filter(pl.col("school_year") == "2019-20")
               .get_column("org_level")) == {"lea", "county", "state"}


def test_transitions_through_2019_20_are_marked_incomplete(snap) -> None:
    spec = ReportSpec(years=YEARS, orgs=("00",), org_level="state")
    moves = read_transitions(snap, spec, scope=Scope.state(pii=True), suppress=False)
    status = dict(moves.select(pl.concat_str("from_year", "to_year", separator=">"),
                               "data_status").unique().iter_rows())
    assert status == {"2018-19>2019-20": "incomplete", "2019-20>2020-21": "incomplete"}


def test_the_ssr_score_history_never_shows_2019_20(snap, spring_2020_store_path) -> None:
    # ELPAC.md §7: a student scored in all three years gets a 2020-21 SSR whose history
    # shows 2018-19 and leaves 2019-20 out, although the store holds that year's score.
    scored = {y: set(_records(spring_2020_store_path, y).filter(
        pl.col("is_ssr_eligible") & (pl.col("record_type") == "21")).get_column("ssid"))
        for y in YEARS}
    every = sorted(scored["2018-19"] & scored["2019-20"] & scored["2020-21"])
    assert every, "the demo has students scored in all three years"
    for ssid in every[:5]:
        ssr = read_ssr_content(snap, ssid, scope=Scope.state(pii=True), year="2020-21")
        assert [h.school_year for h in ssr.history] == ["2018-19"]


def test_year_note_says_why() -> None:
    assert year_note("2019-20") == ("2019-20 is incomplete: testing stopped in March 2020, so "
                                    "it holds only the students tested before then.")
    assert year_note("2018-19") is None


def test_cli_exports_2019_20_only_when_named(spring_2020_store_path, tmp_path) -> None:
    runner = CliRunner()
    store = str(spring_2020_store_path)
    out = tmp_path / "all.csv"
    default = runner.invoke(app, ["export", "students", "--store", store, "-o", str(out)])
    assert default.exit_code == 0, default.output
    assert "extracting 2018-19, 2020-21" in default.stdout
    assert ("note: 2019-20 is left out (incomplete: testing stopped in March 2020); name it "
            "with --year 2019-20 to export it") in default.stdout

    n = _records(spring_2020_store_path, "2019-20").height
    named = runner.invoke(app, ["export", "students", "--store", store, "--year", "2019-20",
                                "-o", str(tmp_path / "one.csv")])
    assert named.exit_code == 0, named.output
    assert f"note: {year_note('2019-20')}" in named.stdout
    assert f"wrote {n:,} records" in named.stdout

    research = runner.invoke(app, ["export", "research-file", "--store", store, "-o",
                                   str(tmp_path / "rf.txt")])
    assert research.exit_code == 0, research.output
    assert "(2020-21, summative" in research.stdout  # the default: the newest complete year
