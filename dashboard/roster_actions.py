"""Rosters in the dashboard: what users do with them (button callbacks and controls).

Make a roster from pasted SSIDs or from a Students list, upload a CSV, assign, unassign and
delete: every write goes through ``queries.rosters``, which checks the user's scope, and its
refusals come back as sentences (``dashboard.rosters``). Callbacks run before the page
is drawn again and leave their message in session state (:func:`show_notice`). Nothing is
logged: roster names and SSIDs are student data. Widget keys keep their ``groups_`` names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl
import streamlit as st

from dashboard import cached, identity
from dashboard.rosters import parse_ssids, refusal, school_names
from queries.errors import REFUSALS, InputError, ScopeError, as_sentence
from queries.rosters import (
    assign_group,
    create_group,
    group_key,
    import_groups,
    remove_group,
    split_group_key,
    unassign_group,
)
from queries.spreadsheets import decode_upload

if TYPE_CHECKING:
    from dashboard.context import PageContext
    from queries.scope import Scope

NOTICE = "groups_notice"
"""Session key of the message an action leaves for the next run: ``(kind, text)``."""


def _notice(kind: str, text: str) -> None:
    st.session_state[NOTICE] = (kind, text)


def show_notice() -> None:
    """The message the last action left (success or error), once."""
    notice = st.session_state.pop(NOTICE, None)
    if notice:
        kind, text = notice
        (st.success if kind == "success" else st.error)(
            text, icon=":material/check_circle:" if kind == "success" else ":material/error:")


# -- actions (button callbacks: they run before the page redraws) ---------------------------

def create(scope: Scope, prefix: str, school: str, where: str,
           ssids: list[str] | None = None, school_names: dict[str, str] | None = None) -> None:
    """Make a roster from the ``{prefix}_name``, ``_ssids`` and ``_users`` widgets' values.

    ``where`` names the school for the message; ``ssids`` given (the Students page's list,
    chosen with ``school``) replaces the pasted ones. With pasted SSIDs the school is read
    from ``{prefix}_school`` when the button is pressed, like the other values: the button's
    ``school`` is the one of the run that drew it, which a quick click after choosing another
    school could still see; ``school_names`` then names it. Done, the Rosters page opens on
    the new roster.
    """
    state = st.session_state
    chosen = state.get(f"{prefix}_school")
    if ssids is None and chosen and chosen != school:
        school = str(chosen)
        where = (school_names or {}).get(school, school)
    name = str(state.get(f"{prefix}_name") or "").strip()
    wanted = ssids if ssids is not None else parse_ssids(str(state.get(f"{prefix}_ssids") or ""))
    users = list(state.get(f"{prefix}_users") or ())
    try:
        made = create_group(cached.store(), scope, name=name, school_code=school, ssids=wanted,
                            created_by=identity.who(), users=users)
    except InputError as exc:
        _notice("error", refusal(exc))
        return
    except ScopeError as exc:
        _notice("error", as_sentence(exc))
        return
    n = len(made)
    if scope.ssids is not None:  # a teacher's roster is always theirs (queries.rosters)
        users = [identity.who()]
    _notice("success", f"The roster “{name}” at {where} now has {n:,} student{'s' * (n != 1)}"
            + ("" if not users else f", assigned to {', '.join(users)}") + ".")
    for suffix in ("name", "ssids", "users"):
        state.pop(f"{prefix}_{suffix}", None)
    state["groups_pick"] = group_key(name, school)
    state["groups_view"] = "list"


def upload(scope: Scope, key: str) -> None:
    """Import the CSV in the ``key`` uploader; the outcome goes to ``groups_upload_result``."""
    state = st.session_state
    file = state.get(key)
    if file is None:
        _notice("error", "Choose a CSV file first.")
        return
    try:
        result = import_groups(cached.store(), scope, decode_upload(file.getvalue()),
                               file_name=file.name, uploaded_by=identity.who())
    except REFUSALS as exc:
        _notice("error", f"Nothing was loaded from {file.name}: {str(exc).rstrip('.')}.")
        return
    state["groups_upload_result"] = (file.name, result.n_rows, result.problems, result.loaded)
    if result.loaded:
        # A fresh, empty uploader for the next file.
        state["groups_upload_generation"] = state.get("groups_upload_generation", 0) + 1


def assign(scope: Scope, key: str) -> None:
    """Give the roster to the accounts chosen in ``groups_assign_users``."""
    emails = list(st.session_state.get("groups_assign_users") or ())
    if not emails:
        _notice("error", "Choose whom to give the roster to.")
        return
    try:
        assign_group(cached.store(), scope, key, emails, by=identity.who())
    except REFUSALS as exc:
        _notice("error", as_sentence(exc))
        return
    st.session_state.pop("groups_assign_users", None)
    _notice("success", f"Assigned to {', '.join(emails)}.")


def unassign(scope: Scope, key: str) -> None:
    """Take the roster away from the account chosen in ``groups_unassign_user``."""
    email = st.session_state.get("groups_unassign_user")
    if not email:
        return
    try:
        unassign_group(cached.store(), scope, key, email, by=identity.who())
    except REFUSALS as exc:
        _notice("error", as_sentence(exc))
        return
    _notice("success", f"{email} no longer has this roster.")


def confirm_delete(key: str | None) -> None:
    """Ask (``key``) or stop asking (``None``) whether to delete a roster."""
    st.session_state["groups_confirm_delete"] = key


def delete(scope: Scope, key: str) -> None:
    """Delete a roster (after the confirmation)."""
    st.session_state["groups_confirm_delete"] = None
    try:
        remove_group(cached.store(), scope, key, by=identity.who())
    except REFUSALS as exc:
        _notice("error", as_sentence(exc))
        return
    st.session_state.pop("groups_pick", None)
    _notice("success", f"The roster “{split_group_key(key)[0]}” was deleted; its students' "
                       "results stay in the store.")


def manage(scope: Scope, key: str, users: str, accounts: dict[str, str], label: str
           ) -> None:
    """An administrator's controls for one roster: assign, unassign, delete (confirmed)."""
    state = st.session_state
    assigned = [u for u in users.split(", ") if u]
    offer = {e: text for e, text in accounts.items() if e not in assigned}
    # Values of another roster's options would be refused by the widgets: drop them first.
    state["groups_assign_users"] = [u for u in state.get("groups_assign_users") or ()
                                    if u in offer]
    if state.get("groups_unassign_user") not in assigned:
        state.pop("groups_unassign_user", None)
    with st.container(border=True):
        give, take = st.columns(2)
        give.multiselect("Give this roster to", list(offer), format_func=offer.__getitem__,
                         key="groups_assign_users", placeholder="Choose accounts",
                         help="Accounts of your LEAs and schools that see student records.")
        give.button("Assign", key="groups_assign", on_click=assign, args=(scope, key),
                    disabled=not offer)
        if assigned:
            take.selectbox("Take it away from", assigned, key="groups_unassign_user")
            take.button("Unassign", key="groups_unassign", on_click=unassign,
                        args=(scope, key))
        else:
            take.caption("Not assigned to anyone yet.")
        if state.get("groups_confirm_delete") != key:
            st.button("Delete this roster", key="groups_delete", icon=":material/delete:",
                      on_click=confirm_delete, args=(key,))
            return
        st.warning(f"Delete {label}? Its list of students and its assignments go; the "
                   "students' results stay in the store. This cannot be undone.",
                   icon=":material/warning:")
        buttons = st.container(horizontal=True)
        buttons.button("Yes, delete it", key="groups_delete_yes", type="primary",
                       on_click=delete, args=(scope, key))
        buttons.button("Cancel", key="groups_delete_no", on_click=confirm_delete,
                       args=(None,))


# -- the Students page ----------------------------------------------------------------------

def save_as_roster(ctx: PageContext, found: pl.DataFrame, *, complete: bool) -> None:
    """*Save these students as a roster*: the list's students of one school, as a new roster."""
    state = st.session_state
    names = school_names(ctx.snap)
    counts = (found.drop_nulls("reporting_school_code").unique(["ssid", "reporting_school_code"])
              .group_by("reporting_school_code").len().sort("len", "reporting_school_code",
                                                            descending=[True, False]))
    schools = {s: f"{names.get(s, s)} ({n:,} student{'s' * (n != 1)})"
               for s, n in counts.iter_rows()}
    with st.expander("Save these students as a roster", expanded=NOTICE in state):
        show_notice()
        if not complete:
            st.caption("Only a complete list can be saved: narrow it first.")
            return
        if not schools:
            st.caption("None of these students has a school to keep the roster at.")
            return
        st.text_input("Roster name", key="students_group_name",
                      placeholder="e.g. Period 3 ELD", max_chars=100)
        if state.get("students_group_school") not in schools:
            state.pop("students_group_school", None)
        school = (st.selectbox("School", list(schools), format_func=schools.__getitem__,
                               key="students_group_school",
                               help="A roster belongs to one school: the list's students "
                                    "of that school are saved.")
                  if len(schools) > 1 else next(iter(schools)))
        ssids = found.filter(pl.col("reporting_school_code") == school).get_column(
            "ssid").unique(maintain_order=True).to_list()
        st.caption(("The roster will be yours; only students of your rosters can be in it. "
                    if ctx.scope.ssids is not None else "")
                   + f"Students must be at {names.get(school, school)} in "
                     f"{ctx.snap.years[-1]}, the store's newest year. See and share your "
                     "rosters on the Rosters page.")
        st.button(f"Save {len(ssids):,} student{'s' * (len(ssids) != 1)} as a roster",
                  key="students_group_save", on_click=create,
                  args=(ctx.scope, "students_group", school, names.get(school, school), ssids))
