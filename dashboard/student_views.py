"""The Students page's parts: the two ways to find students, and one student's profile.

Students are found with ``queries.students`` through ``dashboard.cached`` (the user's scope
is part of every call); the profile's tables and chart are ``dashboard.student_profile``'s.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import polars as pl
import streamlit as st

from dashboard import cached, ssr_links
from dashboard import student_profile as profile
from dashboard.context import stop
from queries.labels import GRADE_NAMES, GROUP_CHOICES, RECORD_TYPE_NAMES
from queries.students import score_history

if TYPE_CHECKING:
    from dashboard.context import PageContext


def search(ctx: PageContext, limit: int) -> tuple[pl.DataFrame, str]:
    """Students found by SSID or name in any school year (at most ``limit``), and where."""
    text = st.text_input("SSID or name", key="students_text",
                         placeholder="A 10-digit SSID, or the start of a last or first name")
    if not text.strip():
        st.caption(f"Searches every school year of {ctx.lea_name}.")
        stop()
    found = cached.students(ctx.path, ctx.version, ctx.scope, text=text, lea=ctx.lea_code,
                            limit=limit)
    return found, f"for “{text.strip()}” in {ctx.lea_name}, in any school year"


def list_by(ctx: PageContext, limit: int) -> tuple[pl.DataFrame, str]:
    """Students of the sidebar's year by school, grade and student group, and where."""
    lea = ctx.lea_code
    schools = profile.school_choices(ctx.snap, ctx.scope, ctx.year, lea)
    if st.session_state.get("students_list_for") != [lea, ctx.year]:
        # Another LEA or year in the sidebar: a school chosen before is not one of its schools.
        st.session_state.pop("students_school", None)
        st.session_state["students_list_for"] = [lea, ctx.year]
    school_col, grade_col, group_col = st.columns(3)
    school = school_col.selectbox("School", list(schools), format_func=schools.__getitem__,
                                  index=None, placeholder="All schools", key="students_school",
                                  disabled=not schools, help=None if schools else
                                  "Choose an LEA in the sidebar to list one school.")
    grade = grade_col.selectbox("Grade", [g for g in GRADE_NAMES if g != "13"], index=None,
                                format_func=GRADE_NAMES.__getitem__, placeholder="All grades",
                                key="students_grade")
    group = group_col.selectbox("Student group", list(GROUP_CHOICES), index=None,
                                format_func=GROUP_CHOICES.__getitem__,
                                placeholder="All students", key="students_group")
    found = cached.students(ctx.path, ctx.version, ctx.scope, year=ctx.year, lea=lea,
                            school=school, grade=grade, group=group, limit=limit)
    return found, f"in {schools.get(school or '', ctx.lea_name)} in {ctx.year}"


def record_tabs(ctx: PageContext, records: pl.DataFrame, record: dict[str, Any]) -> None:
    """One record's score status, its reports (SSRs) and the student's score history."""
    status_tab, reporting_tab, history_tab = st.tabs(["Score status", "Reporting",
                                                      "Score history"])
    with status_tab:
        st.table(profile.status_items(record), hide_index=True, hide_header=True,
                 border="horizontal")
        if record["record_type"] == "23":
            st.caption("The Summative Alternate ELPAC reports an overall score only: it has no "
                       "domain or composite scores.")
        else:
            st.dataframe(profile.domain_table(record), hide_index=True, placeholder="—",
                         width="stretch",
                         column_config=profile.DOMAIN_COLUMNS)
    with reporting_tab:
        st.table(profile.reporting_items(record), hide_index=True, hide_header=True,
                 border="horizontal")
        ssr_links.reporting_section(ctx, record)
    with history_tab:
        history = score_history(records)
        for record_type in history.get_column("record_type").unique().sort():
            if history.filter((pl.col("record_type") == record_type)
                              & pl.col("overall_scale_score").is_not_null()).height:
                st.plotly_chart(profile.history_chart(history, record_type),
                                key=f"students_chart_{record_type}",
                                config={"displaylogo": False})
            else:
                st.caption(f"No {RECORD_TYPE_NAMES[record_type]} scale score to chart yet.")
        st.dataframe(profile.history_table(history), hide_index=True, placeholder="—",
                     width="stretch", column_config=profile.HISTORY_COLUMNS)
        st.caption("Results are comparable across years from 2018-19 on; there was no "
                   "Summative ELPAC in spring 2020. Each year's levels are its grade's cut "
                   "scores.")
