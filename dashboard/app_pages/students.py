"""Students: find a student in scope, then their score status, reports and score history.

Personal data: the page shows nothing unless the user's scope allows it, and the query layer
refuses it too. The chosen SSID stays in session state, never in the URL (no shareable link).
The ways to find students and the profile's tabs are ``dashboard.student_views``'s.
"""

from __future__ import annotations

import streamlit as st

from dashboard import auditing, cached, roster_actions, student_views
from dashboard import student_profile as profile
from dashboard.context import page_context, require_student_records, stop

# Students listed at most; more than that asks for a narrower list. (A comment, not a
# docstring: Streamlit's magic would print a bare string on the page.)
LIMIT = 500
MODES = {"search": "Search by SSID or name", "list": "List by school, grade or student group"}

ctx = page_context()
st.title("Students", anchor=False)
require_student_records(ctx, "Students lists individual students")
mode = st.radio("Find students", list(MODES), format_func=MODES.__getitem__, horizontal=True,
                key="students_mode")
find = student_views.search if mode == "search" else student_views.list_by
found, where = find(ctx, LIMIT + 1)
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


st.dataframe(profile.list_table(found), hide_index=True, placeholder="—", width="stretch",
             column_config=profile.LIST_COLUMNS, key="students_table", on_select=_pick_row,
             selection_mode="single-row")
roster_actions.save_as_roster(ctx, found, complete=complete)
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
                   if n), anchor=False)
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
st.dataframe(profile.score_table(record), hide_index=True, placeholder="—", width="content",
             column_config=profile.SCORE_COLUMNS)
student_views.record_tabs(ctx, records, record)
