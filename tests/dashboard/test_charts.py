"""The custom report's figures (dashboard/charts.py), titles and image export.

Figures are built from real reports of the tiny store; their structure (a trace per level,
bars summing to 100 %, titles stating what is shown) is checked against the report frame, and
the PNG/SVG/PDF bytes are rendered by kaleido in the system Chromium and checked by their
magic numbers and the PNG's stated size.
"""

from __future__ import annotations

import struct
from pathlib import Path

import plotly.graph_objects as go
import polars as pl
import pytest

from dashboard import chart_export, chart_labels, charts
from queries.labels import level_names
from queries.longitudinal import read_longitudinal, read_transitions
from queries.reports import read_report
from queries.scope import Scope
from queries.snapshot import Snapshot
from queries.spec import ReportSpec, Subgroup

LEA = "19619690000000"
"""Meadow Acres Unified, the tiny store's largest LEA."""


@pytest.fixture(scope="module")
def snap(tiny_store_path: Path) -> Snapshot:
    return Snapshot(tiny_store_path)


def _report(snap: Snapshot, spec: ReportSpec, *, suppress: bool = False) -> pl.DataFrame:
    read = read_longitudinal if spec.longitudinal else read_report
    return read(snap, spec, scope=Scope.state(), suppress=suppress)


def _bars(snap: Snapshot, spec: ReportSpec, *, suppress: bool = False
          ) -> tuple[pl.DataFrame, go.Figure]:
    report = _report(snap, spec, suppress=suppress)
    title, subtitle = chart_labels.describe_report(report, spec, suppress=suppress)
    return report, charts.level_bars(report, test=spec.test, measure=spec.measure,
                                     title=title, subtitle=subtitle)


@pytest.mark.parametrize(("test", "measure"), [("summative", "overall"),
                                               ("summative", "written"),
                                               ("summative", "reading"),
                                               ("alternate", "overall")])
def test_level_bars_have_a_trace_per_level_summing_to_100(snap: Snapshot, test: str,
                                                           measure: str) -> None:
    spec = ReportSpec(years=("2024-25",), orgs=(LEA,), org_level="lea", test=test,
                      measure=measure, breakdown="gender", comparison=True)
    report, fig = _bars(snap, spec)

    names = level_names(test, measure)
    assert [t.name for t in fig.data] == list(names)
    assert all(t.type == "bar" and t.orientation == "h" for t in fig.data)
    assert fig.layout.barmode == "stack"
    # A bar per row with students, in report order, each the row's level percents.
    shown = report.filter(pl.col("n_enrolled") > 0)
    assert len(fig.data[0].y) == shown.height
    for i, trace in enumerate(fig.data):
        assert list(trace.x) == shown.get_column(f"{measure}_l{i + 1}_pct").to_list()
    for row in range(shown.height):
        values = [t.x[row] for t in fig.data]
        if all(v is not None for v in values):
            assert sum(values) == pytest.approx(100.0)
    # Distinguishable without hue: lightness rises with the level and patterns differ.
    colours = [t.marker.color for t in fig.data]
    assert colours == list(chart_labels.BLUES[len(names)])
    lightness = [sum(int(c[i:i + 2], 16) for i in (1, 3, 5)) for c in colours]
    assert lightness == sorted(lightness, reverse=True)
    assert len({t.marker.pattern.shape for t in fig.data}) == len(names)


def test_bar_labels_name_only_what_differs_and_carry_n(snap: Snapshot) -> None:
    spec = ReportSpec(years=("2024-25",), orgs=(LEA,), org_level="lea", breakdown="gender",
                      subgroups=(Subgroup("Hispanic girls", (("gender", ("004",)),
                                                             ("ethnicity", ("078",)))),))
    report, fig = _bars(snap, spec)

    shown = report.filter(pl.col("n_enrolled") > 0)
    expected = [f"{g} (n={n:,})" for g, n in shown.select("row_label", "overall_total")
                .iter_rows()]
    assert list(fig.data[0].y) == expected
    assert "Hispanic girls" in expected[-1]


def test_suppressed_rows_have_no_segments(snap: Snapshot) -> None:
    spec = ReportSpec(years=("2024-25",), orgs=(LEA,), org_level="lea", breakdown="ethnicity")
    report, fig = _bars(snap, spec, suppress=True)

    small = report.filter(pl.col("is_suppressed") & (pl.col("n_enrolled") > 0))
    assert small.height, "the tiny store should have a small group to suppress"
    labels = list(fig.data[0].y)
    # A group without students is suppressed too (zero is fewer than 11) but gets no bar.
    for name in report.filter(pl.col("n_enrolled") == 0).get_column("row_label"):
        assert not any(lab.startswith(f"{name} (") for lab in labels)
    for name in small.get_column("row_label"):
        (i,) = [j for j, lab in enumerate(labels) if lab.startswith(f"{name} (")]
        assert "suppressed" in labels[i]
        assert all(t.x[i] is None for t in fig.data)
    assert any("Presentation mode" in line for line in
               chart_labels.describe_report(report, spec, suppress=True)[1])


def test_title_and_subtitle_state_what_is_shown(snap: Snapshot) -> None:
    spec = ReportSpec(years=("2024-25", "2025-26"), orgs=(LEA,), org_level="lea",
                      filters=(("economic", ("031",)),), completeness="complete")
    report = _report(snap, spec)
    title, subtitle = chart_labels.describe_report(report, spec, suppress=False)
    fig = charts.level_bars(report, test="summative", measure="overall", title=title,
                            subtitle=subtitle)

    assert title == "Overall performance levels, Meadow Acres Unified"
    assert fig.layout.title.text == title
    text = fig.layout.title.subtitle.text
    for words in ("Summative ELPAC", "2024-25 and 2025-26", "All grades",
                  "complete tests only", "Only Economically disadvantaged",
                  "tested with scores", "Data: partial for 2025-26"):
        assert words in text, words
    # Two years, two n: the subtitle does not pick one; each bar carries its own.
    assert "n: students tested with scores, given for each row" in text
    for n in report.get_column("n_scored"):
        assert any(f"(n={n:,})" in label for label in fig.data[0].y)
    assert "Presentation mode" not in text
    one = ReportSpec(years=("2025-26",), orgs=(LEA,), org_level="lea")
    single = _report(snap, one)
    assert f"n = {single.get_column('n_scored')[0]:,} tested with scores" in (
        chart_labels.describe_report(single, one, suppress=False)[1][-1])
    # A saved report's name is its title.
    named = ReportSpec(years=("2024-25",), name="Board, spring")
    assert chart_labels.describe_report(_report(snap, named), named, suppress=False)[0] == (
        "Board, spring")


def test_longitudinal_levels_and_means(snap: Snapshot) -> None:
    spec = ReportSpec(years=("2022-23", "2023-24", "2024-25"), orgs=(LEA,), org_level="lea",
                      longitudinal=True, breakdown="economic")
    report = _report(snap, spec).filter(pl.col("n_enrolled") > 0)
    title, subtitle = chart_labels.describe_report(report, spec, suppress=False)

    levels = charts.longitudinal_chart(report, test="summative", measure="overall",
                                       view="levels", title=title, subtitle=subtitle)
    assert [t.name for t in levels.data] == list(level_names("summative", "overall"))
    # A multi-category x axis: (series, year and its n) per bar; every bar sums to 100 %.
    series, years = levels.data[0].x
    assert list(years) == [f"{y} (n={n:,})" for y, n in report.select(
        "school_year", "overall_total").iter_rows()]
    for i in range(len(years)):
        assert sum(t.y[i] for t in levels.data) == pytest.approx(100.0)

    means = charts.longitudinal_chart(report, test="summative", measure="overall",
                                      view="mean", title=title, subtitle=subtitle)
    groups = report.get_column("row_label").unique(maintain_order=True).to_list()
    assert [t.name for t in means.data] == groups
    for trace in means.data:
        rows = report.filter(pl.col("row_label") == trace.name)
        assert list(trace.y) == rows.get_column("overall_mean").to_list()
        assert list(trace.error_y.array) == rows.get_column("overall_se").to_list()
    # Series differ by dash and marker as well as colour.
    assert len({t.line.dash for t in means.data}) == len(groups)

    with pytest.raises(ValueError, match="no scale score"):
        charts.longitudinal_chart(report, test="summative", measure="reading", view="mean",
                                  title=title, subtitle=subtitle)


@pytest.mark.parametrize("suppress", [False, True])
def test_transition_heatmap_rows_are_shares_of_the_from_level(snap: Snapshot,
                                                              suppress: bool) -> None:
    spec = ReportSpec(years=("2023-24", "2024-25"), orgs=(LEA,), org_level="lea",
                      longitudinal=True, cohort=True)
    raw = read_transitions(snap, spec, scope=Scope.state(), suppress=False)
    moves = charts.transition_frame(raw, test="summative", suppress=suppress)
    fig = charts.transition_heatmap(moves, test="summative", title="T", subtitle=["S"])

    (heat,) = fig.data
    names = list(level_names("summative", "overall"))
    assert list(heat.x) == names
    assert list(heat.y) == names
    # Matched students per from-level, counted here from the query's own rows.
    totals = {names[lv - 1]: n for lv, n in raw.group_by("from_level").agg(
        pl.col("n_students").sum()).iter_rows()}
    assert min(totals.values()) < 11 <= max(totals.values())  # both cases occur
    for i, src in enumerate(names):
        if suppress:
            # One small level hides the whole matrix, not only its row: the year totals less
            # the rows shown would give that row back (issue 4 audit, item 5).
            assert all(v is None for v in heat.z[i])
            assert set(heat.text[i]) == {"*"}
        elif src in totals:
            assert sum(heat.z[i]) == pytest.approx(100.0)
            counts = [int(t.split("(")[1].rstrip(")").replace(",", "")) for t in heat.text[i]]
            assert sum(counts) == totals[src]
    hidden = moves.filter(pl.col("is_suppressed"))
    assert hidden.height == (moves.height if suppress else 0)
    assert hidden.select("n_from", "n_students", "pct_of_from").null_count().row(0) == (
        hidden.height,) * 3


def test_one_small_level_hides_its_whole_matrix_and_no_other() -> None:
    # Given: two LEAs' 2023-24 to 2024-25 moves. LEA A has a level of 4 students (and none
    # at level 2), B none under 11. Hiding only A's small row would leave it to be worked
    # out from the cohort's published level counts, so all of A goes, and none of B (issue
    # 4 audit, item 5).
    def moves(lea: str, rows: list[tuple[int, int, int]]) -> pl.DataFrame:
        n = pl.DataFrame(rows, schema={"from_level": pl.Int8, "to_level": pl.Int8,
                                       "n_students": pl.Int64}, orient="row")
        return n.with_columns(
            pl.lit("2023-24").alias("from_year"), pl.lit("2024-25").alias("to_year"),
            pl.lit("lea").alias("org_level"), pl.lit(lea[:2]).alias("county_code"),
            pl.lit(lea).alias("lea_code"), pl.lit("").alias("school_code"),
            (pl.col("n_students") / pl.col("n_students").sum().over("from_level") * 100)
            .alias("pct_of_from"))
    a = moves("19000000000001", [(1, 1, 12), (1, 2, 8), (3, 3, 11), (4, 3, 1), (4, 4, 3)])
    b = moves("19000000000002", [(1, 1, 11), (2, 2, 20), (3, 3, 11), (3, 4, 2), (4, 4, 11)])
    given = pl.concat([a, b])

    shown = charts.transition_frame(given, test="summative", suppress=True)
    hidden = shown.filter(pl.col("is_suppressed"))
    assert set(hidden.get_column("lea_code")) == {"19000000000001"}
    assert hidden.height == a.height
    assert hidden.select("n_from", "n_students", "pct_of_from").null_count().row(0) == (
        a.height,) * 3
    kept = shown.filter(~pl.col("is_suppressed")).sort("from_level", "to_level")
    assert kept.get_column("n_students").to_list() == [11, 20, 11, 2, 11]
    assert kept.get_column("n_from").to_list() == [11, 20, 13, 13, 11]
    # The threshold is the caller's; without suppression nothing is hidden.
    assert not charts.transition_frame(given, test="summative", suppress=True, threshold=4
                                       ).get_column("is_suppressed").any()
    assert not charts.transition_frame(given, test="summative", suppress=False
                                       ).get_column("is_suppressed").any()
    # The heat map of a hidden matrix shows no number at all, even for a level with no one.
    fig = charts.transition_heatmap(shown.filter(pl.col("lea_code") == "19000000000001"),
                                    test="summative", title="T", subtitle=["S"])
    assert {t for row in fig.data[0].text for t in row} == {"*"}


def test_projector_copy_is_large_and_leaves_the_chart_alone(snap: Snapshot) -> None:
    spec = ReportSpec(years=("2024-25",), orgs=(LEA,), org_level="lea")
    _, fig = _bars(snap, spec)

    slide = chart_export.for_projector(fig)

    assert (slide.layout.width, slide.layout.height) == (1600, 900)
    assert slide.layout.title.font.size >= 32
    assert slide.layout.font.size >= 18
    assert all(t.textfont.size >= 18 for t in slide.data)
    assert fig.layout.width is None  # the on-screen chart is not changed


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_images_are_valid_png_svg_and_pdf(snap: Snapshot) -> None:
    spec = ReportSpec(years=("2024-25",), orgs=(LEA,), org_level="lea", breakdown="gender")
    _, fig = _bars(snap, spec)
    slide = chart_export.for_projector(fig)

    png = chart_export.figure_image(slide, "png")
    svg = chart_export.figure_image(slide, "svg")
    pdf = chart_export.figure_image(slide, "pdf")

    assert _png_size(png) == (1600, 900)
    assert len(png) > 20_000  # a rendered chart, not an empty canvas
    assert svg.lstrip().startswith(b"<svg")
    assert b'width="1600"' in svg
    assert b"Meadow Acres Unified" in svg  # the title is in the image
    assert pdf.startswith(b"%PDF-")
    assert b"%%EOF" in pdf[-64:]
    assert _png_size(chart_export.figure_image(fig, "png", width=800, height=450)) == (800, 450)
    with pytest.raises(ValueError, match="format"):
        chart_export.figure_image(fig, "gif")
