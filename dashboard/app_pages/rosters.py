"""Rosters: see the rosters one may use and their students; make, upload, share, delete.

A roster is a group of one school's students ("Creating Groups in CERS"), such as a class,
reported on as an organisation in the Custom report and given to teachers, who then see only
their rosters' students. Every read and write is checked by ``queries.rosters`` against the
user's scope; the page says what that allows. Each mode is drawn by ``dashboard.roster_views``.
"""

from __future__ import annotations

import streamlit as st

from dashboard import identity, roster_views
from dashboard import roster_actions as actions
from dashboard.context import page_context, require_student_records, stop
from queries.rosters import manages_rosters

st.title("Rosters", anchor=False)
if identity.current_scope().ssids == ():
    st.info("No roster is assigned to you yet, so there are no students to show or to put in "
            "a roster. Ask your LEA administrator to give you your class rosters.")
    stop()
ctx = page_context()
require_student_records(ctx, "Rosters list students")
admin = manages_rosters(ctx.scope)
st.caption("Rosters are groups of one school's students, such as a class: choose *Rosters* as "
           "the level of a Custom report to see their results. "
           + ("Give a roster to teachers: they then see only their rosters' students." if admin
              else "Yours are the rosters your LEA administrator gave you and those you made; "
                   "you can put only students of your rosters in a roster."))
actions.show_notice()
view = roster_views.choose_view(admin)
if view == "new":
    roster_views.new_roster(ctx, admin)
elif view == "upload":
    roster_views.upload_rosters(ctx)
else:
    roster_views.roster_list(ctx, admin)
