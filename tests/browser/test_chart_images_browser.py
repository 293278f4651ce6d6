"""Slide images keep every label inside the picture, at 1600 x 900 and 1920 x 1080.

Issue 12: the longitudinal PNG cut the grade labels and the axis numbers and put the axis
title over the bars; the PNG dropped the percent labels the screen showed. Each chart kind is
drawn from the tiny store, exported as SVG by kaleido (the image the PNG and PDF are made of),
opened in Chromium, and every text element's box is measured: inside the image, and no axis
title overlapping the plot's bars.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from playwright.sync_api import Page

from dashboard import chart_export, chart_labels, chart_panels, charts
from queries.longitudinal import read_longitudinal
from queries.reports import read_report
from queries.scope import Scope
from queries.snapshot import Snapshot
from queries.spec import ReportSpec

LEA = "19619690000000"
YEARS = ("2021-22", "2022-23", "2023-24", "2024-25", "2025-26")
GRADES = ("KN", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12", "13")
SIZES = [(1600, 900), (1920, 1080)]


def _figures(store: Path) -> dict[str, object]:
    snap = Snapshot(store)
    out = {}
    bars = ReportSpec(years=YEARS, orgs=(LEA,), org_level="lea", grades=GRADES)
    report = read_report(snap, bars, scope=Scope.state(), suppress=False)
    title, sub = chart_labels.describe_report(report, bars, suppress=False)
    panel = chart_panels.level_panels(report, chart_panels.ROWS)[0]  # 25 bars, the most
    out["bars"] = charts.level_bars(panel.frame, test="summative", measure="overall",
                                    title=title, subtitle=sub)
    schools = ReportSpec(years=("2024-25",), orgs=(LEA,), org_level="lea",
                         expand="schools_of_leas", breakdown="ethnicity")
    report = read_report(snap, schools, scope=Scope.state(), suppress=False)
    title, sub = chart_labels.describe_report(report, schools, suppress=False)
    panel = chart_panels.level_panels(report, "name")[0]  # long school and group names
    out["long labels"] = charts.level_bars(panel.frame, test="summative", measure="overall",
                                           title=title, subtitle=sub)
    long_spec = ReportSpec(years=YEARS, orgs=(LEA,), org_level="lea", grades=GRADES,
                           longitudinal=True)
    report = read_longitudinal(snap, long_spec, scope=Scope.state(), suppress=False)
    title, sub = chart_labels.describe_report(report, long_spec, suppress=False)
    for view in ("levels", "mean"):
        panel = chart_panels.longitudinal_panels(report, bars=view == "levels")[0]
        out[f"longitudinal {view}"] = charts.longitudinal_chart(
            panel.frame.filter(pl.col("n_enrolled") > 0), test="summative", measure="overall",
            view=view, title=title, subtitle=sub)  # type: ignore[arg-type]
    return out


MEASURE = """() => {
  const svg = document.querySelector('svg');
  const box = svg.getBoundingClientRect();
  const out = [];
  for (const t of document.querySelectorAll('text')) {
    const r = t.getBoundingClientRect();
    if (!t.textContent.trim() || r.width === 0) continue;
    const cls = (t.getAttribute('class') || '') + ' ' +
                (t.parentElement.getAttribute('class') || '');
    out.push({text: t.textContent, cls, left: r.left - box.left, top: r.top - box.top,
              right: r.right - box.left, bottom: r.bottom - box.top});
  }
  const plot = document.querySelector('.plot .bars, .plot .scatterlayer, .plot .barlayer');
  const p = plot ? plot.getBoundingClientRect() : null;
  return {texts: out, plot: p && {left: p.left - box.left, top: p.top - box.top,
                                  right: p.right - box.left, bottom: p.bottom - box.top}};
}"""


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_every_label_is_inside_the_image(page: Page, tiny_store_path: Path, width: int,
                                         height: int) -> None:
    for name, fig in _figures(tiny_store_path).items():
        slide = chart_export.for_projector(fig, width=width, height=height)  # type: ignore[arg-type]
        svg = chart_export.figure_image(slide, "svg", width=width, height=height).decode()
        page.set_viewport_size({"width": width, "height": height})
        page.set_content(f"<html><body style='margin:0'>{svg}</body></html>")
        found = page.evaluate(MEASURE)
        texts = found["texts"]
        assert texts, name
        outside = [t["text"] for t in texts if t["left"] < -1 or t["top"] < -1
                   or t["right"] > width + 1 or t["bottom"] > height + 1]
        assert not outside, f"{name} at {width}x{height}: cut off: {outside[:5]}"
        plot = found["plot"]
        titles = [t for t in texts if "xtitle" in t["cls"] or "ytitle" in t["cls"]]
        if plot:
            over = [t["text"] for t in titles if t["left"] < plot["right"] - 2
                    and t["right"] > plot["left"] + 2 and t["top"] < plot["bottom"] - 2
                    and t["bottom"] > plot["top"] + 2]
            assert not over, f"{name} at {width}x{height}: axis title over the plot: {over}"
        # The percent labels the screen shows are in the image too.
        if name in ("bars", "longitudinal levels"):
            assert sum(t["text"].endswith("%") and "bartext" in t["cls"] for t in texts) > 20, (
                name)
