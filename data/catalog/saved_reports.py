"""Saved reports: a user's named Custom reports, kept in the catalog to reopen by name."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import polars as pl

from data.problems import InputError

if TYPE_CHECKING:
    from data.results.store import Store

SCHEMA = {"name": pl.String, "params": pl.String, "saved_at": pl.Datetime("us")}


def save_report(store: Store, owner: str, name: str, params: str) -> None:
    """Save (or replace) a named report for a user; ``params`` is the report's JSON."""
    if not name.strip():
        raise InputError("give the report a name")
    with store.catalog.write() as con:
        con.sql("INSERT OR REPLACE INTO saved_reports VALUES (?, ?, ?, ?)",
                params=[owner, name.strip(), params, datetime.now().replace(microsecond=0)])


def saved_reports(store: Store, owner: str) -> pl.DataFrame:
    """A user's saved reports, newest first: ``name``, ``params``, ``saved_at``."""
    if "saved_reports" not in store.catalog.tables():  # no store, or one from before them
        return pl.DataFrame(schema=SCHEMA)
    with store.catalog.read() as con:
        return con.sql("SELECT name, params, saved_at FROM saved_reports WHERE owner = ? "
                       "ORDER BY saved_at DESC, name", params=[owner]).pl()


def delete_report(store: Store, owner: str, name: str) -> None:
    """Delete one of a user's saved reports (nothing happens if it does not exist)."""
    with store.catalog.write() as con:
        con.sql("DELETE FROM saved_reports WHERE owner = ? AND name = ?", params=[owner, name])
