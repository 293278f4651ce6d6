"""Student Score Report distribution: how each student's parents got the SSR, and what failed.

LEAs must give every parent their child's SSR (ELPAC.md §7: within 30 calendar days of
receipt, IG-21): through the SIS parent portal, by e-mail, printed and mailed, or handed over.
E-mails bounce and letters come back. The catalog keeps, per student, school year and test:

* ``ssr_deliveries``: every delivery (a student may have several: portal and mail);
* ``ssr_delivery_failures``: every bounced e-mail or returned letter, resolved by hand
  (``resolved_at``) or by a delivery dated after it was reported (``queries.ssr_delivery``);
* ``ssr_delivery_uploads``: every CSV upload, loaded or refused.

A CSV upload is checked row by row as ``data.catalog.rosters`` checks a group file: every problem is
reported as (row, field, value, reason), and a file with any bad row loads nothing. Who may
record a delivery for a student is the caller's ``may_use`` (``queries.ssr_delivery``).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING

import polars as pl

from data.domain import RECORD_TYPE_ALTERNATE, RECORD_TYPE_SUMMATIVE, spring_year
from data.problems import InputError

if TYPE_CHECKING:
    import duckdb

    from data.results.store import Store

METHODS = ("portal", "email", "mail", "in_person")
"""How an SSR reaches parents (ELPAC.md §7: SIS portal, and the LEA's own e-mail, mail, hand)."""
KINDS = ("bounced", "returned")
"""What comes back: an e-mail that bounced, a letter returned to sender."""
DELIVERY_COLUMNS = ("ssid", "school_year", "test", "method", "date")
"""A deliveries upload's columns, by header (any order; case and spaces ignored).
``record_type`` (21, 23) may stand for ``test``; without either, the student's only SSR of
the year is meant."""
FAILURE_COLUMNS = ("ssid", "school_year", "kind", "date", "detail")
"""A bounce/return upload's columns; ``detail`` and ``test`` (or ``record_type``) optional."""
MAX_DETAIL = 500
"""Longest ``detail`` kept (a bounce message, a returned-mail reason)."""

_TESTS = {"summative": RECORD_TYPE_SUMMATIVE, "summative elpac": RECORD_TYPE_SUMMATIVE,
          "alternate": RECORD_TYPE_ALTERNATE, "summative alternate elpac": RECORD_TYPE_ALTERNATE,
          RECORD_TYPE_SUMMATIVE: RECORD_TYPE_SUMMATIVE,
          RECORD_TYPE_ALTERNATE: RECORD_TYPE_ALTERNATE}
_METHOD_WORDS = {"in person": "in_person", "in-person": "in_person", "e-mail": "email",
                 "parent portal": "portal", "sis portal": "portal", "mailed": "mail"}
_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")

MayUse = Callable[[str, str], str | None]
"""``(ssid, school_year) -> reason`` the user may not record for that student, or ``None``."""
Problem = tuple[int, str, str, str]
"""(row as a spreadsheet shows it, field, value, reason)."""


@dataclass
class ImportResult:
    """What an upload did: rows read, problems (row, field, value, reason), rows added."""

    n_rows: int = 0
    problems: list[Problem] = field(default_factory=list)
    loaded: bool = False
    n_added: int = 0
    """Rows new to the catalog (a row already recorded, e.g. a file loaded twice, is kept once)."""


def _header(name: str) -> str:
    return (name.strip().lower().replace("e-mail", "email").replace(" ", "_")
            .replace("-", "_"))


def parse_date(text: str) -> date:
    """A date as ``2025-06-02`` or, as US spreadsheets write it, ``6/2/2025``.

    Examples
    --------
    >>> parse_date("6/2/2025"), parse_date("2025-06-02")
    (datetime.date(2025, 6, 2), datetime.date(2025, 6, 2))
    """
    text = text.strip()
    us = _US_DATE.match(text)
    if us:
        return date(int(us[3]), int(us[1]), int(us[2]))
    return date.fromisoformat(text)


def record_type_of(test: str) -> str | None:
    """``21`` or ``23`` for a test as an upload may name it; ``None`` if it names none.

    Examples
    --------
    >>> record_type_of("Summative"), record_type_of("23"), record_type_of("CAASPP")
    ('21', '23', None)
    """
    return _TESTS.get(test.strip().lower())


def _method(text: str) -> str:
    word = text.strip().lower()
    return _METHOD_WORDS.get(word, word.replace(" ", "_"))


@dataclass(frozen=True)
class _Ssr:
    record_type: str
    released_on: date | None


def _ssrs_of(store: Store, pairs: set[tuple[str, str]]) -> dict[tuple[str, str], list[_Ssr]]:
    """The SSRs (SSR-eligible records) of (SSID, school year) pairs in the store's current data."""
    files = store.year_files()
    out: dict[tuple[str, str], list[_Ssr]] = {}
    for year in sorted({y for _, y in pairs} & set(files)):
        wanted = sorted({s for s, y in pairs if y == year})
        rows = (pl.scan_parquet(files[year])
                .filter(pl.col("ssid").is_in(wanted) & pl.col("is_ssr_eligible").fill_null(False))
                .select("ssid", "record_type", "ssr_available_date").collect())
        for ssid, record_type, released in rows.iter_rows():
            out.setdefault((ssid, year), []).append(_Ssr(record_type, released))
    return out


def check_rows(text: str, *, kind: str, store: Store, may_use: MayUse | None = None,
               today: date | None = None) -> tuple[list[dict[str, object]], list[Problem]]:
    """Parse and check an upload (``kind`` ``deliveries`` or ``failures``).

    Returns the good rows (``ssid``, ``school_year``, ``record_type``, ``value`` (the method
    or kind), ``on``, ``detail``) and every problem. A row must name a 10-digit SSID with an
    SSR in that school year in the store (``may_use`` first: a student outside the user's
    access is refused before the store is asked, so a refusal says nothing of who exists), a
    known method or kind, and a real date not after ``today`` (nor, for a delivery, before
    the SSR's release date when the file gives one).
    """
    columns = DELIVERY_COLUMNS if kind == "deliveries" else FAILURE_COLUMNS
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    headers = {_header(h): h for h in reader.fieldnames or []}
    if "record_type" in headers and "test" not in headers:
        headers["test"] = headers["record_type"]
    required = [c for c in columns if c not in ("test", "detail")]
    missing = [c for c in required if c not in headers]
    if missing:
        raise InputError(f"the file needs the columns {', '.join(columns)}; missing: "
                         f"{', '.join(missing)}")
    raw_rows = [(n, {c: (raw.get(headers[c]) or "").strip() if c in headers else ""
                     for c in (*columns, "test")})
                for n, raw in enumerate(reader, start=2)]
    return _check(raw_rows, kind=kind, store=store, may_use=may_use, today=today)


def _check(raw_rows: list[tuple[int, dict[str, str]]], *, kind: str, store: Store,
           may_use: MayUse | None, today: date | None
           ) -> tuple[list[dict[str, object]], list[Problem]]:
    years = set(store.year_files())
    rows = [(n, {**r, "ssid": r["ssid"].zfill(10) if r["ssid"].isdigit() else r["ssid"]})
            for n, r in raw_rows]
    ssrs = _ssrs_of(store, {(r["ssid"], r["school_year"]) for _, r in rows})
    good, problems = [], []
    for (number, given), (_, row) in zip(raw_rows, rows, strict=True):
        found, reasons = _check_row(row, kind=kind, years=years, ssrs=ssrs, may_use=may_use,
                                    today=today or date.today())
        # Each value as the file gave it (an SSID before its leading zeros were restored).
        problems += [(number, name, given.get(name, ""), reason) for name, reason in reasons]
        if not reasons and found is not None:
            good.append(found)
    return good, problems


def _check_row(row: dict[str, str], *, kind: str, years: set[str],
               ssrs: dict[tuple[str, str], list[_Ssr]], may_use: MayUse | None, today: date
               ) -> tuple[dict[str, object] | None, list[tuple[str, str]]]:
    """One row's good values (``None`` if any is bad) and its problems (field, reason)."""
    reasons: list[tuple[str, str]] = []
    ssid, year, found = row["ssid"], row["school_year"], None
    try:
        spring_year(year)
    except ValueError:
        reasons.append(("school_year", "not a school year like 2024-25"))
        year = ""
    if year and year not in years:
        reasons.append(("school_year", "the store holds no results for this school year"))
        year = ""
    record_type = record_type_of(row["test"]) if row["test"] else None
    if row["test"] and record_type is None:
        reasons.append(("test", "not a test: summative or alternate (or record type 21, 23)"))
    if not (ssid.isdigit() and len(ssid) == 10):
        reasons.append(("ssid", "not a 10-digit SSID"))
    elif year and may_use is not None and (refused := may_use(ssid, year)) is not None:
        # Asked before the store: a refusal must not tell whether the student exists.
        reasons.append(("ssid", refused))
    elif year:
        mine = [s for s in ssrs.get((ssid, year), [])
                if record_type is None or s.record_type == record_type]
        if not mine:
            reasons.append(("ssid", f"no Student Score Report for this SSID in {year}"
                            + ("" if record_type is None else " for this test")))
        elif len(mine) > 1:
            reasons.append(("test", "the student has an SSR of both tests this year: say which"))
        else:
            found = mine[0]
    value_field, allowed = ("method", METHODS) if kind == "deliveries" else ("kind", KINDS)
    value = (_method(row[value_field]) if kind == "deliveries"
             else row[value_field].strip().lower())
    if value not in allowed:
        reasons.append((value_field, f"must be one of {', '.join(allowed)}"))
    on = None
    try:
        on = parse_date(row["date"])
    except ValueError:
        reasons.append(("date", "not a date (2025-06-02 or 6/2/2025)"))
    if on is not None and on > today:
        reasons.append(("date", "in the future"))
    elif on is not None and year and on < date(spring_year(year) - 1, 7, 1):
        reasons.append(("date", f"before the {year} school year"))
    elif (on is not None and kind == "deliveries" and found is not None
          and found.released_on is not None and on < found.released_on):
        reasons.append(("date", f"before the SSR was released ({found.released_on})"))
    detail = row.get("detail", "")
    if len(detail) > MAX_DETAIL:
        reasons.append(("detail", f"longer than {MAX_DETAIL} characters"))
    if reasons or found is None:
        return None, reasons
    return {"ssid": ssid, "school_year": year, "record_type": found.record_type,
            "value": value, "on": on, "detail": detail}, reasons


_NEXT_ID = {
    "ssr_deliveries": "SELECT coalesce(max(delivery_id), 0) + 1 FROM ssr_deliveries",
    "ssr_delivery_failures": "SELECT coalesce(max(failure_id), 0) + 1 "
                             "FROM ssr_delivery_failures",
    "ssr_delivery_uploads": "SELECT coalesce(max(upload_id), 0) + 1 FROM ssr_delivery_uploads",
}
_INSERT = {
    "deliveries": """
        INSERT INTO ssr_deliveries
        SELECT ? + row_number() OVER () - 1, n.ssid, n.school_year, n.record_type, n.value,
               n.on, ?, ?, ?
        FROM new_rows n
        WHERE NOT EXISTS (
            SELECT 1 FROM ssr_deliveries d
            WHERE d.ssid = n.ssid AND d.school_year = n.school_year
              AND d.record_type = n.record_type AND d.method = n.value
              AND d.delivered_on = n.on)""",
    "failures": """
        INSERT INTO ssr_delivery_failures
        SELECT ? + row_number() OVER () - 1, n.ssid, n.school_year, n.record_type, n.value,
               n.on, n.detail, ?, ?, ?, NULL, NULL
        FROM new_rows n
        WHERE NOT EXISTS (
            SELECT 1 FROM ssr_delivery_failures f
            WHERE f.ssid = n.ssid AND f.school_year = n.school_year
              AND f.record_type = n.record_type AND f.kind = n.value
              AND f.reported_on = n.on)""",
}
_TABLE = {"deliveries": "ssr_deliveries", "failures": "ssr_delivery_failures"}


def _next_id(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return int(con.sql(_NEXT_ID[table]).fetchall()[0][0])


def _insert(con: duckdb.DuckDBPyConnection, kind: str, rows: list[dict[str, object]], *,
            by: str, now: datetime, upload_id: int | None) -> int:
    """Add the rows not already recorded (same student, test, method or kind, and date).

    Returns how many were added: a file loaded twice adds nothing the second time.
    """
    frame = pl.DataFrame(rows, schema={"ssid": pl.String, "school_year": pl.String,
                                       "record_type": pl.String, "value": pl.String,
                                       "on": pl.Date, "detail": pl.String}
                         ).unique(["ssid", "school_year", "record_type", "value", "on"],
                                  keep="first", maintain_order=True)
    first = _next_id(con, _TABLE[kind])
    con.register("new_rows", frame.to_arrow())
    try:
        con.sql(_INSERT[kind], params=[first, by, now, upload_id])
    finally:
        con.unregister("new_rows")
    return _next_id(con, _TABLE[kind]) - first


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
    with store.catalog.write() as con:
        upload_id = _next_id(con, "ssr_delivery_uploads")
        if not problems and rows:
            result.n_added = _insert(con, kind, rows, by=uploaded_by, now=now,
                                     upload_id=upload_id)
            result.loaded = True
        con.sql("INSERT INTO ssr_delivery_uploads VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                params=[upload_id, kind, now, uploaded_by, file_name, result.n_rows,
                        len(problems), result.loaded])
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
    good, problems = _check([(1, row)], kind="deliveries", store=store, may_use=may_use,
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
    with store.catalog.write() as con:
        found = con.sql("SELECT resolved_at FROM ssr_delivery_failures WHERE failure_id = ?",
                        params=[failure_id]).fetchall()
        if not found:
            raise InputError(f"there is no bounced or returned SSR numbered {failure_id}")
        con.sql("UPDATE ssr_delivery_failures SET resolved_at = ?, resolved_by = ? "
                "WHERE failure_id = ? AND resolved_at IS NULL",
                params=[now or datetime.now().replace(microsecond=0), resolved_by,
                        failure_id])


def failure_of(store: Store, failure_id: int) -> tuple[str, str] | None:
    """(SSID, school year) of a failure, to check access before resolving it."""
    if "ssr_delivery_failures" not in _tables(store):
        return None
    with store.catalog.read() as con:
        rows = con.sql("SELECT ssid, school_year FROM ssr_delivery_failures "
                       "WHERE failure_id = ?", params=[failure_id]).fetchall()
    return (rows[0][0], rows[0][1]) if rows else None


DELIVERY_SCHEMA = {"ssid": pl.String, "method": pl.String, "delivered_on": pl.Date,
                   "recorded_by": pl.String, "recorded_at": pl.Datetime("us"),
                   "upload_id": pl.Int64}
FAILURE_SCHEMA = {"failure_id": pl.Int64, "ssid": pl.String, "kind": pl.String,
                  "reported_on": pl.Date, "detail": pl.String, "upload_id": pl.Int64,
                  "resolved_at": pl.Datetime("us"), "resolved_by": pl.String}


def _tables(store: Store) -> set[str]:
    if not store.exists():
        return set()
    with store.catalog.read() as con:
        return {r[0] for r in con.sql("SHOW TABLES").fetchall()}


def read_log(store: Store, school_year: str, record_type: str | None
             ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The deliveries and failures of one school year and test (``None``: both), in one read.

    Frames of ``DELIVERY_SCHEMA`` and ``FAILURE_SCHEMA`` (plus ``record_type``); empty when
    nothing was recorded yet (or the catalog predates distribution tracking).
    """
    empty = (pl.DataFrame(schema={**DELIVERY_SCHEMA, "record_type": pl.String}),
             pl.DataFrame(schema={**FAILURE_SCHEMA, "record_type": pl.String}))
    if not store.exists():
        return empty
    with store.catalog.read() as con:
        tables = {r[0] for r in con.sql("SHOW TABLES").fetchall()}
        if "ssr_deliveries" not in tables:
            return empty
        where = "WHERE school_year = ? AND (? IS NULL OR record_type = ?)"
        params = [school_year, record_type, record_type]
        deliveries = con.sql("SELECT ssid, method, delivered_on, recorded_by, recorded_at, "
                             "upload_id, record_type FROM ssr_deliveries " + where,
                             params=params).pl()
        failures = con.sql("SELECT failure_id, ssid, kind, reported_on, detail, upload_id, "
                           "resolved_at, resolved_by, record_type FROM ssr_delivery_failures "
                           + where, params=params).pl()
    return (deliveries.cast({**DELIVERY_SCHEMA, "record_type": pl.String}),  # type: ignore[arg-type]
            failures.cast({**FAILURE_SCHEMA, "record_type": pl.String}))  # type: ignore[arg-type]


UPLOAD_SCHEMA = {"upload_id": pl.Int64, "kind": pl.String, "uploaded_at": pl.Datetime("us"),
                 "uploaded_by": pl.String, "file_name": pl.String, "n_rows": pl.Int64,
                 "n_problems": pl.Int64, "loaded": pl.Boolean}


def uploads(store: Store) -> pl.DataFrame:
    """The upload history, newest first (loaded or refused), of ``UPLOAD_SCHEMA``."""
    if "ssr_delivery_uploads" not in _tables(store):
        return pl.DataFrame(schema=UPLOAD_SCHEMA)
    with store.catalog.read() as con:
        return con.sql("SELECT * FROM ssr_delivery_uploads "
                       "ORDER BY uploaded_at DESC, upload_id DESC").pl().cast(
            UPLOAD_SCHEMA)  # type: ignore[arg-type]
