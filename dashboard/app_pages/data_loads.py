"""Data loads: check uploaded Student Score Data Files, see what a load would do, load them.

Works on an empty store (the first load), so it reads the store through ``cached.store_key``
and never through ``page_context``, which stops on an empty store. Who may load what, the
report and the load are ``queries.data_loads``'s; the form is ``dashboard.load_form``.
"""

from __future__ import annotations

import streamlit as st

from dashboard import cached, identity, load_form
from queries.data_loads import LABELS, visible_history, with_release
from queries.store_summary import COLUMN_LABELS

st.title("Data loads", anchor=False)
user = identity.current_user()

done = st.session_state.pop("data_loads_done", None)
if done is not None:  # the load of the previous run, kept across its st.rerun()
    (st.success if done.loaded or done.already_loaded else st.error)(done.outcome())

if not user.loads:
    st.info("Your account can see the load history but cannot load files. To load Student "
            "Score Data Files, ask your dashboard administrator (or your LEA ELPAC "
            "coordinator) to give your account load rights.")
else:
    files, options, skip = load_form.upload_form()
    if files:
        report = load_form.checked(files, options, user)
        load_form.validation_report(report, skip=skip)
        replace = load_form.replacement_confirmation(report, skip=skip)
        load_form.load_button(files, options, user, report, skip=skip, replace=replace)

st.header("Load history", anchor=False)
st.caption("Newest first, one row per file and LEA. A later file of the same LEA, school year "
           "and kind supersedes an earlier one (Replaced load); `elpac loads undo` takes a "
           "load back. Release: final once TOMS's August final file is loaded, partial before.")
history = visible_history(with_release(cached.load_history(*cached.store_key())), user.scope)
if history.is_empty():
    st.info("Nothing has been loaded yet." + (" Upload the first files above." if
                                              user.loads else ""))
else:
    st.dataframe(history, hide_index=True, placeholder="—",
                 column_config={**COLUMN_LABELS, "release": LABELS["release"],
                                **load_form.DATES})
