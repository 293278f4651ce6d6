"""Saved reports: a user's named Custom reports, kept in the catalog to reopen by name."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import polars as pl
from sqlalchemy import select

from data.catalog.db import frame, upsert
from data.catalog.schema import saved_reports as table
from data.problems import InputError

if TYPE_CHECKING:
    from data.results.store import Store

SCHEMA = {"name": pl.String, "params": pl.String, "saved_at": pl.Datetime("us")}


def save_report(store: Store, owner: str, name: str, params: str) -> None:
    """Save (or replace) a named report for a user; ``params`` is the report's JSON."""
    if not name.strip():
        raise InputError("give the report a name")
    with store.catalog.write() as con:
        upsert(con, table, {"owner": owner, "name": name.strip(), "params": params,
                            "saved_at": datetime.now().replace(microsecond=0)})


def saved_reports(store: Store, owner: str) -> pl.DataFrame:
    """A user's saved reports, newest first: ``name``, ``params``, ``saved_at``."""
    if not store.exists():
        return pl.DataFrame(schema=SCHEMA)
    with store.catalog.read() as con:
        return frame(con, select(table.c.name, table.c.params, table.c.saved_at)
                     .where(table.c.owner == owner)
                     .order_by(table.c.saved_at.desc(), table.c.name), SCHEMA)


def delete_report(store: Store, owner: str, name: str) -> None:
    """Delete one of a user's saved reports (nothing happens if it does not exist)."""
    with store.catalog.write() as con:
        con.execute(table.delete().where(table.c.owner == owner, table.c.name == name))
