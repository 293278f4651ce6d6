"""SSR delivery: which parents got their child's Student Score Report, and who still waits.

Coverage by enrolled school (``queries.ssr_delivery.read_coverage``: its docstring defines
*delivered* and the percent's base), then one of: record a delivery, upload a deliveries or a
bounce/return CSV (all rows or none, with the upload history), or download the students not
yet reached. Every read and write goes through ``queries.ssr_delivery``, which applies the
user's scope; each action is drawn by ``dashboard.delivery_views``.
"""

from __future__ import annotations

import streamlit as st

from dashboard import delivery_views as views
from dashboard.context import page_context, require_student_records
from queries import ssr_delivery as delivery
from queries.labels import TESTS

COUNTS = {"n_eligible": "Students with an SSR", "n_released": "Released",
          "n_delivered": "Delivered", "n_failed": "Bounced or returned",
          "n_not_delivered": "Not yet delivered"}
COLUMNS = {"name": st.column_config.TextColumn("Organisation", pinned=True),
           "school_code": "CDS code", "lea_code": "LEA CDS code",
           **{c: st.column_config.NumberColumn(label, format="localized")
              for c, label in COUNTS.items()},
           "pct_delivered": st.column_config.ProgressColumn(
               "Percent delivered", format="%.1f%%", min_value=0, max_value=100,
               help="Of the students due their SSR: delivered, bounced or returned, or "
                    "released and not yet delivered.")}

ctx = page_context()
st.title("SSR delivery", anchor=False)
require_student_records(ctx, "Reaching parents lists students", every_group=True)
test = st.segmented_control("Test", list(TESTS), format_func=TESTS.__getitem__,
                            default="summative", key="delivery_test") or "summative"
where = {"lea": ctx.lea_code, "school": ctx.lea if ctx.org_level == "school" else None}
by = "lea" if ctx.org_level == "state" else "school"
coverage = delivery.read_coverage(ctx.snap, scope=ctx.scope, year=ctx.year, test=test, by=by,
                                  lea=where["lea"], school=where["school"])
st.caption(f"{TESTS[test]} SSRs of {ctx.lea_name}, {ctx.year}, by enrolled "
           f"{'LEA' if by == 'lea' else 'school'}, as of today.")
views.show_notice()
total = delivery.total_coverage(coverage).row(0, named=True)
for column, (key, label) in zip(st.columns(len(COUNTS)), COUNTS.items(), strict=True):
    column.metric(label, f"{total[key]:,}", border=True)
st.dataframe(coverage, hide_index=True, placeholder="—", width="stretch", column_config=COLUMNS,
             column_order=["name", "school_code" if by == "school" else "lea_code", *COUNTS,
                           "pct_delivered"], key="delivery_coverage")

action = st.segmented_control("Do", list(views.ACTIONS), format_func=views.ACTIONS.__getitem__,
                              key="delivery_action", label_visibility="collapsed")
if action == "record":
    views.record_form(ctx, test)
elif action in ("deliveries", "failures"):
    views.upload_form(ctx, action)
elif action == "unreached":
    views.unreached(ctx, test, where)
