"""AppTest of the Custom report builder's other options (dashboard/report_form.py).

``test_report.py`` drives the breakdown, subgroups, links and saved reports; this file drives
the rest of what the builder offers: advanced filters, comparison rows, completeness, grades,
"add their schools", the Alternate test, Composite reports, county, school and state rows, the
longitudinal All students report and its mean chart, and Presentation mode over a cohort's
level transitions. Every number checked is computed here with Polars straight from the store's
Parquet files (ELPAC.md §4: enrolled = every reported record, tested = TestedStatus Y, with
scores = IncludeIndicator Y, a measure's levels over the records with its scale score),
never through ``queries``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from data.results.store import Store

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
LEA = "19619690000000"
"""Meadow Acres Unified, the tiny store's largest LEA."""
COUNTY = LEA[:2]
YEAR = "2024-25"
SUMMATIVE, ALTERNATE = "21", "23"


# -- driving the page ----------------------------------------------------------------------

def open_report(monkeypatch: pytest.MonkeyPatch, store: Path, *, lea: str = LEA,
                year: str = YEAR) -> AppTest:
    """The report page with the sidebar set to ``lea`` and ``year`` (statewide scope)."""
    monkeypatch.setenv("ELPAC_STORE", str(store))
    monkeypatch.delenv("ELPAC_SCOPE", raising=False)
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.switch_page("app_pages/report.py").run()
    at.selectbox(key="ctx_year").select(year).run()
    at.selectbox(key="ctx_lea").select(lea).run()
    return ok(at)


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def run(at: AppTest) -> AppTest:
    at.button(key="report_run_button").click().run()
    return ok(at)


def table(at: AppTest, index: int = 0) -> pl.DataFrame:
    return pl.from_pandas(at.dataframe[index].value)


def by_cds(frame: pl.DataFrame) -> dict[str, dict[str, object]]:
    """Rows of a report table with one row per organisation, by CDS code."""
    assert frame.get_column("cds_code").n_unique() == frame.height
    return {r["cds_code"]: r for r in frame.iter_rows(named=True)}


def captions(at: AppTest) -> str:
    return " ".join(c.value for c in at.caption)


# -- the independent computation -----------------------------------------------------------

def records(store: Path, year: str = YEAR) -> pl.DataFrame:
    """One year's reported records (TK left out from 2024-25), from the store's Parquet."""
    return pl.read_parquet(Store(store).year_files()[year]).filter(pl.col("is_reported"))


def expected(rows: pl.DataFrame, *, measure: str = "overall", levels: int = 4
             ) -> dict[str, float | None]:
    """A report row over ``rows``: counts, the measure's mean, error and levels (ELPAC.md §4)."""
    scored = rows.filter(pl.col("include_indicator") == "Y")
    with_score = scored.filter(pl.col(f"{measure}_scale_score").is_not_null())
    scores = with_score.get_column(f"{measure}_scale_score").cast(pl.Float64)
    n = with_score.height
    out: dict[str, float | None] = {
        "n_enrolled": rows.height, "n_tested": int(rows.get_column("is_tested").sum()),
        "n_scored": scored.height,
        "mean_scale_score": scores.mean() if n else None,  # type: ignore[dict-item]
        "se_scale_score": scores.std() / math.sqrt(n) if n > 1 else None,  # type: ignore[operator]
    }
    if measure != "overall":
        out["n_measure"] = n
    for k in range(1, levels + 1):
        count = with_score.filter(pl.col(f"{measure}_level") == k).height
        out[f"n_level_{k}"] = count
        out[f"pct_level_{k}"] = count / n * 100 if n else None
    return out


def same(shown: object, want: float | None) -> bool:
    """Equal numbers, or both empty (None or NaN)."""
    empty = shown is None or (isinstance(shown, float) and math.isnan(shown))
    if want is None:
        return empty
    return not empty and shown == pytest.approx(want)


def assert_row(shown: dict[str, object], want: dict[str, float | None]) -> None:
    """Every column the table shows that ``want`` has, equal (percents or counts)."""
    checked = [k for k in want if k in shown]
    assert {"n_enrolled", "n_tested", "n_scored"} <= set(checked)
    assert any(k.startswith(("pct_level_", "n_level_")) for k in checked)
    wrong = {k: (shown[k], want[k]) for k in checked if not same(shown[k], want[k])}
    assert not wrong, wrong


def summative(store: Path, where: pl.Expr, year: str = YEAR) -> pl.DataFrame:
    return records(store, year).filter((pl.col("record_type") == SUMMATIVE) & where)


IN_LEA = pl.col("reporting_lea_code") == LEA


# -- the builder's options -----------------------------------------------------------------

def test_advanced_filters_restrict_every_row(monkeypatch: pytest.MonkeyPatch,
                                             tiny_store_path: Path) -> None:
    at = open_report(monkeypatch, tiny_store_path)
    # Female, and Hispanic or Asian: OR within a dimension, AND across dimensions.
    at.multiselect(key="report_filters").set_value(["004", "078", "076"]).run()
    at.selectbox(key="report_breakdown").select("economic").run()
    run(at)

    shown = table(at)
    girls = IN_LEA & (pl.col("gender") == "F") & pl.col("ethnicity").is_in(["500", "200"])
    want = summative(tiny_store_path, girls)
    assert 0 < want.height < summative(tiny_store_path, IN_LEA).height
    rows = {r["row_label"]: r for r in shown.iter_rows(named=True)}
    assert_row(rows["All students"], expected(want))
    poor = pl.col("is_economically_disadvantaged").fill_null(False)
    assert_row(rows["Economically disadvantaged"], expected(want.filter(poor)))
    assert_row(rows["Not economically disadvantaged"],
               expected(want.filter(pl.col("is_economically_disadvantaged") == False)))  # noqa: E712
    # The subtitle says which students the report is about.
    assert "Only Female and Hispanic or Latino or Asian" in captions(at)


def test_comparison_rows_add_the_lea_county_and_state(monkeypatch: pytest.MonkeyPatch,
                                                      tiny_store_path: Path) -> None:
    school = (summative(tiny_store_path, IN_LEA).drop_nulls("reporting_school_code")
              .group_by("reporting_school_code").len()
              .sort("len", "reporting_school_code", descending=[True, False]).item(0, 0))
    at = open_report(monkeypatch, tiny_store_path)
    at.selectbox(key="report_org_level").select("school").run()
    at.multiselect(key="report_orgs").set_value([school]).run()
    at.checkbox(key="report_comparison").check().run()
    assert "4 rows: 4 organisations" in captions(at)
    run(at)

    shown = table(at)
    county, state = f"{COUNTY}{'0' * 12}", "0" * 14
    # The school first, then its LEA, county and state: nearest first.
    assert shown.get_column("cds_code").to_list() == [school, LEA, county, state]
    rows = by_cds(shown)
    assert_row(rows[school],
               expected(summative(tiny_store_path, pl.col("reporting_school_code") == school)))
    assert_row(rows[LEA], expected(summative(tiny_store_path, IN_LEA)))
    assert_row(rows[county],
               expected(summative(tiny_store_path, pl.col("county_code") == COUNTY)))
    assert_row(rows[state], expected(summative(tiny_store_path, pl.lit(True))))
    assert rows[state]["name"] == "California"


@pytest.mark.parametrize(("completeness", "kept"), [
    ("complete", pl.col("attemptedness").is_null() | (pl.col("attemptedness") == "Y")),
    ("partial", pl.col("attemptedness") == "P"),
])
def test_completeness(monkeypatch: pytest.MonkeyPatch, tiny_store_path: Path,
                      completeness: str, kept: pl.Expr) -> None:
    at = open_report(monkeypatch, tiny_store_path)
    at.selectbox(key="report_completeness").select(completeness).run()
    run(at)

    want = summative(tiny_store_path, IN_LEA & kept)
    assert 0 < want.height < summative(tiny_store_path, IN_LEA).height
    (shown,) = table(at).iter_rows(named=True)
    assert_row(shown, expected(want))
    assert f"{completeness} tests only" in captions(at)


def test_chosen_grades_get_a_row_each(monkeypatch: pytest.MonkeyPatch,
                                      tiny_store_path: Path) -> None:
    at = open_report(monkeypatch, tiny_store_path)
    at.multiselect(key="report_grades").set_value(["KN", "05", "13"]).run()
    assert "3 rows: 1 organisation × 1 student group × 3 grades" in captions(at)
    run(at)

    shown = {r["grade_name"]: r for r in table(at).iter_rows(named=True)}
    assert set(shown) == {"Kindergarten", "Grade 5", "All grades"}
    for name, grade in (("Kindergarten", "KN"), ("Grade 5", "05")):
        want = summative(tiny_store_path, IN_LEA & (pl.col("grade_assessed") == grade))
        assert want.height
        assert_row(shown[name], expected(want))
    assert_row(shown["All grades"], expected(summative(tiny_store_path, IN_LEA)))


def test_schools_of_the_chosen_lea(monkeypatch: pytest.MonkeyPatch,
                                   tiny_store_path: Path) -> None:
    at = open_report(monkeypatch, tiny_store_path)
    at.checkbox(key="report_expand").check().run()
    run(at)

    rows = by_cds(table(at))
    mine = summative(tiny_store_path, IN_LEA)
    schools = set(mine.get_column("reporting_school_code").drop_nulls())
    assert len(schools) > 5
    # The LEA first, then a row for each of its schools (NPS students have no school row).
    assert next(iter(rows)) == LEA
    assert set(rows) == {LEA, *schools}
    assert_row(rows[LEA], expected(mine))
    for school in schools:
        assert_row(rows[school],
                   expected(mine.filter(pl.col("reporting_school_code") == school)))
    assert sum(rows[s]["n_enrolled"] for s in schools) == mine.filter(  # type: ignore[misc]
        pl.col("reporting_school_code").is_not_null()).height


def test_alternate_test(monkeypatch: pytest.MonkeyPatch, tiny_store_path: Path) -> None:
    at = open_report(monkeypatch, tiny_store_path)
    at.selectbox(key="report_test").select("alternate").run()
    at.selectbox(key="report_org_level").select("state").run()
    run(at)

    (shown,) = table(at).iter_rows(named=True)
    want = records(tiny_store_path).filter(pl.col("record_type") == ALTERNATE)
    assert want.height
    assert_row(shown, expected(want, levels=3))
    assert "pct_level_4" not in shown  # the Alternate has three levels
    labels = [c["label"] for c in json.loads(at.dataframe[0].proto.columns).values()
              if "label" in c]
    assert "Fluent English Proficient (%)" in labels
    assert "Summative Alternate ELPAC" in captions(at)


@pytest.mark.parametrize("measure", ["oral", "written"])
def test_composite_report(monkeypatch: pytest.MonkeyPatch, tiny_store_path: Path,
                          measure: str) -> None:
    at = open_report(monkeypatch, tiny_store_path)
    at.button_group(key="report_type").set_value("composite").run()
    at.selectbox(key="report_measure").select(measure).run()
    run(at)

    (shown,) = table(at).iter_rows(named=True)
    assert_row(shown, expected(summative(tiny_store_path, IN_LEA), measure=measure))
    assert shown["n_measure"] > 0
    name = {"oral": "Oral Language", "written": "Written Language"}[measure]
    assert at.header[0].value.startswith(f"{name} performance levels")


@pytest.mark.parametrize("level", ["county", "school", "state"])
def test_organisation_levels(monkeypatch: pytest.MonkeyPatch, tiny_store_path: Path,
                             level: str) -> None:
    mine = summative(tiny_store_path, IN_LEA)
    school = (mine.drop_nulls("reporting_school_code").group_by("reporting_school_code")
              .len().sort("len", "reporting_school_code", descending=[True, False]).item(0, 0))
    code, where, cds = {
        "county": (COUNTY, pl.col("county_code") == COUNTY, f"{COUNTY}{'0' * 12}"),
        "school": (school, pl.col("reporting_school_code") == school, school),
        "state": (None, pl.lit(True), "0" * 14)}[level]
    at = open_report(monkeypatch, tiny_store_path)
    at.selectbox(key="report_org_level").select(level).run()
    if code is not None:
        at.multiselect(key="report_orgs").set_value([code]).run()
    run(at)
    at.toggle(key="report_counts").set_value(True).run()
    ok(at)

    (shown,) = table(at).iter_rows(named=True)
    assert shown["cds_code"] == cds
    assert_row(shown, expected(summative(tiny_store_path, where)))


def test_longitudinal_all_students(monkeypatch: pytest.MonkeyPatch,
                                   tiny_store_path: Path) -> None:
    years = ["2022-23", "2023-24", YEAR]
    at = open_report(monkeypatch, tiny_store_path)
    at.button_group(key="report_type").set_value("longitudinal").run()
    at.multiselect(key="report_years").set_value(years).run()
    assert at.button_group(key="report_population").value == "all"
    run(at)

    shown = {r["school_year"]: r for r in table(at).iter_rows(named=True)}
    assert sorted(shown) == years
    for year in years:
        assert shown[year]["row_label"] == "All students"  # every student, not a cohort
        assert_row(shown[year], expected(summative(tiny_store_path, IN_LEA, year)))
    # Each year's own students: more than those tested there in all three years.
    assert "cohort" not in captions(at)
    assert not [s for s in at.header if s.value == "Level transitions"]
    chart = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert [t["type"] for t in chart["data"]] == ["bar"] * 4  # levels, stacked by year


def test_the_mean_chart_of_a_longitudinal_report(monkeypatch: pytest.MonkeyPatch,
                                                 tiny_store_path: Path) -> None:
    years = ["2023-24", YEAR]
    at = open_report(monkeypatch, tiny_store_path)
    at.button_group(key="report_type").set_value("longitudinal").run()
    at.multiselect(key="report_years").set_value(years).run()
    run(at)
    at.button_group(key="report_chart_view").set_value("mean").run()
    ok(at)

    (line,) = json.loads(at.get("plotly_chart")[0].proto.spec)["data"]
    assert line["type"] == "scatter"
    assert line["x"] == years
    want = [expected(summative(tiny_store_path, IN_LEA, y)) for y in years]
    assert line["y"] == pytest.approx([w["mean_scale_score"] for w in want])
    assert line["error_y"]["array"] == pytest.approx([w["se_scale_score"] for w in want])
    # The table beside it says the same.
    means = table(at).sort("school_year").get_column("mean_scale_score").to_list()
    assert means == pytest.approx(line["y"])


# -- Presentation mode and a cohort's level transitions --------------------------------------

def _scored_levels(store: Path, year: str, lea: str) -> pl.DataFrame:
    return summative(store, (pl.col("reporting_lea_code") == lea)
                     & (pl.col("include_indicator") == "Y")
                     & pl.col("overall_level").is_not_null(), year).select(
        "ssid", "overall_level")


def _leaky_lea(store: Path, years: tuple[str, str]) -> tuple[str, int]:
    """An LEA whose cohort has one level under 11 students in the first year (others not),
    and whose cohort report counts exactly the students its transitions match: the case in
    which the year totals give a hidden level's row back. Returns the LEA and that level.
    """
    first, second = years
    leas = records(store, first).filter(pl.col("record_type") == SUMMATIVE).get_column(
        "reporting_lea_code").unique().sort().to_list()
    for lea in leas:
        pairs = _scored_levels(store, first, lea).join(_scored_levels(store, second, lea),
                                                       on="ssid", suffix="_next")
        sizes = dict(pairs.group_by("overall_level").len().iter_rows())
        small = [lv for lv, n in sizes.items() if n < 11]
        tested = [set(summative(store, (pl.col("reporting_lea_code") == lea)
                                & pl.col("is_tested"), y).get_column("ssid")) for y in years]
        if len(small) == 1 and len(sizes) == 4 and tested[0] & tested[1] == set(
                pairs.get_column("ssid")):
            return lea, small[0]
    raise AssertionError("the tiny demo has no LEA with one small level in a clean cohort")


def test_presentation_hides_a_cohort_matrix_with_a_small_level(
        monkeypatch: pytest.MonkeyPatch, tiny_store_path: Path) -> None:
    years = ("2023-24", YEAR)
    lea, small = _leaky_lea(tiny_store_path, years)
    at = open_report(monkeypatch, tiny_store_path, lea=lea)
    at.button_group(key="report_type").set_value("longitudinal").run()
    at.multiselect(key="report_years").set_value(list(years)).run()
    at.button_group(key="report_population").set_value("cohort").run()
    run(at)
    at.toggle(key="report_counts").set_value(True).run()

    # Without Presentation: the whole matrix, every count.
    moves = table(at, 1)
    pairs = _scored_levels(tiny_store_path, years[0], lea).join(
        _scored_levels(tiny_store_path, years[1], lea), on="ssid", suffix="_next")
    truth = {(a, b): n for a, b, n in pairs.group_by("overall_level", "overall_level_next")
             .len().iter_rows()}
    assert int(moves.get_column("n_students").sum()) == pairs.height

    at.toggle(key="report_presentation").set_value(True).run()
    ok(at)
    # The cohort's rows still publish each year's level counts (its n is 11 or more)...
    cohort = {r["school_year"]: r for r in table(at).iter_rows(named=True)}
    assert not any(r["is_suppressed"] for r in cohort.values() if "is_suppressed" in r)
    first = {k: cohort[years[0]][f"n_level_{k}"] for k in (1, 2, 3, 4)}
    second = {k: cohort[years[1]][f"n_level_{k}"] for k in (1, 2, 3, 4)}
    assert first[small] == sum(n for (a, _), n in truth.items() if a == small)
    # ...so hiding only the small level's row would give it back: each year-two total less
    # the rows shown is that row's cell, exactly (what the page showed before this check).
    rebuilt = {b: second[b] - sum(n for (a, bb), n in truth.items() if bb == b and a != small)
               for b in (1, 2, 3, 4)}
    assert rebuilt == {b: truth.get((small, b), 0) for b in (1, 2, 3, 4)}
    # So the page hides the whole matrix: no heat map, no table of moves, and says why.
    assert len(at.dataframe) == 1  # the report table only
    assert len(at.get("plotly_chart")) == 1  # the years chart only
    hidden = [i.value for i in at.info if "transitions are hidden" in i.value]
    assert hidden == [f"Presentation mode: the {years[0]} to {years[1]} transitions are hidden, "
                      "because a level had fewer than 11 students in 2023-24. Hiding only that "
                      "level's row would not do: the table above gives each year's level "
                      "counts, and those less the other rows would give it back. Turn "
                      "Presentation off to see them."]
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels.count("Chart as PNG") == 1  # the years chart's
