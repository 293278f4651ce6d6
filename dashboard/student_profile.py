"""Rendering helpers of the Students page: the list, the profile's tables and the history chart.

The frames come from ``queries.students`` (already scoped); this module only turns codes into
the names TOMS and the SSRs use (``queries.labels``) and draws them. Every table keeps its
store column names, with labels from ``column_config`` (STYLE.md rule 10).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from dashboard.chart_labels import level_style
from queries.labels import (
    ALTERNATE_LEVELS,
    ATTEMPTEDNESS_NAMES,
    CONDITION_CODES,
    DOMAIN_LEVELS,
    DOMAINS,
    GRADE_NAMES,
    INCLUDE_INDICATOR_NAMES,
    MEASURE_NAMES,
    NO_CONDITION_CODE,
    NOT_ATTEMPTED,
    OPPORTUNITY_STATUS_NAMES,
    RECORD_TYPE_ALTERNATE,
    RECORD_TYPE_NAMES,
    RECORD_TYPE_SHORT_NAMES,
    SSR_LANGUAGE_NAMES,
    SUMMATIVE_LEVELS,
    TEST_MODE_NAMES,
)

if TYPE_CHECKING:
    from datetime import date

    from queries.scope import Scope
    from queries.snapshot import Snapshot

LIST_COLUMNS: dict[str, Any] = {
    "name": "Name", "ssid": "SSID",
    "school_year": st.column_config.TextColumn("Year", width="small"),
    "grade_name": st.column_config.TextColumn("Grade", width="small"),
    "test_short_name": "Test", "overall_scale_score": "Overall score",
    "overall_level_name": "Overall level", "score_status": "Score status",
    # Last: the widest column is the one to scroll to on a narrow screen.
    "tested_school_name": "School",
}
HISTORY_COLUMNS: dict[str, Any] = {
    "school_year": "School year", "test_name": "Test", "grade_name": "Grade",
    "score_status": "Score status", "overall_scale_score": "Overall scale score",
    "overall_level_name": "Overall level", "oral_scale_score": "Oral Language scale score",
    "oral_level_name": "Oral Language level", "written_scale_score": "Written Language scale "
    "score", "written_level_name": "Written Language level",
    "level_2_from": "Level 2 from", "level_3_from": "Level 3 from",
    "level_4_from": "Level 4 from",
}
SCORE_COLUMNS: dict[str, Any] = {"measure": "Measure", "scale_score": "Scale score",
                                 "level": "Performance level", "csem": "CSEM"}
DOMAIN_COLUMNS: dict[str, Any] = {
    "domain": "Domain", "composite": "Composite", "is_exempt": "Exempt",
    "testing_status": "Testing status", "completed_date": st.column_config.DateColumn(
        "Completed", format="YYYY-MM-DD"), "test_mode": "Mode", "raw_score": "Raw score",
    "level": "Performance level"}
NO_SCORE = "No score"
BAND_OPACITY = 0.5
"""Level bands use the report charts' blue ramp and patterns (``chart_labels.level_style``), washed
out so the black score line and its numbers read over the darkest band too."""


def _level_text(record: dict[str, Any], measure: str) -> str | None:
    """``level_name`` for one record (a dict: its nulls have no dtype to map)."""
    level = record[f"{measure}_level"]
    if level is None:
        return None
    names = ALTERNATE_LEVELS if record["record_type"] == RECORD_TYPE_ALTERNATE else (
        DOMAIN_LEVELS if measure in DOMAINS else SUMMATIVE_LEVELS)
    return f"{level} – {names[level - 1]}"


def level_name(measure: str) -> pl.Expr:
    """``3 – Moderately Developed``: a level with its name, for the record's test."""
    level = pl.col(f"{measure}_level")
    names = {"summative": SUMMATIVE_LEVELS, "alternate": ALTERNATE_LEVELS}

    def named(levels: tuple[str, ...]) -> pl.Expr:
        return level.replace_strict({i: f"{i} – {n}" for i, n in enumerate(levels, 1)},
                                    default=None, return_dtype=pl.String)

    return (pl.when(pl.col("record_type") == RECORD_TYPE_ALTERNATE)
            .then(named(names["alternate"])).otherwise(named(names["summative"]))
            .alias(f"{measure}_level_name"))


def _names() -> list[pl.Expr]:
    return [pl.col("grade_assessed").replace_strict(GRADE_NAMES).alias("grade_name"),
            pl.col("record_type").replace_strict(RECORD_TYPE_NAMES).alias("test_name")]


def list_table(found: pl.DataFrame) -> pl.DataFrame:
    """Found students as the list shows them (``LIST_COLUMNS``): "Last, First", short names."""
    return found.with_columns(
        pl.concat_str("last_name", "first_name", separator=", ", ignore_nulls=True)
        .alias("name"), *_names(), level_name("overall"),
        pl.col("record_type").replace_strict(RECORD_TYPE_SHORT_NAMES).alias("test_short_name"),
    ).select(list(LIST_COLUMNS))


def school_choices(snap: Snapshot, scope: Scope, year: str, lea: str | None
                   ) -> dict[str, str]:
    """Schools of an LEA in scope with records in ``year`` (code -> name), by name.

    None for all of California (``lea`` None): thousands of schools are no list to pick from.
    """
    if lea is None:
        return {}
    orgs = scope.visible_orgs(snap.orgs_of([year])).filter(
        (pl.col("org_level") == "school") & (pl.col("lea_code") == lea))
    return dict(orgs.sort("name").select("school_code", "name").iter_rows())


def record_label(record: dict[str, Any]) -> str:
    """``2024-25 · Summative ELPAC · Grade 5``: one of a student's records."""
    return " · ".join((record["school_year"], RECORD_TYPE_NAMES[record["record_type"]],
                       GRADE_NAMES[record["grade_assessed"]]))


def _date(value: date | None, missing: str) -> str:
    return value.isoformat() if value else missing


def _coded(code: str | None, names: dict[str, str], missing: str) -> str:
    return f"{code} – {names[code]}" if code in names else (code or missing)


def score_table(record: dict[str, Any]) -> pl.DataFrame:
    """Overall and composite scale scores, levels and CSEMs (overall only for the Alternate)."""
    measures = ["overall"] if record["record_type"] == RECORD_TYPE_ALTERNATE else [
        "overall", "oral", "written"]
    return pl.DataFrame({
        "measure": [MEASURE_NAMES[m] for m in measures],
        "scale_score": [record[f"{m}_scale_score"] for m in measures],
        "level": [_level_text(record, m) or (NO_SCORE if record["is_tested"] else "—")
                  for m in measures],
        "csem": [record[f"{m}_csem"] for m in measures],
    }, schema={"measure": pl.String, "scale_score": pl.Int16, "level": pl.String,
               "csem": pl.Int16})


def status_items(record: dict[str, Any]) -> pl.DataFrame:
    """The Score Status tab as TOMS lists it: item and value (ELPAC.md §4)."""
    condition = record["condition_code"]
    if condition in CONDITION_CODES:
        name, meaning = CONDITION_CODES[condition]
        condition_text = f"{condition} – {name}. {meaning}"
    else:
        condition_text = condition or NO_CONDITION_CODE
    exempt = [d.title() for d in DOMAINS if record[f"is_{d}_exempt"]]
    items = {
        "Test": RECORD_TYPE_NAMES[record["record_type"]],
        "School year": record["school_year"],
        "Grade assessed": GRADE_NAMES[record["grade_assessed"]],
        "Tested status": "Tested" if record["is_tested"] else "Not tested",
        "Score status": record["score_status"],
        "Test completed": _date(record["final_test_completed_date"], "—"),
        "Score available in TOMS": _date(record["score_available_date"], "Not available yet"),
        "Condition code": condition_text,
        "Attemptedness": _coded(record["attemptedness"], ATTEMPTEDNESS_NAMES, NOT_ATTEMPTED),
        "Include indicator": _coded(record["include_indicator"], INCLUDE_INDICATOR_NAMES,
                                    "—"),
        "Domain exemptions": ", ".join(exempt) or "None",
        "Force-completed at window close": {True: "Yes", False: "No"}.get(
            record["is_force_complete"], "—"),
        "Tested at": ", ".join(n for n in (record["tested_school_name"],
                                           record["tested_district_name"]) if n) or "—",
    }
    return pl.DataFrame({"item": list(items), "value": list(items.values())})


def domain_table(record: dict[str, Any]) -> pl.DataFrame:
    """Each domain's exemption, testing status, date, mode, raw score and level."""
    composite = {"listening": "oral", "speaking": "oral", "reading": "written",
                 "writing": "written"}
    rows = []
    for d in DOMAINS:
        rows.append({
            "domain": MEASURE_NAMES[d], "composite": MEASURE_NAMES[composite[d]],
            "is_exempt": record[f"is_{d}_exempt"],
            "testing_status": _coded(record[f"{d}_testing_status"], OPPORTUNITY_STATUS_NAMES,
                                     "—"),
            "completed_date": record[f"{d}_completed_date"],
            "test_mode": TEST_MODE_NAMES.get(record[f"{d}_test_mode"] or "", "—"),
            "raw_score": record[f"raw_score_{d}"],
            "level": _level_text(record, d) or (NO_SCORE if record["is_tested"] else "—"),
        })
    return pl.DataFrame(rows, schema={"domain": pl.String, "composite": pl.String,
                                      "is_exempt": pl.Boolean, "testing_status": pl.String,
                                      "completed_date": pl.Date, "test_mode": pl.String,
                                      "raw_score": pl.Int8, "level": pl.String})


def reporting_items(record: dict[str, Any]) -> pl.DataFrame:
    """The Reporting tab: SSR, its languages, release date and where it goes (ELPAC.md §7)."""
    eligible = record["is_ssr_eligible"]
    if eligible:
        ssr = "Created: the student completed the test (attemptedness Y)"
    elif record["is_tested"]:
        ssr = "None: SSRs are made for complete tests only"
    else:
        ssr = "None: the student did not test"
    languages = [SSR_LANGUAGE_NAMES.get(c, c) for c in (record["ssr_languages"] or "").split(";")
                 if c]
    if record["ssr_available_date"]:
        released = record["ssr_available_date"].isoformat()
    elif not eligible:
        released = "—"
    elif record["school_year"] < "2023-24":
        # SSRAvailableDate is new in the 2023-24 layout (ELPAC.md §3.2, field 61).
        released = "Not given in Student Score Data Files before 2023-24"
    else:
        released = "Not released yet"
    items = {
        "Student Score Report": ssr,
        "SSR languages": " and ".join(languages) or "—",
        "SSR available": released,
        "Goes to (latest enrolled school)": ", ".join(
            n for n in (record["enrolled_school_name"], record["enrolled_district_name"]) if n)
        or "—",
        "Primary language (CEDS)": record["ceds_language"] or "—",
    }
    return pl.DataFrame({"item": list(items), "value": list(items.values())})


def history_table(history: pl.DataFrame) -> pl.DataFrame:
    """``queries.students.score_history`` with names for codes (``HISTORY_COLUMNS``)."""
    return history.with_columns(*_names(), *[level_name(m) for m in
                                             ("overall", "oral", "written")]).select(
        list(HISTORY_COLUMNS))


def history_chart(history: pl.DataFrame, record_type: str) -> go.Figure:
    """Overall scale score by year over the level bands of each year's grade (one test).

    The bands are the levels' blues and patterns of every level chart (``charts``), each
    named beside the latest year's bar, so the chart reads without telling colours apart.
    """
    rows = history.filter(pl.col("record_type") == record_type)
    years = rows.get_column("school_year").to_list()
    alternate = record_type == RECORD_TYPE_ALTERNATE
    levels = ALTERNATE_LEVELS if alternate else SUMMATIVE_LEVELS
    edges = ["min_scale_score", "level_2_from", "level_3_from",
             *([] if alternate else ["level_4_from"]), "max_scale_score"]
    fig = go.Figure()
    bands = []
    for i, name in enumerate(levels):
        low = rows.get_column(edges[i])
        high = rows.get_column(edges[i + 1]) - (0 if i + 2 == len(edges) else 1)
        bands.append((f"{i + 1} {name}", low.last(), high.last()))
        fig.add_bar(x=years, y=(high - low + 1).to_list(), base=low.to_list(),
                    name=f"Level {i + 1}: {name}", opacity=BAND_OPACITY,
                    **level_style(len(levels), i),
                    customdata=list(zip(low, high, strict=True)),
                    hovertemplate=f"Level {i + 1}: {name}<br>%{{customdata[0]}}–"
                                  "%{customdata[1]}<extra></extra>")
    scores = rows.get_column("overall_scale_score")
    fig.add_scatter(x=years, y=scores.to_list(), name="Overall scale score",
                    mode="lines+markers+text", text=scores.to_list(),
                    textposition="top center", textfont={"color": "#000000"},
                    line={"color": "#000000", "width": 3},
                    marker={"size": 10, "color": "#000000",
                            "line": {"color": "#ffffff", "width": 2}}, connectgaps=False)
    # Zoom on the cuts: the full 1150-1950 range would squeeze the levels into a thin strip.
    cuts = rows.select(pl.col(edges[1]).min(), pl.col(edges[-2]).max()).row(0)
    shown = [v for v in (*cuts, scores.min(), scores.max()) if v is not None]
    pad = 15 if alternate else 60
    bottom, top = min(shown) - pad, max(shown) + pad
    # Each band named at the right of the latest year's bar, in the middle of what shows.
    for label, y in _band_labels(bands, bottom, top):
        fig.add_annotation(xref="paper", x=1, xanchor="left", xshift=6, showarrow=False,
                           y=y, yref="y", text=label, align="left",
                           font={"color": "#000000"})
    fig.update_layout(barmode="overlay", bargap=0.15, height=_HEIGHT, showlegend=False,
                      title=f"{RECORD_TYPE_NAMES[record_type]}: overall scale score by year",
                      yaxis={"title": "Overall scale score", "range": [bottom, top],
                             "automargin": True},
                      xaxis={"title": "School year", "type": "category", "automargin": True},
                      margin={"t": 50, "b": 10, "l": 10, "r": 190})
    return fig


_HEIGHT = 380
_LABEL_GAP_PX = 16
"""Band labels at least this far apart: narrow bands (the Alternate's top two) would overlap."""


def _band_labels(bands: list[tuple[str, int | None, int | None]], bottom: float, top: float
                 ) -> list[tuple[str, float]]:
    """(label, y) of the bands that show between ``bottom`` and ``top``, never overlapping."""
    out = [(label, (max(low, bottom) + min(high, top)) / 2) for label, low, high in bands
           if low is not None and high is not None and high >= bottom and low <= top]
    gap = _LABEL_GAP_PX * (top - bottom) / (_HEIGHT - 120)  # about the plot area's height
    ys = [y for _, y in out]
    for i in range(1, len(ys)):  # bands are in level order: lowest first
        ys[i] = max(ys[i], ys[i - 1] + gap)
    for i in range(len(ys) - 1, -1, -1):  # and back inside the top, if pushed past it
        ys[i] = min(ys[i], top - gap / 2 if i == len(ys) - 1 else ys[i + 1] - gap)
    return [(label, y) for (label, _), y in zip(out, ys, strict=True)]
