"""Dashboard entrypoint: page set-up, the shared sidebar and the router (STYLE.md).

``elpac serve`` runs this with ``streamlit run`` and ``$ELPAC_STORE`` set to the store.
Everything drawn here appears on every page: the page configuration, the sidebar's scope,
school year and LEA (``dashboard.context``), and ``st.navigation``. Each file in
``app_pages/`` reads top to bottom: inputs, one query call, table, chart, download.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import streamlit as st

from dashboard import identity, local_sign_in
from dashboard.context import PageStop, finish_run, start_run
from queries.errors import InputError

if TYPE_CHECKING:
    from streamlit.navigation.page import StreamlitPage

    from queries.scope import Scope

# No page_title: st.navigation titles the browser tab after the page being shown.
st.set_page_config(layout="wide", page_icon=":material/translate:")

# The paths people share are the url_paths: keep them stable.
GLANCE = st.Page("app_pages/at_a_glance.py", title="At a glance", icon=":material/dashboard:",
                 url_path="glance", default=True)
REPORT = st.Page("app_pages/report.py", title="Custom report", icon=":material/table_chart:",
                 url_path="report")
STUDENTS = st.Page("app_pages/students.py", title="Students", icon=":material/person_search:",
                   url_path="students")
ROSTERS = st.Page("app_pages/rosters.py", title="Rosters", icon=":material/groups:",
                  url_path="rosters")
SCORE_REPORTS = st.Page("app_pages/score_reports.py", title="Score reports",
                        icon=":material/picture_as_pdf:", url_path="score-reports")
EXPORTS = st.Page("app_pages/exports.py", title="Exports", icon=":material/download:",
                  url_path="exports")
LOADS = st.Page("app_pages/data_loads.py", title="Data loads", icon=":material/upload_file:",
                url_path="loads")
STORE = st.Page("app_pages/store_contents.py", title="Store contents",
                icon=":material/database:", url_path="store")
AUDIT = st.Page("app_pages/audit.py", title="Audit", icon=":material/policy:",
                url_path="audit")
DELIVERY = st.Page("app_pages/ssr_delivery.py", title="SSR delivery",
                   icon=":material/outgoing_mail:", url_path="delivery")


def pages_for(scope: Scope) -> dict[str, list[StreamlitPage]]:
    """The menu of a scope: Students pages only with student records, Store contents statewide.

    Students and Rosters need student records.

    Only the menu: each page and every query still checks the scope itself (a hidden page's
    address shows the home page instead).
    """
    return {"Results": [GLANCE, REPORT, *([STUDENTS, ROSTERS] if scope.pii else [])],
            "Data": [*([SCORE_REPORTS] if scope.pii else []), EXPORTS, LOADS,
                     *([DELIVERY] if scope.pii else []),
                     *([STORE] if scope.statewide else []),
                     *([AUDIT] if identity.current_user().audits else [])]}


PAGES = pages_for(identity.current_scope())

page = st.navigation(PAGES)
if not identity.auth_configured() and local_sign_in.in_use():
    local_sign_in.keep_alive()
    local_sign_in.sidebar()
elif identity.auth_configured():
    if identity.user_email() is None:
        st.sidebar.button("Sign in", on_click=st.login, type="primary", key="app_sign_in")
    else:
        st.sidebar.button(f"Sign out ({identity.user_email()})", on_click=st.logout,
                          key="app_sign_out")
start_run()
try:
    page.run()
except PageStop:
    pass  # the page has said why it ends there
except (InputError, ValueError) as exc:
    # Query-layer errors are sentences written for users (a report outside the store's years,
    # a scope that does not cover the request...): show them as they are.
    message = str(exc)
    st.error(f"{message[:1].upper()}{message[1:]}", icon=":material/error:")
except Exception:
    # Anything else is a bug. Developers (and AppTest) keep the traceback; with the project's
    # config (showErrorDetails "none") users get a sentence and the server log the details.
    if st.get_option("client.showErrorDetails") not in ("none", False):
        raise
    logging.getLogger("elpac.dashboard").exception("page %s failed", page.url_path)
    st.error("Something went wrong on this page. Reload it; if it happens again, tell your "
             "ELPAC data administrator the time it happened (the server log has the details).",
             icon=":material/error:")
finally:
    # After the page (or its error): the sidebar's pickers, drawn last (context.sidebar).
    finish_run()
