"""What a local account may see: its role and assignments as a ``Scope`` (issue 5).

The one place a role becomes a scope, so the dashboard, the CLI's ``--user`` and the tests
agree. Roles are described in ``data.catalog.accounts``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from data.catalog.rosters import Rosters
from queries.scope import Scope

if TYPE_CHECKING:
    from data.catalog.accounts import Account
    from data.results.store import Store


def scope_of(account: Account, store: Store | None = None) -> Scope:
    """The scope of an account's role and assignments.

    A teacher's scope is the students of the groups assigned to them, read from ``store``
    (required for a teacher): their schools, limited to those SSIDs.

    Examples
    --------
    >>> from data.catalog.accounts import Account
    >>> viewer = scope_of(Account("b@x.org", "B", "viewer", leas=("19647330000000",)))
    >>> viewer.leas, viewer.pii, viewer.suppressed
    (('19647330000000',), False, True)
    """
    role = account.role
    if role == "state_admin":
        return Scope(statewide=True, pii=True)
    if role == "lea_admin":
        return Scope(leas=account.leas, pii=True)
    if role == "site_admin":
        return Scope(schools=account.schools, pii=True)
    if role == "viewer":
        return Scope(counties=account.counties, leas=account.leas, schools=account.schools,
                     pii=False, suppressed=True)
    if role == "teacher":
        if store is None:
            raise ValueError("a teacher's scope needs the store that holds their groups")
        members = Rosters(store).members_of(account.email)
        # No group yet: an empty SSID list, which sees no student (not "no limit").
        return Scope(schools=tuple({school for school, _ in members}),
                     ssids=tuple(ssid for _, ssid in members), pii=True)
    raise ValueError(f"unknown role {role!r}")


def describe_scope(scope: Scope) -> str:
    """A short sentence saying what a scope covers, for the sidebar."""
    if scope.statewide:
        where = "all of California"
    else:
        parts = [f"{len(v)} {name}" for name, v in (("counties", scope.counties),
                                                    ("LEAs", scope.leas),
                                                    ("schools", scope.schools)) if v]
        where = ", ".join(parts) or "nothing"
    who = f" (student groups {', '.join(scope.groups)})" if scope.groups else ""
    if scope.ssids is not None:
        n = len(scope.ssids)
        who += f", only the {n:,} student{'' if n == 1 else 's'} of your groups"
    pii = "student records visible" if scope.pii else "aggregates only"
    return f"Access: {where}{who}; {pii}."
