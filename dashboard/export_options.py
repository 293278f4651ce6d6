"""The Exports page's parts: each export's options, the build with its progress, the file.

The files are built by ``queries.extracts``, which checks the access (student-level files need
student records; the LEA and school must be in the user's scope) and says why it refuses;
every export built is audited. Widget keys are ``exports_*``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from dashboard import file_downloads
from dashboard.context import stop
from queries.district_export import build_district_export
from queries.downloads import finish
from queries.errors import InputError
from queries.extracts import build_research_file, list_schools, score_window_start
from queries.labels import TESTS
from queries.ssdf_extract import build_ssdf_extract

if TYPE_CHECKING:
    from collections.abc import Callable

    from dashboard.context import PageContext

KINDS = {"district": "District/School export", "ssdf": "Student Score Data File",
         "research": "Research file"}
FORMATS = {"csv": "CSV", "xlsx": "Excel", "toms": "TOMS text (caret-delimited)"}
BUILT = "exports_file"
"""Session key of the last file built: its request, name, download, rows and sheets."""


def district_options(ctx: PageContext) -> dict[str, object]:
    """The District/School export's test, school and format (it needs an LEA)."""
    st.caption("Each student's results and demographics, one row per student, as CERS "
               "exports them. Students count where they finished testing.")
    if ctx.lea_code is None:
        st.info("Choose an LEA in the sidebar: this export covers one LEA or one of its "
                "schools.")
        stop()
    schools = list_schools(ctx.snap, scope=ctx.scope, year=ctx.year, lea=ctx.lea_code)
    # A dict's __getitem__, not a lambda: AppTest keeps format functions in session state,
    # which must pickle (runner.enforceSerializableSessionState).
    school_names = {c: f"{n} ({c})" for c, n in schools.iter_rows()}
    if ctx.org_level == "school":  # an account of single schools: the sidebar's school first
        school_names = {ctx.lea: school_names.pop(ctx.lea, ctx.lea_name), **school_names}
    else:
        school_names = {None: "Whole LEA", **school_names}
    return {
        "test": st.radio("Test", list(TESTS), format_func=TESTS.__getitem__, horizontal=True,
                         key="exports_district_test"),
        "school": st.selectbox("School", list(school_names), key="exports_district_school",
                               format_func=school_names.__getitem__),
        "fmt": st.radio("Format", ["csv", "xlsx"], format_func=FORMATS.__getitem__,
                        horizontal=True, key="exports_district_format")}


def ssdf_options(ctx: PageContext) -> dict[str, object]:
    """The Student Score Data File's records, score-available window and format."""
    st.caption("Both tests' records in the TOMS layout of the year, every field as loaded.")
    options: dict[str, object] = {}
    options["by"] = st.radio(
        "Records", ["tested", "enrolled"], horizontal=True, key="exports_ssdf_by",
        format_func={"tested": "Tested LEA", "enrolled": "Enrolled LEA"}.__getitem__,
        help="Tested LEA: students who finished testing here. Enrolled LEA: students enrolled "
             "here in CALPADS, wherever they tested (TOMS offers both files).")
    start, end = st.columns(2)
    options["score_from"] = start.date_input(
        "Score available from", value=score_window_start(ctx.year),
        key=f"exports_ssdf_from_{ctx.year}", format="YYYY-MM-DD",
        help="Testing opens on February 1.")
    options["score_to"] = end.date_input("Score available to (optional)", value=None,
                                         key=f"exports_ssdf_to_{ctx.year}",
                                         format="YYYY-MM-DD")
    options["scored_only"] = st.checkbox(
        "Only records with a score-available date", key="exports_ssdf_scored_only",
        help="Leaves out eligible students who did not test.")
    options["fmt"] = st.radio("Format", list(FORMATS), format_func=FORMATS.__getitem__,
                              horizontal=True, key="exports_ssdf_format")
    if options["fmt"] == "xlsx":
        st.caption("Excel files hold 1,048,575 rows a sheet; larger extracts continue on more "
                   "sheets. CSV is much faster for large extracts.")
        options["with_data_only"] = st.radio(
            "Columns", [False, True], horizontal=True, key="exports_ssdf_columns",
            format_func=["Every layout column (as TOMS)",
                         "Only columns with data"].__getitem__,
            help="TOMS files carry every field of the year's layout; many are blank for "
                 "most LEAs.")
    return options


def research_options(ctx: PageContext) -> dict[str, object]:
    """The research file's test (always caret-delimited, suppressed under 11)."""
    del ctx  # the same for every organisation
    st.caption("The CDE public research-file layout, caret-delimited: every organisation, "
               "student group and grade, suppressed under 11 students like the public files.")
    return {"test": st.radio("Test", list(TESTS), format_func=TESTS.__getitem__,
                             horizontal=True, key="exports_research_test"),
            "fmt": "toms"}


OPTIONS: dict[str, Callable[[PageContext], dict[str, object]]] = {
    "district": district_options, "ssdf": ssdf_options, "research": research_options}
"""Each export's options, drawn by its own function."""


def build(ctx: PageContext, kind: str, options: dict[str, object], name: str,
          request: tuple[object, ...]) -> None:
    """Build the export with its progress shown; keep it (or say why not) for :func:`offer`."""
    st.session_state.pop(BUILT, None)
    with st.status(f"Building {name}", expanded=True) as status:
        bar = st.progress(0.0)

        def progress(fraction: float, text: str) -> None:
            bar.progress(fraction, text=text)

        # Built into a private download on disk, streamed from there (file_downloads).
        target = file_downloads.new_file(name, detail=", ".join(
            f"{k}={v}" for k, v in sorted(options.items()) if v not in (None, "")))
        try:
            out = target.path
            common = {"scope": ctx.scope, "progress": progress}
            if kind == "district":
                built = build_district_export(ctx.snap, out, year=ctx.year,
                                              lea=ctx.lea_code,  # type: ignore[arg-type]
                                              **common, **options)  # type: ignore[arg-type]
            elif kind == "ssdf":
                built = build_ssdf_extract(ctx.snap, out, years=[ctx.year], lea=ctx.lea_code,
                                           **common, **options)  # type: ignore[arg-type]
            else:
                # Suppressed under 11, as the public files (the caption says so).
                built = build_research_file(ctx.snap, out, year=ctx.year, lea=ctx.lea_code,
                                            school=ctx.lea if ctx.org_level == "school"
                                            else None, scope=ctx.scope, progress=progress,
                                            test=str(options["test"]), suppress=True)
        except (InputError, ValueError) as exc:  # ScopeError is a ValueError
            status.update(label="The export could not be built", state="error")
            st.error(str(exc))
            return
        status.update(label=f"Built {name}", state="complete", expanded=False)
    target = finish(target, n_rows=built.n_rows)
    st.session_state[BUILT] = {"request": request, "name": name, "download": target,
                               "n_rows": built.n_rows, "sheets": len(built.sheets)}


def offer(kind: str, request: tuple[object, ...], fmt: str) -> None:
    """The file built for these choices, to download; or say the choices changed since."""
    built = st.session_state.get(BUILT)
    if built and built["request"] == request:
        rows = "rows" if kind == "research" else "records"
        if built["n_rows"] == 0:
            st.warning(f"No {rows} match these choices. Widen the dates or choose another LEA, "
                       "school or test.")
        else:
            sheets = f", on {built['sheets']} sheets" if built["sheets"] > 1 else ""
            st.success(f"{built['n_rows']:,} {rows}{sheets}: `{built['name']}`")
            file_downloads.offer(built["download"])
    elif built:
        st.caption("The choices changed since the last build: build the export again.")
