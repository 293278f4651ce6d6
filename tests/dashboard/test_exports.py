"""AppTest of the Exports page (dashboard/app_pages/exports.py) through the router.

Widgets are driven by key; the counts the page reports are checked against the year's
Parquet records filtered here with Polars. The files' bytes are checked in the browser test
(AppTest does not expose a download's contents).
"""

from __future__ import annotations

import html
import json
import re
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from data.results.store import Store

if TYPE_CHECKING:
    pass

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
YEAR = "2023-24"
LEA = "19619690000000"
"""The tiny demo's largest LEA in 2023-24, with students moving in and out."""
TODAY = f"{date.today():%Y%m%d}"


def records(store: Path) -> pl.DataFrame:
    return pl.read_parquet(Store(store).year_files()[YEAR])


def open_exports(monkeypatch: pytest.MonkeyPatch, store: Path, *, lea: str | None = LEA,
                 scope: dict[str, object] | None = None) -> AppTest:
    monkeypatch.setenv("ELPAC_STORE", str(store))
    if scope is not None:
        monkeypatch.setenv("ELPAC_SCOPE", json.dumps(scope))
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    at.switch_page("app_pages/exports.py").run()
    at.selectbox(key="ctx_year").select(YEAR).run()
    if lea is not None:
        at.selectbox(key="ctx_lea").select(lea).run()
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.title] == ["Exports"]
    return at


def build(at: AppTest) -> AppTest:
    at.button(key="exports_build").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def offered(at: AppTest) -> list[str]:
    """Labels of the download links on the page (file_downloads.offer), without the size."""
    return [re.sub(r" \([\d.,]+ MB\)$", "", label) for label, _ in download_links(at)]


def download_links(at: AppTest) -> list[tuple[str, str]]:
    """(label, address) of each built file offered (a link streamed from disk)."""
    found = []
    for element in at.get("html"):
        for href, label in re.findall(r'<a class="elpac-download" href="([^"]+)"[^>]*>([^<]+)</a>',
                                      element.proto.body):
            found.append((html.unescape(label), href))
    return found


def test_district_export_counts_and_names_the_file(monkeypatch: pytest.MonkeyPatch,
                                                   tiny_store_path: Path) -> None:
    at = open_exports(monkeypatch, tiny_store_path)
    assert at.radio(key="exports_kind").value == "district"
    assert not offered(at)  # built on click only

    build(at)

    n = records(tiny_store_path).filter((pl.col("reporting_lea_code") == LEA)
                                        & (pl.col("record_type") == "21")).height
    name = f"elpac-district-summative-{LEA}-{YEAR}-{TODAY}.csv"
    assert [s.value for s in at.success] == [f"{n:,} records: `{name}`"]
    assert offered(at) == [f"Download {name}"]
    (_, link), = download_links(at)
    assert link.startswith("/download/")  # streamed from disk by dashboard.web
    assert at.get("status")[0].label == f"Built {name}"


def test_district_school_choice_and_excel(monkeypatch: pytest.MonkeyPatch,
                                          tiny_store_path: Path) -> None:
    at = open_exports(monkeypatch, tiny_store_path)
    year = records(tiny_store_path).filter(pl.col("reporting_lea_code") == LEA)
    schools = sorted(year["reporting_school_code"].drop_nulls().unique())
    box = at.selectbox(key="exports_district_school")
    assert box.options[0] == "Whole LEA"
    assert len(box.options) == 1 + len(schools)

    school = year.filter(pl.col("record_type") == "21")["reporting_school_code"].mode().sort(
    ).item(0)
    box.set_value(school).run()
    at.radio(key="exports_district_format").set_value("xlsx").run()
    build(at)

    n = year.filter((pl.col("reporting_school_code") == school)
                    & (pl.col("record_type") == "21")).height
    name = f"elpac-district-summative-{school}-{YEAR}-{TODAY}.xlsx"
    assert [s.value for s in at.success] == [f"{n:,} records: `{name}`"]
    assert offered(at) == [f"Download {name}"]


def test_district_needs_an_lea_not_california(monkeypatch: pytest.MonkeyPatch,
                                              tiny_store_path: Path) -> None:
    at = open_exports(monkeypatch, tiny_store_path, lea=None)
    assert at.selectbox(key="ctx_lea").value == "00"
    assert [i.value for i in at.info] == [
        "Choose an LEA in the sidebar: this export covers one LEA or one of its schools."]
    assert not at.button


@pytest.mark.parametrize("by", ["tested", "enrolled"])
def test_ssdf_extract_counts_the_sides_records(monkeypatch: pytest.MonkeyPatch,
                                               tiny_store_path: Path, by: str) -> None:
    at = open_exports(monkeypatch, tiny_store_path)
    at.radio(key="exports_kind").set_value("ssdf").run()
    assert at.date_input(key=f"exports_ssdf_from_{YEAR}").value == date(2024, 2, 1)
    assert at.date_input(key=f"exports_ssdf_to_{YEAR}").value is None
    at.radio(key="exports_ssdf_by").set_value(by).run()
    build(at)

    n = records(tiny_store_path).filter(pl.col(f"{by}_lea_code") == LEA).height
    # The default window starts on February 1 of the spring; the name says so.
    name = f"elpac-ssdf-{by}-{LEA}-{YEAR}-scores-20240201-to-open-{TODAY}.csv"
    assert [s.value for s in at.success] == [f"{n:,} records: `{name}`"]
    assert offered(at) == [f"Download {name}"]


def test_ssdf_score_dates_and_excel(monkeypatch: pytest.MonkeyPatch,
                                    tiny_store_path: Path) -> None:
    year = records(tiny_store_path).filter(pl.col("tested_lea_code") == LEA)
    day = year["score_available_date"].drop_nulls().mode().sort().item(0)
    at = open_exports(monkeypatch, tiny_store_path)
    at.radio(key="exports_kind").set_value("ssdf").run()
    at.date_input(key=f"exports_ssdf_from_{YEAR}").set_value(day).run()
    at.date_input(key=f"exports_ssdf_to_{YEAR}").set_value(day).run()
    at.checkbox(key="exports_ssdf_scored_only").check().run()
    at.radio(key="exports_ssdf_format").set_value("xlsx").run()
    assert "1,048,575 rows a sheet" in " ".join(c.value for c in at.caption)
    build(at)

    n = year.filter(pl.col("score_available_date") == day).height
    assert n > 1
    # Two extracts with different filters never share a name (issue 12).
    name = (f"elpac-ssdf-tested-{LEA}-{YEAR}-scores-{day:%Y%m%d}-to-{day:%Y%m%d}-scored-"
            f"{TODAY}.xlsx")
    assert [s.value for s in at.success] == [f"{n:,} records: `{name}`"]


def test_ssdf_dates_in_the_wrong_order_say_what_to_do(monkeypatch: pytest.MonkeyPatch,
                                                      tiny_store_path: Path) -> None:
    at = open_exports(monkeypatch, tiny_store_path)
    at.radio(key="exports_kind").set_value("ssdf").run()
    at.date_input(key=f"exports_ssdf_to_{YEAR}").set_value(date(2024, 1, 15)).run()
    build(at)

    [error] = at.error
    assert "is after the end date" in error.value
    assert "Choose an end date on or after the start date." in error.value
    assert not offered(at)


def test_an_empty_extract_is_not_offered(monkeypatch: pytest.MonkeyPatch,
                                         tiny_store_path: Path) -> None:
    at = open_exports(monkeypatch, tiny_store_path)
    at.radio(key="exports_kind").set_value("ssdf").run()
    at.date_input(key=f"exports_ssdf_from_{YEAR}").set_value(date(2024, 9, 1)).run()
    at.checkbox(key="exports_ssdf_scored_only").check().run()
    build(at)

    assert [w.value for w in at.warning] == [
        "No records match these choices. Widen the dates or choose another LEA, school or "
        "test."]
    assert not offered(at)


def test_research_file_for_the_lea(monkeypatch: pytest.MonkeyPatch,
                                   tiny_store_path: Path) -> None:
    from queries.research import research_rows
    from queries.scope import Scope
    from queries.snapshot import Snapshot

    at = open_exports(monkeypatch, tiny_store_path)
    at.radio(key="exports_kind").set_value("research").run()
    at.radio(key="exports_research_test").set_value("alternate").run()
    build(at)

    n = research_rows(Snapshot(tiny_store_path), year=YEAR, test="alternate",
                      scope=Scope.state(), lea=LEA, suppress=True).height
    name = f"elpac-research-alternate-{LEA}-{YEAR}-{TODAY}.txt"
    assert [s.value for s in at.success] == [f"{n:,} rows: `{name}`"]
    assert offered(at) == [f"Download {name}"]


def test_a_changed_choice_withdraws_the_built_file(monkeypatch: pytest.MonkeyPatch,
                                                   tiny_store_path: Path) -> None:
    at = build(open_exports(monkeypatch, tiny_store_path))
    assert offered(at)
    at.radio(key="exports_district_test").set_value("alternate").run()

    assert not at.exception
    assert not offered(at)
    assert "build the export again" in " ".join(c.value for c in at.caption)


def test_without_student_access_only_the_research_file(monkeypatch: pytest.MonkeyPatch,
                                                        tiny_store_path: Path) -> None:
    at = open_exports(monkeypatch, tiny_store_path, scope={"leas": [LEA], "pii": False})
    build(at)
    [error] = at.error
    assert error.value.startswith("Student-level exports need an account that may see "
                                  "student records.")
    assert not offered(at)

    at.radio(key="exports_kind").set_value("ssdf").run()
    build(at)
    assert "may see student records" in at.error[0].value
    assert not offered(at)

    at.radio(key="exports_kind").set_value("research").run()
    build(at)
    assert not at.error
    assert len(offered(at)) == 1


def test_an_lea_scope_sees_its_own_lea_only(monkeypatch: pytest.MonkeyPatch,
                                            tiny_store_path: Path) -> None:
    at = open_exports(monkeypatch, tiny_store_path, lea=None,
                      scope={"leas": [LEA], "pii": True})
    [only] = at.selectbox(key="ctx_lea").options
    assert only.endswith(f"({LEA})")
    at.radio(key="exports_kind").set_value("ssdf").run()
    build(at)
    n = records(tiny_store_path).filter(pl.col("tested_lea_code") == LEA).height
    assert at.success[0].value.startswith(f"{n:,} records: `elpac-ssdf-tested-{LEA}-")
