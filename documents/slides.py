"""A report as PowerPoint slides: a slide per chart panel, then its table, notes on each.

Board presenters work in slides. Each chart slide holds the panel's title and its picture
(the same 1600 x 900 image as the PNG download, so slide and screen agree); the table slides
hold the table the page shows, :data:`TABLE_ROWS` rows a slide. Every slide's notes carry what
the chart's subtitle says (test, measure, years, filters, n, data status) and the suppression
note, so the presenter has them when asked. Built with python-pptx; no Streamlit here.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    import polars as pl

SLIDE_WIDTH_EMU, SLIDE_HEIGHT_EMU = 12_192_000, 6_858_000
"""16:9 (13.333 x 7.5 in), PowerPoint's default widescreen slide."""
TABLE_ROWS = 12
"""Table rows a slide holds at a size readable from the back of a room."""
TABLE_COLUMNS = 9
"""Columns a table slide holds; a wider table keeps its first (key) columns and the rest go
to further slides of the same rows."""
_TITLE_ONLY = 5
"""The default template's "Title Only" layout."""


@dataclass(frozen=True)
class ChartSlide:
    """One chart panel: the slide's title and the panel as a PNG (1600 x 900)."""

    title: str
    png: bytes


def report_deck(*, title: str, notes: Sequence[str], charts: Sequence[ChartSlide],
                table: pl.DataFrame, key_columns: int = 2) -> bytes:
    """The slides of one report as ``.pptx`` bytes.

    Parameters
    ----------
    title
        The report's title, on the table slides.
    notes
        Lines for every slide's speaker notes (what is shown, filters, n, suppression).
    charts
        The chart panels, in order: one slide each.
    table
        The table as the files write it (labelled headers, ``*`` in suppressed cells).
    key_columns
        Leading columns that name a row (organisation, group...), repeated on every slide
        of a table too wide for one.
    """
    from pptx import Presentation
    from pptx.util import Emu, Pt

    deck = Presentation()
    deck.slide_width, deck.slide_height = Emu(SLIDE_WIDTH_EMU), Emu(SLIDE_HEIGHT_EMU)
    layout = deck.slide_layouts[_TITLE_ONLY]
    margin = Emu(SLIDE_WIDTH_EMU // 40)
    top = Emu(int(SLIDE_HEIGHT_EMU * 0.16))

    def new_slide(heading: str):  # noqa: ANN202 - a python-pptx Slide
        slide = deck.slides.add_slide(layout)
        slide.shapes.title.text = heading
        slide.shapes.title.left, slide.shapes.title.top = margin, Emu(0)
        slide.shapes.title.width = Emu(SLIDE_WIDTH_EMU - 2 * margin)
        slide.shapes.title.height = top
        for paragraph in slide.shapes.title.text_frame.paragraphs:
            for run in paragraph.runs:
                run.font.size = Pt(28)
        slide.notes_slide.notes_text_frame.text = "\n".join(notes)
        return slide

    for chart in charts:
        slide = new_slide(chart.title)
        # The picture keeps its 16:9 shape in the space under the title.
        width = min(SLIDE_WIDTH_EMU - 2 * margin, (SLIDE_HEIGHT_EMU - top - margin) * 16 // 9)
        slide.shapes.add_picture(io.BytesIO(chart.png), Emu((SLIDE_WIDTH_EMU - width) // 2),
                                 top, Emu(width), Emu(width * 9 // 16))
    columns = table.columns
    keys, rest = columns[:key_columns], columns[key_columns:]
    step = max(1, TABLE_COLUMNS - len(keys))
    groups = [keys + rest[i:i + step] for i in range(0, len(rest), step)] or [keys]
    pages = max(1, -(-table.height // TABLE_ROWS))
    for page in range(pages):
        rows = table.slice(page * TABLE_ROWS, TABLE_ROWS)
        for part, cols in enumerate(groups):
            heading = f"{title}: table"
            if pages > 1:
                heading += f", rows {page * TABLE_ROWS + 1}–{page * TABLE_ROWS + rows.height}"
            if len(groups) > 1:
                heading += f" ({part + 1} of {len(groups)})"
            _table(new_slide(heading), rows.select(cols), top=top, margin=margin)
    buffer = io.BytesIO()
    deck.save(buffer)
    return buffer.getvalue()


def _table(slide, frame: pl.DataFrame, *, top: int, margin: int) -> None:  # noqa: ANN001
    from pptx.util import Emu, Pt

    width = SLIDE_WIDTH_EMU - 2 * margin
    height = min(SLIDE_HEIGHT_EMU - top - margin, Emu(380_000) * (frame.height + 1))
    shape = slide.shapes.add_table(frame.height + 1, len(frame.columns), Emu(margin),
                                   Emu(top), Emu(width), Emu(height))
    grid = shape.table
    for c, name in enumerate(frame.columns):
        _cell(grid.cell(0, c), name, Pt(12), bold=True)
    for r, row in enumerate(frame.iter_rows(), start=1):
        for c, value in enumerate(row):
            _cell(grid.cell(r, c), "" if value is None else str(value), Pt(12))


def _cell(cell, text: str, size: object, *, bold: bool = False) -> None:  # noqa: ANN001
    cell.text = text
    for paragraph in cell.text_frame.paragraphs:
        for run in paragraph.runs:
            run.font.size = size
            run.font.bold = bold
