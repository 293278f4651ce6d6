"""Score reports: many Student Score Reports at once, as one PDF to print or a zip of files.

By the sidebar's school year and LEA (or school), then school, grade, language and test, as a
school office prints them for families. Built when asked, with a progress bar (a 5,000-student
school takes a few minutes); the SSRs are student records, so only accounts with student
access see the page, and every download is audited.
"""

from __future__ import annotations

import time

import streamlit as st

from dashboard import auditing, cached, identity
from dashboard import student_profile as profile
from dashboard.context import page_context, stop
from dashboard.credentials_section import credential_section
from data.domain import GRADES
from data.problems import InputError
from documents import pdf
from documents.i18n import LANGUAGE_NAMES
from documents.ssr import bulk_pdf, bulk_zip, languages_of
from queries.labels import GRADE_NAMES, TESTS
from queries.ssr_documents import list_ssr_contents

OUTPUTS = {"merged": "One PDF to print (two pages per report)",
           "zip_pdf": "A zip of PDFs, one per student and language",
           "zip_html": "A zip of web pages, one per student and language"}
# Session key of the last file built: (file name, mime type, bytes, number of SSRs). A comment,
# not a docstring: Streamlit's magic would print a bare string on the page.
RESULT = "score_reports_result"

ctx = page_context()
st.title("Score reports")
if not ctx.scope.pii:
    st.info("Student Score Reports are student records: your account shows aggregate results "
            "only. Ask your LEA ELPAC coordinator for access to student records.")
    stop()
st.caption(f"Student Score Reports of {ctx.lea_name}, {ctx.year}: every student with a "
           "complete test gets one in English, and one in their primary language when it is "
           "Spanish, Vietnamese, Filipino, Korean or Chinese.")
if ctx.lea_code is None:
    st.info("Choose an LEA in the sidebar: reports are made for one LEA or school at a time.")
    stop()

if ctx.org_level == "lea" and identity.can_load():
    # LEA coordinators: the credential the SIS vendor's parent portal fetches SSRs with.
    with st.expander("Parent portal: the SIS vendor's credential"):
        st.caption("Your SIS vendor's parent portal fetches each family's SSRs from "
                   "`elpac portal-api` with this credential, for students of this LEA only.")
        credential_section(cached.store(), ctx.lea_code, ctx.lea_name, auditing.who())

state = st.session_state
top = st.columns(4)
test = top[0].selectbox("Test", list(TESTS), format_func=TESTS.__getitem__,
                        key="score_reports_test")
if ctx.org_level == "school":
    schools = {ctx.lea: ctx.lea_name}
else:
    schools = profile.school_choices(ctx.snap, ctx.scope, ctx.year, ctx.lea_code)
school = top[1].selectbox("School", list(schools), format_func=schools.__getitem__,
                          index=None if len(schools) > 1 else 0, key="score_reports_school",
                          placeholder="Every school")
grade = top[2].selectbox("Grade", GRADES, format_func=GRADE_NAMES.__getitem__, index=None,
                         key="score_reports_grade", placeholder="Every grade")
language = top[3].selectbox("Language", list(LANGUAGE_NAMES),
                            format_func=LANGUAGE_NAMES.__getitem__, index=None,
                            key="score_reports_language", placeholder="Every language",
                            help="Every language: each student's English SSR and their "
                                 "primary-language one. One language: only those SSRs.")
# Asked while drawing, not when the file is made: without Chromium only web pages are offered.
offered = list(OUTPUTS) if pdf.chromium_available() else ["zip_html"]
if offered != list(OUTPUTS):
    st.info("PDFs are printed by Chromium, which is not installed on this server: to offer "
            f"them, {pdf.INSTALL_CHROMIUM}. The zip of web pages works without it.",
            icon=":material/print_disabled:")
    if state.get("score_reports_output") not in offered:
        state["score_reports_output"] = offered[0]
output = st.radio("File", offered, format_func=OUTPUTS.__getitem__,
                  key="score_reports_output", horizontal=True)

contents = list_ssr_contents(ctx.snap, scope=ctx.scope, year=ctx.year, test=test,
                             lea=None if ctx.org_level == "school" else ctx.lea_code,
                             school=school or (ctx.lea if ctx.org_level == "school" else None),
                             grade=grade, language=language)
items = [(c, lang) for c in contents for lang in languages_of(c)
         if language is None or lang == language]
where = schools.get(school or "", ctx.lea_name)
if not items:
    st.info(f"No {TESTS[test]} Student Score Report for these choices in {where}, "
            f"{ctx.year}.")
    stop()
st.markdown(f"**{len(items):,} reports** for {len(contents):,} students of {where}.")

if st.button("Make the file", type="primary", key="score_reports_make",
             icon=":material/print:"):
    bar = st.progress(0.0, text="Starting the printer…")
    started = time.monotonic()

    def progress(done: int, total: int) -> None:  # noqa: D103 (a page: no bare strings)
        # The bar, and the time left once it is worth saying.
        seconds = time.monotonic() - started
        left = seconds / done * (total - done) if done else 0
        bar.progress(done / total, text=f"{done:,} of {total:,} reports"
                     + (f", about {left / 60:.0f} min left" if left >= 90 else ""))

    slug = "".join(ch if ch.isalnum() else "-" for ch in where.lower()).strip("-")
    stem = (f"ssr-{ctx.year}-{test}-{slug}" + (f"-grade-{grade.lower()}" if grade else "")
            + (f"-{language.lower()}" if language else ""))
    try:
        if output == "merged":
            data, name, mime = bulk_pdf(items, progress=progress), f"{stem}.pdf", \
                "application/pdf"
        else:
            fmt = "pdf" if output == "zip_pdf" else "html"
            data, name, mime = bulk_zip(items, fmt=fmt, progress=progress), \
                f"{stem}-{fmt}.zip", "application/zip"
    except InputError as exc:
        bar.empty()
        st.error(str(exc), icon=":material/error:")
        stop()
    bar.progress(1.0, text=f"{len(items):,} reports ready in "
                 f"{time.monotonic() - started:.0f} s")
    state[RESULT] = (name, mime, data, len(items))

if state.get(RESULT):
    name, mime, data, n = state[RESULT]
    st.download_button(f"Download {name} ({len(data) / 1e6:.1f} MB)", data=auditing.on_download(
        lambda: data, name=name, detail=f"{n} student score reports", n_rows=n),
        file_name=name, mime=mime, key="score_reports_download", on_click="ignore",
        type="primary", icon=":material/download:")
