"""The custom report's charts: every row drawn, in panels when one chart cannot hold them.

A report longer than one readable chart is drawn as small multiples
(:mod:`dashboard.chart_panels`): the user picks what splits it, each panel has its own title
and image downloads, and the files for a whole report (one PDF, PowerPoint slides) hold the
same panels, so what is exported is what the screen shows.
"""

from __future__ import annotations

import io
from functools import partial
from typing import TYPE_CHECKING

import streamlit as st

from dashboard import auditing, chart_export, chart_panels, charts
from dashboard import report_output as out
from documents import pdf, slides

if TYPE_CHECKING:
    import plotly.graph_objects as go
    import polars as pl

    from queries.spec import ReportSpec

PANELS_ON_SCREEN = 6
"""More panels than this are stepped through one at a time (the downloads hold them all)."""
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"


def panel_title(title: str, panel: chart_panels.Panel) -> str:
    """A panel's title: the report's, and what sets the panel apart when there are several."""
    return f"{title}: {panel.label}" if panel.label else title


def figures(report: pl.DataFrame, spec: ReportSpec, *, title: str, subtitle: list[str]
            ) -> list[tuple[str, go.Figure]]:
    """The report's chart panels as (title, figure), with the split or view widgets above.

    Every drawn row of ``report`` is in exactly one figure.
    """
    if spec.longitudinal:
        views = {"levels": "Levels"} | ({"mean": "Mean scale score"}
                                        if spec.measure in charts.SCALE_MEASURES else {})
        view = st.segmented_control("Chart", list(views), format_func=views.__getitem__,
                                    key="report_chart_view", default="levels", required=True)
        panels = chart_panels.longitudinal_panels(report, bars=view == "levels")
        return [(panel_title(title, p), charts.longitudinal_chart(
            p.frame, test=spec.test, measure=spec.measure, view=view or "levels",
            title=panel_title(title, p), subtitle=subtitle)) for p in panels]
    split = chart_panels.default_split(report)
    if split is not None:
        choices = chart_panels.split_choices(report)
        split = st.selectbox(
            "Split the chart by", list(choices), format_func=choices.__getitem__,
            index=list(choices).index(split), key="report_chart_split",
            help=f"One chart holds {chart_panels.MAX_BARS} bars at most: this report has more,"
                 " so it is drawn as several charts, each row in one of them.")
    panels = chart_panels.level_panels(report, split)
    return [(panel_title(title, p), charts.level_bars(
        p.frame, test=spec.test, measure=spec.measure, title=panel_title(title, p),
        subtitle=subtitle)) for p in panels]


def show(report: pl.DataFrame, spec: ReportSpec, *, title: str, subtitle: list[str],
         org: str, files: pl.DataFrame) -> None:
    """Draw the report's charts with their downloads: each panel's images, and all at once."""
    drawn = figures(report, spec, title=title, subtitle=subtitle)
    stem = out.file_name("chart", spec, org, "")
    rows = chart_panels.drawn_rows(report).height
    if len(drawn) > 1:
        st.caption(f"{rows:,} rows in {len(drawn)} charts: every row of the table (with "
                   "students) is in one of them.")
    shown = range(len(drawn))
    if len(drawn) > PANELS_ON_SCREEN:
        names = [f"{i + 1} of {len(drawn)}: {t}" for i, (t, _) in enumerate(drawn)]
        pick = st.selectbox("Chart", shown, key="report_chart_pick",
                            format_func=names.__getitem__)
        shown = range(pick or 0, (pick or 0) + 1)
    for i in shown:
        key = "report_chart" if i == 0 else f"report_chart_{i + 1}"
        st.plotly_chart(drawn[i][1], key=key, config={"displaylogo": False})
        out.image_downloads(drawn[i][1], stem if len(drawn) == 1 else f"{stem}-{i + 1}",
                            key=key)
    st.caption("Every number in these charts is in the table above.")
    if not pdf.chromium_available():
        return
    whole = st.container(horizontal=True)
    detail = f"report {spec.to_params()['report']}"
    if len(drawn) > 1:
        whole.download_button(
            f"All {len(drawn)} charts as one PDF", key="report_charts_pdf", on_click="ignore",
            data=auditing.on_download(partial(all_pdf, [f for _, f in drawn]),
                                      name=f"{stem}.pdf", detail=detail, n_rows=rows),
            file_name=f"{stem}.pdf", mime="application/pdf", icon=":material/picture_as_pdf:")
    deck = out.file_name("slides", spec, org, "pptx")
    whole.download_button(
        "Slides (PowerPoint)", key="report_pptx", on_click="ignore",
        data=auditing.on_download(
            partial(deck_bytes, drawn, title=title, subtitle=subtitle, files=files),
            name=deck, detail=detail, n_rows=files.height),
        file_name=deck, mime=PPTX, icon=":material/slideshow:",
        help="A slide per chart, then the table; the filters, n and suppression note are in "
             "each slide's notes.")


def all_pdf(figs: list[go.Figure]) -> bytes:
    """Every panel as one vector PDF, a page each."""
    import pikepdf

    merged = pikepdf.Pdf.new()
    # Each source stays open until the merged file is written (pikepdf copies lazily).
    sources = [pikepdf.open(io.BytesIO(chart_export.figure_image(
        chart_export.for_projector(fig), "pdf"))) for fig in figs]
    for source in sources:
        merged.pages.extend(source.pages)
    buffer = io.BytesIO()
    merged.save(buffer)
    for source in sources:
        source.close()
    return buffer.getvalue()


def deck_bytes(drawn: list[tuple[str, go.Figure]], *, title: str, subtitle: list[str],
               files: pl.DataFrame) -> bytes:
    """The report as slides: a slide per chart panel, the table after them."""
    charts_ = [slides.ChartSlide(t, chart_export.figure_image(chart_export.for_slide(f), "png"))
               for t, f in drawn]
    # The first columns name a row (school year, organisation, CDS code, group, grade); on a
    # slide, those that are the same on every row are said once, in the notes.
    keys = files.columns[:len(out.KEYS)]
    same = [c for c in keys if files.height > 1 and files.get_column(c).n_unique() == 1]
    table = files.drop(same) if len(same) < len(keys) else files
    notes = [*subtitle, *(f"{c}: {files.get_column(c)[0]}" for c in same)]
    return slides.report_deck(title=title, notes=notes, charts=charts_, table=table,
                              key_columns=len(keys) - len(same) if len(same) < len(keys)
                              else len(keys))
