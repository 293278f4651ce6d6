"""The English learner progress page's modes (``dashboard/app_pages/elpi.py``).

The indicator, the students behind it, and reclassification candidates.

Every number comes from ``queries.elpi_*`` through ``dashboard.cached`` with the user's scope;
this module only lays it out. The colour is never shown by colour alone: each of the five has
its name and its own pattern (:func:`colour_gauge`).
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any

import polars as pl
import streamlit as st

from dashboard import auditing, cached, identity
from dashboard.context import require_student_records, stop
from queries.access import covers_lea, may_load
from queries.elpi_export import elpi_table, student_table
from queries.elpi_matrix import WATCH_LISTS
from queries.elpi_orgs import ELPI_DIMENSIONS
from queries.elpi_reclass import (
    STATE_GUIDANCE,
    read_local_minimums,
    set_local_minimums,
    summarise_candidates,
)
from queries.elpi_rules import ELPI_LEVELS
from queries.elpi_status import COLOUR_ORDER, NO_DATA
from queries.errors import REFUSALS, as_sentence
from queries.labels import GRADE_NAMES, RECORD_TYPE_SHORT_NAMES
from queries.spreadsheets import csv_bytes

if TYPE_CHECKING:
    from dashboard.context import PageContext

MODES = {"indicator": "Progress indicator", "students": "Students behind it",
         "reclassification": "Reclassification"}
"""The page's modes; the last two list students (student-record access only)."""
COLOUR_STYLE: dict[str, tuple[str, str]] = {
    # colour: (fill, pattern drawn over it in white): each colour its own pattern.
    "Red": ("#b2182b", "repeating-linear-gradient(45deg,#fff6 0 2px,transparent 2px 7px),"
                       "repeating-linear-gradient(-45deg,#fff6 0 2px,transparent 2px 7px)"),
    "Orange": ("#e08214", "repeating-linear-gradient(0deg,#fff8 0 2px,transparent 2px 6px)"),
    "Yellow": ("#fee08b", "radial-gradient(#0005 1.2px,transparent 1.6px) 0 0/6px 6px"),
    "Green": ("#1a9850", "repeating-linear-gradient(90deg,#fff6 0 2px,transparent 2px 7px)"),
    "Blue": ("#2166ac", "none"),
}
SCHOOL_COLUMNS = {
    "name": st.column_config.TextColumn("School"),
    "cds_code": st.column_config.TextColumn("CDS code"),
    "n_counted": st.column_config.NumberColumn("Counted"),
    "rate": st.column_config.NumberColumn("Progress rate (%)", format="%.1f"),
    "status": st.column_config.TextColumn("Status"),
    "change": st.column_config.NumberColumn("Change (points)", format="%+.1f"),
    "change_level": st.column_config.TextColumn("Change"),
    "color": st.column_config.TextColumn("Colour"),
    "n_more_to_next_status": st.column_config.NumberColumn(
        "More progressing for next status", help="How many more counted students making "
        "progress would reach the next status (the what-if)."),
    "data_status": st.column_config.TextColumn("Data"),
}
MINIMUM_CHOICES = ("None", "Level 1", "Level 2", "Level 3")
"""A local domain minimum's choices, by level (0: none)."""
GROUP_COLUMNS = {**SCHOOL_COLUMNS, "student_group": st.column_config.TextColumn("Group"),
                 "dimension": st.column_config.TextColumn("Of")}


def colour_gauge(row: dict[str, Any]) -> str:
    """The five colours, Red (lowest) to Blue (highest), the organisation's marked: HTML.

    Readable without colour: every segment carries its name and its own pattern, the chosen
    one is outlined and named again below, and the figure says it in words (``aria-label``).
    """
    chosen = row.get("color")
    words = (f"Colour {chosen}: {COLOUR_ORDER.index(chosen) + 1} of 5, from Red (lowest) "
             "to Blue (highest)" if chosen else "No colour")
    parts = [f'<figure role="img" aria-label="{escape(words)}" style="margin:0 0 0.5rem 0">'
             '<div style="display:flex;gap:4px;max-width:36rem">']
    for name in COLOUR_ORDER:
        fill, pattern = COLOUR_STYLE[name]
        mark = name == chosen
        parts.append(
            f'<div style="flex:1;height:44px;background:{pattern},{fill};'
            f'border:{"3px solid #111" if mark else "1px solid #777"};border-radius:4px;'
            'display:flex;align-items:flex-end;justify-content:center">'
            f'<span style="background:#fff;color:#111;font-size:0.8rem;padding:0 4px;'
            f'margin:0 0 3px 0;border-radius:2px;{"font-weight:700" if mark else ""}">'
            f"{escape(name)}</span></div>")
    parts.append("</div>")
    below = (f"▲ {escape(chosen)}" if chosen else
             "No colour: a colour needs a status this year and last, and 30 or more students "
             "counted (ELPI.md §4).")
    parts.append(f'<figcaption style="font-size:0.9rem;margin:0.25rem 0 0 0">{below}'
                 "</figcaption></figure>")
    return "".join(parts)


def headline_row(rows: pl.DataFrame, ctx: PageContext) -> dict[str, Any] | None:
    """The sidebar organisation's All-students row (the state, an LEA or a school)."""
    level = ctx.org_level
    key = {"state": "county_code", "lea": "lea_code", "school": "school_code"}[level]
    code = "00" if level == "state" else ctx.lea
    found = rows.filter((pl.col("org_level") == level) & (pl.col(key) == code)
                        & (pl.col("group_id") == "001"))
    return found.row(0, named=True) if found.height else None


def summary_line(row: dict[str, Any]) -> str:
    """Status, change and the what-if of one row, in words."""
    counted = row["n_counted"]
    if row["status"] == NO_DATA:
        return (f"{counted} student(s) counted: a status needs 11 or more (No Data). Counted: "
                "grades 1-12 with an overall score on the same test this year and last.")
    if row["rate"] is None:
        return f"{counted} students counted; the figures are hidden for small groups."
    progress = row["n_progressed"] + row["n_maintained_level_4"]
    parts = [f"**{row['status']}**: {progress:,} of {counted:,} counted students made "
             f"progress ({row['rate']:.1f} %)"]
    if row["n_adjustment"]:
        parts.append(f"with {row['n_adjustment']} added for participation under 95 %")
    if row["change_level"]:
        parts.append(f"**{row['change_level']}** {row['change']:+.1f} points from last year "
                     f"({row['prior_rate']:.1f} %)")
    else:
        parts.append("no change: last year has no status to compare with")
    line = "; ".join(parts) + "."
    if row["n_more_to_next_status"] is not None:
        line += (f" What if: {row['n_more_to_next_status']} more students making progress "
                 f"would make it **{row['next_status']}**.")
    return line


def participation_note(row: dict[str, Any]) -> str:
    """Whether the 95 % participation adjustment could be worked out, and what it is."""
    if not row["participation_known"]:
        return ("Participation adjustment not worked out: these results are partial, and "
                "non-testers are only marked in the final file after the window closes.")
    enrolled, tested = row["n_enrolled"], row["n_tested"]
    pct = f" ({tested / enrolled * 100:.1f} %)" if enrolled else ""
    return (f"Participation: {tested:,} of {enrolled:,} English learners in grades 1-12 "
            f"tested{pct}; {row['n_adjustment']} added to the denominator (95 % rule, only "
            "for 30 or more enrolled).")


def _download(frame: pl.DataFrame, name: str, detail: str, key: str) -> None:
    st.download_button("Download CSV", key=key, on_click="ignore", file_name=name,
                       mime="text/csv", icon=":material/download:",
                       data=auditing.on_download(lambda: csv_bytes(frame), name=name,
                                                 detail=detail, n_rows=frame.height))


def indicator(ctx: PageContext) -> None:
    """Status, change and colour for the organisation and each school; groups; the matrix."""
    rows = cached.elpi(ctx.path, ctx.version, ctx.year, ctx.scope, ctx.lea_code)
    top = headline_row(rows, ctx)
    if top is None:
        st.info(f"{ctx.lea_name} has no {ctx.year} results in your access.")
        stop()
    st.header(f"{ctx.lea_name}: English Learner Progress Indicator", anchor=False)
    st.html(colour_gauge(top))
    st.markdown(summary_line(top))
    st.caption(participation_note(top))
    # Each school of an LEA; statewide, each LEA (thousands of schools would not be read).
    below = "lea" if ctx.org_level == "state" else "school"
    parts = rows.filter((pl.col("org_level") == below) & (pl.col("group_id") == "001"))
    if ctx.org_level != "school" and parts.height:
        st.header("LEAs" if below == "lea" else "Schools", anchor=False)
        st.dataframe(parts.select(*SCHOOL_COLUMNS), hide_index=True, width="stretch",
                     key="elpi_schools", placeholder="—", column_config={
                         **SCHOOL_COLUMNS, "name": "LEA" if below == "lea" else "School"})
    st.header("By student group", anchor=False)
    level, code = _level_code(ctx)
    groups = rows.filter((pl.col("org_level") == level) & _code_is(level, code)).with_columns(
        pl.col("dimension").replace_strict(ELPI_DIMENSIONS, default=None))
    st.dataframe(groups.select("student_group", "dimension", *list(SCHOOL_COLUMNS)[2:]),
                 hide_index=True, width="stretch", column_config=GROUP_COLUMNS,
                 key="elpi_groups", placeholder="—")
    st.caption("Status needs 11 or more students counted; a colour needs 30 (long-term "
               "English learners: 15 for an LEA). Rates are unrounded until shown.")
    _download(elpi_table(rows), f"elpac-elpi-{ctx.lea}-{ctx.year}.csv",
              f"elpi year={ctx.year} org={ctx.lea}", "elpi_csv")
    matrix(ctx, level, code)


def _level_code(ctx: PageContext) -> tuple[str, str]:
    return ctx.org_level, "00" if ctx.org_level == "state" else ctx.lea


def _code_is(level: str, code: str) -> pl.Expr:
    key = {"state": "county_code", "county": "county_code", "lea": "lea_code",
           "school": "school_code"}[level]
    return pl.col(key) == code


def matrix(ctx: PageContext, level: str, code: str) -> None:
    """The 6 x 6 ELPI level transition matrix of the organisation (Summative students)."""
    st.header("ELPI levels last year and this year", anchor=False)
    cells = cached.elpi_transitions(ctx.path, ctx.version, ctx.year, ctx.scope, level, code)
    if cells.get_column("is_suppressed").any():
        st.info("Hidden: a row of this matrix has fewer than 11 students, so its moves "
                "would show who they are.")
        return
    table = cells.pivot(on="to_level", index="from_level", values="n_students",
                        sort_columns=False).rename({"from_level": "Last year"})
    st.dataframe(table, hide_index=True, key="elpi_matrix",
                 column_config={lv: st.column_config.NumberColumn(f"This year {lv}")
                                for lv in ELPI_LEVELS}, placeholder="—")
    st.caption("Counted Summative ELPAC students. Above the diagonal they progressed; on it "
               "they maintained (4 to 4 counts as progress); below it they declined. "
               "Summative Alternate students are in the counts above, not in this matrix.")


def students(ctx: PageContext) -> None:
    """The students behind the indicator: a watch list or a cell of the matrix."""
    require_student_records(ctx, "The students behind the indicator are a list of students")
    level, code = _org_picker(ctx, "elpi_students_org")
    choices = {**WATCH_LISTS, "cell": "A cell of the level matrix"}
    watch = st.radio("Show", list(choices), format_func=choices.__getitem__, horizontal=True,
                     key="elpi_watch")
    cell = None
    if watch == "cell":
        left, right = st.columns(2)
        cell = (left.selectbox("Last year", ELPI_LEVELS, key="elpi_cell_from"),
                right.selectbox("This year", ELPI_LEVELS, key="elpi_cell_to"))
    try:
        found = cached.elpi_cell_students(ctx.path, ctx.version, ctx.year, ctx.scope, level,
                                          code, None if watch == "cell" else watch, cell)
    except REFUSALS as exc:
        st.warning(as_sentence(exc))
        stop()
    st.caption(f"{found.height:,} student(s).")
    shown = student_table(found)
    st.dataframe(shown.with_columns(pl.col("test").replace_strict(
        RECORD_TYPE_SHORT_NAMES, default=None, return_dtype=pl.String)).select(
        "school_name", "grade", "ssid", "last_name", "first_name", "test", "prior_grade",
        "prior_score", "prior_elpi_level", "score", "elpi_level", "outcome_name",
        "points_to_next_level", "prior_source"), hide_index=True, width="stretch",
        key="elpi_students_table", column_config={
            "school_name": "School", "grade": "Grade", "ssid": "SSID", "last_name": "Last name",
            "first_name": "First name", "test": "Test", "prior_grade": "Grade last year",
            "prior_score": "Score last year", "prior_elpi_level": "ELPI level last year",
            "score": "Score", "elpi_level": "ELPI level", "outcome_name": "Outcome",
            "points_to_next_level": "Points to the next level",
            "prior_source": "Last year from"}, placeholder="—")
    _download(shown, f"elpac-elpi-students-{code}-{ctx.year}.csv",
              f"elpi-students year={ctx.year} {level}={code} list={watch}",
              "elpi_students_csv")


def _org_picker(ctx: PageContext, key: str) -> tuple[str, str]:
    """The sidebar organisation, or one of its schools."""
    rows = cached.elpi(ctx.path, ctx.version, ctx.year, ctx.scope, ctx.lea_code)
    schools = rows.filter((pl.col("org_level") == "school") & (pl.col("group_id") == "001"))
    own = _level_code(ctx)
    options = {own: ctx.lea_name} if ctx.org_level != "school" else {}
    options |= {("school", c): n for c, n in schools.select("school_code", "name").iter_rows()}
    if not options:
        st.info(f"{ctx.lea_name} has no {ctx.year} results in your access.")
        stop()
    keys, labels = list(options), list(options.values())
    picked = st.selectbox("Organisation", range(len(keys)), key=key,
                          format_func=labels.__getitem__)
    return keys[picked or 0]


def reclassification(ctx: PageContext) -> None:
    """Students meeting criterion 1 by school and grade, with the LEA's local minimums."""
    require_student_records(ctx, "Reclassification candidates are a list of students")
    st.info(STATE_GUIDANCE, icon=":material/gavel:")
    lea = ctx.lea_code
    local = read_local_minimums(cached.store(), lea) if lea else {}
    user = identity.current_user()
    if lea and may_load(user) and covers_lea(user, lea) and _minimums_form(lea, local):
        local = read_local_minimums(cached.store(), lea)
    use = bool(local) and st.toggle(
        "Show who also meets the local domain minimums (" + ", ".join(
            f"{d} {n}" for d, n in local.items()) + ")", key="elpi_use_local")
    everyone = cached.reclassification(ctx.path, ctx.version, ctx.year, ctx.scope, lea,
                                       tuple(local.items()) if use else ())
    if everyone.height == 0:
        st.info(f"No student in {ctx.lea_name} has a {ctx.year} score in your access.")
        stop()
    st.header("Meeting criterion 1, by school and grade", anchor=False)
    summary = summarise_candidates(everyone).with_columns(
        pl.col("grade").replace_strict(GRADE_NAMES, default=None))
    st.dataframe(summary.drop("school_year", "lea_code"), hide_index=True, width="stretch",
                 key="elpi_reclass_summary", column_config={
                     "school_name": "School", "school_code": "CDS code", "grade": "Grade",
                     "n_scored": "Tested with scores",
                     "n_meeting_criterion_1": "Meeting criterion 1",
                     "pct_meeting_criterion_1": st.column_config.NumberColumn(
                         "Meeting criterion 1 (%)", format="%.1f"),
                     "n_met_last_year_too": "Met it last year too",
                     "n_meeting_local_minimums": "Also local minimums"}, placeholder="—")
    candidates = everyone.filter(pl.col("meets_criterion_1"))
    st.header(f"Candidates ({candidates.height:,})", anchor=False)
    st.caption("Criterion 1: Summative ELPAC overall level 4, or Summative Alternate ELPAC "
               "overall level 3. *Met last year too*: a candidate not yet reclassified.")
    st.dataframe(candidates, hide_index=True, width="stretch", key="elpi_reclass_students",
                 placeholder="—")
    _download(candidates, f"elpac-reclassification-{ctx.lea}-{ctx.year}.csv",
              f"reclassification year={ctx.year} org={ctx.lea}", "elpi_reclass_csv")


def _minimums_form(lea: str, local: dict[str, int]) -> bool:
    """An LEA coordinator's form for the local minimums; True when it saved them."""
    with st.expander("Local domain minimums (optional)"):
        st.caption(STATE_GUIDANCE)
        with st.form("elpi_minimums"):
            picked = {}
            for column, domain in zip(st.columns(4), ("listening", "speaking", "reading",
                                                      "writing"), strict=True):
                picked[domain] = column.selectbox(
                    domain.capitalize(), [0, 1, 2, 3], index=local.get(domain, 0),
                    format_func=MINIMUM_CHOICES.__getitem__, key=f"elpi_min_{domain}")
            if st.form_submit_button("Save the minimums"):
                try:
                    set_local_minimums(cached.store(), identity.current_user(), lea,
                                       {d: v for d, v in picked.items() if v})
                except REFUSALS as exc:
                    st.error(as_sentence(exc))
                else:
                    st.success("Saved.")
                    return True
    return False


__all__ = ["MODES", "colour_gauge", "indicator", "reclassification", "students"]
