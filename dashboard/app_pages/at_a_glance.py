"""At a glance: SSR release status, who tested this year against last, and the level mix."""

from __future__ import annotations

import streamlit as st

from dashboard import cached, glance
from dashboard.context import page_context, stop
from queries.labels import RECORD_TYPE_OF_TEST, TESTS

ctx = page_context()
st.title("At a glance", anchor=False)
test = st.segmented_control("Test", list(TESTS), format_func=TESTS.__getitem__,
                            default="summative", key="glance_test") or "summative"
# A teacher's numbers count their rosters' students only: say so where the school is named.
whose = "" if ctx.scope.ssids is None else "the students of your rosters at "
st.caption(f"{TESTS[test]}, {whose}{ctx.lea_name}, {ctx.year}.")
if banner := glance.partial_banner(ctx):
    st.warning(banner, icon=":material/hourglass_top:")

# --- Student Score Reports (TOMS "at a glance" widget) ---
st.header("Student Score Reports released", anchor=False)
leas = None if ctx.lea_code is None else (ctx.lea_code,)
line = st.container(horizontal=True, vertical_alignment="center")
when = line.empty()
# The date picker sits in a popover: drawn only when opened, its code is not loaded on the
# first paint (a bare date input held back every figure below it by about half a second).
with line.popover("Change the date", icon=":material/edit_calendar:"):
    as_of = st.date_input("As of", value=glance.default_as_of(ctx), key="glance_as_of",
                          format="YYYY-MM-DD", width=220,
                          help="SSRs whose release date is on or before this date.")
when.markdown(f"As of **{as_of:%Y-%m-%d}**")
total = cached.ssr_status(ctx.path, ctx.version, ctx.year, as_of, ctx.scope, None, leas, test)
shown = glance.ssr_metrics(total, ctx.year)
if shown is None:
    st.info(f"No student in {ctx.lea_name} has a {ctx.year} {TESTS[test]} Student Score "
            "Report: SSRs go to students with complete tests.")
else:
    for column, (label, value, of, note) in zip(st.columns(len(shown)), shown, strict=True):
        column.metric(label, value, of, help=note, border=True, delta_color="off",
                      delta_arrow="off")
    choices = glance.ssr_breakdowns(ctx)
    by = st.segmented_control("Break SSRs down by", list(choices),
                              format_func=choices.__getitem__, key="glance_ssr_by")
    if by:
        parts = cached.ssr_status(ctx.path, ctx.version, ctx.year, as_of, ctx.scope, by,
                                  leas, test)
        table = glance.ssr_table(parts, by)
        fig, note = glance.ssr_chart(table, by)
        st.plotly_chart(fig, key="glance_ssr_chart", config={"displaylogo": False})
        if note:
            st.caption(note)
        st.dataframe(table, hide_index=True, placeholder="—", width="stretch",
                     column_config=glance.SSR_COLUMNS)

# --- Reaching parents: SSRs delivered, bounced or returned (queries.ssr_delivery) ---
if shown is not None:
    glance.reaching_parents(ctx, test)

# --- Tested this year against last, and the level distribution ---
st.header("Students tested", anchor=False)
years = glance.compared_years(ctx)
report = cached.report(ctx.path, ctx.version, glance.overall_spec(ctx, test, years),
                       ctx.scope, False)
now, before = glance.year_rows(report, years)
if now is None:
    st.info(f"{ctx.lea_name} has no {TESTS[test]} results for {ctx.year}.")
    stop()
for column, (label, value, delta, note) in zip(st.columns(3),
                                               glance.tested_metrics(now, before),
                                               strict=True):
    column.metric(label, value, delta, help=note, border=True, delta_color="off")
left_out = cached.records_left_out(
    ctx.path, ctx.version, ctx.scope, ctx.year, RECORD_TYPE_OF_TEST[test], ctx.lea_code,
    ctx.lea if ctx.org_level == "school" else None)
if left_out:
    st.caption(glance.left_out_note(left_out))
if before is None:
    st.caption(f"The store has no {TESTS[test]} results for {ctx.lea_name} in the school "
               "year before, so there is nothing to compare with.")

st.header("Overall performance levels", anchor=False)
levels = glance.level_table(report, test)
st.html(glance.level_chart(levels, test))
st.table(glance.level_display(levels))

st.header("Go further", anchor=False)
links = st.columns(3)
links[0].page_link("app_pages/report.py", label="Build a custom report",
                   icon=":material/table_chart:")
if ctx.scope.pii:  # an aggregate-only account has no Students page to go to
    links[1].page_link("app_pages/students.py", label="Look up a student",
                       icon=":material/person_search:")
links[2].page_link("app_pages/exports.py", label="Download an export",
                   icon=":material/download:")
