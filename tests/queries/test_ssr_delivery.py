"""Reaching parents (queries/ssr_delivery.py) against counts made here from the Parquet files.

Deliveries and failures are planted through the data layer (``data.catalog.ssr_deliveries``) for a
hand-made story per student, whose expected status is written down below, not computed by
the code under test. Who counts is worked out here with Polars from the year's records:
SSR-eligible Summative records whose enrolled organisation the scope covers, counted under
the enrolled school, wherever the student tested (ELPAC.md §7: the SSR goes there).
"""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from data.catalog import ssr_deliveries as distribution
from data.results.store import Store
from queries.scope import Scope, ScopeError
from queries.snapshot import Snapshot
from queries.ssr_delivery import (
    may_use,
    read_coverage,
    record_delivery,
    resolve_failure,
    total_coverage,
    unreached_students,
)

YEAR = "2025-26"
LEA = "19619690000000"
"""Meadow Acres Unified, the tiny demo's largest LEA."""
SCHOOL = "19619693907856"
"""Carver Middle, its largest school."""
AS_OF = date(2026, 6, 30)
TODAY = date(2026, 8, 1)


def eligible(store: Store) -> pl.DataFrame:
    """The year's SSR-eligible Summative records, straight from the Parquet file."""
    return pl.read_parquet(store.year_files()[YEAR]).filter(
        (pl.col("record_type") == "21") & pl.col("is_ssr_eligible"))


def in_lea(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.filter(pl.col("enrolled_lea_code") == LEA)


def in_school(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.filter(pl.col("enrolled_school_code") == SCHOOL)


def released(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.filter(pl.col("ssr_available_date") <= AS_OF)


def csv_text(header: str, rows: list[str]) -> str:
    return "\r\n".join([header, *rows]) + "\r\n"


@pytest.fixture
def story(store_copy: Store) -> dict[str, str]:
    """Plant deliveries and failures; return each planted student's expected status."""
    rows = eligible(store_copy)
    here = released(in_school(rows)).get_column("ssid").sort().to_list()
    there = released(in_lea(rows).filter(pl.col("enrolled_school_code") != SCHOOL)).get_column(
        "ssid").sort().to_list()
    waiting = in_lea(rows).filter(pl.col("ssr_available_date").is_null()).get_column(
        "ssid").sort().to_list()
    elsewhere = released(rows.filter(pl.col("enrolled_lea_code") != LEA)).get_column(
        "ssid").sort().to_list()
    a, b, e, late = here[:4]
    c, d, f = there[:3]
    g, h = waiting[0], elsewhere[0]
    deliveries = [
        (a, "email", "2026-06-02"),
        (b, "email", "2026-06-02"),
        (c, "mail", "2026-06-02"), (c, "portal", "2026-06-20"),
        (f, "mail", "2026-06-05"),
        (g, "in_person", "2026-06-10"),   # no release date in the file, handed over anyway
        (h, "portal", "2026-06-03"),      # another LEA's student
        (late, "mail", "2026-07-15"),     # after the as-of date
    ]
    failures = [
        (b, "bounced", "2026-06-04", "550 no such user"),
        (c, "returned", "2026-06-12", "moved"),      # a later portal delivery resolves it
        (d, "bounced", "2026-06-04", ""),            # resolved by hand, never delivered
        (e, "returned", "2026-06-08", "no such address"),
        (f, "returned", "2026-06-05", "same day"),   # no delivery dated after it: still open
    ]
    loaded = distribution.import_deliveries(
        store_copy, csv_text("ssid,school_year,test,method,date",
                             [f"{s},{YEAR},summative,{m},{d_}" for s, m, d_ in deliveries]),
        file_name="d.csv", uploaded_by="t", today=TODAY)
    assert loaded.loaded, loaded.problems
    loaded = distribution.import_failures(
        store_copy, csv_text("ssid,school_year,kind,date,detail",
                             [f"{s},{YEAR},{k},{d_},{t}" for s, k, d_, t in failures]),
        file_name="f.csv", uploaded_by="t", today=TODAY)
    assert loaded.loaded, loaded.problems
    # d's bounce, marked resolved before the as-of date (a resolution after it would not count).
    distribution.resolve_failure(store_copy, 3, resolved_by="t", now=datetime(2026, 6, 20, 9))
    return {a: "delivered", b: "bounced", c: "delivered", d: "not_delivered",
            e: "returned", f: "returned", g: "delivered", h: "delivered",
            late: "not_delivered"}


def expected_status(frame: pl.DataFrame, story: dict[str, str]) -> pl.DataFrame:
    default = pl.when(pl.col("ssr_available_date") <= AS_OF).then(pl.lit("not_delivered")
                                                                 ).otherwise(pl.lit("none"))
    planted = pl.col("ssid").replace_strict(story, default=None, return_dtype=pl.String)
    return frame.with_columns(pl.coalesce(planted, default).alias("status"))


def expected_counts(frame: pl.DataFrame, story: dict[str, str]) -> pl.DataFrame:
    status = pl.col("status")
    counted = expected_status(frame, story).group_by(
        pl.col("enrolled_lea_code").alias("lea_code"),
        pl.col("enrolled_school_code").alias("school_code")).agg(
        pl.len().cast(pl.Int64).alias("n_eligible"),
        (pl.col("ssr_available_date") <= AS_OF).sum().cast(pl.Int64).alias("n_released"),
        (status == "delivered").sum().cast(pl.Int64).alias("n_delivered"),
        status.is_in(["bounced", "returned"]).sum().cast(pl.Int64).alias("n_failed"),
        (status == "not_delivered").sum().cast(pl.Int64).alias("n_not_delivered"))
    due = pl.col("n_delivered") + pl.col("n_failed") + pl.col("n_not_delivered")
    return counted.with_columns(
        pl.when(due > 0).then(pl.col("n_delivered") / due * 100).alias("pct_delivered")
    ).sort("lea_code", "school_code")


def test_coverage_by_school_matches_an_independent_count(store_copy: Store,
                                                         story: dict[str, str]) -> None:
    got = read_coverage(Snapshot(store_copy), scope=Scope.lea(LEA, pii=True), year=YEAR,
                        as_of=AS_OF)
    want = expected_counts(in_lea(eligible(store_copy)), story)

    assert_frame_equal(got.drop("name"), want)
    # Planted stories in this LEA: a, b, e and the late one at the school; c, d, f, g elsewhere.
    totals = total_coverage(got).row(0, named=True)
    assert (totals["n_delivered"], totals["n_failed"]) == (3, 3)
    assert got.filter(pl.col("school_code") == SCHOOL).item(0, "name") == "Carver Middle"


def test_totals_and_the_as_of_date(store_copy: Store, story: dict[str, str]) -> None:
    snap = Snapshot(store_copy)
    total = read_coverage(snap, scope=Scope.state(), year=YEAR, by=None, as_of=AS_OF)
    want = expected_counts(eligible(store_copy), story)
    assert total.drop("pct_delivered").row(0) == tuple(
        want.select(pl.col(c).sum() for c in total.columns[:-1]).row(0))
    # By LEA: the same students, grouped by enrolled LEA.
    by_lea = read_coverage(snap, scope=Scope.state(), year=YEAR, by="lea", as_of=AS_OF)
    assert by_lea.get_column("n_eligible").sum() == total.item(0, "n_eligible")
    assert by_lea.filter(pl.col("lea_code") == LEA).item(0, "name") == "Meadow Acres Unified"
    # Before any delivery nothing is delivered or came back, and fewer SSRs were out.
    early = read_coverage(snap, scope=Scope.state(), year=YEAR, by=None,
                          as_of=date(2026, 6, 1)).row(0, named=True)
    assert (early["n_delivered"], early["n_failed"]) == (0, 0)
    assert early["n_released"] == eligible(store_copy).filter(
        pl.col("ssr_available_date") <= date(2026, 6, 1)).height
    # After the late delivery, it counts.
    later = read_coverage(snap, scope=Scope.state(), year=YEAR, by=None,
                          as_of=date(2026, 7, 31)).row(0, named=True)
    assert later["n_delivered"] == total.item(0, "n_delivered") + 1


def test_a_site_administrator_counts_only_their_school(store_copy: Store,
                                                      story: dict[str, str]) -> None:
    got = read_coverage(Snapshot(store_copy), scope=Scope.school(SCHOOL, pii=True),
                        year=YEAR, as_of=AS_OF)
    want = expected_counts(in_school(eligible(store_copy)), story)

    assert got.get_column("school_code").to_list() == [SCHOOL]
    assert_frame_equal(got.drop("name"), want)
    assert (got.item(0, "n_delivered"), got.item(0, "n_failed")) == (1, 2)


def test_the_students_not_reached(store_copy: Store, story: dict[str, str]) -> None:
    got = unreached_students(Snapshot(store_copy), scope=Scope.lea(LEA, pii=True), year=YEAR,
                             as_of=AS_OF)
    want = expected_status(in_lea(eligible(store_copy)), story).filter(
        pl.col("status").is_in(["not_delivered", "bounced", "returned"]))

    assert sorted(got.select("ssid", "status").rows()) == sorted(
        want.select("ssid", "status").rows())
    assert got.height == got.get_column("ssid").n_unique()
    bounced = got.filter(pl.col("status") == "bounced").row(0, named=True)
    assert (bounced["last_failure_kind"], bounced["last_failure_on"],
            bounced["last_failure_detail"], bounced["n_deliveries"],
            bounced["last_method"]) == ("bounced", date(2026, 6, 4), "550 no such user", 1,
                                        "email")
    # Ordered by school, as a school works through its list.
    assert got.get_column("school_code").to_list() == sorted(got.get_column("school_code"))
    # A student reported here but enrolled in another LEA is that LEA's to reach.
    movers = eligible(store_copy).filter((pl.col("reporting_lea_code") == LEA)
                                         & (pl.col("enrolled_lea_code") != LEA))
    assert movers.height > 0
    assert not set(movers.get_column("ssid")) & set(got.get_column("ssid"))
    # And one enrolled here but tested in another LEA is this LEA's (if the demo has one).
    arrivals = eligible(store_copy).filter((pl.col("reporting_lea_code") != LEA)
                                           & (pl.col("enrolled_lea_code") == LEA))
    coverage = read_coverage(Snapshot(store_copy), scope=Scope.lea(LEA, pii=True), year=YEAR,
                             by=None, as_of=AS_OF)
    assert coverage.item(0, "n_eligible") == in_lea(eligible(store_copy)).height
    assert in_lea(eligible(store_copy)).height >= arrivals.height


def test_aggregate_only_scopes_get_counts_but_no_students(store_copy: Store,
                                                         story: dict[str, str]) -> None:
    snap = Snapshot(store_copy)
    board = Scope.lea(LEA)
    assert read_coverage(snap, scope=board, year=YEAR, by=None, as_of=AS_OF).item(
        0, "n_eligible") == in_lea(eligible(store_copy)).height
    with pytest.raises(ScopeError, match="aggregate results only"):
        unreached_students(snap, scope=board, year=YEAR)
    with pytest.raises(ScopeError, match="aggregate results only"):
        record_delivery(snap, board, ssid=next(iter(story)), year=YEAR, method="mail",
                        delivered_on=AS_OF, recorded_by="b")


def test_access_decides_whom_one_may_record_for(store_copy: Store,
                                               story: dict[str, str]) -> None:
    snap = Snapshot(store_copy)
    rows = eligible(store_copy)
    mine = in_school(rows).get_column("ssid").sort().to_list()
    other = in_lea(rows).filter(pl.col("enrolled_school_code") != SCHOOL).item(0, "ssid")
    check = may_use(snap, Scope.school(SCHOOL, pii=True))
    assert check(mine[0], YEAR) is None
    assert check(other, YEAR) == f"no Student Score Report for this SSID in {YEAR} in your access"
    assert check("0000000001", YEAR) == check(other, YEAR)  # unknown: the same words

    with pytest.raises(ScopeError, match="numbered 1 in your access"):
        resolve_failure(snap, Scope.school("19619690000001", pii=True), 1, resolved_by="x")
