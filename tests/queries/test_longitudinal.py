"""Longitudinal reports, cohorts matched by SSID and level transitions, against the records.

The records are read straight from the store's Parquet files; cohorts and transitions are
recomputed here by SSID (ELPAC.md §4: tested = TestedStatus Y; tested with scores = include
indicator Y).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from data.results.store import Store
from queries.longitudinal import _cohort_ssids, read_longitudinal, read_transitions
from queries.metrics import SUPPRESSION_THRESHOLD
from queries.reports import read_report
from queries.scope import Scope
from queries.snapshot import Snapshot
from queries.spec import ReportSpec

COLUMNS = ["ssid", "is_tk", "record_type", "grade_assessed", "county_code", "reporting_lea_code",
           "reporting_school_code", "is_tested", "include_indicator", "overall_scale_score",
           "overall_level", "gender"]
ORG_COLUMN = {"county": "county_code", "lea": "reporting_lea_code",
              "school": "reporting_school_code"}


@pytest.fixture(scope="module")
def snap(tiny_store_path: Path) -> Snapshot:
    return Snapshot(tiny_store_path)


@pytest.fixture(scope="module")
def records(tiny_store_path: Path) -> pl.DataFrame:
    """Every record an aggregate counts, read straight from the store's Parquet files.

    From 2024-25 transitional-kindergarten students are left out of every aggregate
    (ELPAC.md §1.1, UND-IA).
    """
    return pl.concat([pl.read_parquet(path, columns=COLUMNS)
                      .with_columns(pl.lit(year).alias("school_year"))
                      .filter(~(pl.col("is_tk").fill_null(False) & (year >= "2024-25")))
                      for year, path in sorted(Store(tiny_store_path).year_files().items())])


def _stayers(records: pl.DataFrame, years: tuple[str, ...], level: str) -> tuple[str, str]:
    """The organisation at a level with the most students tested there in every year."""
    column = ORG_COLUMN[level]
    tested = records.filter(pl.col("school_year").is_in(list(years)) & pl.col("is_tested")
                            & (pl.col("record_type") == "21"))
    best = (tested.group_by(column, "ssid").agg(pl.col("school_year").n_unique().alias("n"))
            .filter(pl.col("n") == len(years)).drop_nulls(column).group_by(column).len()
            .sort("len", column, descending=[True, False]).row(0))
    code = best[0]
    lea = tested.filter(pl.col(column) == code).item(0, "reporting_lea_code")
    return code, lea


def _in_org(level: str, code: str) -> pl.Expr:
    return pl.lit(True) if level == "state" else pl.col(ORG_COLUMN[level]) == code


# -- all students -----------------------------------------------------------------------------

@pytest.mark.parametrize(("level", "breakdown"), [("state", None), ("county", "grade"),
                                                  ("lea", "gender"), ("school", None)])
def test_all_students_is_each_years_report(snap: Snapshot, records: pl.DataFrame, level: str,
                                           breakdown: str | None) -> None:
    years = ("2018-19", "2021-22", "2023-24", "2024-25")
    code = "00" if level == "state" else _stayers(records, years[-2:], level)[0]
    spec = ReportSpec(years=years, orgs=(code,), org_level=level, breakdown=breakdown,
                      comparison=True, longitudinal=True)
    got = read_longitudinal(snap, spec, scope=Scope.state(), suppress=True)
    each = pl.concat([read_report(snap, replace(spec, years=(y,), longitudinal=False),
                                  scope=Scope.state(), suppress=True) for y in years])
    assert_frame_equal(got, each)
    assert got.get_column("school_year").unique().sort().to_list() == list(years)


# -- cohorts ------------------------------------------------------------------------------------

def _cohort(records: pl.DataFrame, years: tuple[str, ...], level: str, code: str,
            record_type: str = "21") -> set[str]:
    """SSIDs tested in the organisation in every one of the years."""
    tested = records.filter(pl.col("school_year").is_in(list(years)) & pl.col("is_tested")
                            & (pl.col("record_type") == record_type) & _in_org(level, code))
    per_student = tested.group_by("ssid").agg(pl.col("school_year").unique().alias("years"))
    return {ssid for ssid, seen in per_student.iter_rows() if set(seen) == set(years)}


COHORT_CASES = [
    ("school", ("2022-23", "2023-24")),
    ("school", ("2021-22", "2022-23", "2023-24")),
    ("lea", ("2018-19", "2020-21", "2021-22")),
    ("lea", ("2023-24", "2024-25", "2025-26")),
    ("county", ("2020-21", "2022-23")),
    ("state", ("2024-25", "2025-26")),
]


@pytest.mark.parametrize(("level", "years"), COHORT_CASES)
def test_the_cohort_is_the_students_tested_there_every_year(
        snap: Snapshot, records: pl.DataFrame, level: str, years: tuple[str, ...]) -> None:
    code, lea = ("00", "") if level == "state" else _stayers(records, years, level)
    spec = ReportSpec(years=years, orgs=(code,), org_level=level, longitudinal=True,
                      cohort=True)
    expected = _cohort(records, years, level, code)
    assert len(expected) >= 3
    # Every student of the organisation who was tested there in only some of the years is out.
    somewhere = records.filter(pl.col("school_year").is_in(list(years)) & _in_org(level, code)
                               & pl.col("is_tested") & (pl.col("record_type") == "21"))
    assert set(somewhere.get_column("ssid")) - expected  # the cohort does leave students out

    scopes = [Scope.state(), *([Scope(leas=(lea,))] if level in ("school", "lea") else [])]
    for scope in scopes:
        ssids = _cohort_ssids(snap, spec, scope)
        assert {k: set(v) for k, v in ssids.items()} == {(level, code): expected}


@pytest.mark.parametrize(("level", "years"), COHORT_CASES)
def test_cohort_measures_are_over_the_cohort_only(
        snap: Snapshot, records: pl.DataFrame, level: str, years: tuple[str, ...]) -> None:
    code, lea = ("00", "") if level == "state" else _stayers(records, years, level)
    spec = ReportSpec(years=years, orgs=(code,), org_level=level, breakdown="grade",
                      longitudinal=True, cohort=True, comparison=True)
    scope = Scope(leas=(lea,)) if level in ("school", "lea") else Scope.state()
    got = read_longitudinal(snap, spec, scope=scope, suppress=False)
    cohort = _cohort(records, years, level, code)

    theirs = records.filter(pl.col("ssid").is_in(list(cohort))
                            & pl.col("school_year").is_in(list(years))
                            & (pl.col("record_type") == "21") & _in_org(level, code))
    scored = pl.col("include_indicator") == "Y"
    measures = [pl.len().cast(pl.Int64).alias("n_enrolled"),
                scored.sum().cast(pl.Int64).alias("n_scored"),
                pl.col("overall_scale_score").filter(scored).cast(pl.Float64).mean()
                .alias("overall_mean")]
    expected = pl.concat([
        theirs.group_by("school_year", pl.col("grade_assessed").alias("grade")).agg(measures),
        theirs.group_by("school_year").agg(measures).with_columns(pl.lit("13").alias("grade")),
    ], how="diagonal").select("school_year", "grade", "n_enrolled", "n_scored", "overall_mean")

    rows = got.select("school_year", "grade", "n_enrolled", "n_scored", "overall_mean")
    assert set(got.get_column("org_level")) == {level}  # no comparison rows for a cohort
    assert set(got.get_column("row_label")) == {"All students (cohort)"}
    assert_frame_equal(rows.filter(pl.col("n_enrolled") > 0).sort("school_year", "grade"),
                       expected.sort("school_year", "grade"), check_column_order=False)
    # Everyone in the cohort has a record there every year.
    assert rows.filter(pl.col("grade") == "13").get_column("n_enrolled").to_list() == [
        len(cohort)] * len(years)


def test_each_organisation_has_its_own_cohort(snap: Snapshot, records: pl.DataFrame) -> None:
    years = ("2022-23", "2023-24", "2024-25")
    leas = (records.filter(pl.col("school_year").is_in(list(years)))
            .get_column("reporting_lea_code").unique().sort().head(3).to_list())
    spec = ReportSpec(years=years, orgs=tuple(leas), org_level="lea", expand="schools_of_leas",
                      longitudinal=True, cohort=True)
    got = read_longitudinal(snap, spec, scope=Scope.lea(*leas), suppress=False).filter(
        pl.col("grade") == "13")
    sizes = {}
    for level, lea, school, n in got.select("org_level", "lea_code", "school_code",
                                            "n_enrolled").iter_rows():
        code = school if level == "school" else lea
        sizes.setdefault((level, code), set()).add(n)
    expected = {key: {len(_cohort(records, years, *key))} for key in sizes}
    assert sizes == expected
    assert {level for level, _ in sizes} == {"lea", "school"}
    assert sum(n for (level, _), (n,) in sizes.items() if level == "school") > 0


def test_a_cohort_over_a_year_without_data_is_empty(snap: Snapshot,
                                                    records: pl.DataFrame) -> None:
    code, _ = _stayers(records, ("2018-19", "2020-21"), "lea")
    spec = ReportSpec(years=("2018-19", "2019-20", "2020-21"), orgs=(code,), org_level="lea",
                      longitudinal=True, cohort=True)
    got = read_longitudinal(snap, spec, scope=Scope.state(), suppress=False)
    assert got.get_column("n_enrolled").sum() == 0


# -- transitions --------------------------------------------------------------------------------

def _transitions(records: pl.DataFrame, years: tuple[str, ...], level: str, code: str
                 ) -> pl.DataFrame:
    ordered = sorted(years)
    scored = records.filter((pl.col("include_indicator") == "Y")
                            & pl.col("overall_level").is_not_null()
                            & (pl.col("record_type") == "21") & _in_org(level, code))
    counts: dict[tuple[str, str, int, int], int] = {}
    for a, b in zip(ordered, ordered[1:], strict=False):
        first = dict(scored.filter(pl.col("school_year") == a)
                     .select("ssid", "overall_level").iter_rows())
        for ssid, to_level in scored.filter(pl.col("school_year") == b).select(
                "ssid", "overall_level").iter_rows():
            if ssid in first:
                key = (a, b, first[ssid], to_level)
                counts[key] = counts.get(key, 0) + 1
    return pl.DataFrame([(*k, n) for k, n in sorted(counts.items())], orient="row",
                        schema={"from_year": pl.String, "to_year": pl.String,
                                "from_level": pl.Int8, "to_level": pl.Int8,
                                "n_students": pl.Int64})


@pytest.mark.parametrize(("level", "years"), [
    ("school", ("2022-23", "2023-24", "2024-25")),
    ("lea", ("2018-19", "2020-21", "2021-22")),
    ("lea", ("2021-22", "2019-20", "2020-21")),  # order given does not matter
    ("county", ("2024-25", "2025-26")),
    ("state", ("2018-19", "2020-21", "2021-22", "2022-23", "2023-24", "2024-25", "2025-26")),
])
def test_transitions_count_students_scored_there_in_both_years(
        snap: Snapshot, records: pl.DataFrame, level: str, years: tuple[str, ...]) -> None:
    code, lea = ("00", "") if level == "state" else _stayers(
        records, tuple(y for y in years if y != "2019-20"), level)
    spec = ReportSpec(years=years, orgs=(code,), org_level=level)
    scope = Scope(leas=(lea,)) if level in ("school", "lea") else Scope.state()
    got = read_transitions(snap, spec, scope=scope, suppress=False)
    expected = _transitions(records, years, level, code)
    assert expected.get_column("n_students").sum() > 10
    assert_frame_equal(got.select(expected.columns), expected, check_dtypes=False)
    assert got.select("org_level", "county_code", "lea_code", "school_code").unique().height == 1
    assert got.item(0, "org_level") == level

    per_from = got.group_by("from_year", "from_level").agg(pl.col("pct_of_from").sum())
    assert per_from.get_column("pct_of_from").to_list() == pytest.approx(
        [100.0] * per_from.height)


def test_transitions_need_two_years(snap: Snapshot) -> None:
    with pytest.raises(ValueError, match="at least two school years"):
        read_transitions(snap, ReportSpec(years=("2024-25",)), scope=Scope.state(),
                         suppress=False)


@pytest.mark.parametrize(("level", "threshold"), [
    ("lea", SUPPRESSION_THRESHOLD), ("lea", 18), ("state", 31), ("state", 100)])
def test_transitions_leave_out_small_from_levels_when_asked(
        snap: Snapshot, records: pl.DataFrame, level: str, threshold: int) -> None:
    # Issue 3: suppression is the caller's choice, as for reports; a from-level of fewer than
    # the threshold's matched students hides its whole matrix (its moves would show who they
    # are, and a matrix less one level would give them away as the cohort's counts less the
    # rest).
    years = ("2023-24", "2024-25", "2025-26")
    code, lea = ("00", "") if level == "state" else _stayers(records, years, level)
    spec = ReportSpec(years=years, orgs=(code,), org_level=level)
    scope = Scope.state() if level == "state" else Scope(leas=(lea,))
    every = _transitions(records, years, level, code)
    n_from = pl.col("n_students").sum().over("from_year", "from_level")
    smallest = every.select(n_from.alias("n"), "from_year").select(
        pl.col("n").min().over("from_year"))
    kept = every.filter(smallest.to_series() >= threshold)
    assert kept.height < every.height  # the threshold hides a matrix
    got = read_transitions(snap, spec, scope=scope, suppress=True, threshold=threshold)
    assert_frame_equal(got.select(every.columns), kept, check_dtypes=False)
    shown = read_transitions(snap, spec, scope=scope, suppress=False, threshold=threshold)
    assert_frame_equal(shown.select(every.columns), every, check_dtypes=False)


def test_suppressed_transitions_leave_out_matrices_with_a_small_level(
        snap: Snapshot, records: pl.DataFrame) -> None:
    years = ("2023-24", "2024-25", "2025-26")
    code, lea = _stayers(records, years, "lea")
    spec = ReportSpec(years=years, orgs=(code,), org_level="lea")
    every = _transitions(records, years, "lea", code)
    smallest = every.select(pl.col("n_students").sum().over("from_year", "from_level")
                            .alias("n"), "from_year").select(pl.col("n").min().over("from_year"))
    kept = every.filter(smallest.to_series() >= SUPPRESSION_THRESHOLD)
    assert kept.height < every.height
    # Asked for by an account that may see students (an aggregate-only one gets no matrix:
    # tests/queries/test_access.py).
    got = read_transitions(snap, spec, scope=Scope(leas=(lea,), pii=True), suppress=True)
    assert_frame_equal(got.select(every.columns), kept, check_dtypes=False)


def test_transitions_say_whether_both_years_are_final(snap: Snapshot) -> None:
    # The tiny demo is as of June 1, 2026: 2025-26 is partial everywhere, earlier years final
    # (tests/conftest.py TINY, data.synth.generator). A pair is final only when both years are.
    assert snap.year_status["2024-25"] == "final"
    assert snap.year_status["2025-26"] == "partial"
    years = ("2023-24", "2024-25", "2025-26")
    leas = snap.orgs_of(years).filter(pl.col("org_level") == "lea").get_column("lea_code")
    for level, codes in (("state", ("00",)), ("lea", tuple(leas))):
        got = read_transitions(snap, ReportSpec(years=years, orgs=codes, org_level=level),
                               scope=Scope.state(), suppress=False)
        pairs = got.select("from_year", "to_year", "data_status").unique().sort("from_year")
        assert pairs.rows() == [("2023-24", "2024-25", "final"),
                                ("2024-25", "2025-26", "partial")], level
