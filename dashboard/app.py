"""Dashboard entrypoint: page set-up and the router (STYLE.md, multipage apps).

``elpac serve`` runs this with ``streamlit run`` and ``$ELPAC_STORE`` set to the store. Anything
drawn here appears on every page, so it only configures the page and picks the page to run;
each file in ``app_pages/`` reads the store through ``dashboard.cached``.
"""

from __future__ import annotations

import streamlit as st

# No page_title: st.navigation titles the browser tab after the page being shown.
st.set_page_config(layout="wide", initial_sidebar_state="collapsed")

# Paths are relative to this file. The default page is served at the root URL; the others at
# their url_path, which are the links people share: keep them stable.
PAGES = [
    st.Page("app_pages/home.py", title="Store contents", url_path="home", default=True),
]

page = st.navigation(PAGES)
page.run()
