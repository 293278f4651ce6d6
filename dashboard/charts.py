"""The custom report's charts: Plotly figures, and the home page's level bars in HTML.

* :func:`level_bars`: CERS-style 100 % stacked level bars, one horizontal bar per report row.
* :func:`longitudinal_chart`: levels (stacked by year) or the mean scale score over years.
* :func:`transition_heatmap`: where the students at each level one year were the next.
* :func:`level_bars_html`: the level bars as plain HTML and CSS (no script to load).

Colours, patterns, titles and row labels come from :mod:`dashboard.chart_labels`, so every
chart draws a level the same way; segments carry their percent as text. Every chart is drawn
from the same report frame as the table beside it (STYLE.md, one context, many renderers).
Images for slides are :mod:`dashboard.chart_export`'s.
"""

from __future__ import annotations

import textwrap
from html import escape
from typing import Literal

import plotly.graph_objects as go
import polars as pl

from dashboard.chart_labels import (
    BLUES,
    OKABE_ITO,
    PATTERNS,
    TEXT_COLOURS,
    level_style,
    org_names,
    row_labels,
)
from queries.labels import MEASURE_NAMES, SUPPRESSED, level_names
from queries.metrics import SUPPRESSION_THRESHOLD

SCALE_MEASURES = ("overall", "oral", "written")
_MIN_LABEL_PCT = 4
"""Segments narrower than this carry no text label (it would not fit)."""


SUBTITLE_WIDTH = 140
"""Characters a subtitle line holds before it wraps: a line wider than a slide is cut off."""


def _layout(fig: go.Figure, title: str, subtitle: list[str], *, height: int) -> go.Figure:
    subtitle = [part for line in subtitle
                for part in textwrap.wrap(line, SUBTITLE_WIDTH, break_long_words=False)]
    fig.update_layout(
        # Title and subtitle hang from the top edge; the legend sits between them and the
        # plot, in level order, as in CERS. The top margin makes room for all three.
        title={"text": title, "subtitle": {"text": "<br>".join(subtitle)}, "x": 0,
               "xanchor": "left", "y": 1, "yref": "container", "yanchor": "top",
               "pad": {"t": 12, "l": 4}},
        height=height, margin={"t": 85 + 16 * len(subtitle), "l": 10, "r": 20, "b": 50},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0,
                "xanchor": "left", "traceorder": "normal"},
        font={"family": "Arial, Helvetica, sans-serif"},
        uniformtext={"minsize": 10, "mode": "hide"}, plot_bgcolor="white")
    return fig


# -- level bars as HTML (the home page) ------------------------------------------------------

_CSS_PATTERNS = {
    "": "none",
    "/": "repeating-linear-gradient(-45deg, {fg} 0 1px, transparent 1px 8px)",
    ".": "radial-gradient(circle, {fg} 1.2px, transparent 1.6px) 0 0 / 8px 8px",
    "x": "repeating-linear-gradient(45deg, {fg} 0 1px, transparent 1px 8px), "
         "repeating-linear-gradient(-45deg, {fg} 0 1px, transparent 1px 8px)",
}
"""The Plotly patterns of ``PATTERNS`` drawn with CSS gradients (``{fg}``: the line colour)."""


def _css_background(levels: int, i: int) -> str:
    fg = "rgba(255,255,255,0.45)" if TEXT_COLOURS[levels][i] == "#ffffff" else "rgba(0,0,0,0.3)"
    pattern = _CSS_PATTERNS[PATTERNS[levels][i]].format(fg=fg)
    return f"background:{pattern}, {BLUES[levels][i]}" if pattern != "none" else (
        f"background:{BLUES[levels][i]}")


def level_bars_html(rows: list[tuple[str, list[float | None]]], names: tuple[str, ...],
                    title: str) -> str:
    """100 % stacked level bars as plain HTML and CSS: one bar per ``(label, percents)``.

    The home page's level chart. Plotly's code takes about a second to load in a new tab and
    held back the page's first figures (measured by ``benchmarks/dashboard.py``); these bars
    need no script. Same colours and patterns as the Plotly charts, the percent written in
    each segment wide enough to hold it, and each bar described in words for screen readers.

    Examples
    --------
    >>> html = level_bars_html([("2024-25", [60.0, 40.0, 0.0])], ("Low", "Mid", "High"), "T")
    >>> 'aria-label="2024-25: Low 60.0%, Mid 40.0%, High 0.0%"' in html
    True
    """
    k = len(names)
    out = ['<figure class="elpac-levels" style="margin:0 0 0.5rem 0;font-family:inherit">',
           f'<figcaption class="elpac-chart-title" style="font-weight:600;margin:0 0 0.5rem 0">'
           f"{escape(title)}</figcaption>"]
    for label, pcts in rows:
        words = ", ".join(f"{n} {p:.1f}%" if p is not None else f"{n} no score"
                          for n, p in zip(names, pcts, strict=True))
        out.append(f'<div role="img" aria-label="{escape(label)}: {escape(words)}" '
                   'style="display:flex;align-items:center;margin:0 0 6px 0">'
                   f'<span style="width:5.5rem;flex:none;font-size:0.85rem">{escape(label)}'
                   '</span><div style="display:flex;flex:1;height:34px;border-radius:2px;'
                   'overflow:hidden">')
        for i, pct in enumerate(pcts):
            if not pct:
                continue
            text = f"{pct:.0f}%" if pct >= _MIN_LABEL_PCT else ""
            out.append(f'<div title="{escape(names[i])}: {pct:.1f}%" style="width:{pct:.3f}%;'
                       f"{_css_background(k, i)};color:{TEXT_COLOURS[k][i]};display:flex;"
                       "align-items:center;justify-content:center;font-size:0.85rem;"
                       'border-right:1px solid #fff">'
                       f'<span style="background:{BLUES[k][i]};padding:0 3px;'
                       f'border-radius:2px">{text}</span></div>')
        out.append("</div></div>")
    legend = "".join(
        f'<span style="display:inline-flex;align-items:center;margin-right:1rem">'
        f'<span style="display:inline-block;width:14px;height:14px;margin-right:4px;'
        f'{_css_background(k, i)};border:1px solid #999"></span>{escape(n)}</span>'
        for i, n in enumerate(names))
    out.append(f'<div style="font-size:0.85rem;margin:0.5rem 0 0 5.5rem">{legend}</div>')
    out.append("</figure>")
    return "".join(out)


# -- level bars ----------------------------------------------------------------------------

def level_bars(report: pl.DataFrame, *, test: str, measure: str, title: str,
               subtitle: list[str]) -> go.Figure:
    """100 % stacked horizontal bars of a measure's levels, one bar per report row.

    Rows with no student are left out; a suppressed row keeps its bar label, marked
    suppressed, with no segments. Every other row is drawn: a report longer than one
    readable chart is split into panels first (:mod:`dashboard.chart_panels`).
    """
    names = level_names(test, measure)
    k = len(names)
    shown = report.filter(pl.col("n_enrolled") > 0)
    counts = shown.get_column(f"{measure}_total").fill_null(0).to_list()
    labels = [f"{lab} ({SUPPRESSED} suppressed)" if s else f"{lab} (n={n:,})"
              for lab, s, n in zip(row_labels(shown), shown.get_column("is_suppressed"),
                                   counts, strict=True)]
    fig = go.Figure()
    for i, level in enumerate(names):
        pct = shown.get_column(f"{measure}_l{i + 1}_pct").to_list()
        fig.add_trace(go.Bar(
            y=labels, x=pct, orientation="h", name=level,
            text=[f"{p:.0f}%" if p is not None and p >= _MIN_LABEL_PCT else "" for p in pct],
            textposition="inside", insidetextanchor="middle", **level_style(k, i),
            hovertemplate=f"%{{y}}<br>{level}: %{{x:.1f}}%<extra></extra>"))
    fig.update_layout(barmode="stack")
    fig.update_xaxes(range=[0, 100], ticksuffix="%", showgrid=True, gridcolor="#dddddd")
    fig.update_yaxes(autorange="reversed", automargin=True)
    return _layout(fig, title, subtitle, height=max(320, 34 * len(labels) + 220))


# -- longitudinal --------------------------------------------------------------------------

def longitudinal_chart(report: pl.DataFrame, *, test: str, measure: str,
                       view: Literal["levels", "mean"], title: str, subtitle: list[str]
                       ) -> go.Figure:
    """A measure over school years: stacked levels per year, or the mean with its error band.

    One series per organisation, group and grade, every one drawn (a report with more than
    one chart holds is split first: :func:`dashboard.chart_panels.longitudinal_panels`).
    Each year's n (students with a score in the measure) is written under its bar or, for
    the means, in the hover text. ``mean`` needs a measure with a scale score (overall, oral,
    written).
    """
    if view == "mean" and measure not in SCALE_MEASURES:
        raise ValueError(f"{MEASURE_NAMES[measure]} has levels only, no scale score")
    frame = report.sort("school_year", maintain_order=True)
    if frame.height:
        frame = frame.with_columns(org_names(frame))
    keys = [c for c in ("name", "row_label", "grade_name")
            if frame.get_column(c).n_unique() > 1] or ["name"]
    series = frame.select(keys).unique(maintain_order=True)
    label = [" · ".join(r) for r in frame.select(keys).iter_rows()]
    years = frame.get_column("school_year").to_list()
    counts = frame.get_column(f"{measure}_total").to_list()
    fig = go.Figure()
    if view == "mean":
        frame = frame.with_columns(pl.Series("_series", label))
        for i, ((name,), part) in enumerate(frame.group_by("_series", maintain_order=True)):
            fig.add_trace(go.Scatter(
                x=part.get_column("school_year").to_list(),
                y=part.get_column(f"{measure}_mean").to_list(), name=str(name),
                mode="lines+markers", connectgaps=False,
                line={"dash": ("solid", "dash", "dot", "dashdot")[i % 4], "width": 3,
                      "color": OKABE_ITO[i % len(OKABE_ITO)]},
                marker={"symbol": ("circle", "square", "diamond", "triangle-up")[i % 4],
                        "size": 10, "color": OKABE_ITO[i % len(OKABE_ITO)]},
                error_y={"type": "data", "array": part.get_column(f"{measure}_se").to_list(),
                         "visible": True},
                customdata=[f"n={n:,}" if n is not None else f"{SUPPRESSED} suppressed"
                            for n in part.get_column(f"{measure}_total").to_list()],
                hovertemplate="%{x}: %{y:.1f} (%{customdata})<extra>%{fullData.name}</extra>"))
        fig.update_yaxes(title="Mean scale score (± 1 standard error)", gridcolor="#dddddd")
        fig.update_xaxes(type="category", title="School year")
    else:
        names = level_names(test, measure)
        k = len(names)
        # The year's n under its bar: a chart of several years has no single n.
        ticks = [f"{y} (n={n:,})" if n is not None else f"{y} ({SUPPRESSED} suppressed)"
                 for y, n in zip(years, counts, strict=True)]
        x = [label, ticks] if len(series) > 1 else ticks
        for i, level in enumerate(names):
            pct = frame.get_column(f"{measure}_l{i + 1}_pct").to_list()
            fig.add_trace(go.Bar(
                x=x, y=pct, name=level,
                text=[f"{p:.0f}%" if p is not None and p >= _MIN_LABEL_PCT else ""
                      for p in pct],
                textposition="inside", insidetextanchor="middle", **level_style(k, i),
                hovertemplate=f"%{{x}}<br>{level}: %{{y:.1f}}%<extra></extra>"))
        fig.update_layout(barmode="stack")
        fig.update_yaxes(range=[0, 100], ticksuffix="%", gridcolor="#dddddd",
                         title="Percent of students with a score")
    return _layout(fig, title, subtitle, height=560)


# -- level transitions ---------------------------------------------------------------------

def transition_frame(transitions: pl.DataFrame, *, test: str, suppress: bool,
                     threshold: int = SUPPRESSION_THRESHOLD) -> pl.DataFrame:
    """The transitions with level names; in presentation mode, small matrices hidden.

    ``n_from`` is the from-level's matched students. When any from-level of an organisation
    and pair of years has fewer than ``threshold`` of them, the whole matrix shows no counts
    or percents (``is_suppressed``). Hiding that level's row alone is not enough: the cohort
    report beside it publishes each year's level counts, and those totals less the rows shown
    give the hidden row back, cell by cell (tests/dashboard/test_report_options.py).
    """
    names = level_names(test, "overall")
    matrix = ["from_year", "org_level", "county_code", "lea_code", "school_code"]
    keys = [*matrix, "from_level"]
    out = transitions.with_columns(
        pl.col("n_students").sum().over(keys).alias("n_from"),
        pl.col("from_level").cast(pl.Int64).replace_strict(
            {i + 1: n for i, n in enumerate(names)}, return_dtype=pl.String)
        .alias("from_level_name"),
        pl.col("to_level").cast(pl.Int64).replace_strict(
            {i + 1: n for i, n in enumerate(names)}, return_dtype=pl.String)
        .alias("to_level_name"))
    hidden = (pl.col("n_from") < threshold).any().over(matrix) if suppress else pl.lit(False)
    return out.with_columns(
        hidden.alias("is_suppressed"),
        pl.when(hidden).then(None).otherwise(pl.col("n_from")).alias("n_from"),
        pl.when(hidden).then(None).otherwise(pl.col("n_students")).alias("n_students"),
        pl.when(hidden).then(None).otherwise(pl.col("pct_of_from")).alias("pct_of_from"))


def transition_heatmap(frame: pl.DataFrame, *, test: str, title: str, subtitle: list[str]
                       ) -> go.Figure:
    """A from-level x to-level heat map of one organisation's transition (``transition_frame``).

    Cells hold the percent of the from-level's students and their count; lightness follows
    the percent on the same blue ramp as the bars.
    """
    names = list(level_names(test, "overall"))
    cells = {(r["from_level_name"], r["to_level_name"]): r for r in frame.iter_rows(named=True)}
    # A suppressed matrix is hidden whole (transition_frame), its empty rows too.
    hidden_rows = set(names) if frame.get_column("is_suppressed").any() else set()
    z, text = [], []
    for src in names:
        z_row, t_row = [], []
        for dst in names:
            cell = cells.get((src, dst))
            if src in hidden_rows:
                z_row.append(None)
                t_row.append(SUPPRESSED)
                continue
            pct = cell["pct_of_from"] if cell else 0.0
            z_row.append(pct)
            t_row.append(f"{pct:.0f}%<br>({cell['n_students'] if cell else 0:,})")
        z.append(z_row)
        text.append(t_row)
    fig = go.Figure(go.Heatmap(
        z=z, x=names, y=names, text=text, texttemplate="%{text}", zmin=0, zmax=100,
        colorscale=[[0, "#f7fbff"], [0.5, "#6baed6"], [1, "#08306b"]],
        colorbar={"title": {"text": "% of row"}, "ticksuffix": "%"},
        hovertemplate="From %{y}<br>to %{x}: %{text}<extra></extra>", xgap=2, ygap=2))
    fig.update_xaxes(title=f"Level in {frame.get_column('to_year').first()}", side="bottom")
    fig.update_yaxes(title=f"Level in {frame.get_column('from_year').first()}",
                     autorange="reversed", automargin=True)
    return _layout(fig, title, subtitle, height=560)
