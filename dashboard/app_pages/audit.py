"""Audit: who signed in, viewed a student or exported what (LEA and state administrators).

Whose entries a user may read is decided by ``queries.audit.read_audit``; the page only asks.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import polars as pl
import streamlit as st

from dashboard import auditing, cached, identity
from dashboard.context import stop
from queries.access import reads_every_audit_entry
from queries.audit import read_audit
from queries.errors import ScopeError
from queries.labels import AUDIT_ACTION_NAMES
from queries.spreadsheets import csv_bytes

st.title("Audit", anchor=False)
user = identity.current_user()
try:
    everyone = reads_every_audit_entry(user)
except ScopeError as exc:
    st.info(str(exc))
    stop()
st.caption("Sign-ins, student profiles viewed and exports, newest first"
           + ("" if everyone else ": the accounts of your LEAs") + ".")
today = date.today()
start, end = st.date_input("Between", value=(today - timedelta(days=30), today),
                           key="audit_dates", format="YYYY-MM-DD", width=260) or (today, today)
entries = read_audit(cached.store(), user, since=datetime.combine(start, time.min),
                     until=datetime.combine(end, time.max))
people = sorted(set(entries.get_column("user_email")))
chosen = st.multiselect("Users", people, key="audit_users", placeholder="Everyone")
if chosen:
    entries = entries.filter(pl.col("user_email").is_in(chosen))
shown = entries.with_columns(pl.col("action").replace_strict(AUDIT_ACTION_NAMES))
st.dataframe(shown, hide_index=True, placeholder="—", width="stretch", column_config={
    "logged_at": st.column_config.DatetimeColumn("When", format="YYYY-MM-DD HH:mm:ss"),
    "user_email": st.column_config.TextColumn("User"),
    "action": st.column_config.TextColumn("What"),
    "scope": st.column_config.TextColumn("Their access"),
    "detail": st.column_config.TextColumn("Details (filters, file, student)"),
    "n_rows": st.column_config.NumberColumn("Rows", format="localized"),
})
st.caption(f"{shown.height:,} entries.")
text = shown.select(pl.all().cast(pl.String))
name = f"elpac-audit-{start:%Y%m%d}-{end:%Y%m%d}.csv"
st.download_button(
    "Download CSV", key="audit_csv", on_click="ignore", file_name=name, mime="text/csv",
    data=auditing.on_download(lambda: csv_bytes(text), name=name, detail="audit log",
                              n_rows=shown.height),
    icon=":material/download:")
