"""Reconcile with CDE: our aggregates beside the state's published research file, cell by cell.

The sidebar's LEA (or the state) and school year, a test; one query call
(``queries.reconcile``, which decides the access); the counts, the cells, the files. A file is
imported with ``elpac import research-file``; without one the page says so.
"""

from __future__ import annotations

import streamlit as st

from dashboard import auditing, reconcile_views
from dashboard.context import page_context, stop
from queries.labels import TESTS
from queries.reconcile import reconcile, reconcile_file, xlsx_refusal
from queries.scope import ScopeError

ctx = page_context()
st.title("Reconcile with CDE", anchor=False)
test = st.segmented_control("Test", list(TESTS), format_func=TESTS.__getitem__,
                            default="summative", key="reconcile_test") or "summative"
st.caption(f"{TESTS[test]}, {ctx.lea_name}, {ctx.year}: our numbers beside the research file "
           "CDE published, for the same organisation, student group and grade. Choose another "
           "LEA or school year in the sidebar.")
try:
    result = reconcile(ctx.snap, year=ctx.year, test=test, scope=ctx.scope, lea=ctx.lea_code)
except (ScopeError, ValueError) as exc:
    st.info(f"{str(exc)[:1].upper()}{str(exc)[1:]}.", icon=":material/info:")
    stop()

counts = st.columns(3)
counts[0].metric("Rows compared", f"{result.n_rows:,}", border=True)
counts[1].metric("Cells compared", f"{result.n_cells:,}", border=True)
counts[2].metric("Cells that differ", f"{result.n_differ:,}", border=True)
st.caption(reconcile_views.caption(result))

differences_only = st.toggle("Differences only", value=True, key="reconcile_differences",
                             help="Leave out the cells that are the same.")
table = result.table(all_cells=not differences_only)
reconcile_views.show(table)

org = ctx.lea_code or "state"
downloads = st.container(horizontal=True)
for fmt, label, mime in reconcile_views.FORMATS:
    name = f"elpac-reconcile-{test}-{org}-{ctx.year}.{fmt}"
    too_big = xlsx_refusal(table.height) if fmt == "xlsx" else None
    if too_big:
        downloads.caption(f"Excel: {too_big}.")
        continue
    downloads.download_button(
        label, key=f"reconcile_{fmt}", on_click="ignore", file_name=name, mime=mime,
        icon=":material/download:",
        data=auditing.on_download(
            lambda f=fmt: reconcile_file(result, f, all_cells=not differences_only),
            name=name, detail=f"reconcile {ctx.year} {test}", n_rows=table.height))
