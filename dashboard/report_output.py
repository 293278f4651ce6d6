"""The custom report's table, and the same table as CSV and Excel files.

:func:`report_table` shapes a ``read_report`` frame for one measure; the page shows it with
:func:`column_config` and the downloads write it, so screen and files always agree. Headers
come from ``queries.labels``; cells a spreadsheet could run as formulas are neutralised
(``queries.spreadsheets``), and suppressed score cells are written ``*`` as in the research
files.
"""

from __future__ import annotations

import io
import re
from datetime import date
from functools import partial
from typing import TYPE_CHECKING, Any

import polars as pl
import streamlit as st

from dashboard import chart_export, charts
from dashboard.chart_labels import data_status_text
from documents import pdf
from queries.labels import (
    DATA_STATUS_NAMES,
    GRADE_NAMES,
    MEASURE_NAMES,
    ORG_LEVEL_NAMES,
    REPORT_COLUMN_LABELS,
    SUPPRESSED,
    TESTS,
    level_names,
)
from queries.metrics import SUPPRESSION_THRESHOLD
from queries.spreadsheets import spreadsheet_safe

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from queries.spec import ReportSpec

KEYS = ("school_year", "name", "cds_code", "row_label", "grade_name")
"""The columns naming a row of the table, first in every table and file."""
SCORE_PREFIXES = ("n_measure", "mean_", "se_", "pct_level_", "n_level_")
"""Columns that suppression blanks (counts of enrolled and tested stay)."""
FILE_CODES_TEXT = ("Row type", "County code", "District code", "School code", "TypeID",
                   "StudentGroupID", "Grade code")
"""Columns the files add for analysts, to join with the state's research files: the row's
kind, the CDS code's parts, the research ``TypeID``, group ID and grade code."""
_TEXT_HEADERS = frozenset([*(REPORT_COLUMN_LABELS[c] for c in (*KEYS, "data_status", "note")),
                           *FILE_CODES_TEXT])
"""Export columns that stay text in Excel: a CDS code is a code, not a number."""


def level_columns(test: str, measure: str, *, counts: bool) -> dict[str, str]:
    """Level column names of the table and their headers, level 1 first."""
    names = level_names(test, measure)
    prefix, unit = ("n_level_", "n") if counts else ("pct_level_", "%")
    return {f"{prefix}{i + 1}": f"{name} ({unit})" for i, name in enumerate(names)}


def report_table(report: pl.DataFrame, *, test: str, measure: str, counts: bool
                 ) -> pl.DataFrame:
    """One measure of a report as a table: keys, counts, mean and error, levels, status.

    Level columns hold percents of the measure's students (``pct_level_k``) or, with
    ``counts``, their numbers (``n_level_k``). ``note`` says why a row has no scores;
    ``is_suppressed`` is kept for the exports (the page does not show it).
    """
    m = measure
    columns: list[pl.Expr] = [pl.col(c) for c in KEYS]
    columns += [pl.col("n_enrolled"), pl.col("n_tested"), pl.col("n_scored")]
    if m != "overall":
        columns.append(pl.col(f"{m}_total").alias("n_measure"))
    if m in charts.SCALE_MEASURES:
        columns += [pl.col(f"{m}_mean").alias("mean_scale_score"),
                    pl.col(f"{m}_se").alias("se_scale_score")]
    for i, col in enumerate(level_columns(test, m, counts=counts)):
        columns.append(pl.col(f"{m}_l{i + 1}_{'count' if counts else 'pct'}").alias(col))
    # A row without students is suppressed too (zero is fewer than the threshold), but
    # "No students" says more.
    note = (pl.when(pl.col("n_enrolled") == 0).then(pl.lit("No students"))
            .when(pl.col("is_suppressed"))
            .then(pl.lit(f"Fewer than {SUPPRESSION_THRESHOLD} students tested with scores: "
                         "scores hidden"))
            .when(~pl.col("has_scores")).then(pl.lit("No students tested with scores"))
            .otherwise(pl.lit("")))
    columns += [pl.col("data_status").replace_strict(DATA_STATUS_NAMES),
                note.alias("note"), pl.col("is_suppressed")]
    return report.select(columns)


def column_config(table: pl.DataFrame, *, test: str, measure: str, counts: bool
                  ) -> dict[str, Any]:
    """Streamlit column settings: headers from ``queries.labels``, number formats, help."""
    levels = level_columns(test, measure, counts=counts)
    config: dict[str, Any] = {}
    for col in table.columns:
        if col == "is_suppressed":  # for the exports only; the page does not show it
            continue
        label = REPORT_COLUMN_LABELS.get(col) or levels.get(col, col)
        if col == "n_measure":
            label = f"With a {MEASURE_NAMES[measure]} score"
        if col in levels:
            config[col] = st.column_config.NumberColumn(
                label, format="%d" if counts else "%.1f%%",
                help=f"Of the students with a {MEASURE_NAMES[measure]} score.")
        elif col == "mean_scale_score":
            config[col] = st.column_config.NumberColumn(label, format="%.1f")
        elif col == "se_scale_score":
            config[col] = st.column_config.NumberColumn(
                label, format="± %.1f",
                help="One standard error of the mean, the error band CERS draws.")
        elif col.startswith("n_"):
            config[col] = st.column_config.NumberColumn(label, format="localized")
        else:
            # Organisation and group stay in view while the level columns scroll past.
            config[col] = st.column_config.TextColumn(label, pinned=col in ("name", "row_label")
                                                      or None)
    return config


CODE_SPANS = {"County code": (0, 2), "District code": (2, 7), "School code": (7, 14)}
"""The CDS code's parts, as the research files write them (ELPAC.md §5.3)."""


def file_table(report: pl.DataFrame, *, test: str, measure: str) -> pl.DataFrame:
    """The table as the files hold it: codes for joining, level counts *and* percents.

    Analysts join on the research files' keys, so the CDS code is also split into county,
    district and school codes, with the research ``TypeID``, the ``StudentGroupID`` (blank
    for a custom subgroup) and the grade code; and a file holds counts and percents together
    whatever the page shows.
    """
    counts = report_table(report, test=test, measure=measure, counts=True)
    pcts = report_table(report, test=test, measure=measure, counts=False)
    cds = pl.col("cds_code")
    codes = [
        pl.col("org_level").replace_strict({**ORG_LEVEL_NAMES, "group": "Roster"},
                                           default=pl.col("org_level")).alias("Row type"),
        *[cds.str.slice(a, b - a).alias(name) for name, (a, b) in CODE_SPANS.items()],
        pl.col("type_id").alias("TypeID"),
        pl.when(pl.col("group_id").str.starts_with("custom:")).then(pl.lit(""))
        .otherwise(pl.col("group_id")).alias("StudentGroupID"),
        pl.col("grade").alias("Grade code"),
    ]
    keys = counts.select(*KEYS)
    levels_n = list(level_columns(test, measure, counts=True))
    levels_p = list(level_columns(test, measure, counts=False))
    middle = [c for c in counts.columns if c not in (*KEYS, *levels_n, "data_status", "note",
                                                      "is_suppressed")]
    return pl.concat([
        keys, report.select(codes), counts.select(middle),
        *[pl.concat([counts.select(n), pcts.select(p)], how="horizontal")
          for n, p in zip(levels_n, levels_p, strict=True)],
        counts.select("data_status", "note", "is_suppressed")], how="horizontal")


def export_frame(table: pl.DataFrame, *, test: str, measure: str) -> pl.DataFrame:
    """A :func:`file_table` as a file holds it: labelled headers, ``*`` in suppressed cells.

    Score cells become text (1 decimal for means and percents) so a suppressed cell can hold
    ``*``. Written with ``queries.spreadsheets.csv_bytes`` or :func:`excel_bytes`, which
    neutralise every text cell against spreadsheet formulas.
    """
    levels = (level_columns(test, measure, counts=True)
              | level_columns(test, measure, counts=False))
    out = []
    for col in table.columns:
        if col == "is_suppressed":
            continue
        expr = pl.col(col)
        if col.startswith(SCORE_PREFIXES):
            decimals = 0 if col.startswith(("n_measure", "n_level_")) else 1
            text = (expr.cast(pl.Int64) if decimals == 0 else expr.round(decimals)
                    ).cast(pl.String)
            expr = pl.when(pl.col("is_suppressed")).then(pl.lit(SUPPRESSED)).otherwise(text)
        label = REPORT_COLUMN_LABELS.get(col) or levels.get(col, col)
        if col == "n_measure":
            label = f"With a {MEASURE_NAMES[measure]} score"
        out.append(expr.alias(label))
    return table.select(out)


def excel_bytes(frame: pl.DataFrame, *, title: str, about: list[str]) -> bytes:
    """An export frame as an Excel workbook: the table, then a sheet saying what it is.

    Numbers stay numbers; text (and ``*``) is written as text, never read as a formula
    (``queries.spreadsheets.spreadsheet_safe``, and xlsxwriter told not to read formulas).
    """
    import xlsxwriter

    frame = spreadsheet_safe(frame)
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {
        "in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
        "strings_to_urls": False})
    header = workbook.add_format({"bold": True, "text_wrap": True, "valign": "top"})
    sheet = workbook.add_worksheet("Report")
    sheet.write_row(0, 0, frame.columns, header)
    sheet.freeze_panes(1, 0)
    for r, row in enumerate(frame.iter_rows(), start=1):
        for c, value in enumerate(row):
            if value is None or value == "":
                continue
            number = None if frame.columns[c] in _TEXT_HEADERS else _number(value)
            if number is not None:
                sheet.write_number(r, c, number)
            else:
                sheet.write_string(r, c, str(value))
    sheet.set_column(0, len(frame.columns) - 1, 16)
    info = workbook.add_worksheet("About")
    info.write_string(0, 0, title, workbook.add_format({"bold": True, "font_size": 14}))
    for r, line in enumerate(about, start=1):
        info.write_string(r, 0, line)
    info.set_column(0, 0, 120)
    workbook.close()
    return buffer.getvalue()


def _number(value: object) -> float | None:
    # Export cells are text so that "*" fits; percents, means and counts go back to numbers.
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str) and re.fullmatch(r"-?\d+(\.\d+)?", value):
        return float(value)
    return None


def file_name(kind: str, spec: ReportSpec, org: str, ext: str, *, today: date | None = None
              ) -> str:
    """A file name saying what and when: ``elpac-report-meadow-acres-2024-25-20250914.csv``.

    Without ``ext``, the name without extension (a stem for several formats).

    Examples
    --------
    >>> from queries.spec import ReportSpec
    >>> spec = ReportSpec(years=("2024-25", "2022-23"))
    >>> file_name("report", spec, "Meadow Acres Unified", "csv", today=date(2025, 9, 14))
    'elpac-report-meadow-acres-unified-2022-23-to-2024-25-20250914.csv'
    """
    slug = re.sub(r"[^a-z0-9]+", "-", org.lower()).strip("-")[:40] or "report"
    years = sorted(set(spec.years))
    span = years[0] if len(years) == 1 else f"{years[0]}-to-{years[-1]}"
    stem = f"elpac-{kind}-{slug}-{span}-{(today or date.today()):%Y%m%d}"
    return f"{stem}.{ext}" if ext else stem


CHART_IMAGES_NEED_CHROMIUM = (
    "Chart images (PNG, SVG, PDF) are drawn by Chromium, which is not installed on this "
    f"server: to offer them, {pdf.INSTALL_CHROMIUM}. The table's CSV and Excel files work "
    "without it.")


def image_downloads(fig: go.Figure, stem: str, *, key: str) -> None:
    """PNG, SVG and PDF buttons for a chart, drawn for a slide only when one is clicked.

    Without Chromium, a sentence saying how to install it instead: the image is made after
    the click, where a failure would only read "Failed to generate file for download".
    """
    if not pdf.chromium_available():
        st.info(CHART_IMAGES_NEED_CHROMIUM, icon=":material/image_not_supported:")
        return
    slide = chart_export.for_projector(fig)
    row = st.container(horizontal=True)
    for fmt in chart_export.FORMATS:
        row.download_button(
            f"Chart as {fmt.upper()}", data=partial(chart_export.figure_image, slide, fmt),
            file_name=f"{stem}.{fmt}", mime=chart_export.FORMATS[fmt], key=f"{key}_{fmt}",
            on_click="ignore", icon=":material/image:",
            help="1600 × 900 with large text, for slides and print.")


def transition_subtitle(one: pl.DataFrame, report: pl.DataFrame, spec: ReportSpec,
                        subtitle: list[str], *, cds: str, years: tuple[str, str]) -> list[str]:
    """The heat map's own subtitle: its two years, its matched students and their status.

    The report's subtitle speaks of its latest year; a transition is about one pair of years,
    so the n and the data status are those of the pair. Hidden (suppressed) levels are left
    out of n and the note says so.
    """
    start, end = years
    grades = ", ".join(GRADE_NAMES[g] for g in spec.grades)
    lines = [f"{TESTS[spec.test]}; overall; {start} to {end}; {grades}; students tested with "
             "scores in the organisation in both years, matched by SSID"]
    lines += [line for line in subtitle if line.startswith("Only ")]
    shown = int(one.get_column("n_students").fill_null(0).sum())
    hidden = bool(one.get_column("is_suppressed").any())
    rows = report.filter((pl.col("cds_code") == cds) & pl.col("school_year").is_in(years))
    status = data_status_text(rows)
    lines.append(f"n = {shown:,} students{' in the levels shown' if hidden else ''}. {status}.")
    lines += [line for line in subtitle if line.startswith("Presentation mode")]
    return lines


TRANSITIONS_HIDDEN = (
    f"Presentation mode: the {{start}} to {{end}} transitions are hidden, because a level had "
    f"fewer than {SUPPRESSION_THRESHOLD} students in {{start}}. Hiding only that level's row "
    "would not do: the table above gives each year's level counts, and those less the other "
    "rows would give it back. Turn Presentation off to see them.")


def transitions(moves: pl.DataFrame, report: pl.DataFrame, spec: ReportSpec,
                subtitle: list[str]) -> None:
    """The level transition heat map of one organisation and pair of years, and its table."""
    if not moves.height:
        st.info("No student was tested with scores in the same organisation in two "
                "consecutive chosen years.")
        return
    # Organisations are told apart by their keys, not their CDS code: two rosters of one
    # school share it (queries.reports: a roster's school_code is its group key).
    org_keys = ["org_level", "county_code", "lea_code", "school_code"]
    names = report.select(*org_keys, "name", "cds_code").unique(subset=org_keys)
    moves = moves.join(names, on=org_keys, how="left")
    pairs = moves.select(*org_keys, "name", "cds_code", "from_year", "to_year").unique(
        maintain_order=True)
    labels = [f"{r['name']} ({r['cds_code']}): {r['from_year']} to {r['to_year']}"
              for r in pairs.iter_rows(named=True)]
    pick = st.selectbox("Organisation and years", range(len(labels)),
                        format_func=labels.__getitem__, key="report_transition_pick")
    chosen = pairs.row(pick or 0, named=True)
    name, cds, start, end = (chosen["name"], chosen["cds_code"], chosen["from_year"],
                             chosen["to_year"])
    one = moves.filter(*[pl.col(k) == chosen[k] for k in org_keys],
                       pl.col("from_year") == start)
    if one.get_column("is_suppressed").any():
        st.info(TRANSITIONS_HIDDEN.format(start=start, end=end),
                icon=":material/visibility_off:")
        return
    title = f"Overall level transitions, {name}, {start} to {end}"
    figure = charts.transition_heatmap(
        one, test=spec.test, title=title,
        subtitle=transition_subtitle(one, report, spec, subtitle, cds=cds, years=(start, end)))
    st.plotly_chart(figure, key="report_transition_chart", config={"displaylogo": False})
    table = one.select("from_level_name", "to_level_name", "n_from", "n_students",
                       "pct_of_from")
    st.dataframe(table, hide_index=True, placeholder="—", key="report_transition_table",
                 column_config={
        "from_level_name": st.column_config.TextColumn(f"Level in {start}"),
        "to_level_name": st.column_config.TextColumn(f"Level in {end}"),
        "n_from": st.column_config.NumberColumn(f"Students at the {start} level"),
        "n_students": st.column_config.NumberColumn("Students who moved there"),
        "pct_of_from": st.column_config.NumberColumn("Percent of the level", format="%.1f%%"),
    })
    image_downloads(figure, file_name("transitions", spec, name, ""),
                    key="report_transition_chart")
