"""Student groups: see the groups one may use and their students; make, upload, share, delete.

Groups of one school's students ("Creating Groups in CERS"), reported on as organisations in
the Custom report and given to teachers, who then see only their groups' students. Every read
and write is checked by ``queries.rosters`` against the user's scope; the page says what that
allows. The actions are button callbacks in ``dashboard.roster_actions``.
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import cached, identity
from dashboard import roster_actions as actions
from dashboard import rosters as groups
from dashboard import student_profile as profile
from dashboard.context import page_context, stop
from data.catalog.rosters import group_key

VIEWS = {"list": "Groups", "new": "New group", "upload": "Upload CSV"}

st.title("Student groups")
if identity.current_scope().ssids == ():
    st.info("No student group is assigned to you yet, so there are no students to show or to "
            "group. Ask your LEA administrator to give you your class groups.")
    stop()
ctx = page_context()
if not ctx.scope.pii:
    st.info("Student groups list students: your account shows aggregate results only. Ask "
            "your LEA ELPAC coordinator for access to student records.")
    stop()
state = st.session_state
admin = groups.is_admin(ctx.scope)
store = cached.store()
names, leas_of = groups.school_names(ctx.snap), groups.school_leas(ctx.snap)
st.caption("Groups of one school's students, such as a class: choose *Student groups* as the "
           "level of a Custom report to see their results. "
           + ("Give a group to teachers: they then see only their groups' students." if admin
              else "Yours are the groups your LEA administrator gave you and those you made; "
                   "you can group only students of your groups."))
actions.show_notice()
views = VIEWS if admin else {k: v for k, v in VIEWS.items() if k != "upload"}
if state.get("groups_view") not in views:
    state["groups_view"] = "list"
view = st.segmented_control("Show", list(views), format_func=views.__getitem__,
                            key="groups_view", required=True, label_visibility="collapsed")
listed = groups.listed_groups(store, ctx.scope, names)
labels = {k: groups.group_label(n, s, names)
          for k, n, s in listed.select("key", "name", "school_code").iter_rows()}

if view == "new":
    newest = ctx.snap.years[-1]
    schools = {c: f"{n} ({c})" for c, n in
               profile.school_choices(ctx.snap, ctx.scope, newest, ctx.lea_code).items()}
    if not schools:
        st.info("Choose an LEA in the sidebar: a group belongs to one of its schools."
                if ctx.lea_code is None else
                f"No school of {ctx.lea_name} that your account covers has results in {newest}.")
        stop()
    if state.get("groups_new_school") not in schools:
        state["groups_new_school"] = ctx.lea if ctx.lea in schools else next(iter(schools))
    left, right = st.columns(2)
    name = left.text_input("Group name", key="groups_new_name", max_chars=100,
                           placeholder="e.g. Period 3 ELD")
    school = right.selectbox("School", list(schools), format_func=schools.__getitem__,
                             key="groups_new_school")
    text = st.text_area("SSIDs", key="groups_new_ssids", height=160,
                        placeholder="One SSID a line, or separated by commas",
                        help="10-digit SSIDs of students at the school in the newest year.")
    if admin:
        users = groups.area_accounts(store, ctx.scope, leas_of)
        state["groups_new_users"] = [u for u in state.get("groups_new_users") or ()
                                     if u in users]
        st.multiselect("Give it to", list(users), format_func=users.__getitem__,
                       key="groups_new_users", placeholder="Nobody yet (assign it later)")
    if name.strip() and group_key(name.strip(), school) in labels:
        st.info("A group of this name already exists at this school: choose another name.",
                icon=":material/group_add:")
    st.button("Make the group", key="groups_create", type="primary", on_click=actions.create,
              args=(ctx.scope, "groups_new", school, names.get(school, school)),
              kwargs={"school_names": names})
    st.caption(f"{len(groups.parse_ssids(text)):,} SSID(s) entered. Students must be at the "
               f"school in {newest}, the store's newest year"
               + ("; the group will be yours, made only of students of your groups."
                  if not admin else "."))
    stop()

if view == "upload":
    st.caption("A CSV file with the columns name, school_cds, ssid and (optional) user_email: "
               "one row per student of a group; a user e-mail on a row gives the group to that "
               "account. Every row is checked, and a file with any bad row loads nothing.")
    st.download_button("Download a template", data=groups.TEMPLATE, mime="text/csv",
                       file_name="student-groups.csv", key="groups_template", on_click="ignore",
                       icon=":material/download:")
    uploader = f"groups_upload_{state.setdefault('groups_upload_generation', 0)}"
    file = st.file_uploader("Group file (CSV)", type=["csv"], key=uploader)
    st.button("Check and load", key="groups_upload_load", type="primary", disabled=file is None,
              on_click=actions.upload, args=(ctx.scope, uploader))
    if state.get("groups_upload_result"):
        file_name, n_rows, problems, loaded = state["groups_upload_result"]
        if loaded:
            st.success(f"Loaded {file_name}: all {n_rows:,} rows.", icon=":material/check:")
        elif problems:
            bad = len({p[0] for p in problems})
            st.error(f"Nothing was loaded from {file_name}: {len(problems):,} problem(s) in "
                     f"{bad:,} of its {n_rows:,} rows. Fix them and upload the file again.",
                     icon=":material/error:")
            st.dataframe(pl.DataFrame(problems, schema=list(groups.PROBLEM_COLUMNS),
                                      orient="row"), hide_index=True, width="stretch",
                         column_config=groups.PROBLEM_COLUMNS, key="groups_upload_problems")
        else:
            st.warning(f"{file_name} has no rows: nothing was loaded.")
    st.subheader("Upload history")
    history = groups.upload_history(store, ctx.scope, leas_of)
    st.dataframe(history, hide_index=True, width="stretch", column_config=groups.UPLOAD_COLUMNS,
                 key="groups_upload_history")
    st.caption(f"{history.height:,} upload(s), newest first, loaded or refused.")
    stop()

if listed.height == 0:
    st.info("No student group yet. " + (
        "Make one (New group), upload a CSV, or save a Students list as a group." if admin
        else "Make one from your students (New group)."))
    stop()


def _pick_row() -> None:
    # A click on a row opens that group: the picker below follows the table.
    rows = state["groups_table"].selection.rows
    if rows:
        state["groups_pick"] = listed.item(rows[0], "key")


st.dataframe(listed.drop("key"), hide_index=True, width="stretch",
             column_config=groups.GROUP_COLUMNS, key="groups_table", on_select=_pick_row,
             selection_mode="single-row")
if state.get("groups_pick") not in labels:
    state["groups_pick"] = next(iter(labels))
key = st.selectbox("Group", list(labels), format_func=labels.__getitem__, key="groups_pick")
found, missing = groups.members(ctx, key)
st.subheader(labels[key])
if found.height:
    st.dataframe(profile.list_table(found), hide_index=True, width="stretch",
                 column_config=profile.LIST_COLUMNS, key="groups_members")
st.caption(f"{found.get_column('ssid').n_unique() if found.height else 0:,} student(s), each "
           "with their latest record at the school."
           + (f" Not in the records you may see (moved away, or outside your access): "
              f"{', '.join(missing)}." if missing else ""))
if admin:
    actions.manage(ctx.scope, key, listed.filter(pl.col("key") == key).item(0, "users"),
                  groups.area_accounts(store, ctx.scope, leas_of), labels[key])
