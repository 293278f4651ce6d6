"""The Score reports page's choices and its file: one PDF to print, or a zip of SSRs.

The SSRs are made by ``documents.ssr`` from ``queries.ssr_documents``'s contents (which apply
the user's scope); this module draws the choices, the progress bar and the download, which
is audited. Widget keys are ``score_reports_*``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import streamlit as st

from dashboard import file_downloads
from dashboard import student_profile as profile
from dashboard.context import stop
from documents import pdf
from documents.i18n import LANGUAGE_NAMES
from documents.ssr import bulk_pdf, bulk_zip
from queries.errors import InputError
from queries.labels import GRADE_NAMES, GRADES, TESTS

if TYPE_CHECKING:
    from dashboard.context import PageContext
    from queries.ssr_documents import SsrContent

OUTPUTS = {"merged": "One PDF to print (two pages per report)",
           "zip_pdf": "A zip of PDFs, one per student and language",
           "zip_html": "A zip of web pages, one per student and language"}
RESULT = "score_reports_result"
"""Session key of the last file built: (file name, mime type, bytes, number of SSRs)."""


@dataclass(frozen=True)
class Choices:
    """What to make: test, school (``None``: every school), grade, language, file kind."""

    test: str
    schools: dict[str, str]
    school: str | None
    grade: str | None
    language: str | None
    output: str


def choices(ctx: PageContext) -> Choices:
    """The test, school, grade, language and file choices (only web pages without Chromium)."""
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
    # Asked while drawing, not when the file is made: without Chromium only web pages.
    offered = list(OUTPUTS) if pdf.chromium_available() else ["zip_html"]
    if offered != list(OUTPUTS):
        st.info("PDFs are printed by Chromium, which is not installed on this server: to offer "
                f"them, {pdf.INSTALL_CHROMIUM}. The zip of web pages works without it.",
                icon=":material/print_disabled:")
        if state.get("score_reports_output") not in offered:
            state["score_reports_output"] = offered[0]
    output = st.radio("File", offered, format_func=OUTPUTS.__getitem__,
                      key="score_reports_output", horizontal=True)
    return Choices(test, schools, school, grade, language, output)


def make_file(ctx: PageContext, chosen: Choices, items: list[tuple[SsrContent, str]],
              where: str) -> None:
    """Make the file with a progress bar, and keep it for :func:`download`."""
    bar = st.progress(0.0, text="Starting the printer…")
    started = time.monotonic()

    def progress(done: int, total: int) -> None:
        # The bar, and the time left once it is worth saying.
        seconds = time.monotonic() - started
        left = seconds / done * (total - done) if done else 0
        bar.progress(done / total, text=f"{done:,} of {total:,} reports"
                     + (f", about {left / 60:.0f} min left" if left >= 90 else ""))

    grade, language = chosen.grade, chosen.language
    slug = "".join(ch if ch.isalnum() else "-" for ch in where.lower()).strip("-")
    stem = (f"ssr-{ctx.year}-{chosen.test}-{slug}" + (f"-grade-{grade.lower()}" if grade else "")
            + (f"-{language.lower()}" if language else ""))
    name = f"{stem}.pdf" if chosen.output == "merged" else (
        f"{stem}-{'pdf' if chosen.output == 'zip_pdf' else 'html'}.zip")
    # Written into a private download on disk as it is printed, streamed from there.
    target = file_downloads.new_file(name, detail=f"{len(items)} student score reports",
                                     n_rows=len(items))
    try:
        with target.path.open("wb") as out:
            if chosen.output == "merged":
                bulk_pdf(items, out, progress=progress)
            else:
                bulk_zip(items, out, fmt="pdf" if chosen.output == "zip_pdf" else "html",
                         progress=progress)
    except InputError as exc:
        bar.empty()
        st.error(str(exc), icon=":material/error:")
        stop()
    bar.progress(1.0, text=f"{len(items):,} reports ready in "
                 f"{time.monotonic() - started:.0f} s")
    st.session_state[RESULT] = target


def download() -> None:
    """The last file made, to download (audited when it is fetched)."""
    made = st.session_state.get(RESULT)
    if made:
        file_downloads.offer(made)
