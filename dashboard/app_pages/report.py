"""Custom report: build a CERS-style aggregate report, read it as a table and charts, export it."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import (
    auditing,
    cached,
    chart_labels,
    charts,
    report_charts,
    report_form,
    saved_report_form,
)
from dashboard import report_output as out
from dashboard.context import page_context, stop
from queries import report_plan, report_published
from queries.errors import ScopeError
from queries.metrics import SUPPRESSION_THRESHOLD
from queries.spreadsheets import csv_bytes

st.title("Custom report", anchor=False)
ctx = page_context()
problem = report_form.prepare(ctx)
if problem:
    st.error(problem, icon=":material/link_off:")
report_form.builder(ctx)
spec = report_form.last_run()
saved_report_form.saved_reports(ctx)
if spec is None:
    st.info("Choose what to report above, then press **Run report**.")
    stop()

presentation = st.toggle(
    "Presentation", key="report_presentation",
    help="Hide the scores of groups too small to publish, in the table, charts and files.")
try:
    report = cached.report(ctx.path, ctx.version, spec, ctx.scope, presentation,
                           report_form.group_members(ctx, spec))
except ScopeError:
    st.warning("None of this report's organisations has results your account may see for "
               "its school years. Choose organisations in your scope above.")
    stop()
except ValueError as exc:
    st.warning(f"This report cannot be run: {exc}. Change it above.")
    stop()
lacking = report_published.missing_comparisons(report, spec, ctx.scope)
if lacking:
    st.info("No county or state comparison row: your account's results do not cover them, "
            "and CDE's research file for these years has not been imported. An administrator "
            "can import the state's public file (`elpac import research-file`); its rows then "
            "appear here, marked *published by CDE*.", icon=":material/compare_arrows:")
# A peer outside the account's access may come from CDE's published file: then it is shown.
shown_codes = set(report.get_column("cds_code").to_list())
left_out = {code: why for code, why in report_plan.left_out(ctx.snap, spec, ctx.scope).items()
            if code not in shown_codes}
if left_out:
    st.warning("Not in this report: " + "; ".join(f"{code} ({why})" for code, why in
                                                   left_out.items()) + ".",
               icon=":material/filter_alt_off:")
if presentation:
    st.info(f"Presentation mode: scores are hidden (*) for groups with fewer than "
            f"{SUPPRESSION_THRESHOLD} students tested with scores, in the table, the charts "
            "and the files. Counts of students enrolled and tested stay.")
title, subtitle = chart_labels.describe_report(report, spec, suppress=presentation)
org = chart_labels.org_label(report, spec)

st.header(title, anchor=False)
st.caption(" · ".join(subtitle))
left, right = st.columns(2)
counts = left.toggle("Show counts instead of percents", key="report_counts")
show_empty = right.toggle("Show rows with no students", key="report_show_empty")
table = out.report_table(report, test=spec.test, measure=spec.measure, counts=counts)
shown = table if show_empty else table.filter(pl.col("n_enrolled") > 0)
st.dataframe(shown, hide_index=True, placeholder="—", key="report_table",
             column_order=[c for c in shown.columns if c != "is_suppressed"],
             column_config=out.column_config(shown, test=spec.test, measure=spec.measure,
                                             counts=counts))
st.caption(f"{shown.height:,} of {table.height:,} rows shown"
           + ("" if show_empty else " (rows with no students hidden)")
           + ". Click a column header to sort.")
# Files hold counts and percents, and the codes analysts join on, whatever the page shows.
in_files = report if show_empty else report.filter(pl.col("n_enrolled") > 0)
files = out.export_frame(out.file_table(in_files, test=spec.test, measure=spec.measure),
                         test=spec.test, measure=spec.measure)
csv_name = out.file_name("report", spec, org, "csv")
xlsx_name = out.file_name("report", spec, org, "xlsx")
downloads = st.container(horizontal=True)
downloads.download_button(
    "Download CSV", key="report_csv", on_click="ignore",
    data=auditing.on_download(lambda: csv_bytes(files), name=csv_name,
                              detail=f"report {spec.to_params()['report']}", n_rows=files.height),
    file_name=csv_name, mime="text/csv",
    icon=":material/download:")
downloads.download_button(
    "Download Excel", on_click="ignore",
    data=auditing.on_download(lambda: out.excel_bytes(files, title=title, about=subtitle),
                              name=xlsx_name, detail=f"report {spec.to_params()['report']}",
                              n_rows=files.height),
    file_name=xlsx_name,
    mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    key="report_xlsx", icon=":material/download:")

report_charts.show(report, spec, title=title, subtitle=subtitle, org=org, files=files)

# A cohort, or a roster (the same students every year): where each level went.
if spec.cohort or (spec.longitudinal and spec.org_level == "group"):
    st.header("Level transitions", anchor=False)
    st.caption(("Students of the roster" if spec.org_level == "group" else "Students")
               + " tested with scores in the organisation in both years, by their overall "
               "level in the first year (rows) and the next (columns).")
    try:
        # Every level row comes back (an aggregate-only scope gets no matrix with a small
        # level): in presentation mode transition_frame hides such a matrix itself.
        moves = charts.transition_frame(
            cached.transitions(ctx.path, ctx.version, spec, ctx.scope,
                               report_form.group_members(ctx, spec), suppress=False),
            test=spec.test, suppress=presentation)
    except ValueError as exc:
        st.warning(f"No transitions to show: {exc}.")
        stop()
    out.transitions(moves, report, spec, subtitle)
