"""Which SSRs exist and whose they are: ``queries.ssr_documents`` on the tiny demo store.

Counted here from the Parquet records: an SSR per record with ``SSREligible`` = Y and an
overall score (ELPAC.md §7), under the student's enrolled LEA and school, within the scope.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl
import pytest

from data.ssr_languages import clear_languages, set_languages
from queries.scope import Scope, ScopeError
from queries.snapshot import Snapshot
from queries.ssr_documents import NoReportError, list_ssr_contents, read_ssr_content

if TYPE_CHECKING:
    from data.store import Store


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
    mine = _eligible(records).filter((pl.col("enrolled_lea_code") == lea)
                                     & (pl.col("reporting_lea_code") == lea))
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
