"""The Custom report's Saved reports: save the last report run by name, reopen or delete one.

A saved report is only a specification, kept for its owner (``queries.saved_reports``):
opening it runs it for the current user's scope, so it never shows more than that allows.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import streamlit as st

from dashboard import identity
from dashboard.report_form import RUN, URL_SEEN, last_run, load_spec
from queries.errors import InputError
from queries.saved_reports import delete_saved_report, list_saved_reports, save_report
from queries.spec import ReportSpec
from queries.store import open_store

if TYPE_CHECKING:
    from dashboard.context import PageContext

def _save(path: str) -> None:
    state = st.session_state
    spec = last_run()
    name = str(state.get("report_save_name") or "").strip()
    if spec is None:
        state["report_saved_message"] = "Run a report first, then save it."
        return
    try:
        save_report(open_store(path), identity.current_user(), name,
                    replace(spec, name=name).to_params()["report"])
    except InputError as exc:
        state["report_saved_message"] = f"The report was not saved: {exc}."
        return
    state["report_saved_message"] = f"Saved as “{name}”."
    state["report_saved_pick"] = name


def _open(saved: dict[str, str]) -> None:
    state = st.session_state
    name = state.get("report_saved_pick")
    try:
        spec = ReportSpec.from_params({"report": saved[name]})
    except (KeyError, ValueError) as exc:
        state["report_saved_message"] = f"“{name}” cannot be opened ({exc}); delete it."
        return
    load_spec(spec, run=True)
    st.query_params["report"] = state[RUN]
    state[URL_SEEN] = state[RUN]
    state["report_saved_message"] = f"Opened “{name}”."


def _delete(path: str) -> None:
    state = st.session_state
    name = state.get("report_saved_pick")
    if name:
        delete_saved_report(open_store(path), identity.current_user(), name)
        state["report_saved_message"] = f"Deleted “{name}”."
        state.pop("report_saved_pick", None)


def saved_reports(ctx: PageContext) -> None:
    """Save the last report run by name; reopen or delete one's saved reports.

    A saved report is only a specification: opening it runs it for the current user's scope
    (``read_report`` applies it), so a saved report never shows more than that scope allows.
    """
    state = st.session_state
    saved = dict(list_saved_reports(open_store(ctx.path), identity.current_user())
                 .select("name", "params").iter_rows())
    with st.expander(f"Saved reports ({len(saved)})"):
        name, save = st.columns([3, 1], vertical_alignment="bottom")
        name.text_input("Name", key="report_save_name", placeholder="e.g. Board, spring")
        save.button("Save this report", key="report_save", on_click=_save, args=(ctx.path,),
                    disabled=last_run() is None, width="stretch")
        if saved:
            if state.get("report_saved_pick") not in saved:
                state["report_saved_pick"] = next(iter(saved))
            pick, open_, delete = st.columns([3, 1, 1], vertical_alignment="bottom")
            pick.selectbox("Saved report", list(saved), key="report_saved_pick")
            open_.button("Open", key="report_saved_open", on_click=_open, args=(saved,),
                         width="stretch")
            delete.button("Delete", key="report_saved_delete", on_click=_delete,
                          args=(ctx.path,), width="stretch")
        message = state.pop("report_saved_message", None)
        if message:
            st.caption(message)
