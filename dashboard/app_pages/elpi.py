"""English learner progress: the Dashboard's ELPI from the score files, and who drives it.

Who progressed, the students behind it and who may reclassify: ``dashboard.elpi_views`` draws
each mode, ``queries.elpi_*`` decide.
"""

from __future__ import annotations

import streamlit as st

from dashboard import elpi_views
from dashboard.context import page_context
from dashboard.glance import partial_banner

ctx = page_context()
st.title("English learner progress", anchor=False)
# A teacher's numbers count their rosters' students only: say so where the school is named.
whose = "" if ctx.scope.ssids is None else "the students of your rosters at "
st.caption(f"English Learner Progress Indicator (ELPI), as the California School Dashboard "
           f"computes it, for {whose}{ctx.lea_name}, {ctx.year} against the year before.")
if banner := partial_banner(ctx):
    st.warning(banner, icon=":material/hourglass_top:")
modes = {k: v for k, v in elpi_views.MODES.items() if ctx.scope.pii or k == "indicator"}
mode = st.segmented_control("View", list(modes), format_func=modes.__getitem__,
                            default="indicator", key="elpi_mode") or "indicator"
{"indicator": elpi_views.indicator, "students": elpi_views.students,
 "reclassification": elpi_views.reclassification}[mode](ctx)
