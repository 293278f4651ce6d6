"""The SSR delivery page's actions: record a delivery, upload a CSV, see who is not reached.

Every read and write goes through ``queries.ssr_delivery``, which applies the user's scope;
the writes are button callbacks (they run before the page is drawn again, so the coverage
drawn after them is current) and leave their message in session state. Widget keys are
``delivery_*``.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import polars as pl
import streamlit as st

from dashboard import auditing, identity
from queries import ssr_delivery as delivery
from queries.errors import REFUSALS, as_sentence
from queries.spreadsheets import csv_bytes, decode_upload

if TYPE_CHECKING:
    from dashboard.context import PageContext

ACTIONS = {"record": "Record a delivery", "deliveries": "Upload deliveries",
           "failures": "Upload bounces and returns", "unreached": "Not yet reached"}
WAITING = {"ssid": "SSID", "last_name": "Last name", "first_name": "First name",
           "grade": "Grade", "school_code": "School CDS code", "school_name": "School",
           "languages": "SSR languages", "released_on": "Released", "status": "Status",
           "n_deliveries": "Deliveries", "last_delivered_on": "Last delivered",
           "last_method": "How", "last_failure_kind": "Last failure",
           "last_failure_on": "Reported", "last_failure_detail": "Detail"}
NOTICE = "delivery_notice"
"""Session key of the message an action leaves for the next run: ``(kind, text)``."""


def show_notice() -> None:
    """The message the last action left (success or error), once."""
    if notice := st.session_state.pop(NOTICE, None):
        (st.success if notice[0] == "success" else st.error)(notice[1])


def _resolve(ctx: PageContext) -> None:
    state = st.session_state
    try:
        delivery.resolve_failure(ctx.snap, ctx.scope, int(state["delivery_resolve_pick"]),
                                 resolved_by=identity.who())
    except REFUSALS as exc:
        state[NOTICE] = ("error", as_sentence(exc))
        return
    state["delivery_resolve_pick"] = None
    state[NOTICE] = ("success", "Marked resolved.")


def _record(ctx: PageContext, test: str) -> None:
    state = st.session_state
    try:
        new = delivery.record_delivery(
            ctx.snap, ctx.scope, ssid=str(state.get("delivery_ssid") or ""), year=ctx.year,
            test=test, method=str(state.get("delivery_method")), recorded_by=identity.who(),
            delivered_on=state.get("delivery_date") or date.today())
    except REFUSALS as exc:
        state[NOTICE] = ("error", as_sentence(exc))
        return
    state[NOTICE] = ("success", "Recorded." if new else "Already recorded.")
    state.pop("delivery_ssid", None)


def _upload(ctx: PageContext, kind: str, key: str) -> None:
    state = st.session_state
    file = state.get(key)
    if file is None:
        return
    run = delivery.import_deliveries if kind == "deliveries" else delivery.import_failures
    try:
        result = run(ctx.snap, ctx.scope, decode_upload(file.getvalue()), file_name=file.name,
                     uploaded_by=identity.who())
    except REFUSALS as exc:
        state[NOTICE] = ("error", f"Nothing was loaded from {file.name}: {exc}.")
        return
    state["delivery_result"] = (kind, file.name, result.n_rows, result.problems, result.loaded)
    if result.loaded:  # a fresh, empty uploader for the next file
        state["delivery_generation"] = state.get("delivery_generation", 0) + 1


def record_form(ctx: PageContext, test: str) -> None:
    """One student's delivery: SSID, how and when."""
    left, middle, right = st.columns(3)
    left.text_input("SSID", key="delivery_ssid", max_chars=10)
    middle.selectbox("How", delivery.METHODS, format_func=delivery.METHOD_NAMES.__getitem__,
                     key="delivery_method")
    right.date_input("Delivered on", value=date.today(), max_value=date.today(),
                     key="delivery_date", format="YYYY-MM-DD")
    st.button("Record the delivery", key="delivery_record", type="primary",
              on_click=_record, args=(ctx, test))


def upload_form(ctx: PageContext, kind: str) -> None:
    """A deliveries (``kind`` ``deliveries``) or bounces-and-returns CSV, and the history."""
    state = st.session_state
    st.caption(f"A CSV file with the columns {', '.join(delivery.UPLOAD_COLUMNS[kind])}"
               + (" (method: portal, email, mail or in_person)" if kind == "deliveries"
                  else " (kind: bounced or returned; test optional)")
               + ". Dates as 2025-06-02 or 6/2/2025. Every row is checked, and a file with "
                 "any bad row loads nothing.")
    uploader = f"delivery_upload_{kind}_{state.setdefault('delivery_generation', 0)}"
    file = st.file_uploader("CSV file", type=["csv"], key=uploader)
    st.button("Check and load", key="delivery_load", type="primary", disabled=file is None,
              on_click=_upload, args=(ctx, kind, uploader))
    if (result := state.get("delivery_result")) and result[0] == kind:
        _, name, n_rows, problems, loaded = result
        if loaded:
            st.success(f"Loaded {name}: all {n_rows:,} rows.")
        elif problems:
            st.error(f"Nothing was loaded from {name}: {len(problems):,} problem(s) in "
                     f"{len({p[0] for p in problems}):,} of its {n_rows:,} rows. Fix them and "
                     "upload the file again.")
            st.dataframe(pl.DataFrame(problems, schema=["row", "field", "value", "reason"],
                                      orient="row"), hide_index=True, placeholder="—",
                         width="stretch", key="delivery_problems")
        else:
            st.warning(f"{name} has no rows: nothing was loaded.")
    st.header("Upload history", anchor=False)
    st.dataframe(delivery.upload_history(ctx.snap, ctx.scope, me=identity.who()),
                 hide_index=True, placeholder="—", width="stretch", key="delivery_history")


def unreached(ctx: PageContext, test: str, where: dict[str, str | None]) -> None:
    """The students whose parents are not reached yet; mark a bounce resolved; download."""
    waiting = delivery.unreached_students(ctx.snap, scope=ctx.scope, year=ctx.year, test=test,
                                          lea=where["lea"], school=where["school"])
    st.dataframe(waiting, hide_index=True, placeholder="—", width="stretch",
                 key="delivery_unreached",
                 column_config=WAITING, column_order=list(WAITING))
    failed = waiting.filter(pl.col("open_failure_id").is_not_null())
    if failed.height:
        # A family reached another way (a phone call, a corrected address): the bounce or
        # return is resolved. A delivery recorded after it resolves it too.
        labels = {int(r["open_failure_id"]): f"{r['last_name']}, {r['first_name']} "
                  f"({r['ssid']}): {r['last_failure_kind']} {r['last_failure_on']}"
                  for r in failed.iter_rows(named=True)}
        left, right = st.columns([3, 1], vertical_alignment="bottom")
        left.selectbox("Bounced or returned", list(labels), format_func=labels.__getitem__,
                       key="delivery_resolve_pick", index=None,
                       placeholder="Choose a student to mark resolved")
        right.button("Mark resolved", key="delivery_resolve", on_click=_resolve, args=(ctx,),
                     disabled=st.session_state.get("delivery_resolve_pick") is None)
    text = waiting.drop("open_failure_id").select(pl.all().cast(pl.String))
    name = f"elpac-ssr-not-reached-{ctx.year}-{test}-{date.today():%Y%m%d}.csv"
    st.download_button(
        f"Download {waiting.height:,} students (CSV)", key="delivery_unreached_csv",
        on_click="ignore", file_name=name, mime="text/csv", icon=":material/download:",
        data=auditing.on_download(lambda: csv_bytes(text), name=name, n_rows=waiting.height,
                                  detail=f"SSR not reached {ctx.year} {test} {ctx.lea}"))
