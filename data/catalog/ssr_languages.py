"""SSR language overrides: an LEA coordinator's choice of a student's SSR languages.

TOMS lets a coordinator change the SSR language before the student finishes testing (ELPAC.md
§7, Student Profile → Reporting → SSR Language); the explorer keeps the same choice for the
SSRs it makes, per student, school year and test, in the catalog. Without an override, a
student's SSR languages are the file's (English, plus the primary language when offered).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from data.catalog.db import upsert
from data.catalog.schema import ssr_language_overrides
from data.problems import InputError

if TYPE_CHECKING:
    from data.results.store import Store

OFFERED = ("SPA", "VIE", "FIL", "KOR", "CHI")
"""Languages an SSR is made in besides English (ELPAC.md §7)."""


_MANY = 5_000
"""More SSIDs than this are filtered after reading every override (bound-parameter limits)."""


def overrides(store: Store, ssids: list[str] | None = None
              ) -> dict[tuple[str, str, str], tuple[str, ...]]:
    """(SSID, school year, record type) -> SSR languages, for the students asked (or all)."""
    if not store.exists():
        return {}
    table = ssr_language_overrides
    statement = select(table.c.ssid, table.c.school_year, table.c.record_type,
                       table.c.languages)
    if ssids is not None and len(ssids) <= _MANY:
        statement = statement.where(table.c.ssid.in_(ssids))
    with store.catalog.read() as con:
        rows = con.execute(statement).all()
    wanted = None if ssids is None else set(ssids)
    return {(s, y, t): tuple(lang.split(";")) for s, y, t, lang in rows
            if wanted is None or s in wanted}


def set_languages(store: Store, ssid: str, school_year: str, record_type: str,
                  second: str | None, *, set_by: str, now: datetime | None = None) -> None:
    """Make a student's SSR English only (``second`` None) or English and ``second``."""
    if second is not None and second not in OFFERED:
        raise InputError(f"an SSR is made in English and one of {', '.join(OFFERED)}, "
                         f"not {second!r}")
    languages = "ENG" if second is None else f"ENG;{second}"
    with store.catalog.write() as con:
        upsert(con, ssr_language_overrides, {
            "ssid": ssid, "school_year": school_year, "record_type": record_type,
            "languages": languages, "set_by": set_by,
            "set_at": now or datetime.now().replace(microsecond=0)})


def clear_languages(store: Store, ssid: str, school_year: str, record_type: str) -> None:
    """Go back to the file's SSR languages."""
    table = ssr_language_overrides
    with store.catalog.write() as con:
        con.execute(table.delete().where(table.c.ssid == ssid,
                                         table.c.school_year == school_year,
                                         table.c.record_type == record_type))
