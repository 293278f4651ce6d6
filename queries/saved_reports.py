"""Saved reports: a user's named Custom reports, to reopen by name; each user sees only theirs.

A saved report is only a specification (``queries.spec.ReportSpec`` parameters): opening it
runs it for the scope of whoever opens it, so it never shows more than their scope allows.
The owner is always the acting user (``queries.access.owner_of``): no function here takes
another owner, so nobody reads, replaces or deletes someone else's reports.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from data.catalog import saved_reports
from queries.access import owner_of

if TYPE_CHECKING:
    import polars as pl

    from data.results.store import Store
    from queries.access import User


def list_saved_reports(store: Store, user: User) -> pl.DataFrame:
    """The user's saved reports, newest first: ``name``, ``params``, ``saved_at``."""
    return saved_reports.saved_reports(store, owner_of(user))


def save_report(store: Store, user: User, name: str, params: str) -> None:
    """Save (or replace) one of the user's reports; ``InputError`` for an empty name."""
    saved_reports.save_report(store, owner_of(user), name, params)


def delete_saved_report(store: Store, user: User, name: str) -> None:
    """Delete one of the user's saved reports (nothing happens if they have none of that name)."""
    saved_reports.delete_report(store, owner_of(user), name)
