"""A report too big for one readable chart, drawn as small multiples: every row in a panel.

A level chart holds at most :data:`MAX_BARS` bars and a longitudinal chart at most
:data:`MAX_SERIES` series before it stops being readable on a slide. Instead of drawing the
first rows and dropping the rest, a report is split into panels: one per school year,
organisation, student group or grade (the user picks; :func:`default_split` when they have
not), each panel cut into parts when it is still too long. Every row of the report that the
chart draws is in exactly one panel (``tests/dashboard/test_chart_panels.py``), and every
image, PDF or slide export is made of these same panels.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from dashboard.chart_labels import org_names

MAX_BARS = 25
"""Bars one level chart shows: more are unreadable on a slide."""
MAX_SERIES = 8
"""Series one longitudinal chart shows: the colour-blind-safe palette has eight colours."""

SPLITS = {"school_year": "School year", "name": "Organisation", "row_label": "Student group",
          "grade_name": "Grade"}
"""What a level chart can be split by: report column and the words the page shows."""
ROWS = "rows"
"""Split choice: no key, consecutive pages of :data:`MAX_BARS` rows in table order."""


@dataclass(frozen=True)
class Panel:
    """One chart of a report: the words telling it from the others (blank if alone), its rows."""

    label: str
    frame: pl.DataFrame


def drawn_rows(report: pl.DataFrame) -> pl.DataFrame:
    """The rows a chart draws: those with students (an empty row has nothing to show)."""
    shown = report.filter(pl.col("n_enrolled") > 0)
    return shown.with_columns(org_names(shown)) if shown.height else shown


def split_choices(report: pl.DataFrame) -> dict[str, str]:
    """The keys a level chart of ``report`` can be split by (those that vary), and pages."""
    shown = drawn_rows(report)
    varying = {k: v for k, v in SPLITS.items()
               if shown.height and shown.get_column(k).n_unique() > 1}
    return varying | {ROWS: f"Pages of {MAX_BARS} rows"}


def default_split(report: pl.DataFrame, *, max_rows: int = MAX_BARS) -> str | None:
    """No split when the rows fit one chart; otherwise school year, then the others, in turn."""
    shown = drawn_rows(report)
    if shown.height <= max_rows:
        return None
    return next(iter(split_choices(report)))


def level_panels(report: pl.DataFrame, by: str | None, *, max_rows: int = MAX_BARS
                 ) -> list[Panel]:
    """The level chart's panels: one per value of ``by`` (first seen first), cut to size.

    ``by`` is a :data:`SPLITS` key, :data:`ROWS` or None (one panel when the rows fit).
    """
    shown = drawn_rows(report)
    if by is None or by == ROWS or shown.height == 0:
        return _parts("", shown, max_rows)
    if by not in SPLITS:
        raise ValueError(f"a chart can be split by {', '.join(SPLITS)} or {ROWS}, not {by}")
    panels: list[Panel] = []
    for (value,), part in shown.group_by(by, maintain_order=True):
        panels += _parts(str(value), part, max_rows)
    return panels


def _parts(label: str, frame: pl.DataFrame, max_rows: int) -> list[Panel]:
    if frame.height <= max_rows:
        return [Panel(label, frame)]
    starts = range(0, frame.height, max_rows)
    return [Panel(f"{label + ', ' if label else ''}rows {s + 1}–{min(s + max_rows, frame.height)}"
                  f" of {frame.height}", frame.slice(s, max_rows)) for s in starts]


SERIES_KEYS = ("name", "row_label", "grade_name")


def series_keys(report: pl.DataFrame) -> list[str]:
    """The columns telling a longitudinal report's series apart (organisation, group, grade)."""
    shown = drawn_rows(report)
    keys = [c for c in SERIES_KEYS if shown.height and shown.get_column(c).n_unique() > 1]
    return keys or ["name"]


def longitudinal_panels(report: pl.DataFrame, *, bars: bool, max_bars: int = MAX_BARS,
                        max_series: int = MAX_SERIES) -> list[Panel]:
    """A longitudinal report's panels: consecutive series, as many as one chart holds.

    A series is one organisation, group and grade over the years. Stacked level ``bars``
    draw a bar per series and year, so fewer series fit than lines of means do.
    """
    shown = drawn_rows(report)
    if not shown.height:
        return [Panel("", shown)]
    keys = series_keys(report)
    series = shown.select(keys).unique(maintain_order=True)
    years = shown.get_column("school_year").n_unique()
    per = max(1, min(max_series, max_bars // years if bars else max_series))
    if series.height <= per:
        return [Panel("", shown)]
    panels = []
    for start in range(0, series.height, per):
        chunk = series.slice(start, per)
        names = [" · ".join(str(v) for v in row) for row in chunk.iter_rows()]
        label = names[0] if len(names) == 1 else f"{names[0]} to {names[-1]}"
        panels.append(Panel(label, shown.join(chunk, on=keys, how="semi",
                                              maintain_order="left")))
    return panels
