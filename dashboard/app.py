"""Dashboard entrypoint: page set-up, the shared sidebar and the router (STYLE.md).

``elpac serve`` runs this with ``streamlit run`` and ``$ELPAC_STORE`` set to the store.
Everything drawn here appears on every page: the page configuration, the sidebar's scope,
school year and LEA (``dashboard.context``), and ``st.navigation``. Each file in
``app_pages/`` reads top to bottom: inputs, one query call, table, chart, download.
"""

from __future__ import annotations

import streamlit as st

from dashboard.context import start_run

# No page_title: st.navigation titles the browser tab after the page being shown.
st.set_page_config(layout="wide", page_icon=":material/translate:")

# The paths people share are the url_paths: keep them stable.
PAGES = {
    "Results": [
        st.Page("app_pages/at_a_glance.py", title="At a glance", icon=":material/dashboard:",
                url_path="glance", default=True),
        st.Page("app_pages/report.py", title="Custom report", icon=":material/table_chart:",
                url_path="report"),
        st.Page("app_pages/students.py", title="Students", icon=":material/person_search:",
                url_path="students"),
    ],
    "Data": [
        st.Page("app_pages/exports.py", title="Exports", icon=":material/download:",
                url_path="exports"),
        st.Page("app_pages/data_loads.py", title="Data loads", icon=":material/upload_file:",
                url_path="loads"),
        st.Page("app_pages/store_contents.py", title="Store contents",
                icon=":material/database:", url_path="store"),
    ],
}

page = st.navigation(PAGES)
start_run()
page.run()
