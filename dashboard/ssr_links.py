"""The Students page's Reporting tab: the student's SSRs to download, and their languages.

An SSR is made when asked for (HTML at once; the PDF is printed by Chromium when the button is
clicked, about a second) from the record the profile shows; every download is audited. An LEA
coordinator may change the SSR languages, as TOMS allows (``queries.ssr_languages`` decides).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import streamlit as st

from dashboard import auditing, identity
from documents import pdf
from documents.i18n import LANGUAGE_NAMES
from documents.ssr import file_name, languages_of, render_html, render_pdf
from queries.errors import REFUSALS, as_sentence
from queries.labels import RECORD_TYPE_OF_TEST, SSR_SECOND_LANGUAGES
from queries.ssr_documents import NoReportError, read_ssr_content
from queries.ssr_languages import (
    AS_IN_FILE,
    ENGLISH_ONLY,
    may_change_ssr_languages,
    set_ssr_languages,
)

if TYPE_CHECKING:
    from dashboard.context import PageContext
    from queries.access import User

_TEST_OF_TYPE = {v: k for k, v in RECORD_TYPE_OF_TEST.items()}
_CHOICES = {AS_IN_FILE: "As in the score file", ENGLISH_ONLY: "English only",
            **{code: f"English and {LANGUAGE_NAMES[code]}" for code in SSR_SECOND_LANGUAGES}}
_NOTICE = "ssr_lang_notice"
SSR_PDF_NEEDS_CHROMIUM = (
    "SSR PDFs are printed by Chromium, which is not installed on this server: to offer them, "
    f"{pdf.INSTALL_CHROMIUM}. The web pages below print from any browser.")


def reporting_section(ctx: PageContext, record: dict[str, Any]) -> None:
    """SSR downloads for the profile's record (or why there is none), and its languages."""
    test = _TEST_OF_TYPE.get(record["record_type"], "summative")
    try:
        content = read_ssr_content(ctx.snap, record["ssid"], scope=ctx.scope,
                                   year=record["school_year"], test=test)
    except NoReportError:
        if record.get("is_ssr_eligible") and record.get("overall_scale_score") is not None:
            # Tested here, enrolled elsewhere: TOMS sends the SSR to the enrolled LEA (§7).
            st.caption("This student's SSR goes to their enrolled LEA "
                       f"({record.get('enrolled_lea_code') or 'unknown'}), which is not in your "
                       "access: it is made and sent there.")
        else:
            st.caption("No Student Score Report for this record: SSRs are made for complete "
                       "tests only (not for partial tests or students who did not test).")
        return
    st.markdown("**Student Score Report**")
    # Asked while drawing: the PDF is printed after the click, where a missing Chromium would
    # only read "Failed to generate file for download".
    printable = pdf.chromium_available()
    if not printable:
        st.info(SSR_PDF_NEEDS_CHROMIUM, icon=":material/print_disabled:")
    for language in languages_of(content):
        name = LANGUAGE_NAMES[language]
        left, right = st.columns(2)
        if printable:
            pdf_name = file_name(content, language, "pdf")
            left.download_button(
                f"{name}: PDF", key=f"ssr_pdf_{language}", mime="application/pdf",
                file_name=pdf_name, on_click="ignore", icon=":material/picture_as_pdf:",
                data=auditing.on_download(lambda c=content, lang=language: render_pdf(c, lang),
                                          name=pdf_name, detail="student score report",
                                          n_rows=1))
        html_name = file_name(content, language, "html")
        right.download_button(
            f"{name}: web page", key=f"ssr_html_{language}", mime="text/html",
            file_name=html_name, on_click="ignore", icon=":material/article:",
            data=auditing.on_download(
                lambda c=content, lang=language: render_html(c, lang).encode(),
                name=html_name, detail="student score report", n_rows=1))
    st.caption("Two pages: the overall score and what it means, then the oral and written "
               "language scores, the domains and the score history.")
    user = identity.current_user()
    if may_change_ssr_languages(user):
        _language_choice(ctx, user, record, test)


def _language_choice(ctx: PageContext, user: User, record: dict[str, Any], test: str) -> None:
    key = f"ssr_lang_{record['ssid']}_{record['school_year']}_{record['record_type']}"

    def changed() -> None:
        try:
            set_ssr_languages(ctx.snap, user, record["ssid"], year=record["school_year"],
                              test=test, languages=st.session_state[key])
        except REFUSALS as exc:
            st.session_state[_NOTICE] = as_sentence(exc)

    st.selectbox("SSR languages", list(_CHOICES), format_func=_CHOICES.__getitem__, key=key,
                 on_change=changed, index=None, placeholder="Change the SSR languages",
                 help="As TOMS allows an LEA coordinator: the SSRs made here follow it.")
    if notice := st.session_state.pop(_NOTICE, None):
        st.error(f"The SSR languages were not changed: {notice}", icon=":material/error:")
