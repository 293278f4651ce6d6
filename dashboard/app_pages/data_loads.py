"""Data loads: check uploaded Student Score Data Files, see what a load would do, load them.

Works on an empty store (the first load), so it reads the store through ``cached.store_key``
and never through ``page_context``, which stops on an empty store. What is decided (who may
load what, the report, the load) is in ``dashboard.uploads``.
"""

from __future__ import annotations

import os

import streamlit as st

from dashboard import cached, identity
from dashboard.uploads import (
    ACCEPTED_TYPES,
    FILE_COLUMNS,
    LABELS,
    LEA_COLUMNS,
    FileOptions,
    Upload,
    check_uploads,
    load_uploads,
    school_years,
    visible_history,
    with_release,
)
from queries.store_summary import COLUMN_LABELS

MODES = {"strict": "Refuse the file if any row is bad",
         "skip": "Load the good rows, skip the bad ones"}
FROM_FILE = "From the file"
# Without a date column type, Streamlit shows dates with a 00:00:00 time.
DATES = {"report_created_date": st.column_config.DateColumn(LABELS["report_created_date"],
                                                            format="YYYY-MM-DD"),
         "loaded_at": st.column_config.DatetimeColumn(COLUMN_LABELS["loaded_at"],
                                                      format="YYYY-MM-DD HH:mm")}
KINDS = {None: FROM_FILE, "enrolled": "Enrolled LEA", "tested": "Tested LEA"}
ORDERS = {None: FROM_FILE, "mdy": "Month first (09-11-2021 = Sept 11)",
          "dmy": "Day first (09-11-2021 = 9 Nov)"}

st.title("Data loads")
key = cached.store_key()
scope = identity.current_scope()

done = st.session_state.pop("data_loads_done", None)
if done is not None:  # the load of the previous run, kept across its st.rerun()
    (st.success if done.loaded else st.error)(done.outcome())

if not identity.can_load():
    st.info("Your account can see the load history but cannot load files. To load Student "
            "Score Data Files, ask your dashboard administrator (or your LEA ELPAC "
            "coordinator) to give your account load rights.")
else:
    st.caption("Upload the Student Score Data Files downloaded from TOMS (caret-delimited "
               "`.CSV`, comma or tab text, or `.xlsx`). Nothing is loaded until you press Load.")
    generation = st.session_state.setdefault("data_loads_generation", 0)
    files = st.file_uploader("Student Score Data Files", type=list(ACCEPTED_TYPES),
                             accept_multiple_files=True, key=f"data_loads_files_{generation}")
    with st.expander("File options (only when the file name does not say)"):
        year, kind, order = st.columns(3)
        # Dicts as format_func: session state must pickle (a page's lambda does not).
        years = {None: FROM_FILE, **{y: y for y in school_years()}}
        options = FileOptions(
            year.selectbox("School year", list(years), format_func=years.__getitem__,
                           key="data_loads_year"),
            kind.selectbox("File kind", list(KINDS), format_func=KINDS.__getitem__,
                           key="data_loads_kind"),
            order.selectbox("Date order", list(ORDERS), format_func=ORDERS.__getitem__,
                            key="data_loads_date_order",
                            help="For spreadsheet dates such as 09-11-2021."))
    mode = st.radio("If some rows are bad", list(MODES), format_func=MODES.__getitem__,
                    key="data_loads_mode", horizontal=True)
    skip = mode == "skip"

    if files:
        # Checked once per set of files, options and store version, not on every rerun.
        check_key = (tuple((f.file_id, f.name, f.size) for f in files), options, key, scope)
        saved = st.session_state.get("data_loads_check")
        if saved is None or saved[0] != check_key:
            with st.spinner(f"Checking {len(files)} file(s)…"):
                report = check_uploads([Upload(f.name, f.getvalue()) for f in files],
                                       store=cached.store(), scope=scope, options=options)
            st.session_state["data_loads_check"] = (check_key, report)
        else:
            report = saved[1]

        st.subheader("Validation report")
        view = report.files_view(skip_bad_rows=skip)
        read, would, rejected = st.columns(3)
        read.metric("Records read", f"{int(view.get_column('n_read').sum()):,}", border=True)
        would.metric("Would load", f"{int(view.get_column('n_would_load').sum()):,}",
                     border=True)
        rejected.metric("Rejected rows", f"{int(view.get_column('n_rejected').sum()):,}",
                        border=True)
        st.dataframe(view, hide_index=True, height="content",
                     column_config={**LABELS, **DATES}, column_order=FILE_COLUMNS)
        for sentence in report.file_problems:
            st.error(sentence)
        if report.leas.height:
            st.markdown("**What loading would replace**, per LEA, school year and file kind. "
                        "A newer file replaces the older file's records for its LEA.")
            st.dataframe(report.leas, hide_index=True, height="content", column_config=LABELS,
                         column_order=LEA_COLUMNS)
        problems = report.row_problems
        if problems.height:
            n_rows = problems.select("file", "row").n_unique()
            st.markdown(f"**Rejected rows: {problems.height:,} problem(s) in {n_rows:,} "
                        "row(s).** Row numbers are as a spreadsheet shows them (header = 1).")
            st.dataframe(problems, hide_index=True, column_config=LABELS,
                         column_order=report.problem_columns())
            st.download_button("Download the row problems (CSV)", report.problems_csv(),
                               file_name="row-problems.csv", mime="text/csv",
                               on_click="ignore", key="data_loads_problems_csv")

        may_load, verdict = report.verdict(skip_bad_rows=skip)
        (st.success if may_load else st.warning)(verdict)
        if st.button("Load", type="primary", disabled=not may_load, key="data_loads_load"):
            loader = identity.signed_in_email() or os.environ.get("USER")
            with st.status("Loading…", expanded=True) as status:
                result = load_uploads([Upload(f.name, f.getvalue()) for f in files],
                                      store=cached.store(), scope=scope,
                                      options=options, skip_bad_rows=skip, loaded_by=loader,
                                      progress=status.write)
                status.update(label="Loaded" if result.loaded else "Not loaded",
                              state="complete" if result.loaded else "error")
            st.session_state["data_loads_done"] = result
            if result.loaded:
                # A fresh, empty uploader: the loaded files are done with.
                st.session_state["data_loads_generation"] = generation + 1
            st.rerun()

st.subheader("Load history")
st.caption("Newest first, one row per file and LEA. A later file of the same LEA, school year "
           "and kind supersedes an earlier one. Release: final once TOMS's August final file "
           "is loaded, partial before.")
history = visible_history(with_release(cached.load_history(*key)), scope)
if history.is_empty():
    st.info("Nothing has been loaded yet." + (" Upload the first files above." if
                                              identity.can_load() else ""))
else:
    st.dataframe(history, hide_index=True,
                 column_config={**COLUMN_LABELS, "release": LABELS["release"], **DATES})
