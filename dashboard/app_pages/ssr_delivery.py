"""SSR delivery: which parents got their child's Student Score Report, and who still waits.

Coverage by enrolled school (``queries.ssr_delivery.read_coverage``: its docstring defines
*delivered* and the percent's base), then one of: record a delivery, upload a deliveries or a
bounce/return CSV (all rows or none, with the upload history), or download the students not
yet reached. Every read and write goes through ``queries.ssr_delivery``, which applies the
user's scope; the writes are button callbacks, so the coverage drawn after them is current.
"""

from __future__ import annotations

from datetime import date

import polars as pl
import streamlit as st

from dashboard import auditing
from dashboard.context import PageContext, page_context, stop
from data.catalog.ssr_deliveries import DELIVERY_COLUMNS, FAILURE_COLUMNS, METHODS
from data.problems import InputError
from data.toms.export import neutralised
from queries import ssr_delivery as reach
from queries.labels import TESTS
from queries.scope import ScopeError

ACTIONS = {"record": "Record a delivery", "deliveries": "Upload deliveries",
           "failures": "Upload bounces and returns", "unreached": "Not yet reached"}
COUNTS = {"n_eligible": "Students with an SSR", "n_released": "Released",
          "n_delivered": "Delivered", "n_failed": "Bounced or returned",
          "n_not_delivered": "Not yet delivered"}
COLUMNS = {"name": st.column_config.TextColumn("Organisation", pinned=True),
           "school_code": "CDS code", "lea_code": "LEA CDS code",
           **{c: st.column_config.NumberColumn(label, format="localized")
              for c, label in COUNTS.items()},
           "pct_delivered": st.column_config.ProgressColumn(
               "Percent delivered", format="%.1f%%", min_value=0, max_value=100,
               help="Of the students due their SSR: delivered, bounced or returned, or "
                    "released and not yet delivered.")}
WAITING = {"ssid": "SSID", "last_name": "Last name", "first_name": "First name",
           "grade": "Grade", "school_code": "School CDS code", "school_name": "School",
           "languages": "SSR languages", "released_on": "Released", "status": "Status",
           "n_deliveries": "Deliveries", "last_delivered_on": "Last delivered",
           "last_method": "How", "last_failure_kind": "Last failure",
           "last_failure_on": "Reported", "last_failure_detail": "Detail"}
state = st.session_state


def _resolve(ctx: PageContext) -> None:
    try:
        reach.resolve_failure(ctx.snap, ctx.scope, int(state["delivery_resolve_pick"]),
                              resolved_by=auditing.who())
    except (InputError, ScopeError) as exc:
        state["delivery_notice"] = ("error", f"{str(exc)[:1].upper()}{str(exc)[1:]}.")
        return
    state["delivery_resolve_pick"] = None
    state["delivery_notice"] = ("success", "Marked resolved.")


def _record(ctx: PageContext, test: str) -> None:
    try:
        new = reach.record_delivery(
            ctx.snap, ctx.scope, ssid=str(state.get("delivery_ssid") or ""), year=ctx.year,
            test=test, method=str(state.get("delivery_method")), recorded_by=auditing.who(),
            delivered_on=state.get("delivery_date") or date.today())
    except (InputError, ScopeError) as exc:
        state["delivery_notice"] = ("error", f"{str(exc)[:1].upper()}{str(exc)[1:]}.")
        return
    state["delivery_notice"] = ("success", "Recorded." if new else "Already recorded.")
    state.pop("delivery_ssid", None)


def _upload(ctx: PageContext, kind: str, key: str) -> None:
    file = state.get(key)
    if file is None:
        return
    data = file.getvalue()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")  # Excel's "CSV" on Windows
    run = reach.import_deliveries if kind == "deliveries" else reach.import_failures
    try:
        result = run(ctx.snap, ctx.scope, text, file_name=file.name, uploaded_by=auditing.who())
    except (InputError, ScopeError) as exc:
        state["delivery_notice"] = ("error", f"Nothing was loaded from {file.name}: {exc}.")
        return
    state["delivery_result"] = (kind, file.name, result.n_rows, result.problems, result.loaded)
    if result.loaded:  # a fresh, empty uploader for the next file
        state["delivery_generation"] = state.get("delivery_generation", 0) + 1


ctx = page_context()
st.title("SSR delivery")
if not ctx.scope.pii or not ctx.scope.all_students:
    st.info("Reaching parents lists students: your account shows "
            + ("aggregate results only" if not ctx.scope.pii else "some student groups only")
            + ". Ask your LEA ELPAC coordinator for access to student records.")
    stop()
test = st.segmented_control("Test", list(TESTS), format_func=TESTS.__getitem__,
                            default="summative", key="delivery_test") or "summative"
where = {"lea": ctx.lea_code, "school": ctx.lea if ctx.org_level == "school" else None}
by = "lea" if ctx.org_level == "state" else "school"
coverage = reach.read_coverage(ctx.snap, scope=ctx.scope, year=ctx.year, test=test, by=by,
                               lea=where["lea"], school=where["school"])
st.caption(f"{TESTS[test]} SSRs of {ctx.lea_name}, {ctx.year}, by enrolled "
           f"{'LEA' if by == 'lea' else 'school'}, as of today.")
if notice := state.pop("delivery_notice", None):
    (st.success if notice[0] == "success" else st.error)(notice[1])
total = reach.total_coverage(coverage).row(0, named=True)
for column, (key, label) in zip(st.columns(len(COUNTS)), COUNTS.items(), strict=True):
    column.metric(label, f"{total[key]:,}", border=True)
st.dataframe(coverage, hide_index=True, width="stretch", column_config=COLUMNS,
             column_order=["name", "school_code" if by == "school" else "lea_code", *COUNTS,
                           "pct_delivered"], key="delivery_coverage")

action = st.segmented_control("Do", list(ACTIONS), format_func=ACTIONS.__getitem__,
                              key="delivery_action", label_visibility="collapsed")
if action == "record":
    left, middle, right = st.columns(3)
    left.text_input("SSID", key="delivery_ssid", max_chars=10)
    middle.selectbox("How", METHODS, format_func=reach.METHOD_NAMES.__getitem__,
                     key="delivery_method")
    right.date_input("Delivered on", value=date.today(), max_value=date.today(),
                     key="delivery_date", format="YYYY-MM-DD")
    st.button("Record the delivery", key="delivery_record", type="primary",
              on_click=_record, args=(ctx, test))
elif action in ("deliveries", "failures"):
    columns = DELIVERY_COLUMNS if action == "deliveries" else FAILURE_COLUMNS
    st.caption(f"A CSV file with the columns {', '.join(columns)}"
               + (" (method: portal, email, mail or in_person)" if action == "deliveries"
                  else " (kind: bounced or returned; test optional)")
               + ". Dates as 2025-06-02 or 6/2/2025. Every row is checked, and a file with "
                 "any bad row loads nothing.")
    uploader = f"delivery_upload_{action}_{state.setdefault('delivery_generation', 0)}"
    file = st.file_uploader("CSV file", type=["csv"], key=uploader)
    st.button("Check and load", key="delivery_load", type="primary", disabled=file is None,
              on_click=_upload, args=(ctx, action, uploader))
    if (result := state.get("delivery_result")) and result[0] == action:
        _, name, n_rows, problems, loaded = result
        if loaded:
            st.success(f"Loaded {name}: all {n_rows:,} rows.")
        elif problems:
            st.error(f"Nothing was loaded from {name}: {len(problems):,} problem(s) in "
                     f"{len({p[0] for p in problems}):,} of its {n_rows:,} rows. Fix them and "
                     "upload the file again.")
            st.dataframe(pl.DataFrame(problems, schema=["row", "field", "value", "reason"],
                                      orient="row"), hide_index=True, width="stretch",
                         key="delivery_problems")
        else:
            st.warning(f"{name} has no rows: nothing was loaded.")
    st.subheader("Upload history")
    st.dataframe(reach.upload_history(ctx.snap, ctx.scope, me=auditing.who()),
                 hide_index=True, width="stretch", key="delivery_history")
elif action == "unreached":
    waiting = reach.unreached_students(ctx.snap, scope=ctx.scope, year=ctx.year, test=test,
                                       lea=where["lea"], school=where["school"])
    st.dataframe(waiting, hide_index=True, width="stretch", key="delivery_unreached",
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
                     disabled=state.get("delivery_resolve_pick") is None)
    text = waiting.drop("open_failure_id").select(pl.all().cast(pl.String))
    name = f"elpac-ssr-not-reached-{ctx.year}-{test}-{date.today():%Y%m%d}.csv"
    st.download_button(
        f"Download {waiting.height:,} students (CSV)", key="delivery_unreached_csv",
        on_click="ignore", file_name=name, mime="text/csv", icon=":material/download:",
        data=auditing.on_download(lambda: text.with_columns(neutralised(text)).write_csv()
                                  .encode(), name=name, n_rows=waiting.height,
                                  detail=f"SSR not reached {ctx.year} {test} {ctx.lea}"))
