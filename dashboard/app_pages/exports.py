"""Exports: student-level files and the research file for the sidebar's LEA and school year.

Inputs, then a Build button: the file is built on click with its progress shown, then offered
for download under a name that says what it holds and when it was made. The query layer
checks the access (``queries.extracts``); this page only shows its sentences. Each export's
options, the build and the download are ``dashboard.export_options``'s.
"""

from __future__ import annotations

from datetime import date

import streamlit as st

from dashboard import export_options as exports
from dashboard.context import page_context
from queries.extracts import extract_file_name

st.title("Exports", anchor=False)
ctx = page_context()
st.caption(f"{ctx.lea_name}, {ctx.year}. Choose another LEA or school year in the sidebar.")

kind = st.radio("Export", list(exports.KINDS), format_func=exports.KINDS.__getitem__,
                horizontal=True, key="exports_kind")
options = exports.OPTIONS[kind](ctx)

request = (kind, ctx.version, ctx.year, ctx.lea, repr(ctx.scope), *sorted(
    (k, str(v)) for k, v in options.items()))
fmt = str(options["fmt"])
detail = {"district": options.get("test"), "ssdf": options.get("by"),
          "research": options.get("test")}[kind]
name = extract_file_name(kind, detail=str(detail), org=str(options.get("school") or ctx.lea),
                         year=ctx.year, fmt=fmt, on=date.today(),
                         score_from=options.get("score_from"),  # type: ignore[arg-type]
                         score_to=options.get("score_to"),  # type: ignore[arg-type]
                         scored_only=bool(options.get("scored_only")))

if st.button("Build the export", type="primary", key="exports_build"):
    exports.build(ctx, kind, options, name, request)
exports.offer(kind, request, fmt)
