"""Store contents: what the results store holds, per school year and test, and how it got there."""

from __future__ import annotations

import streamlit as st

from dashboard import cached, identity
from dashboard.context import stop
from queries.store_summary import COLUMN_LABELS

st.title("Store contents", anchor=False)
if not identity.current_scope().statewide:
    # Statewide totals and every LEA's load history: for the store's administrators only.
    st.info("The store's contents are shown to statewide administrators only. Your own "
            "LEA's loads are listed on the Data loads page.")
    stop()

key = cached.store_key()
totals = cached.store_totals(*key).row(0, named=True) if key.version else None
if not totals or not totals["n_records"]:
    st.info(
        f"The store at `{key.path}` holds no results yet. Run `elpac demo` to build a "
        "synthetic one, or `elpac ingest FILES` to load Student Score Data Files, then reload "
        "this page."
    )
    stop()

st.caption(f"Store `{key.path}`, data version {key.version}.")
records, students, years = st.columns(3)
records.metric("Records", f"{totals['n_records']:,}", border=True)
students.metric("Students", f"{totals['n_students']:,}", border=True,
                help="Distinct SSIDs across all school years and both tests.")
years.metric("School years", f"{totals['n_school_years']:,}", border=True)

st.header("Records per school year and test", anchor=False)
st.caption("Tested: students administered the test (TestedStatus Y). Tested with scores: "
           "students with valid scores (IncludeIndicator Y).")
# A row per school year and test is at most a few dozen rows: show them all, no inner scroll.
st.dataframe(cached.store_summary(*key), width="stretch", height="content", hide_index=True,
             placeholder="—",
             column_config=COLUMN_LABELS)

st.header("Load history", anchor=False)
st.caption("Newest first, one row per file and LEA. A later file of the same LEA, school year "
           "and kind supersedes an earlier one.")
# Without a date column type, Streamlit shows the Date column with a 00:00:00 time.
history_columns = {
    **COLUMN_LABELS,
    "report_created_date": st.column_config.DateColumn(COLUMN_LABELS["report_created_date"],
                                                       format="YYYY-MM-DD"),
    "loaded_at": st.column_config.DatetimeColumn(COLUMN_LABELS["loaded_at"],
                                                 format="YYYY-MM-DD HH:mm"),
}
st.dataframe(cached.load_history(*key), width="stretch", hide_index=True, placeholder="—",
             column_config=history_columns)
