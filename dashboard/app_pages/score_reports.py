"""Score reports: many Student Score Reports at once, as one PDF to print or a zip of files.

By the sidebar's school year and LEA (or school), then school, grade, language and test, as a
school office prints them for families. Built when asked, with a progress bar (a 5,000-student
school takes a few minutes); the SSRs are student records, so only accounts with student
access see the page, and every download is audited. The choices and the file are
``dashboard.score_report_files``'s; the LEA's parent-portal credential
``dashboard.credentials_section``'s.
"""

from __future__ import annotations

import streamlit as st

from dashboard import cached, identity
from dashboard import score_report_files as files
from dashboard.context import page_context, require_student_records, stop
from dashboard.credentials_section import credential_section
from documents.ssr import languages_of
from queries.labels import TESTS
from queries.portal_credentials import may_manage_credential
from queries.reports import students_counted
from queries.ssr_documents import list_ssr_contents

ctx = page_context()
st.title("Score reports", anchor=False)
require_student_records(ctx, "Student Score Reports are student records")
st.caption(f"Student Score Reports of {ctx.lea_name}, {ctx.year}: every student with a "
           "complete test gets one in English, and one in their primary language when it is "
           "Spanish, Vietnamese, Filipino, Korean or Chinese.")
if ctx.lea_code is None:
    st.info("Choose an LEA in the sidebar: reports are made for one LEA or school at a time.")
    stop()

user = identity.current_user()
if ctx.org_level == "lea" and may_manage_credential(user, ctx.lea_code):
    # LEA coordinators: the credential the SIS vendor's parent portal fetches SSRs with.
    with st.expander("Parent portal: the SIS vendor's credential"):
        st.caption("Your SIS vendor's parent portal fetches each family's SSRs from "
                   "`elpac portal-api` with this credential, for students of this LEA only.")
        credential_section(cached.store(), user, ctx.lea_code, ctx.lea_name)

chosen = files.choices(ctx)
contents = list_ssr_contents(
    ctx.snap, scope=ctx.scope, year=ctx.year, test=chosen.test,
    lea=None if ctx.org_level == "school" else ctx.lea_code,
    school=chosen.school or (ctx.lea if ctx.org_level == "school" else None),
    grade=chosen.grade, language=chosen.language)
items = [(c, lang) for c in contents for lang in languages_of(c)
         if chosen.language is None or lang == chosen.language]
where = chosen.schools.get(chosen.school or "", ctx.lea_name)
if not ctx.scope.every_student:  # a teacher's reports are their rosters', not the school's
    where = f"{where} ({students_counted(ctx.scope)})"
if not items:
    st.info(f"No {TESTS[chosen.test]} Student Score Report for these choices in {where}, "
            f"{ctx.year}.")
    stop()
st.markdown(f"**{len(items):,} reports** for {len(contents):,} students of {where}.")

if st.button("Make the file", type="primary", key="score_reports_make",
             icon=":material/print:"):
    files.make_file(ctx, chosen, items, where)
files.download()
