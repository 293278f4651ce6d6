"""The audit log: who signed in, who viewed a student, who exported what (issue 5).

Kept in the store's catalog, apart from the application's logs (which hold no student data).
Each entry: time, user (an e-mail, or the operating-system user for the command line),
action, the user's scope in words, what was asked (filters, an SSID for a profile view) and,
for exports, the number of rows. Entries are only ever added.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import polars as pl
from sqlalchemy import select

from data.catalog.db import frame
from data.catalog.schema import audit

if TYPE_CHECKING:
    from data.results.store import Store

ACTIONS = {
    "sign_in": "Signed in",
    "sign_in_refused": "Sign-in refused",
    "view_student": "Viewed a student",
    "export": "Exported",
    "portal_credential": "Made a parent-portal credential",
    "groups": "Changed student groups",
}
SCHEMA = {"logged_at": pl.Datetime("us"), "user_email": pl.String, "action": pl.String,
          "scope": pl.String, "detail": pl.String, "n_rows": pl.Int64}


def record(store: Store, user: str, action: str, *, scope: str = "", detail: str = "",
           n_rows: int | None = None, at: datetime | None = None) -> None:
    """Add one entry to the audit log."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    with store.catalog.write() as con:
        con.execute(audit.insert().values(
            logged_at=at or datetime.now().replace(microsecond=0), user_email=user,
            action=action, scope=scope, detail=detail, n_rows=n_rows))


def read(store: Store, *, users: list[str] | None = None, since: datetime | None = None,
         until: datetime | None = None) -> pl.DataFrame:
    """Audit entries, newest first; ``users`` keeps only theirs (``None``: everyone's)."""
    if not store.exists():
        return pl.DataFrame(schema=SCHEMA)
    statement = select(*(audit.c[name] for name in SCHEMA))
    if users is not None:
        statement = statement.where(audit.c.user_email.in_(users))
    if since is not None:
        statement = statement.where(audit.c.logged_at >= since)
    if until is not None:
        statement = statement.where(audit.c.logged_at <= until)
    # audit_id: entries of the same second in the order they were added.
    statement = statement.order_by(audit.c.logged_at.desc(), audit.c.audit_id.desc())
    with store.catalog.read() as con:
        return frame(con, statement, SCHEMA)
