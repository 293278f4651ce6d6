"""The Rosters page's three modes: the list of rosters, a new roster, and CSV uploads.

Each mode draws its inputs, reads through ``queries.rosters`` (the user's scope applies) and
hands its writes to the button callbacks of ``dashboard.roster_actions``. Widget keys keep
their ``groups_`` names, so a session's choices survive the rename.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl
import streamlit as st

from dashboard import cached, identity, rosters
from dashboard import roster_actions as actions
from dashboard import student_profile as profile
from dashboard.context import stop
from queries.rosters import TEMPLATE, assignable_accounts, group_key, roster_uploads

if TYPE_CHECKING:
    from dashboard.context import PageContext

VIEWS = {"list": "Rosters", "new": "New roster", "upload": "Upload CSV"}


def choose_view(admin: bool) -> str:
    """The mode picker: only administrators upload."""
    state = st.session_state
    views = VIEWS if admin else {k: v for k, v in VIEWS.items() if k != "upload"}
    if state.get("groups_view") not in views:
        state["groups_view"] = "list"
    return str(st.segmented_control("Show", list(views), format_func=views.__getitem__,
                                    key="groups_view", required=True,
                                    label_visibility="collapsed"))


def new_roster(ctx: PageContext, admin: bool) -> None:
    """A roster from pasted SSIDs, at a school of the sidebar's LEA, maybe given to users."""
    state = st.session_state
    names = rosters.school_names(ctx.snap)
    labels = set(rosters.listed_rosters(cached.store(), ctx.scope, names).get_column("key"))
    newest = ctx.snap.years[-1]
    schools = {c: f"{n} ({c})" for c, n in
               profile.school_choices(ctx.snap, ctx.scope, newest, ctx.lea_code).items()}
    if not schools:
        st.info("Choose an LEA in the sidebar: a roster belongs to one of its schools."
                if ctx.lea_code is None else
                f"No school of {ctx.lea_name} that your account covers has results in {newest}.")
        stop()
    if state.get("groups_new_school") not in schools:
        state["groups_new_school"] = ctx.lea if ctx.lea in schools else next(iter(schools))
    left, right = st.columns(2)
    name = left.text_input("Roster name", key="groups_new_name", max_chars=100,
                           placeholder="e.g. Period 3 ELD")
    school = right.selectbox("School", list(schools), format_func=schools.__getitem__,
                             key="groups_new_school")
    text = st.text_area("SSIDs", key="groups_new_ssids", height=160,
                        placeholder="One SSID a line, or separated by commas",
                        help="10-digit SSIDs of students at the school in the newest year.")
    if admin:
        users = assignable_accounts(cached.store(), ctx.scope, rosters.school_leas(ctx.snap))
        state["groups_new_users"] = [u for u in state.get("groups_new_users") or ()
                                     if u in users]
        st.multiselect("Give it to", list(users), format_func=users.__getitem__,
                       key="groups_new_users", placeholder="Nobody yet (assign it later)")
    if name.strip() and group_key(name.strip(), school) in labels:
        st.info("A roster of this name already exists at this school: choose another name.",
                icon=":material/group_add:")
    st.button("Make the roster", key="groups_create", type="primary", on_click=actions.create,
              args=(ctx.scope, "groups_new", school, names.get(school, school)),
              kwargs={"school_names": names})
    st.caption(f"{len(rosters.parse_ssids(text)):,} SSID(s) entered. Students must be at the "
               f"school in {newest}, the store's newest year"
               + ("; the roster will be yours, made only of students of your rosters."
                  if not admin else "."))


def upload_rosters(ctx: PageContext) -> None:
    """A CSV of rosters (administrators), its outcome, and the upload history."""
    state = st.session_state
    st.caption("A CSV file with the columns name, school_cds, ssid and (optional) user_email: "
               "one row per student of a roster; a user e-mail on a row gives the roster to "
               "that account. Every row is checked, and a file with any bad row loads nothing.")
    st.download_button("Download a template", data=TEMPLATE, mime="text/csv",
                       file_name="rosters.csv", key="groups_template", on_click="ignore",
                       icon=":material/download:")
    uploader = f"groups_upload_{state.setdefault('groups_upload_generation', 0)}"
    file = st.file_uploader("Roster file (CSV)", type=["csv"], key=uploader)
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
            st.dataframe(pl.DataFrame(problems, schema=list(rosters.PROBLEM_COLUMNS),
                                      orient="row"), hide_index=True, placeholder="—",
                         width="stretch", column_config=rosters.PROBLEM_COLUMNS,
                         key="groups_upload_problems")
        else:
            st.warning(f"{file_name} has no rows: nothing was loaded.")
    st.header("Upload history", anchor=False)
    history = roster_uploads(cached.store(), ctx.scope, me=identity.who(),
                             leas_of=rosters.school_leas(ctx.snap))
    st.dataframe(history, hide_index=True, placeholder="—", width="stretch",
                 column_config=rosters.UPLOAD_COLUMNS,
                 key="groups_upload_history")
    st.caption(f"{history.height:,} upload(s), newest first, loaded or refused.")


def roster_list(ctx: PageContext, admin: bool) -> None:
    """The user's rosters; the chosen one's students; an administrator's controls for it."""
    state = st.session_state
    names = rosters.school_names(ctx.snap)
    listed = rosters.listed_rosters(cached.store(), ctx.scope, names)
    if listed.height == 0:
        st.info("No roster yet. " + (
            "Make one (New roster), upload a CSV, or save a Students list as a roster." if admin
            else "Make one from your students (New roster)."))
        stop()
    labels = {k: rosters.roster_label(n, s, names)
              for k, n, s in listed.select("key", "name", "school_code").iter_rows()}

    def pick_row() -> None:
        # A click on a row opens that roster: the picker below follows the table.
        rows = state["groups_table"].selection.rows
        if rows:
            state["groups_pick"] = listed.item(rows[0], "key")

    st.dataframe(listed.drop("key"), hide_index=True, placeholder="—", width="stretch",
                 column_config=rosters.ROSTER_COLUMNS, key="groups_table", on_select=pick_row,
                 selection_mode="single-row")
    if state.get("groups_pick") not in labels:
        state["groups_pick"] = next(iter(labels))
    key = st.selectbox("Roster", list(labels), format_func=labels.__getitem__,
                       key="groups_pick")
    found, missing = rosters.members(ctx, key)
    st.header(labels[key], anchor=False)
    if found.height:
        st.dataframe(profile.list_table(found), hide_index=True, placeholder="—", width="stretch",
                     column_config=profile.LIST_COLUMNS, key="groups_members")
    st.caption(f"{found.get_column('ssid').n_unique() if found.height else 0:,} student(s), "
               "each with their latest record at the school."
               + (f" Not in the records you may see (moved away, or outside your access): "
                  f"{', '.join(missing)}." if missing else ""))
    if admin:
        actions.manage(ctx.scope, key, listed.filter(pl.col("key") == key).item(0, "users"),
                       assignable_accounts(cached.store(), ctx.scope,
                                           rosters.school_leas(ctx.snap)), labels[key])
