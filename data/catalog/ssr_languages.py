"""SSR language overrides: an LEA coordinator's choice of a student's SSR languages.

TOMS lets a coordinator change the SSR language before the student finishes testing (ELPAC.md
§7, Student Profile → Reporting → SSR Language); the explorer keeps the same choice for the
SSRs it makes, per student, school year and test, in the catalog. Without an override, a
student's SSR languages are the file's (English, plus the primary language when offered).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from data.problems import InputError

if TYPE_CHECKING:
    from data.results.store import Store

OFFERED = ("SPA", "VIE", "FIL", "KOR", "CHI")
"""Languages an SSR is made in besides English (ELPAC.md §7)."""


def _tables(store: Store) -> set[str]:
    with store.catalog.read() as con:
        return {r[0] for r in con.sql("SHOW TABLES").fetchall()}


def overrides(store: Store, ssids: list[str] | None = None
              ) -> dict[tuple[str, str, str], tuple[str, ...]]:
    """(SSID, school year, record type) -> SSR languages, for the students asked (or all)."""
    if not store.exists() or "ssr_language_overrides" not in _tables(store):
        return {}
    with store.catalog.read() as con:
        rows = con.sql("SELECT ssid, school_year, record_type, languages "
                       "FROM ssr_language_overrides"
                       + ("" if ssids is None else " WHERE list_contains(?, ssid)"),
                       params=None if ssids is None else [ssids]).fetchall()
    return {(s, y, t): tuple(lang.split(";")) for s, y, t, lang in rows}


def set_languages(store: Store, ssid: str, school_year: str, record_type: str,
                  second: str | None, *, set_by: str, now: datetime | None = None) -> None:
    """Make a student's SSR English only (``second`` None) or English and ``second``."""
    if second is not None and second not in OFFERED:
        raise InputError(f"an SSR is made in English and one of {', '.join(OFFERED)}, "
                         f"not {second!r}")
    languages = "ENG" if second is None else f"ENG;{second}"
    with store.catalog.write() as con:
        con.sql("INSERT OR REPLACE INTO ssr_language_overrides VALUES (?, ?, ?, ?, ?, ?)",
                params=[ssid, school_year, record_type, languages, set_by,
                        now or datetime.now().replace(microsecond=0)])


def clear_languages(store: Store, ssid: str, school_year: str, record_type: str) -> None:
    """Go back to the file's SSR languages."""
    with store.catalog.write() as con:
        con.sql("DELETE FROM ssr_language_overrides WHERE ssid = ? AND school_year = ? "
                "AND record_type = ?", params=[ssid, school_year, record_type])
