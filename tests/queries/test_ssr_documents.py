"""Which SSRs exist and whose they are: ``queries.ssr_documents`` on the tiny demo store.

Counted here from the Parquet records: an SSR per record with ``SSREligible`` = Y and an
overall score (ELPAC.md §7), under the student's enrolled LEA and school, within the scope.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl
import pytest

from data.catalog.ssr_languages import clear_languages, set_languages
from queries.scope import Scope, ScopeError
from queries.snapshot import Snapshot
from queries.ssr_documents import NoReportError, list_ssr_contents, read_ssr_content

if TYPE_CHECKING:
    from data.results.store import Store



@pytest.fixture
def world(store_copy: Store) -> tuple[Snapshot, str, pl.DataFrame]:
    snap = Snapshot(store_copy)
    year = snap.years[-2]
    records = pl.read_parquet(snap.year_files[year]).filter(pl.col("record_type") == "21")
    return snap, year, records


def _eligible(records: pl.DataFrame) -> pl.DataFrame:
    return records.filter(pl.col("is_ssr_eligible").fill_null(False)
                          & pl.col("overall_scale_score").is_not_null())


def test_an_lea_lists_its_ssrs(world: tuple[Snapshot, str, pl.DataFrame]) -> None:
    snap, year, records = world
    lea = records.group_by("enrolled_lea_code").len().sort(
        ["len", "enrolled_lea_code"], descending=[True, False]).item(0, 0)
    scope = Scope.lea(lea, pii=True)
    listed = list_ssr_contents(snap, scope=scope, year=year, lea=lea)
    # The SSR goes to the enrolled LEA (§7), also for a student tested in another LEA.
    mine = _eligible(records).filter(pl.col("enrolled_lea_code") == lea)
    assert sorted(c.ssid for c in listed) == sorted(mine.get_column("ssid"))
    spanish = list_ssr_contents(snap, scope=scope, year=year, lea=lea, language="SPA")
    assert sorted(c.ssid for c in spanish) == sorted(mine.filter(
        pl.col("ssr_languages") == "ENG;SPA").get_column("ssid"))
    one = listed[0]
    assert read_ssr_content(snap, one.ssid, scope=scope, year=year) == one
    # Another LEA's administrator cannot have it, and is not told whether it exists.
    with pytest.raises(NoReportError):
        read_ssr_content(snap, one.ssid, scope=Scope.lea("01611190000000", pii=True),
                         year=year)
    with pytest.raises(ScopeError):
        read_ssr_content(snap, one.ssid, scope=Scope.lea(lea), year=year)
    with pytest.raises(ScopeError):
        list_ssr_contents(snap, scope=Scope.lea(lea), year=year)


def test_a_coordinators_language_choice_wins(world: tuple[Snapshot, str, pl.DataFrame]
                                              ) -> None:
    snap, year, records = world
    student = _eligible(records).filter(pl.col("ssr_languages") == "ENG;SPA").row(
        0, named=True)
    scope = Scope.state(pii=True)
    set_languages(snap.store, student["ssid"], year, "21", "KOR", set_by="lea@x.org")
    changed = read_ssr_content(snap, student["ssid"], scope=scope, year=year)
    assert changed.languages == ("ENG", "KOR")
    korean = list_ssr_contents(snap, scope=scope, year=year, language="KOR",
                               school=student["enrolled_school_code"])
    assert student["ssid"] in {c.ssid for c in korean}
    spanish = list_ssr_contents(snap, scope=scope, year=year, language="SPA",
                                school=student["enrolled_school_code"])
    assert student["ssid"] not in {c.ssid for c in spanish}
    set_languages(snap.store, student["ssid"], year, "21", None, set_by="lea@x.org")
    assert read_ssr_content(snap, student["ssid"], scope=scope, year=year).languages == (
        "ENG",)
    clear_languages(snap.store, student["ssid"], year, "21")
    assert read_ssr_content(snap, student["ssid"], scope=scope, year=year).languages == (
        "ENG", "SPA")


def test_the_score_history_is_the_students_wherever_they_tested(store_copy: Store) -> None:
    snap = Snapshot(store_copy)
    every = pl.concat([pl.read_parquet(p).with_columns(pl.lit(y).alias("school_year"))
                       for y, p in sorted(snap.year_files.items())], how="diagonal_relaxed")
    summative = every.filter(pl.col("record_type") == "21")
    year = snap.years[-1]
    now = _eligible(summative.filter(pl.col("school_year") == year))
    # A student whose earlier record is under another LEA than this year's enrolment.
    before = summative.filter(pl.col("school_year") < year).select(
        "ssid", pl.col("reporting_lea_code").alias("before_lea"))
    movers = now.join(before, on="ssid").filter(
        pl.col("before_lea") != pl.col("enrolled_lea_code"))
    assert movers.height, "the tiny demo has movers"
    student = movers.sort("ssid").row(0, named=True)
    content = read_ssr_content(snap, student["ssid"], year=year,
                               scope=Scope.lea(student["enrolled_lea_code"], pii=True))
    history = summative.filter((pl.col("ssid") == student["ssid"])
                               & (pl.col("school_year") < year)
                               & (pl.col("school_year") != "2019-20"))
    assert sorted(h.school_year for h in content.history) == sorted(
        history.get_column("school_year"))


@pytest.mark.parametrize(("option", "value"), [("lea", "1961969' OR 1=1 --"),
                                               ("school", "123"), ("grade", "13")])
def test_malformed_choices_are_refused(world: tuple[Snapshot, str, pl.DataFrame],
                                       option: str, value: str) -> None:
    snap, year, _ = world
    with pytest.raises(ValueError, match="must be"):
        list_ssr_contents(snap, scope=Scope.state(pii=True), year=year, **{option: value})
