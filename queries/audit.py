"""The audit log as a user may read it, and the entries the dashboard adds.

Who may read whose entries is :func:`queries.access.audited_users`; :func:`read_audit` applies
it, so an LEA administrator never gets another LEA's entries, whatever they ask for. Entries
are kept by ``data.catalog.audit``; their actions are named in ``queries.labels``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from data.catalog import audit
from queries.access import audited_users, describe_scope
from queries.accounts import list_accounts
from queries.scope import ScopeError

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

    from data.results.store import Store
    from queries.access import User


def read_audit(store: Store, user: User, *, since: datetime | None = None,
               until: datetime | None = None, users: Iterable[str] | None = None
               ) -> pl.DataFrame:
    """The audit entries ``user`` may read, newest first.

    Columns: ``logged_at``, ``user_email``, ``action`` (a key of
    ``queries.labels.AUDIT_ACTION_NAMES``), ``scope``, ``detail``, ``n_rows``. ``users`` keeps
    only those people's entries; asking for someone whose entries the user may not read
    raises ``ScopeError``, as does a user who may not read the log at all.
    """
    allowed = audited_users(user, lambda: list_accounts(store))
    wanted = None if users is None else sorted(set(users))
    if wanted and allowed is not None:
        others = [u for u in wanted if u not in allowed]
        if others:
            raise ScopeError(f"The audit entries of {', '.join(others)} are not yours to "
                             "read: only the accounts of your LEAs.")
    entries = audit.read(store, users=allowed, since=since, until=until)
    if wanted:
        entries = entries.filter(pl.col("user_email").is_in(wanted))
    return entries


def record_event(store: Store, user: User, action: str, *, detail: str = "",
                 n_rows: int | None = None) -> None:
    """Add an entry for ``user``, with their scope in words: a profile viewed, an export made.

    ``action`` is a key of ``queries.labels.AUDIT_ACTION_NAMES``.
    """
    audit.record(store, user.name, action, scope=describe_scope(user.scope), detail=detail,
                 n_rows=n_rows)
