"""Students: find a student in scope, then their score status, reports and score history.

Personal data: the page shows nothing unless the user's scope allows it, and the query layer
refuses it too. The chosen SSID stays in session state, never in the URL (no shareable link).
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import auditing, cached, ssr_links
from dashboard import roster_actions as group_actions
from dashboard import student_profile as profile
from dashboard.context import page_context, stop
from data.student_groups import DIMENSIONS, GROUPS
from queries.labels import GRADE_NAMES, RECORD_TYPE_NAMES
from queries.students import score_history

# Students listed at most; more than that asks for a narrower list. (A comment, not a
# docstring: Streamlit's magic would print a bare string on the page.)
LIMIT = 500
MODES = {"search": "Search by SSID or name", "list": "List by school, grade or group"}

ctx = page_context()
st.title("Students")
if not ctx.scope.pii:
    st.info("Your account shows aggregate results only, not individual students. To look up "
            "a student's scores, ask your LEA ELPAC coordinator for access to student records.")
    stop()

lea = ctx.lea_code
mode = st.radio("Find students", list(MODES), format_func=MODES.__getitem__, horizontal=True,
                key="students_mode")
if mode == "search":
    text = st.text_input("SSID or name", key="students_text",
                         placeholder="A 10-digit SSID, or the start of a last or first name")
    if not text.strip():
        st.caption(f"Searches every school year of {ctx.lea_name}.")
        stop()
    found = cached.students(ctx.path, ctx.version, ctx.scope, text=text, lea=lea,
                            limit=LIMIT + 1)
    where = f"for “{text.strip()}” in {ctx.lea_name}, in any school year"
else:
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
    groups = {g.id: f"{DIMENSIONS[g.dimension]}: {g.name}" for g in GROUPS
              if g.dimension in DIMENSIONS}
    group = group_col.selectbox("Student group", list(groups), index=None,
                                format_func=groups.__getitem__, placeholder="All students",
                                key="students_group")
    found = cached.students(ctx.path, ctx.version, ctx.scope, year=ctx.year, lea=lea,
                            school=school, grade=grade, group=group, limit=LIMIT + 1)
    where = f"in {schools.get(school or '', ctx.lea_name)} in {ctx.year}"

if found.height == 0:
    st.info(f"No student found {where}. Check the SSID or the spelling, or widen the list; "
            "only students of the organisations your account covers can be found.")
    stop()
complete = found.height <= LIMIT
if not complete:
    st.caption(f"The first {LIMIT} students by name {where}: narrow the list to see others.")
    found = found.head(LIMIT)
else:
    st.caption(f"{found.height} student record(s) {where}: each student's latest year per test.")

ssids = list(dict.fromkeys(found.get_column("ssid")))
names = {r["ssid"]: f"{r['last_name']}, {r['first_name']} ({r['ssid']})"
         for r in found.iter_rows(named=True)}


def _pick_row() -> None:
    # A click on a row opens that student: the picker below follows the table.
    rows = st.session_state["students_table"].selection.rows
    if rows:
        st.session_state["students_pick"] = found.item(rows[0], "ssid")


st.dataframe(profile.list_table(found), hide_index=True, width="stretch",
             column_config=profile.LIST_COLUMNS, key="students_table", on_select=_pick_row,
             selection_mode="single-row")
group_actions.save_as_group(ctx, found, complete=complete)
if st.session_state.get("students_pick") not in ssids:
    st.session_state["students_pick"] = ssids[0] if len(ssids) == 1 else None
ssid = st.selectbox("Student", ssids, format_func=names.__getitem__,
                    placeholder="Click a row above, or choose a student", key="students_pick")
if ssid is None:
    stop()

records = cached.student(ctx.path, ctx.version, ssid, ctx.scope)
if records.height == 0:  # the store moved on since the list was read
    st.info("This student's records are no longer in the store. Search again.")
    stop()
first = records.row(0, named=True)
auditing.viewed_student(ssid)
st.header(" ".join(n for n in (first["first_name"], first["middle_name"], first["last_name"])
                   if n))
st.caption(f"SSID {first['ssid']} · local ID {first['local_student_id'] or '—'} · born "
           f"{first['birth_date'] or '—'} · gender {first['gender'] or '—'}")

by_label = {profile.record_label(r): r for r in records.iter_rows(named=True)}
labels = list(by_label)
if st.session_state.get("students_record") not in labels:
    # A new student opens on the sidebar's school year when they have a record in it.
    this_year = [k for k, r in by_label.items() if r["school_year"] == ctx.year]
    st.session_state["students_record"] = (this_year or labels)[0]
chosen = st.selectbox("School year and test", labels, key="students_record")
record = by_label[chosen]
st.dataframe(profile.score_table(record), hide_index=True, width="content",
             column_config=profile.SCORE_COLUMNS)

status_tab, reporting_tab, history_tab = st.tabs(["Score status", "Reporting",
                                                  "Score history"])
with status_tab:
    st.table(profile.status_items(record), hide_index=True, hide_header=True,
             border="horizontal")
    if record["record_type"] == "23":
        st.caption("The Summative Alternate ELPAC reports an overall score only: it has no "
                   "domain or composite scores.")
    else:
        st.dataframe(profile.domain_table(record), hide_index=True, width="stretch",
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
                            key=f"students_chart_{record_type}", config={"displaylogo": False})
        else:
            st.caption(f"No {RECORD_TYPE_NAMES[record_type]} scale score to chart yet.")
    st.dataframe(profile.history_table(history), hide_index=True, width="stretch",
                 column_config=profile.HISTORY_COLUMNS)
    st.caption("Results are comparable across years from 2018-19 on; there was no Summative "
               "ELPAC in spring 2020. Each year's levels are its grade's cut scores.")
