"""No silent truncation: a long report is drawn as panels holding every row, and exported whole.

The issue's case: five school years by grade (70 rows) gave a chart of the first 25 bars.
Here the tiny store's years by grade, on the Custom report page and through the functions,
for every split a user can pick: every drawn row is in exactly one panel and one bar, and no
panel holds more than one readable chart. The slides and the all-charts PDF hold the same
panels (rendered by kaleido in the system Chromium, as the page does).
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pikepdf
import polars as pl
import pytest
from pptx import Presentation
from streamlit.testing.v1 import AppTest

from dashboard import chart_labels, chart_panels, charts, report_charts
from dashboard import report_output as out
from queries.longitudinal import read_longitudinal
from queries.reports import read_report
from queries.scope import Scope
from queries.snapshot import Snapshot
from queries.spec import ReportSpec

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
LEA = "19619690000000"
YEARS = ("2021-22", "2022-23", "2023-24", "2024-25", "2025-26")
GRADES = ("KN", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12", "13")


@pytest.fixture(scope="module")
def snap(tiny_store_path: Path) -> Snapshot:
    return Snapshot(tiny_store_path)


def _report(snap: Snapshot, **kw: object) -> tuple[ReportSpec, pl.DataFrame]:
    spec = ReportSpec(years=YEARS, orgs=(LEA,), org_level="lea", grades=GRADES,
                      **kw)  # type: ignore[arg-type]
    read = read_longitudinal if spec.longitudinal else read_report
    return spec, read(snap, spec, scope=Scope.state(), suppress=False)


def _bars(fig: object) -> list[str]:
    return list(fig.data[0].y)  # type: ignore[attr-defined]


def test_years_by_grade_split_into_panels_holding_every_row(snap: Snapshot) -> None:
    spec, report = _report(snap)
    drawn = report.filter(pl.col("n_enrolled") > 0)
    assert drawn.height > chart_panels.MAX_BARS  # the case that was cut at 25 bars
    assert chart_panels.default_split(report) == "school_year"
    choices = chart_panels.split_choices(report)
    assert set(choices) == {"school_year", "grade_name", chart_panels.ROWS}
    for by in choices:
        panels = chart_panels.level_panels(report, by)
        assert all(0 < p.frame.height <= chart_panels.MAX_BARS for p in panels)
        together = pl.concat([p.frame for p in panels])
        # Every drawn row exactly once, whatever the split.
        keys = ["school_year", "grade_name"]
        assert together.select(keys).sort(keys).equals(drawn.select(keys).sort(keys))
        # ... and every one is a bar, with its own n, in the panel's chart.
        title, subtitle = chart_labels.describe_report(report, spec, suppress=False)
        bars = [b for p in panels for b in _bars(charts.level_bars(
            p.frame, test="summative", measure="overall", title=title, subtitle=subtitle))]
        assert len(bars) == drawn.height
        assert sorted(int(b.rsplit("(n=", 1)[1].rstrip(")").replace(",", "")) for b in bars
                      ) == sorted(drawn.get_column("overall_total").to_list())
    by_year = chart_panels.level_panels(report, "school_year")
    assert [p.label for p in by_year] == sorted(drawn.get_column("school_year").unique())


def test_a_panel_too_long_is_cut_into_numbered_parts() -> None:
    frame = pl.DataFrame({"n_enrolled": [1] * 60, "school_year": ["2024-25"] * 60,
                          "name": [f"School {i}" for i in range(60)],
                          "org_level": ["school"] * 60, "county_code": ["01"] * 60,
                          "lea_code": ["1"] * 60, "school_code": [str(i) for i in range(60)],
                          "cds_code": [str(i) for i in range(60)],
                          "row_label": ["All students"] * 60, "grade_name": ["All"] * 60})
    panels = chart_panels.level_panels(frame, "school_year")
    assert [p.label for p in panels] == ["2024-25, rows 1–25 of 60", "2024-25, rows 26–50 of 60",
                                         "2024-25, rows 51–60 of 60"]
    assert sum(p.frame.height for p in panels) == 60
    with pytest.raises(ValueError, match="split by"):
        chart_panels.level_panels(frame, "ssid")


@pytest.mark.parametrize("bars", [True, False])
def test_longitudinal_panels_hold_every_series(snap: Snapshot, bars: bool) -> None:
    spec, report = _report(snap, longitudinal=True)
    drawn = report.filter(pl.col("n_enrolled") > 0)
    panels = chart_panels.longitudinal_panels(report, bars=bars)
    assert len(panels) > 1  # 14 grades: the chart that showed 8 of them
    together = pl.concat([p.frame for p in panels])
    assert together.height == drawn.height
    assert together.get_column("grade_name").n_unique() == drawn.get_column(
        "grade_name").n_unique()
    years = drawn.get_column("school_year").n_unique()
    for p in panels:
        series = p.frame.get_column("grade_name").n_unique()
        assert series <= chart_panels.MAX_SERIES
        if bars:
            assert series * years <= chart_panels.MAX_BARS


def _open(monkeypatch: pytest.MonkeyPatch, store: Path) -> AppTest:
    monkeypatch.setenv("ELPAC_STORE", str(store))
    monkeypatch.delenv("ELPAC_SCOPE", raising=False)
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.switch_page("app_pages/report.py").run()
    at.selectbox(key="ctx_year").select("2024-25").run()
    at.selectbox(key="ctx_lea").select(LEA).run()
    at.multiselect(key="report_years").set_value(list(YEARS)).run()
    at.multiselect(key="report_grades").set_value(list(GRADES)).run()
    at.button(key="report_run_button").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_the_page_draws_every_table_row_in_some_chart(monkeypatch: pytest.MonkeyPatch,
                                                      tiny_store_path: Path) -> None:
    at = _open(monkeypatch, tiny_store_path)
    rows = pl.from_pandas(at.dataframe[0].value).height
    assert rows > chart_panels.MAX_BARS

    def drawn(at: AppTest) -> list[str]:
        figs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
        return [y for f in figs for y in f["data"][0]["y"]]

    assert at.selectbox(key="report_chart_split").value == "school_year"
    assert len(at.get("plotly_chart")) == len(YEARS)
    assert len(drawn(at)) == rows
    assert any("rows in" in c.value and "every row of the table" in c.value for c in at.caption)
    at.selectbox(key="report_chart_split").select(chart_panels.ROWS).run()
    assert len(drawn(at)) == rows
    assert all(len(json.loads(c.proto.spec)["data"][0]["y"]) <= chart_panels.MAX_BARS
               for c in at.get("plotly_chart"))
    # Split by grade: 14 panels, stepped through one at a time.
    at.selectbox(key="report_chart_split").select("grade_name").run()
    pick = at.selectbox(key="report_chart_pick")
    seen = []
    for i in range(len(pick.options)):
        at.selectbox(key="report_chart_pick").set_value(i).run()
        seen += drawn(at)
    assert len(seen) == rows


def test_slides_and_pdf_hold_every_panel(snap: Snapshot) -> None:
    spec, report = _report(snap)
    title, subtitle = chart_labels.describe_report(report, spec, suppress=True)
    panels = chart_panels.level_panels(report, "school_year")
    drawn = [(report_charts.panel_title(title, p), charts.level_bars(
        p.frame, test="summative", measure="overall", title=report_charts.panel_title(title, p),
        subtitle=subtitle)) for p in panels]
    files = out.export_frame(out.file_table(report.filter(pl.col("n_enrolled") > 0),
                                            test="summative", measure="overall"),
                             test="summative", measure="overall")

    deck = Presentation(io.BytesIO(report_charts.deck_bytes(
        drawn, title=title, subtitle=subtitle, files=files)))
    slides = list(deck.slides)
    chart_slides, table_slides = slides[:len(panels)], slides[len(panels):]
    assert [s.shapes.title.text for s in chart_slides] == [t for t, _ in drawn]
    for s in chart_slides:
        (picture,) = [sh for sh in s.shapes if sh.shape_type == 13]  # MSO_SHAPE_TYPE.PICTURE
        assert picture.image.size == (1600, 900)
        assert "Presentation mode" in s.notes_slide.notes_text_frame.text
    assert table_slides
    assert all(": table" in s.shapes.title.text for s in table_slides)
    # Each row of the file is on a table slide (the first of its columns' slides).
    first = [s for s in table_slides if "(" not in s.shapes.title.text
             or s.shapes.title.text.endswith("(1 of 2)") or "(1 of " in s.shapes.title.text]
    rows = [[c.text for c in row.cells] for s in first for sh in s.shapes if sh.has_table
            for row in list(sh.table.rows)[1:]]
    assert len(rows) == files.height
    assert [r[0] for r in rows] == files.get_column(files.columns[0]).to_list()

    merged = pikepdf.open(io.BytesIO(report_charts.all_pdf([f for _, f in drawn])))
    assert len(merged.pages) == len(panels)


def test_chart_pdf_is_vector_and_small(snap: Snapshot) -> None:
    from dashboard import chart_export

    spec, report = _report(snap)
    title, subtitle = chart_labels.describe_report(report, spec, suppress=False)
    panel = chart_panels.level_panels(report, chart_panels.ROWS)[0]
    assert panel.frame.height == chart_panels.MAX_BARS
    fig = charts.level_bars(panel.frame, test="summative", measure="overall", title=title,
                            subtitle=subtitle)
    data = chart_export.figure_image(chart_export.for_projector(fig), "pdf")
    assert data.startswith(b"%PDF")
    assert len(data) < 1_000_000
    doc = pikepdf.open(io.BytesIO(data))
    images = [o for o in doc.objects if isinstance(o, pikepdf.Stream)
              and o.stream_dict.get("/Subtype") == "/Image"]
    assert not images  # the patterns are drawn, not pasted as bitmaps
