"""Dashboard entrypoint: page set-up, the shared sidebar and the router (STYLE.md).

``elpac serve`` runs this with ``streamlit run`` and ``$ELPAC_STORE`` set to the store.
Everything drawn here appears on every page: the page configuration, the sidebar's scope,
school year and LEA (``dashboard.context``), and ``st.navigation``. Each file in
``app_pages/`` reads top to bottom: inputs, one query call, table, chart, download.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from dashboard import identity, local_sign_in
from dashboard.context import PageStop, finish_run, start_run
from dashboard.errors import show_error

if TYPE_CHECKING:
    from streamlit.navigation.page import StreamlitPage

    from queries.scope import Scope

PRODUCT = "ELPAC results explorer"
st.set_page_config(layout="wide", page_icon=":material/translate:", page_title=PRODUCT)

# The paths people share are the url_paths: keep them stable.
GLANCE = st.Page("app_pages/at_a_glance.py", title="At a glance", icon=":material/dashboard:",
                 url_path="glance", default=True)
REPORT = st.Page("app_pages/report.py", title="Custom report", icon=":material/table_chart:",
                 url_path="report")
PROGRESS = st.Page("app_pages/elpi.py", title="English learner progress",
                   icon=":material/trending_up:", url_path="progress")
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
RECONCILE = st.Page("app_pages/reconcile.py", title="Reconcile with CDE",
                    icon=":material/compare_arrows:", url_path="reconcile")


def pages_for(scope: Scope) -> dict[str, list[StreamlitPage]]:
    """The menu of a scope: Students pages only with student records, Store contents statewide.

    Students and Rosters need student records.

    Only the menu: each page and every query still checks the scope itself (a hidden page's
    address shows the home page instead).
    """
    return {"Results": [GLANCE, REPORT, PROGRESS, *([STUDENTS, ROSTERS] if scope.pii else []),
                        RECONCILE],
            "Data": [*([SCORE_REPORTS] if scope.pii else []), EXPORTS, LOADS,
                     *([DELIVERY] if scope.pii else []),
                     *([STORE] if scope.statewide else []),
                     *([AUDIT] if identity.current_user().audits else [])]}


EVERY_PAGE = [GLANCE, REPORT, PROGRESS, STUDENTS, ROSTERS, SCORE_REPORTS, EXPORTS, LOADS,
              DELIVERY, STORE, AUDIT, RECONCILE]


def sign_in_widgets(local: bool) -> None:
    """The sidebar's sign-in: the local accounts' form, or OpenID Connect's buttons."""
    if local:
        local_sign_in.sidebar()
    elif identity.auth_configured():
        if identity.user_email() is None:
            st.sidebar.button("Sign in", on_click=st.login, type="primary", key="app_sign_in")
        else:
            st.sidebar.button(f"Sign out ({identity.user_email()})", on_click=st.logout,
                              key="app_sign_out")


# Everything before the page reads the catalog too (who is signed in, the menu, the sidebar):
# a failure there is the app's sentence, like a page's, never Streamlit's error box.
ready = False
try:
    local = not identity.auth_configured() and local_sign_in.in_use()
    if local:
        local_sign_in.resolve()
    signed_out = local and local_sign_in.account() is None
    # Signed out, every page's address still opens (the page asks to sign in, and after the
    # sign-in the browser comes back to it); signed in, the menu of the scope.
    page = (st.navigation(EVERY_PAGE, position="hidden") if signed_out
            else st.navigation(pages_for(identity.current_scope())))
    # The browser tab names the page and the product (several tabs of it are told apart).
    st.set_page_config(page_title=f"{page.title} · {PRODUCT}")
    sign_in_widgets(local)
    start_run()
    ready = True
except Exception as exc:  # noqa: BLE001 - shown as a sentence (show_error)
    show_error(exc, "the sidebar")
if ready:
    try:
        if signed_out:
            st.info("Sign in with your e-mail and password (in the sidebar) to see this page.",
                    icon=":material/lock:")
        else:
            page.run()
    except PageStop:
        pass  # the page has said why it ends there
    except Exception as exc:  # noqa: BLE001 - shown as a sentence (show_error)
        show_error(exc, f"page {page.url_path}")
    finally:
        # After the page (or its error): the sidebar's pickers, drawn last (context.sidebar).
        finish_run()
