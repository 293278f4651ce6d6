"""AppTest of the At a glance page, the dashboard's default page.

Every figure is recomputed here with Polars straight from the store's Parquet files:
SSRs from ``is_ssr_eligible``/``ssr_available_date`` under the enrolled LEA (ELPAC.md §7),
counts and levels from the records under the reporting (tested) LEA, TK left out from 2024-25.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from data.results.store import Store
from queries.labels import SUMMATIVE_LEVELS

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"


def run_app(monkeypatch: pytest.MonkeyPatch, store: Path, scope: str | None = None) -> AppTest:
    monkeypatch.setenv("ELPAC_STORE", str(store))
    if scope is not None:
        monkeypatch.setenv("ELPAC_SCOPE", scope)
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def records(store: Path, year: str) -> pl.DataFrame:
    frame = pl.read_parquet(Store(store).year_files()[year])
    tk = pl.col("is_tk").fill_null(False) & pl.lit(year >= "2024-25")
    return frame.with_columns(counted=~tk)


def metrics(at: AppTest) -> dict[str, tuple[str, str]]:
    return {m.label: (m.value, m.delta) for m in at.metric}


def ssr_expected(frame: pl.DataFrame, as_of: date, lea: str | None = None) -> tuple[int, int]:
    rows = frame.filter((pl.col("record_type") == "21") & pl.col("is_ssr_eligible"))
    if lea is not None:
        rows = rows.filter(pl.col("enrolled_lea_code") == lea)
    released = rows.filter(pl.col("ssr_available_date") <= as_of)
    return rows.height, released.height


def counts_expected(frame: pl.DataFrame, lea: str | None = None) -> dict[str, int]:
    rows = frame.filter((pl.col("record_type") == "21") & pl.col("counted"))
    if lea is not None:
        rows = rows.filter(pl.col("reporting_lea_code") == lea)
    return {"enrolled": rows.height, "tested": int(rows["is_tested"].sum()),
            "scored": int((rows["include_indicator"] == "Y").sum())}


def test_default_page_shows_the_state_this_year_and_last(monkeypatch, tiny_store_path):
    at = run_app(monkeypatch, tiny_store_path)
    store = Store(tiny_store_path)
    years = sorted(store.year_files())
    year, last = years[-1], years[-2]
    now, before = records(tiny_store_path, year), records(tiny_store_path, last)

    assert [t.value for t in at.title] == ["At a glance"]
    # Defaults to the newest file's creation date.
    as_of = at.date_input(key="glance_as_of").value
    assert as_of == now.get_column("report_created_date").max()
    eligible, released = ssr_expected(now, as_of)
    shown = metrics(at)
    assert shown["SSRs released"][0] == f"{released / eligible * 100:.1f}%"
    assert shown["Students with a released SSR"] == (f"{released:,}",
                                                     f"of {eligible:,} with an SSR")

    expected, previous = counts_expected(now), counts_expected(before)
    assert shown["Students enrolled"] == (f"{expected['enrolled']:,}",
                                          f"{expected['enrolled'] - previous['enrolled']:+,}"
                                          f" on {last}")
    assert shown["Students tested"][0] == f"{expected['tested']:,}"
    assert shown["Tested with scores"] == (f"{expected['scored']:,}",
                                           f"{expected['scored'] - previous['scored']:+,}"
                                           f" on {last}")


def test_the_demo_year_is_partial_and_says_so(monkeypatch, tiny_store_path):
    at = run_app(monkeypatch, tiny_store_path)
    # The tiny demo's last year is loaded from a partial (spring) file.
    assert len(at.warning) == 1
    assert "results are partial" in at.warning[0].value

    at.selectbox(key="ctx_year").set_value("2023-24").run()
    assert not at.exception
    assert not at.warning


def test_level_distribution_matches_the_records(monkeypatch, tiny_store_path):
    at = run_app(monkeypatch, tiny_store_path)
    year = at.selectbox(key="ctx_year").value
    table = pl.from_pandas(at.table[-1].value)
    assert table.columns == ["School year", "Tested with scores", *SUMMATIVE_LEVELS]
    shown = table.filter(pl.col("School year") == year).row(0, named=True)
    # The page shows text ("1,234", "20.4%"): read it back as numbers.
    row = {"n_scored": int(shown["Tested with scores"].replace(",", "")),
           **{name: float(shown[name].rstrip("%")) for name in SUMMATIVE_LEVELS}}

    frame = records(tiny_store_path, year).filter(
        (pl.col("record_type") == "21") & pl.col("counted")
        & (pl.col("include_indicator") == "Y") & pl.col("overall_scale_score").is_not_null())
    assert row["n_scored"] == frame.height
    for level, name in enumerate(SUMMATIVE_LEVELS, 1):
        share = (frame["overall_level"] == level).sum() / frame.height * 100
        assert row[name] == pytest.approx(share, abs=0.05)  # shown to one decimal
    # Percentages are of students with scores: they sum to 100 (give or take rounding).
    assert sum(row[n] for n in SUMMATIVE_LEVELS) == pytest.approx(100, abs=0.2)
    # The chart says the same in words (each bar's aria-label), to one decimal.
    chart = at.get("html")[-1].proto.body
    words = ", ".join(f"{name} {row[name]:.1f}%" for name in SUMMATIVE_LEVELS)
    assert f'aria-label="{year}: {words}"' in chart


def test_ssr_breakdown_by_grade_for_one_lea(monkeypatch, tiny_store_path):
    at = run_app(monkeypatch, tiny_store_path)
    leas = at.selectbox(key="ctx_lea").options
    at.selectbox(key="ctx_lea").select_index(1).run()
    lea = at.selectbox(key="ctx_lea").value
    assert lea != "00"
    assert lea in leas[1]  # options are shown as "Name (code)"
    year = at.selectbox(key="ctx_year").value
    as_of = at.date_input(key="glance_as_of").value
    frame = records(tiny_store_path, year)

    eligible, released = ssr_expected(frame, as_of, lea)
    assert metrics(at)["Students with a released SSR"] == (f"{released:,}",
                                                           f"of {eligible:,} with an SSR")

    assert at.segmented_control(key="glance_ssr_by").options == ["School", "Grade", "Language"]
    at.segmented_control(key="glance_ssr_by").set_value("grade").run()
    assert not at.exception
    table = pl.from_pandas(at.dataframe[0].value)
    rows = frame.filter((pl.col("record_type") == "21") & pl.col("is_ssr_eligible")
                        & (pl.col("enrolled_lea_code") == lea))
    expected = rows.group_by("grade_assessed").agg(
        n_eligible=pl.len(), n_released=(pl.col("ssr_available_date") <= as_of).sum())
    assert table["n_eligible"].sum() == eligible
    names = {"KN": "Kindergarten", **{f"{g:02d}": f"Grade {g}" for g in range(1, 13)}}
    assert {r["grade_name"]: (r["n_eligible"], r["n_released"])
            for r in table.iter_rows(named=True)} == {
        names[g]: (n, r) for g, n, r in expected.iter_rows()}
    # Kindergarten first, then grades in order (not "Grade 10" before "Grade 2").
    order = [g for g in names.values() if g in set(table["grade_name"])]
    assert table["grade_name"].to_list() == order


def test_as_of_date_moves_the_released_count(monkeypatch, tiny_store_path):
    at = run_app(monkeypatch, tiny_store_path)
    year = at.selectbox(key="ctx_year").value
    frame = records(tiny_store_path, year)
    dates = frame.get_column("ssr_available_date").drop_nulls()
    assert dates.len() > 0
    early = dates.min()
    at.date_input(key="glance_as_of").set_value(early).run()
    assert not at.exception
    eligible, released = ssr_expected(frame, early)
    assert 0 < released < eligible
    assert metrics(at)["Students with a released SSR"] == (f"{released:,}",
                                                           f"of {eligible:,} with an SSR")


def test_years_without_release_dates_say_so(monkeypatch, tiny_store_path):
    at = run_app(monkeypatch, tiny_store_path)
    at.selectbox(key="ctx_year").set_value("2022-23").run()
    assert not at.exception
    assert metrics(at)["SSRs released"][0] == "not recorded"
    eligible, _ = ssr_expected(records(tiny_store_path, "2022-23"), date(2030, 1, 1))
    assert metrics(at)["Students with an SSR"][0] == f"{eligible:,}"


def test_an_lea_scope_sees_only_its_lea(monkeypatch, tiny_store_path):
    lea = (pl.read_parquet(Store(tiny_store_path).year_files()["2025-26"])
           .get_column("reporting_lea_code").mode().sort().item(0))
    at = run_app(monkeypatch, tiny_store_path, scope=f'{{"leas": ["{lea}"]}}')
    assert at.selectbox(key="ctx_lea").options == [
        o for o in at.selectbox(key="ctx_lea").options if lea in o]
    assert at.selectbox(key="ctx_lea").value == lea
    frame = records(tiny_store_path, at.selectbox(key="ctx_year").value)
    assert metrics(at)["Students tested"][0] == f"{counts_expected(frame, lea)['tested']:,}"


def test_alternate_test(monkeypatch, tiny_store_path):
    at = run_app(monkeypatch, tiny_store_path)
    at.selectbox(key="ctx_year").set_value("2024-25").run()
    at.segmented_control(key="glance_test").set_value("alternate").run()
    assert not at.exception
    frame = records(tiny_store_path, "2024-25").filter(
        (pl.col("record_type") == "23") & pl.col("counted"))
    assert metrics(at)["Students tested"][0] == f"{int(frame['is_tested'].sum()):,}"
    table = pl.from_pandas(at.table[-1].value)
    assert table.columns[-1] == "Fluent English Proficient"


def test_links_lead_to_the_other_pages(monkeypatch, tiny_store_path):
    at = run_app(monkeypatch, tiny_store_path)
    # A page link carries the url path of the page it opens.
    assert {link.proto.page for link in at.get("page_link")} == {"report", "students",
                                                                 "exports"}


def ssr_rows(frame: pl.DataFrame, lea: str | None = None) -> pl.DataFrame:
    """SSR-eligible Summative records, under their enrolled LEA (where the SSR goes, §7)."""
    rows = frame.filter((pl.col("record_type") == "21") & pl.col("is_ssr_eligible"))
    return rows if lea is None else rows.filter(pl.col("enrolled_lea_code") == lea)


def breakdown(at: AppTest, by: str) -> tuple[pl.DataFrame, dict]:
    """Break the SSRs down by ``by``: the table shown and the chart's bar trace."""
    at.segmented_control(key="glance_ssr_by").set_value(by).run()
    assert not at.exception, [e.value for e in at.exception]
    (chart,) = at.get("plotly_chart")
    return pl.from_pandas(at.dataframe[0].value), json.loads(chart.proto.spec)["data"][0]


def test_ssr_breakdown_by_school_for_one_lea(monkeypatch, tiny_store_path):
    at = run_app(monkeypatch, tiny_store_path)
    at.selectbox(key="ctx_lea").select_index(1).run()
    lea = at.selectbox(key="ctx_lea").value
    year = at.selectbox(key="ctx_year").value
    as_of = at.date_input(key="glance_as_of").value
    table, bars = breakdown(at, "school")

    # Independently: each enrolled school's SSRs, released by the as-of date.
    rows = ssr_rows(records(tiny_store_path, year), lea)
    want = rows.group_by(pl.col("enrolled_school_code").fill_null("")).agg(
        pl.col("enrolled_school_name").drop_nulls().first(), pl.len(),
        (pl.col("ssr_available_date") <= as_of).sum())
    assert want.height > 1
    assert {r["cds_code"]: (r["name"], r["n_eligible"], r["n_released"])
            for r in table.iter_rows(named=True)} == {
        code: (name, n, released) for code, name, n, released in want.iter_rows()}
    assert table["n_eligible"].sum() == rows.height
    for r in table.iter_rows(named=True):
        assert r["pct_released"] == pytest.approx(r["n_released"] / r["n_eligible"] * 100)
    # Listed by name; the chart has a bar per school, named with its CDS code.
    assert table["name"].to_list() == sorted(table["name"].to_list())
    assert dict(zip(bars["y"], bars["x"], strict=True)) == pytest.approx(
        {f"{r['name']} ({r['cds_code']})": r["pct_released"] for r in table.iter_rows(named=True)})


LANGUAGE_LABELS = {"ENG": "English only", "ENG;SPA": "English and Spanish",
                   "ENG;VIE": "English and Vietnamese", "ENG;FIL": "English and Filipino",
                   "ENG;KOR": "English and Korean", "ENG;CHI": "English and Chinese (Traditional)"}
"""Each ``ssr_languages`` value and the second SSR language the page names for it."""


@pytest.mark.parametrize("where", ["California", "one LEA"])
def test_ssr_breakdown_by_language(monkeypatch, tiny_store_path, where):
    at = run_app(monkeypatch, tiny_store_path)
    if where == "one LEA":
        at.selectbox(key="ctx_lea").select_index(1).run()
    lea = at.selectbox(key="ctx_lea").value
    year = at.selectbox(key="ctx_year").value
    as_of = at.date_input(key="glance_as_of").value
    table, bars = breakdown(at, "language")

    rows = ssr_rows(records(tiny_store_path, year), None if lea == "00" else lea)
    want = rows.group_by(pl.col("ssr_languages").fill_null("ENG")).agg(
        pl.len(), (pl.col("ssr_available_date") <= as_of).sum())
    assert want.height > 1
    assert {r["language"]: (r["n_eligible"], r["n_released"])
            for r in table.iter_rows(named=True)} == {
        LANGUAGE_LABELS[code]: (n, released) for code, n, released in want.iter_rows()}
    assert table["n_eligible"].sum() == rows.height
    # Largest first, in the table and the chart alike.
    assert table["n_eligible"].to_list() == sorted(table["n_eligible"].to_list(), reverse=True)
    assert bars["y"] == table["language"].to_list()
    assert bars["x"] == pytest.approx(table["pct_released"].to_list())
    # Second-language SSRs (the metric) are the rows other than English only.
    second = rows.filter(pl.col("ssr_languages").fill_null("ENG") != "ENG")
    released = second.filter(pl.col("ssr_available_date") <= as_of).height
    assert metrics(at)["Second-language SSRs released"] == (
        f"{released:,}", f"of {second.height:,} students with one")


def test_totals_reconcile_with_the_district_export(monkeypatch, tiny_store_path):
    # The issue: an LEA's At a glance said 3,981 enrolled and 3,914 with scores while its
    # District/School export had 4,035 rows, 3,967 with IncludeIndicator Y; the 54 TK students
    # made the difference and nothing said so. Same rule on both sides now, and a note.
    from queries.district_export import read_district_results
    from queries.scope import Scope
    from queries.snapshot import Snapshot

    year = "2025-26"
    frame = records(tiny_store_path, year)
    tk = frame.filter(~pl.col("counted") & (pl.col("record_type") == "21"))
    lea = tk.get_column("reporting_lea_code").mode().sort().item(0)
    at = run_app(monkeypatch, tiny_store_path, scope=f'{{"leas": ["{lea}"], "pii": true}}')
    assert at.selectbox(key="ctx_year").value == year
    export = read_district_results(Snapshot(tiny_store_path), scope=Scope.lea(lea, pii=True),
                                   year=year, lea=lea)
    counted = export.filter(pl.col("Transitional Kindergarten") != "Yes")
    shown = metrics(at)
    assert shown["Students enrolled"][0] == f"{counted.height:,}"
    assert shown["Tested with scores"][0] == (
        f"{counted.filter(pl.col('Include Indicator') == 'Y').height:,}")
    left_out = export.height - counted.height
    assert left_out == tk.filter(pl.col("reporting_lea_code") == lea).height > 0
    assert any(c.value.startswith(f"{left_out:,} transitional kindergarten student")
               for c in at.caption), [c.value for c in at.caption]
