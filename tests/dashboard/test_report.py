"""AppTest of the Custom report page (dashboard/app_pages/report.py) through the router.

The builder is driven by its widget keys; every number checked in the table is computed here
with Polars straight from the store's Parquet files (ELPAC.md §4 definitions: enrolled = every
reported record of the LEA, tested = TestedStatus Y, with scores = IncludeIndicator Y, levels
over the records with an overall score), never through ``queries``. Also here: the table's
CSV/Excel files (``dashboard.report_output``).
"""

from __future__ import annotations

import io
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import report_output
from data.catalog.saved_reports import save_report, saved_reports
from data.results.store import Store
from queries.spec import ReportSpec, Subgroup

if TYPE_CHECKING:
    pass

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
LEA = "19619690000000"
"""Meadow Acres Unified, the tiny store's largest LEA."""
OTHER_LEA = "42700800000000"
YEAR = "2024-25"
HISPANIC_GIRLS = (pl.col("gender") == "F") & (pl.col("ethnicity") == "500")


def open_report(monkeypatch: pytest.MonkeyPatch, store: Path, *, link: str | None = None,
                scope: dict[str, object] | None = None, lea: str | None = LEA,
                year: str = YEAR) -> AppTest:
    """The report page; the sidebar set to ``lea`` and ``year`` unless a ``link`` is opened."""
    monkeypatch.setenv("ELPAC_STORE", str(store))
    if scope is None:
        monkeypatch.delenv("ELPAC_SCOPE", raising=False)
    else:
        monkeypatch.setenv("ELPAC_SCOPE", json.dumps(scope))
    at = AppTest.from_file(str(APP), default_timeout=60)
    if link is not None:
        at.query_params["report"] = link
    at.switch_page("app_pages/report.py").run()
    ok(at)
    if link is None:
        at.selectbox(key="ctx_year").select(year).run()
        if lea is not None:
            at.selectbox(key="ctx_lea").select(lea).run()
        ok(at)
    return at


def ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def run(at: AppTest) -> AppTest:
    at.button(key="report_run_button").click().run()
    ok(at)
    return at


def table(at: AppTest, index: int = 0) -> pl.DataFrame:
    return pl.from_pandas(at.dataframe[index].value)


def row(frame: pl.DataFrame, **where: str) -> dict[str, object]:
    (found,) = frame.filter(*[pl.col(k) == v for k, v in where.items()]).iter_rows(named=True)
    return found


def records(store: Path, year: str = YEAR) -> pl.DataFrame:
    """One year's stored records, read with Polars from the store's Parquet file."""
    return pl.read_parquet(Store(store).year_files()[year])


def expected(store: Path, lea: str, where: pl.Expr | None = None, *, year: str = YEAR
             ) -> dict[str, float]:
    """An LEA's Summative ELPAC row for the students ``where`` selects (ELPAC.md §4)."""
    rows = records(store, year).filter(
        (pl.col("record_type") == "21") & (pl.col("reporting_lea_code") == lea)
        & pl.col("is_reported") & (True if where is None else where))
    scored = rows.filter(pl.col("include_indicator") == "Y")
    overall = scored.filter(pl.col("overall_scale_score").is_not_null())
    scores = overall.get_column("overall_scale_score").cast(pl.Float64)
    out: dict[str, float] = {
        "n_enrolled": rows.height, "n_tested": int(rows.get_column("is_tested").sum()),
        "n_scored": scored.height, "mean_scale_score": float(scores.mean()),  # type: ignore[arg-type]
        "se_scale_score": float(scores.std()) / math.sqrt(scores.len()),  # type: ignore[arg-type]
    }
    for k in (1, 2, 3, 4):
        count = overall.filter(pl.col("overall_level") == k).height
        out[f"n_level_{k}"] = count
        out[f"pct_level_{k}"] = count / overall.height * 100
    return out


def assert_row(shown: dict[str, object], want: dict[str, float], *, counts: bool) -> None:
    keys = ["n_enrolled", "n_tested", "n_scored", "mean_scale_score", "se_scale_score",
            *[f"{'n' if counts else 'pct'}_level_{k}" for k in (1, 2, 3, 4)]]
    for key in keys:
        assert shown[key] == pytest.approx(want[key]), key


# -- the builder and the table ------------------------------------------------------------

def test_builder_starts_from_the_sidebar(monkeypatch: pytest.MonkeyPatch,
                                         tiny_store_path: Path) -> None:
    at = open_report(monkeypatch, tiny_store_path)

    assert [t.value for t in at.title] == ["Custom report"]
    assert at.session_state["report_org_level"] == "lea"
    assert at.session_state["report_orgs"] == [LEA]
    assert at.session_state["report_years"] == [YEAR]
    # The organisations offered are the LEAs of the store (a statewide scope sees them all).
    lea_codes = records(tiny_store_path).get_column("reporting_lea_code").unique().to_list()
    offered = at.multiselect(key="report_orgs").options
    assert {o.rsplit(" (", 1)[1].rstrip(")") for o in offered} == set(lea_codes)
    # Nothing runs before the user asks: the estimate, no table.
    assert "1 row: 1 organisation × 1 student group × 1 grade × 1 school year" in " ".join(
        c.value for c in at.caption)
    assert not at.dataframe
    assert "Run report" in at.info[0].value

    at.selectbox(key="ctx_lea").select(OTHER_LEA).run()
    ok(at)
    assert at.session_state["report_orgs"] == [OTHER_LEA]


def test_table_matches_the_parquet_files(monkeypatch: pytest.MonkeyPatch,
                                         tiny_store_path: Path) -> None:
    at = open_report(monkeypatch, tiny_store_path)
    at.selectbox(key="report_breakdown").select("gender").run()
    assert "4 rows: 1 organisation × 4 student groups" in " ".join(c.value for c in at.caption)
    run(at)

    shown = table(at)
    assert_row(row(shown, row_label="All students"), expected(tiny_store_path, LEA),
               counts=False)
    assert_row(row(shown, row_label="Female"),
               expected(tiny_store_path, LEA, pl.col("gender") == "F"), counts=False)
    first = row(shown, row_label="Male")
    assert (first["name"], first["cds_code"], first["school_year"], first["grade_name"]) == (
        "Meadow Acres Unified", LEA, YEAR, "All grades")
    assert first["data_status"] == "Final"

    # Counts instead of percents: the same rows, level counts.
    at.toggle(key="report_counts").set_value(True).run()
    ok(at)
    counted = table(at)
    assert "pct_level_1" not in counted.columns
    assert_row(row(counted, row_label="Female"),
               expected(tiny_store_path, LEA, pl.col("gender") == "F"), counts=True)
    assert_row(row(counted, row_label="All students"), expected(tiny_store_path, LEA),
               counts=True)


def test_rows_with_no_students_are_hidden_until_asked(monkeypatch: pytest.MonkeyPatch,
                                                      tiny_store_path: Path) -> None:
    # An LEA with no nonbinary student that year: its Nonbinary row is empty.
    year = records(tiny_store_path).filter(
        pl.col("reporting_lea_code").is_not_null() & (pl.col("record_type") == "21")
        & pl.col("is_reported"))
    has_x = year.filter(pl.col("gender") == "X").get_column("reporting_lea_code").unique()
    lea = (year.filter(~pl.col("reporting_lea_code").is_in(has_x.to_list())
                       & pl.col("gender").is_in(["M", "F"]))
           .group_by("reporting_lea_code").agg(pl.col("gender").n_unique().alias("n"),
                                               pl.len().alias("size"))
           .filter(pl.col("n") == 2).sort("size", "reporting_lea_code", descending=True)
           .item(0, "reporting_lea_code"))
    at = open_report(monkeypatch, tiny_store_path, lea=lea)
    at.selectbox(key="report_breakdown").select("gender").run()
    run(at)

    assert table(at).get_column("row_label").to_list() == ["All students", "Male", "Female"]
    assert any("3 of 4 rows shown" in c.value for c in at.caption)

    at.toggle(key="report_show_empty").set_value(True).run()
    ok(at)
    shown = table(at)
    assert shown.get_column("row_label").to_list() == ["All students", "Male", "Female",
                                                       "Nonbinary"]
    empty = row(shown, row_label="Nonbinary")
    assert (empty["n_enrolled"], empty["note"]) == (0, "No students")
    assert empty["pct_level_1"] is None or math.isnan(empty["pct_level_1"])  # type: ignore[arg-type]


def test_custom_subgroup_row(monkeypatch: pytest.MonkeyPatch, tiny_store_path: Path) -> None:
    at = open_report(monkeypatch, tiny_store_path)
    at.button(key="report_subgroup_add").click().run()
    # A subgroup without a name or groups is refused with a sentence, and cannot run.
    assert any("Custom subgroup 1 needs a name" in w.value for w in at.warning)
    assert at.button(key="report_run_button").disabled
    at.text_input(key="report_subgroup_name_0").input("Hispanic girls").run()
    at.multiselect(key="report_subgroup_groups_0").set_value(["004", "078"]).run()
    ok(at)
    assert not at.warning
    run(at)

    shown = table(at)
    assert shown.get_column("row_label").to_list() == ["All students", "Hispanic girls"]
    assert_row(row(shown, row_label="Hispanic girls"),
               expected(tiny_store_path, LEA, HISPANIC_GIRLS), counts=False)
    chart = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert any(label.startswith("Hispanic girls (n=") for label in chart["data"][0]["y"])


def test_presentation_suppresses_small_groups(monkeypatch: pytest.MonkeyPatch,
                                              tiny_store_path: Path) -> None:
    at = open_report(monkeypatch, tiny_store_path)
    at.selectbox(key="report_breakdown").select("ethnicity").run()
    run(at)
    before = table(at)
    at.toggle(key="report_presentation").set_value(True).run()
    ok(at)
    after = table(at)

    assert any("Presentation mode" in i.value for i in at.info)
    recs = records(tiny_store_path).filter(
        (pl.col("reporting_lea_code") == LEA) & (pl.col("record_type") == "21")
        & pl.col("is_reported") & (pl.col("include_indicator") == "Y"))
    small = {"200": "Asian", "400": "Filipino", "700": "White", "800": "Two or more races"}
    hidden = 0
    for code, name in small.items():
        n = recs.filter(pl.col("ethnicity") == code).height
        shown = row(after, row_label=name)
        assert shown["n_scored"] == n  # counts stay
        if 0 < n < 11:
            hidden += 1
            assert shown["note"].startswith("Fewer than 11 students")  # type: ignore[union-attr]
            for col in ("mean_scale_score", "pct_level_1", "pct_level_4"):
                assert shown[col] is None or math.isnan(shown[col])  # type: ignore[arg-type]
        else:
            assert shown["pct_level_1"] == row(before, row_label=name)["pct_level_1"]
    assert hidden >= 2
    big = row(after, row_label="Hispanic or Latino")
    assert_row(big, expected(tiny_store_path, LEA, pl.col("ethnicity") == "500"), counts=False)
    # The chart follows: suppressed rows keep their label and lose their segments.
    chart = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert any("suppressed" in label for label in chart["data"][0]["y"])


def test_every_column_has_a_label(monkeypatch: pytest.MonkeyPatch,
                                  tiny_store_path: Path) -> None:
    at = open_report(monkeypatch, tiny_store_path)
    at.button_group(key="report_type").set_value("domain").run()
    at.selectbox(key="report_measure").select("reading").run()
    run(at)

    frame = at.dataframe[0]
    config = json.loads(frame.proto.columns)
    shown = list(frame.proto.column_order)
    unlabelled = [c for c in shown if not config.get(c, {}).get("label")
                  or "_" in config[c]["label"]]
    assert not unlabelled, f"columns shown with their snake_case names: {unlabelled}"
    labels = [config[c]["label"] for c in shown]
    assert "With a Reading score" in labels
    assert "Beginning to Develop (%)" in labels
    assert "Mean scale score" not in labels  # a domain has levels only


# -- links, saved reports and scope ------------------------------------------------------

def test_a_link_restores_and_runs_the_report(monkeypatch: pytest.MonkeyPatch,
                                             tiny_store_path: Path) -> None:
    spec = ReportSpec(years=(YEAR,), orgs=(LEA,), org_level="lea", breakdown="gender",
                      subgroups=(Subgroup("Hispanic girls", (("gender", ("004",)),
                                                             ("ethnicity", ("078",)))),))
    at = open_report(monkeypatch, tiny_store_path, link=spec.to_params()["report"])

    assert at.session_state["report_breakdown"] == "gender"
    assert at.session_state["report_subgroup_name_0"] == "Hispanic girls"
    assert at.session_state["report_subgroup_groups_0"] == ["004", "078"]
    shown = table(at)  # it ran without a click
    assert_row(row(shown, row_label="Hispanic girls"),
               expected(tiny_store_path, LEA, HISPANIC_GIRLS), counts=False)

    # Running another report writes it to the address bar, where it round-trips.
    at.selectbox(key="report_breakdown").select("economic").run()
    run(at)
    restored = ReportSpec.from_params(at.query_params)
    assert restored == ReportSpec(years=(YEAR,), orgs=(LEA,), org_level="lea",
                                  breakdown="economic", subgroups=spec.subgroups)


@pytest.mark.parametrize("link", ["{not json", '{"years": ["2024-26"]}', '["a list"]'])
def test_a_damaged_link_says_so(monkeypatch: pytest.MonkeyPatch, tiny_store_path: Path,
                                link: str) -> None:
    at = open_report(monkeypatch, tiny_store_path, link=link)

    (error,) = at.error
    assert error.value.startswith("This report link cannot be opened:")
    assert "Build the report again below" in error.value
    assert "Traceback" not in error.value
    assert not at.dataframe
    assert at.button(key="report_run_button")  # the builder is there to start again


def test_a_link_outside_the_scope_shows_nothing(monkeypatch: pytest.MonkeyPatch,
                                                tiny_store_path: Path) -> None:
    spec = ReportSpec(years=(YEAR,), orgs=(OTHER_LEA,), org_level="lea", comparison=True)
    at = open_report(monkeypatch, tiny_store_path, link=spec.to_params()["report"],
                     scope={"leas": [LEA]})

    assert any("None of this report's organisations" in w.value for w in at.warning)
    assert not at.dataframe
    # The builder offers only the scope's organisations.
    assert at.multiselect(key="report_orgs").options == [f"Meadow Acres Unified ({LEA})"]
    assert at.selectbox(key="report_org_level").options == ["LEA", "School"]  # no state


def test_save_reopen_and_delete(monkeypatch: pytest.MonkeyPatch, store_copy: Store) -> None:
    at = open_report(monkeypatch, store_copy.path)
    at.selectbox(key="report_breakdown").select("gender").run()
    run(at)
    at.text_input(key="report_save_name").input("Board, spring").run()
    at.button(key="report_save").click().run()
    ok(at)

    saved = saved_reports(store_copy, "local")
    assert saved.get_column("name").to_list() == ["Board, spring"]
    assert ReportSpec.from_params({"report": saved["params"][0]}).breakdown == "gender"

    # Another report, then the saved one again: the builder and the table come back.
    at.selectbox(key="report_breakdown").select("ethnicity").run()
    run(at)
    assert "Hispanic or Latino" in table(at).get_column("row_label").to_list()
    at.selectbox(key="report_saved_pick").select("Board, spring").run()
    at.button(key="report_saved_open").click().run()
    ok(at)
    assert at.session_state["report_breakdown"] == "gender"
    genders = set(records(store_copy.path).filter(
        (pl.col("reporting_lea_code") == LEA) & (pl.col("record_type") == "21")
        & pl.col("is_reported")).get_column("gender"))
    names = {"M": "Male", "F": "Female", "X": "Nonbinary"}
    assert table(at).get_column("row_label").to_list() == [
        "All students", *(name for code, name in names.items() if code in genders)]
    assert [h.value for h in at.header][0] == "Board, spring"
    assert ReportSpec.from_params(at.query_params).breakdown == "gender"

    at.button(key="report_saved_delete").click().run()
    ok(at)
    assert saved_reports(store_copy, "local").height == 0


def test_a_saved_report_never_widens_the_scope(monkeypatch: pytest.MonkeyPatch,
                                               store_copy: Store) -> None:
    other = ReportSpec(years=(YEAR,), orgs=(OTHER_LEA,), org_level="lea", name="Other LEA")
    save_report(store_copy, "local", "Other LEA", other.to_params()["report"])
    at = open_report(monkeypatch, store_copy.path, scope={"leas": [LEA]})
    run(at)
    mine = table(at)

    at.selectbox(key="report_saved_pick").select("Other LEA").run()
    at.button(key="report_saved_open").click().run()
    ok(at)

    assert any("None of this report's organisations" in w.value for w in at.warning)
    assert not at.dataframe
    assert set(mine.get_column("cds_code")) == {LEA}


def test_cohort_report_shows_transitions(monkeypatch: pytest.MonkeyPatch,
                                         tiny_store_path: Path) -> None:
    at = open_report(monkeypatch, tiny_store_path)
    at.button_group(key="report_type").set_value("longitudinal").run()
    # One year is not enough for a longitudinal report.
    assert any("at least two school years" in w.value for w in at.warning)
    at.multiselect(key="report_years").set_value(["2023-24", YEAR]).run()
    at.button_group(key="report_population").set_value("cohort").run()
    run(at)

    moves = table(at, 1)
    # Independently: students with an overall level in the LEA in both years, by SSID.
    def levels(year: str) -> pl.DataFrame:
        return records(tiny_store_path, year).filter(
            (pl.col("record_type") == "21") & (pl.col("reporting_lea_code") == LEA)
            & pl.col("is_reported") & (pl.col("include_indicator") == "Y")
            & pl.col("overall_level").is_not_null()).select("ssid", "overall_level")
    pairs = levels("2023-24").join(levels(YEAR), on="ssid", suffix="_next")
    want = pairs.group_by("overall_level", "overall_level_next").len().sort(
        "overall_level", "overall_level_next")
    assert moves.height == want.height
    assert moves.get_column("n_students").to_list() == want.get_column("len").to_list()
    assert len(at.get("plotly_chart")) == 2  # the years chart and the heat map
    heat = json.loads(at.get("plotly_chart")[1].proto.spec)
    assert heat["data"][0]["type"] == "heatmap"
    # The heat map's subtitle speaks of its own pair of years and its matched students.
    subtitle = heat["layout"]["title"]["subtitle"]["text"]
    assert f"2023-24 to {YEAR}" in subtitle
    assert f"n = {pairs.height:,} students." in subtitle


# -- the files -----------------------------------------------------------------------------

def test_csv_and_excel_hold_the_table(tiny_store_path: Path) -> None:
    from queries.reports import read_report
    from queries.scope import Scope
    from queries.snapshot import Snapshot
    from queries.spreadsheets import csv_bytes

    spec = ReportSpec(years=(YEAR,), orgs=(LEA,), org_level="lea", breakdown="ethnicity",
                      subgroups=(Subgroup("=HYPERLINK(1)", (("gender", ("004",)),)),))
    report = read_report(Snapshot(tiny_store_path), spec, scope=Scope.state(), suppress=True)
    shown = report_output.report_table(report, test="summative", measure="overall",
                                       counts=False)
    files = report_output.export_frame(
        report_output.file_table(report, test="summative", measure="overall"),
        test="summative", measure="overall")

    csv = pl.read_csv(io.BytesIO(csv_bytes(files)), infer_schema=False)
    excel = pl.read_excel(io.BytesIO(report_output.excel_bytes(files, title="T",
                                                               about=["a", "b"])))
    for frame in (csv, excel):
        assert frame.columns[:3] == ["School year", "Organisation", "CDS code"]
        assert frame.height == shown.height
        assert frame.get_column("CDS code").cast(pl.String).to_list() == [LEA] * shown.height
        labels = frame.get_column("Student group").to_list()
        assert "'=HYPERLINK(1)" in labels  # neutralised: never a formula
        white = labels.index("White")  # 2 students: suppressed
        assert str(frame.get_column("Beginning to Develop (%)")[white]) == "*"
        hispanic = labels.index("Hispanic or Latino")
        want = row(shown, row_label="Hispanic or Latino")
        assert float(frame.get_column("Beginning to Develop (%)")[hispanic]) == pytest.approx(
            want["pct_level_1"], abs=0.05)
        assert int(frame.get_column("Tested with scores")[hispanic]) == want["n_scored"]
        # Counts and percents together, and the keys of the state's research files.
        counts = row(report_output.report_table(report, test="summative", measure="overall",
                                                counts=True), row_label="Hispanic or Latino")
        assert int(frame.get_column("Beginning to Develop (n)")[hispanic]) == (
            counts["n_level_1"])
        assert str(frame.get_column("StudentGroupID")[hispanic]) == "078"
        assert frame.get_column("StudentGroupID")[labels.index("'=HYPERLINK(1)")] in ("", None)
        assert {str(v) for v in frame.get_column("Row type")} == {"LEA"}
        assert [str(frame.get_column(c)[0]) for c in ("County code", "District code",
                                                      "School code", "TypeID")] == [
            LEA[:2], LEA[2:7], LEA[7:], "02"]
        assert str(frame.get_column("Grade code")[0]) == "13"
    assert report_output.file_name("report", spec, "Meadow Acres Unified", "csv").startswith(
        "elpac-report-meadow-acres-unified-2024-25-")
