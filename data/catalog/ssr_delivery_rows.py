"""Checking SSR delivery and bounce/return uploads, row by row, before anything is kept.

As ``data.catalog.rosters`` checks a roster file: every problem is reported as (row as a
spreadsheet shows it, field, value, reason), and the caller loads nothing from a file with any
bad row (``data.catalog.ssr_deliveries``). A student must have an SSR that year, for that test.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import polars as pl

from data.domain import RECORD_TYPE_ALTERNATE, RECORD_TYPE_SUMMATIVE, spring_year
from data.problems import InputError

if TYPE_CHECKING:
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
    out: dict[tuple[str, str], list[_Ssr]] = {}
    with store.reading() as version:
        files = store.year_files(version)
        for year in sorted({y for _, y in pairs} & set(files)):
            wanted = sorted({s for s, y in pairs if y == year})
            rows = (pl.scan_parquet(files[year])
                    .filter(pl.col("ssid").is_in(wanted)
                            & pl.col("is_ssr_eligible").fill_null(False))
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
    return check_row_dicts(raw_rows, kind=kind, store=store, may_use=may_use, today=today)


def check_row_dicts(raw_rows: list[tuple[int, dict[str, str]]], *, kind: str, store: Store,
                    may_use: MayUse | None, today: date | None
                    ) -> tuple[list[dict[str, object]], list[Problem]]:
    """Check rows already split into fields (``check_rows`` reads them from a CSV).

    The good rows (ready to keep) and every problem.
    """
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
