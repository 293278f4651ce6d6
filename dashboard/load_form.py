"""The Data loads page's upload form and validation report (``app_pages/data_loads.py``).

What is decided (who may load which LEA's records, the report, the load) is in
``queries.data_loads``; this module draws it. Widget keys are ``data_loads_*``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import streamlit as st

from dashboard import cached, identity
from queries.data_loads import (
    ACCEPTED_TYPES,
    FILE_COLUMNS,
    LABELS,
    LEA_COLUMNS,
    FileOptions,
    Upload,
    check_uploads,
    load_uploads,
    school_years,
)
from queries.store_summary import COLUMN_LABELS

if TYPE_CHECKING:
    from streamlit.runtime.uploaded_file_manager import UploadedFile

    from queries.access import User
    from queries.data_loads import Report

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


def upload_form() -> tuple[list[UploadedFile], FileOptions, bool]:
    """The uploader, the file options and the bad-row mode: files, options, skip bad rows."""
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
    return list(files or []), options, mode == "skip"


def checked(files: list[UploadedFile], options: FileOptions, user: User) -> Report:
    """The files' validation report, checked once per files, options, store version and user.

    Not on every rerun: a check reads every record of every file.
    """
    check_key = (tuple((f.file_id, f.name, f.size) for f in files), options,
                 cached.store_key(), user)
    saved = st.session_state.get("data_loads_check")
    if saved is not None and saved[0] == check_key:
        return saved[1]
    with st.spinner(f"Checking {len(files)} file(s)…"):
        report = check_uploads([Upload(f.name, f.getvalue()) for f in files],
                               store=cached.store(), user=user, options=options)
    st.session_state["data_loads_check"] = (check_key, report)
    return report


def validation_report(report: Report, *, skip: bool) -> None:
    """What the check found: counts, the files, what loading would replace, the bad rows."""
    st.header("Validation report", anchor=False)
    view = report.files_view(skip_bad_rows=skip)
    read, would, rejected = st.columns(3)
    read.metric("Records read", f"{int(view.get_column('n_read').sum()):,}", border=True)
    would.metric("Would load", f"{int(view.get_column('n_would_load').sum()):,}", border=True)
    rejected.metric("Rejected rows", f"{int(view.get_column('n_rejected').sum()):,}",
                    border=True)
    st.dataframe(view, hide_index=True, placeholder="—", height="content",
                 column_config={**LABELS, **DATES}, column_order=FILE_COLUMNS)
    for sentence in report.file_problems:
        st.error(sentence)
    if report.leas.height:
        st.markdown("**What loading would replace**, per LEA, school year and file kind. "
                    "A newer file replaces the older file's records for its LEA.")
        st.dataframe(report.leas, hide_index=True, placeholder="—", height="content",
                     column_config=LABELS,
                     column_order=LEA_COLUMNS)
    problems = report.row_problems
    if problems.height:
        n_rows = problems.select("file", "row").n_unique()
        st.markdown(f"**Rejected rows: {problems.height:,} problem(s) in {n_rows:,} "
                    "row(s).** Row numbers are as a spreadsheet shows them (header = 1).")
        st.dataframe(problems, hide_index=True, placeholder="—", column_config=LABELS,
                     column_order=report.problem_columns())
        st.download_button("Download the row problems (CSV)", report.problems_csv(),
                           file_name="row-problems.csv", mime="text/csv",
                           on_click="ignore", key="data_loads_problems_csv")


def replacement_confirmation(report: Report, *, skip: bool) -> bool:
    """When a load would remove students: say how many and ask; whether the user confirmed.

    The box's key carries the data version and the count, so a new check (another load
    meanwhile, other files) asks again.
    """
    sentence = report.removal()
    if sentence is None or not report.verdict(skip_bad_rows=skip)[0]:
        return False
    st.warning(sentence)
    return st.checkbox(f"Remove these {report.n_removed:,} student(s) and load",
                       key=f"data_loads_replace_{report.version}_{report.n_removed}")


def load_button(files: list[UploadedFile], options: FileOptions, user: User,
                report: Report, *, skip: bool, replace: bool = False) -> None:
    """The verdict and the Load button; a load's outcome is shown on the next run.

    A load that removes students waits for ``replace`` (:func:`replacement_confirmation`).
    """
    may_load, verdict = report.verdict(skip_bad_rows=skip)
    (st.success if may_load else st.warning)(verdict)
    unconfirmed = report.removal() is not None and not replace
    if not st.button("Load", type="primary", disabled=not may_load or unconfirmed,
                     key="data_loads_load"):
        return
    loader = identity.signed_in_email() or os.environ.get("USER")
    with st.status("Loading…", expanded=True) as status:
        result = load_uploads([Upload(f.name, f.getvalue()) for f in files],
                              store=cached.store(), user=user, options=options,
                              skip_bad_rows=skip, loaded_by=loader, progress=status.write,
                              replace=replace)
        done = result.loaded or result.already_loaded
        status.update(label="Loaded" if result.loaded else
                      "Already loaded" if done else "Not loaded",
                      state="complete" if done else "error")
    st.session_state["data_loads_done"] = result
    if done:
        # A fresh, empty uploader: the loaded files are done with.
        st.session_state["data_loads_generation"] += 1
    st.rerun()
