"""Charts as presentation-ready images: a slide-sized copy, and PNG, SVG or PDF bytes.

Exports go through kaleido 1.x and the system Chromium, at 1600 x 900 with projector-size
fonts (``for_projector``), never downloading a browser. PDFs are the SVG turned into PDF by
cairo (CairoSVG): Chromium's own PDF paints each bar's pattern as a bitmap, 7 MB for one
chart, where cairo keeps every shape and pattern as vectors (about 60 kB).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import plotly.graph_objects as go

from documents import pdf

EXPORT_WIDTH, EXPORT_HEIGHT = 1600, 900
FORMATS = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf"}


def for_projector(fig: go.Figure, *, width: int = EXPORT_WIDTH, height: int = EXPORT_HEIGHT
                  ) -> go.Figure:
    """A copy of a chart sized for a slide, with fonts readable from the back of a room."""
    out = go.Figure(fig)
    lines = str(out.layout.title.subtitle.text or "").count("<br>") + 1
    top, bottom = 130 + 27 * lines, 90
    out.update_layout(
        width=width, height=height, font={"size": 20}, paper_bgcolor="white",
        title={"font": {"size": 36}, "subtitle": {"font": {"size": 20}},
               "pad": {"t": 24, "l": 8}},
        legend={"font": {"size": 20}},
        margin={"t": top, "l": 20, "r": 40, "b": bottom})
    # Automargin grows the margins to hold the (rotated, two-level) tick labels: a fixed
    # bottom margin cut the longitudinal chart's year labels at slide sizes.
    out.update_xaxes(tickfont={"size": 18}, title_font={"size": 20}, automargin=True)
    out.update_yaxes(tickfont={"size": 18}, title_font={"size": 20}, automargin=True)
    # A segment's percent must fit its bar's thickness, or Plotly hides it (uniformtext):
    # many horizontal bars on a fixed-height slide get smaller text, never none.
    text = min(18, _bar_text_size(out, height - top - bottom))
    out.update_layout(uniformtext={"minsize": min(12, text - 1), "mode": "hide"})
    out.update_traces(textfont_size=text, selector={"type": "bar"})
    out.update_traces(textfont_size=20, selector={"type": "heatmap"})
    return out


def for_slide(fig: go.Figure) -> go.Figure:
    """A slide-sized copy for a PowerPoint slide, whose own title holds the chart's title.

    The subtitle's lines (what, where, n, data status) take the title's place in the image.
    """
    out = for_projector(fig)
    lines = str(out.layout.title.subtitle.text or "")
    out.update_layout(title={"text": lines, "font": {"size": 20, "color": "#333333"},
                             "subtitle": {"text": ""}},
                      margin={"t": 90 + 27 * (lines.count("<br>") + 1)})
    return out


def _bar_text_size(fig: go.Figure, plot_height: int) -> int:
    bars = {y for t in fig.data if t.type == "bar" and t.orientation == "h" for y in t.y or ()}
    if not bars:
        return 18
    # Plotly's default bargap leaves 80 % of each band to the bar, and it pads text inside a
    # bar by about 3 px on each side: text larger than that is shrunk, or hidden below
    # uniformtext's minimum (measured: 13 px text in 19 px bars was hidden).
    return max(9, int(plot_height / len(bars) * 0.8) - 7)


class KaleidoServer:
    """kaleido's sync server: one Chromium for the process, started on the first export.

    One browser makes an image in about 0.1 s instead of 3 s (TOOLCHAIN.md). The server
    answers one request at a time through shared queues: two sessions exporting at once must
    not interleave (they could receive each other's image), so one lock covers the start and
    every render.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._started = False

    def render(self, fig: go.Figure, fmt: str, *, width: int, height: int) -> bytes:
        """``fig`` as ``fmt`` bytes (kaleido's format names), the server started if need be."""
        import kaleido  # imported on demand: only exports need it

        with self._lock:
            if not self._started:
                # No MathJax: the charts use no LaTeX, and its default is a CDN (no network).
                kaleido.start_sync_server(mathjax=False, silence_warnings=True)
                self._started = True
            data = kaleido.calc_fig_sync(fig.to_plotly_json(), opts={
                "format": fmt, "width": width, "height": height, "scale": 1})
        return bytes(data)


_SERVER = KaleidoServer()
"""The process's one export server (kaleido allows one sync server per process)."""


def figure_image(fig: go.Figure, fmt: str, *, width: int = EXPORT_WIDTH,
                 height: int = EXPORT_HEIGHT) -> bytes:
    """The chart as ``png``, ``svg`` or ``pdf`` bytes, rendered by kaleido in Chromium.

    Raises ``RuntimeError`` with a sentence when no Chromium is installed.
    """
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    # Pages check first (pdf.chromium_available) and say how to install it; this is the net.
    browser = pdf.configured_chromium()
    if not Path(browser).exists():
        raise RuntimeError(f"Chart images need Chromium: {pdf.INSTALL_CHROMIUM}, or set "
                           "BROWSER_PATH to a Chrome or Chromium binary.")
    os.environ.setdefault("BROWSER_PATH", browser)
    if fmt == "pdf":
        import cairosvg  # imported on demand: only PDF exports need it

        svg = _SERVER.render(fig, "svg", width=width, height=height)
        return bytes(cairosvg.svg2pdf(bytestring=svg))
    return _SERVER.render(fig, fmt, width=width, height=height)
