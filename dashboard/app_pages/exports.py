"""Exports: student-level files and the research file for the sidebar's LEA and school year.

Inputs, then a Build button: the file is built on click with its progress shown, then offered
for download under a name that says what it holds and when it was made. The query layer
checks the access (``queries.extracts``); this page only shows its sentences.
"""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

import streamlit as st

from dashboard import auditing
from dashboard.context import page_context, stop
from data.problems import InputError
from queries.extracts import (
    build_district_export,
    build_research_file,
    build_ssdf_extract,
    extract_file_name,
    list_schools,
    score_window_start,
)
from queries.labels import TESTS

KINDS = {"district": "District/School export", "ssdf": "Student Score Data File",
         "research": "Research file"}
FORMATS = {"csv": "CSV", "xlsx": "Excel", "toms": "TOMS text (caret-delimited)"}
MIME = {"csv": "text/csv", "toms": "text/plain",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}

st.title("Exports")
ctx = page_context()
lea = ctx.lea_code
st.caption(f"{ctx.lea_name}, {ctx.year}. Choose another LEA or school year in the sidebar.")

kind = st.radio("Export", list(KINDS), format_func=KINDS.__getitem__, horizontal=True,
                key="exports_kind")
options: dict[str, object] = {}
if kind == "district":
    st.caption("Each student's results and demographics, one row per student, as CERS "
               "exports them. Students count where they finished testing.")
    if lea is None:
        st.info("Choose an LEA in the sidebar: this export covers one LEA or one of its "
                "schools.")
        stop()
    schools = list_schools(ctx.snap, scope=ctx.scope, year=ctx.year, lea=lea)
    # A dict's __getitem__, not a lambda: AppTest keeps format functions in session state,
    # which must pickle (runner.enforceSerializableSessionState).
    school_names = {c: f"{n} ({c})" for c, n in schools.iter_rows()}
    if ctx.org_level == "school":  # an account of single schools: the sidebar's school first
        school_names = {ctx.lea: school_names.pop(ctx.lea, ctx.lea_name), **school_names}
    else:
        school_names = {None: "Whole LEA", **school_names}
    options["test"] = st.radio("Test", list(TESTS), format_func=TESTS.__getitem__,
                               horizontal=True, key="exports_district_test")
    options["school"] = st.selectbox("School", list(school_names), key="exports_district_school",
                                     format_func=school_names.__getitem__)
    options["fmt"] = st.radio("Format", ["csv", "xlsx"], format_func=FORMATS.__getitem__,
                              horizontal=True, key="exports_district_format")
elif kind == "ssdf":
    st.caption("Both tests' records in the TOMS layout of the year, every field as loaded.")
    options["by"] = st.radio(
        "Records", ["tested", "enrolled"], horizontal=True, key="exports_ssdf_by",
        format_func={"tested": "Tested LEA", "enrolled": "Enrolled LEA"}.__getitem__,
        help="Tested LEA: students who finished testing here. Enrolled LEA: students enrolled "
             "here in CALPADS, wherever they tested (TOMS offers both files).")
    start, end = st.columns(2)
    options["score_from"] = start.date_input(
        "Score available from", value=score_window_start(ctx.year),
        key=f"exports_ssdf_from_{ctx.year}", help="Testing opens on February 1.")
    options["score_to"] = end.date_input("Score available to (optional)", value=None,
                                         key=f"exports_ssdf_to_{ctx.year}")
    options["scored_only"] = st.checkbox(
        "Only records with a score-available date", key="exports_ssdf_scored_only",
        help="Leaves out eligible students who did not test.")
    options["fmt"] = st.radio("Format", list(FORMATS), format_func=FORMATS.__getitem__,
                              horizontal=True, key="exports_ssdf_format")
    if options["fmt"] == "xlsx":
        st.caption("Excel files hold 1,048,575 rows a sheet; larger extracts continue on more "
                   "sheets. CSV is much faster for large extracts.")
else:
    st.caption("The CDE public research-file layout, caret-delimited: every organisation, "
               "student group and grade, suppressed under 11 students like the public files.")
    options["test"] = st.radio("Test", list(TESTS), format_func=TESTS.__getitem__,
                               horizontal=True, key="exports_research_test")
    options["fmt"] = "toms"

request = (kind, ctx.version, ctx.year, ctx.lea, repr(ctx.scope), *sorted(
    (k, str(v)) for k, v in options.items()))
fmt = str(options["fmt"])
detail = {"district": options.get("test"), "ssdf": options.get("by"),
          "research": options.get("test")}[kind]
name = extract_file_name(kind, detail=str(detail), org=str(options.get("school") or ctx.lea),
                         year=ctx.year, fmt=fmt, on=date.today())

if st.button("Build the export", type="primary", key="exports_build"):
    st.session_state.pop("exports_file", None)
    with st.status(f"Building {name}", expanded=True) as status:
        bar = st.progress(0.0)

        def progress(fraction: float, text: str) -> None:  # noqa: D103
            bar.progress(fraction, text=text)

        try:
            with tempfile.TemporaryDirectory() as tmp:
                out = Path(tmp) / name
                common = {"scope": ctx.scope, "progress": progress}
                if kind == "district":
                    built = build_district_export(ctx.snap, out, year=ctx.year, lea=lea,
                                                  **common, **options)  # type: ignore[arg-type]
                elif kind == "ssdf":
                    built = build_ssdf_extract(ctx.snap, out, years=[ctx.year], lea=lea,
                                               **common, **options)  # type: ignore[arg-type]
                else:
                    # Suppressed under 11, as the public files (the caption says so).
                    built = build_research_file(ctx.snap, out, year=ctx.year, lea=lea,
                                                scope=ctx.scope, progress=progress,
                                                test=str(options["test"]), suppress=True)
                data = out.read_bytes()
        except (InputError, ValueError) as exc:  # ScopeError is a ValueError
            status.update(label="The export could not be built", state="error")
            st.error(str(exc))
        else:
            status.update(label=f"Built {name}", state="complete", expanded=False)
            auditing.record("export", n_rows=built.n_rows, detail=f"{name}; " + ", ".join(
                f"{k}={v}" for k, v in sorted(options.items()) if v not in (None, "")))
            st.session_state["exports_file"] = {
                "request": request, "name": name, "data": data, "n_rows": built.n_rows,
                "sheets": len(built.sheets)}

built_file = st.session_state.get("exports_file")
if built_file and built_file["request"] == request:
    rows = "rows" if kind == "research" else "records"
    if built_file["n_rows"] == 0:
        st.warning(f"No {rows} match these choices. Widen the dates or choose another LEA, "
                   "school or test.")
    else:
        sheets = f", on {built_file['sheets']} sheets" if built_file["sheets"] > 1 else ""
        st.success(f"{built_file['n_rows']:,} {rows}{sheets}: `{built_file['name']}`")
        st.download_button(f"Download {built_file['name']}", built_file["data"],
                           file_name=built_file["name"], mime=MIME[fmt], on_click="ignore",
                           key="exports_download", icon=":material/download:")
elif built_file:
    st.caption("The choices changed since the last build: build the export again.")
