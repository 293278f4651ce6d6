"""SSR delivery: how each student's parents got the Student Score Report, and what failed.

LEAs must give every parent their child's SSR (ELPAC.md §7: within 30 calendar days of
receipt, IG-21): through the SIS parent portal, by e-mail, printed and mailed, or handed over.
E-mails bounce and letters come back. The catalog keeps, per student, school year and test:

* ``ssr_deliveries``: every delivery (a student may have several: portal and mail);
* ``ssr_delivery_failures``: every bounced e-mail or returned letter, resolved by hand
  (``resolved_at``) or by a delivery dated after it was reported (``queries.ssr_delivery``);
* ``ssr_delivery_uploads``: every CSV upload, loaded or refused.

A CSV upload is checked row by row (``data.catalog.ssr_delivery_rows``), and a file with any
bad row loads nothing. Who may record a delivery for a student is the caller's ``may_use``
(``queries.ssr_delivery``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import polars as pl
from sqlalchemy import select

from data.catalog.db import frame
from data.catalog.schema import ssr_deliveries, ssr_delivery_failures, ssr_delivery_uploads
from data.catalog.ssr_delivery_rows import MayUse, Problem, check_row_dicts, check_rows
from data.problems import InputError

if TYPE_CHECKING:
    from sqlalchemy import Connection, Select, Table

    from data.results.store import Store

@dataclass
class ImportResult:
    """What an upload did: rows read, problems (row, field, value, reason), rows added."""

    n_rows: int = 0
    problems: list[Problem] = field(default_factory=list)
    loaded: bool = False
    n_added: int = 0
    """Rows new to the catalog (a row already recorded, e.g. a file loaded twice, is kept once)."""


_KEY = ("ssid", "school_year", "record_type", "value", "on")
"""What makes a delivery or failure the same one: student, test, method or kind, date."""
_NEW_ROWS = {"ssid": pl.String, "school_year": pl.String, "record_type": pl.String,
             "value": pl.String, "on": pl.Date, "detail": pl.String}


def _insert(con: Connection, kind: str, rows: list[dict[str, object]], *,
            by: str, now: datetime, upload_id: int | None) -> int:
    """Add the rows not already recorded (same student, test, method or kind, and date).

    Returns how many were added: a file loaded twice adds nothing the second time.
    """
    new = pl.DataFrame(rows, schema=_NEW_ROWS).unique(list(_KEY), keep="first",
                                                       maintain_order=True)
    table = ssr_deliveries if kind == "deliveries" else ssr_delivery_failures
    value = table.c.method if kind == "deliveries" else table.c.kind
    on = table.c.delivered_on if kind == "deliveries" else table.c.reported_on
    years = new.get_column("school_year").unique().to_list()
    known = frame(con, select(table.c.ssid, table.c.school_year, table.c.record_type,
                              value.label("value"), on.label("on"))
                  .where(table.c.school_year.in_(years)),
                  {k: _NEW_ROWS[k] for k in _KEY})
    new = new.join(known, on=list(_KEY), how="anti", nulls_equal=True)
    if new.height == 0:
        return 0
    common = {"recorded_by": by, "recorded_at": now, "upload_id": upload_id}
    if kind == "deliveries":
        values = [{"ssid": r["ssid"], "school_year": r["school_year"],
                   "record_type": r["record_type"], "method": r["value"],
                   "delivered_on": r["on"], **common} for r in new.iter_rows(named=True)]
    else:
        values = [{"ssid": r["ssid"], "school_year": r["school_year"],
                   "record_type": r["record_type"], "kind": r["value"],
                   "reported_on": r["on"], "detail": r["detail"], **common}
                  for r in new.iter_rows(named=True)]
    con.execute(table.insert(), values)
    return new.height


def import_csv(store: Store, text: str, *, kind: str, file_name: str, uploaded_by: str,
               may_use: MayUse | None = None, now: datetime | None = None,
               today: date | None = None) -> ImportResult:
    """Check an upload of ``kind`` (``deliveries`` or ``failures``); load it if every row is good.

    The upload is kept in the history either way.
    """
    if kind not in ("deliveries", "failures"):
        raise ValueError(f"an upload is of deliveries or failures, not {kind!r}")
    rows, problems = check_rows(text, kind=kind, store=store, may_use=may_use, today=today)
    result = ImportResult(n_rows=len(rows) + len({p[0] for p in problems}), problems=problems)
    now = now or datetime.now().replace(microsecond=0)
    result.loaded = not problems and bool(rows)
    with store.catalog.write() as con:
        upload_id = con.execute(ssr_delivery_uploads.insert().values(
            kind=kind, uploaded_at=now, uploaded_by=uploaded_by, file_name=file_name,
            n_rows=result.n_rows, n_problems=len(problems), loaded=result.loaded)
        ).inserted_primary_key[0]
        if result.loaded:
            result.n_added = _insert(con, kind, rows, by=uploaded_by, now=now,
                                     upload_id=upload_id)
    return result


def import_deliveries(store: Store, text: str, *, file_name: str, uploaded_by: str,
                      may_use: MayUse | None = None, now: datetime | None = None,
                      today: date | None = None) -> ImportResult:
    """Load a deliveries CSV (``DELIVERY_COLUMNS``), all rows or none."""
    return import_csv(store, text, kind="deliveries", file_name=file_name,
                      uploaded_by=uploaded_by, may_use=may_use, now=now, today=today)


def import_failures(store: Store, text: str, *, file_name: str, uploaded_by: str,
                    may_use: MayUse | None = None, now: datetime | None = None,
                    today: date | None = None) -> ImportResult:
    """Load a bounced/returned CSV (``FAILURE_COLUMNS``), all rows or none."""
    return import_csv(store, text, kind="failures", file_name=file_name,
                      uploaded_by=uploaded_by, may_use=may_use, now=now, today=today)


def record_delivery(store: Store, *, ssid: str, school_year: str, method: str,
                    delivered_on: date, recorded_by: str, test: str = "",
                    may_use: MayUse | None = None, now: datetime | None = None,
                    today: date | None = None) -> bool:
    """Record one delivery, checked as an upload row is; ``InputError`` lists any problem.

    ``test`` (summative, alternate, 21 or 23) may be blank for a student with one SSR that
    year. Returns whether it was new (the same delivery recorded twice is kept once).
    """
    row = {"ssid": ssid.strip(), "school_year": school_year.strip(), "test": test,
           "method": method, "date": delivered_on.isoformat()}
    good, problems = check_row_dicts([(1, row)], kind="deliveries", store=store, may_use=may_use,
                            today=today)
    if problems:
        raise InputError("the delivery was not recorded: " + "; ".join(
            f"{name} {value or '(blank)'}: {reason}" for _, name, value, reason in problems))
    with store.catalog.write() as con:
        added = _insert(con, "deliveries", good, by=recorded_by,
                        now=now or datetime.now().replace(microsecond=0), upload_id=None)
    return added > 0


def resolve_failure(store: Store, failure_id: int, *, resolved_by: str,
                    now: datetime | None = None) -> None:
    """Mark a failure resolved (the family was reached another way); ``InputError`` if unknown."""
    table = ssr_delivery_failures
    with store.catalog.write() as con:
        found = con.execute(select(table.c.resolved_at)
                            .where(table.c.failure_id == failure_id)).first()
        if found is None:
            raise InputError(f"there is no bounced or returned SSR numbered {failure_id}")
        con.execute(table.update()
                    .where(table.c.failure_id == failure_id, table.c.resolved_at.is_(None))
                    .values(resolved_at=now or datetime.now().replace(microsecond=0),
                            resolved_by=resolved_by))


def failure_of(store: Store, failure_id: int) -> tuple[str, str] | None:
    """(SSID, school year) of a failure, to check access before resolving it."""
    if not store.exists():
        return None
    table = ssr_delivery_failures
    with store.catalog.read() as con:
        row = con.execute(select(table.c.ssid, table.c.school_year)
                          .where(table.c.failure_id == failure_id)).first()
    return (row[0], row[1]) if row else None


DELIVERY_SCHEMA = {"ssid": pl.String, "method": pl.String, "delivered_on": pl.Date,
                   "recorded_by": pl.String, "recorded_at": pl.Datetime("us"),
                   "upload_id": pl.Int64}
FAILURE_SCHEMA = {"failure_id": pl.Int64, "ssid": pl.String, "kind": pl.String,
                  "reported_on": pl.Date, "detail": pl.String, "upload_id": pl.Int64,
                  "resolved_at": pl.Datetime("us"), "resolved_by": pl.String}


def read_log(store: Store, school_year: str, record_type: str | None
             ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The deliveries and failures of one school year and test (``None``: both), in one read.

    Frames of ``DELIVERY_SCHEMA`` and ``FAILURE_SCHEMA`` (plus ``record_type``); empty when
    nothing was recorded yet (or the catalog predates SSR delivery tracking).
    """
    empty = (pl.DataFrame(schema={**DELIVERY_SCHEMA, "record_type": pl.String}),
             pl.DataFrame(schema={**FAILURE_SCHEMA, "record_type": pl.String}))
    if not store.exists():
        return empty
    d, f = ssr_deliveries, ssr_delivery_failures
    with store.catalog.read() as con:
        deliveries = frame(con, _of_year(
            select(d.c.ssid, d.c.method, d.c.delivered_on, d.c.recorded_by, d.c.recorded_at,
                   d.c.upload_id, d.c.record_type), d, school_year, record_type),
            {**DELIVERY_SCHEMA, "record_type": pl.String})
        failures = frame(con, _of_year(
            select(f.c.failure_id, f.c.ssid, f.c.kind, f.c.reported_on, f.c.detail,
                   f.c.upload_id, f.c.resolved_at, f.c.resolved_by, f.c.record_type),
            f, school_year, record_type), {**FAILURE_SCHEMA, "record_type": pl.String})
    return deliveries, failures


def _of_year(statement: Select[Any], table: Table, school_year: str,
             record_type: str | None) -> Select[Any]:
    statement = statement.where(table.c.school_year == school_year)
    if record_type is not None:
        statement = statement.where(table.c.record_type == record_type)
    return statement


UPLOAD_SCHEMA = {"upload_id": pl.Int64, "kind": pl.String, "uploaded_at": pl.Datetime("us"),
                 "uploaded_by": pl.String, "file_name": pl.String, "n_rows": pl.Int64,
                 "n_problems": pl.Int64, "loaded": pl.Boolean}


def uploads(store: Store) -> pl.DataFrame:
    """The upload history, newest first (loaded or refused), of ``UPLOAD_SCHEMA``."""
    if not store.exists():
        return pl.DataFrame(schema=UPLOAD_SCHEMA)
    u = ssr_delivery_uploads
    with store.catalog.read() as con:
        return frame(con, select(*(u.c[name] for name in UPLOAD_SCHEMA))
                     .order_by(u.c.uploaded_at.desc(), u.c.upload_id.desc()), UPLOAD_SCHEMA)
