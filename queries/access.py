"""Who may do what: a role becomes a ``Scope``, and every permission rule a scope alone cannot say.

The one place the rules live, so the dashboard, the CLI's ``--user`` and the tests agree
(ELPAC.md and STYLE.md: access is enforced in ``queries/``, never only by hiding a page). A
scope says what someone may *see*; a :class:`User` adds who they are and the rights of their
role. The feature modules apply these rules while they do the work, and refuse with a
``ScopeError`` whose message is the sentence to show:

* data-file loads (``queries.data_loads``): :func:`require_loads`, then :func:`lea_veto`;
* the parent-portal credential (``queries.portal_credentials``) and SSR language overrides
  (``queries.ssr_languages``): :func:`require_loads` and :func:`require_lea`;
* audit reads (``queries.audit``): :func:`audited_users`;
* saved reports (``queries.saved_reports``): a user's own only (:func:`owner_of`);
* rosters (``queries.rosters``) and SSR delivery (``queries.ssr_delivery``): the scope;
* exports (``queries.extracts``): student-level files need ``pii``, and the LEA in scope.

Roles are described in ``data.catalog.accounts``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

from data.catalog.rosters import Rosters
from queries.scope import Scope, ScopeError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from data.catalog.accounts import Account
    from data.results.loading import PendingLoad
    from data.results.store import Store

LOADING_ROLES = ("state_admin", "lea_admin")
"""Roles with an LEA coordinator's rights (CERS: LEA-level coordinators): :attr:`User.loads`."""

LOAD_RIGHTS_MESSAGE = ("ask your dashboard administrator (or your LEA ELPAC coordinator) to "
                       "give your account load rights")
"""How a refusal for want of :attr:`User.loads` ends."""


@dataclass(frozen=True)
class User:
    """Who acts: how the catalog names them, what they may see, and their role's rights.

    ``name`` is how the audit log and the catalog record them (their e-mail; ``local:<user>``
    or ``cli:<user>`` where nobody signs in). ``email`` is the signed-in e-mail (``None``:
    nobody signed in). ``loads`` is an LEA coordinator's rights over the LEAs of their scope:
    load Student Score Data Files, make the parent-portal credential, change a student's SSR
    languages. ``audits`` lets them read the audit log. ``role`` is their local account's role
    (``data.catalog.accounts``), if they have one.

    Examples
    --------
    >>> User.operator("cli:ana").scope.statewide
    True
    """

    name: str
    scope: Scope
    email: str | None = None
    loads: bool = False
    audits: bool = False
    role: str | None = None

    @classmethod
    def operator(cls, name: str) -> User:
        """The operator of a local install: everything (the CLI without ``--user``)."""
        return cls(name, Scope.state(pii=True), loads=True, audits=True)


def scope_of(account: Account, store: Store | None = None) -> Scope:
    """The scope of an account's role and assignments.

    A teacher's scope is the students of the rosters assigned to them, read from ``store``
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
            raise ValueError("a teacher's scope needs the store that holds their rosters")
        members = Rosters(store).members_of(account.email)
        # No roster yet: an empty SSID list, which sees no student (not "no limit").
        return Scope(schools=tuple({school for school, _ in members}),
                     ssids=tuple(ssid for _, ssid in members), pii=True)
    raise ValueError(f"unknown role {role!r}")


def user_of(account: Account, store: Store | None = None) -> User:
    """The user a local account acts as: its scope (:func:`scope_of`) and its role's rights.

    State and LEA administrators load files and read the audit log (an LEA administrator only
    their LEAs' entries: :func:`audited_users`).

    Examples
    --------
    >>> from data.catalog.accounts import Account
    >>> user = user_of(Account("v@x.org", "V", "viewer", leas=("19647330000000",)))
    >>> user.name, user.loads, user.audits
    ('v@x.org', False, False)
    """
    rights = account.role in LOADING_ROLES
    return User(account.email, scope_of(account, store), email=account.email, loads=rights,
                audits=rights, role=account.role)


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
        who += f", only the {n:,} student{'' if n == 1 else 's'} of your rosters"
    pii = "student records visible" if scope.pii else "aggregates only"
    return f"Access: {where}{who}; {pii}."


# -- the rules --------------------------------------------------------------------------------

def may_load(user: User) -> bool:
    """Whether the user has an LEA coordinator's rights (:attr:`User.loads`)."""
    return user.loads


def covers_lea(user: User, lea: str) -> bool:
    """Whether the user's scope covers the whole LEA (one of their own LEAs)."""
    code = lea.strip()
    return user.scope.allows_lea(code[:2], code)


def require_loads(user: User, what: str) -> None:
    """Refuse ``what`` (e.g. "Loading files") unless the user has an LEA coordinator's rights.

    Examples
    --------
    >>> teacher = User("t@x.org", Scope.school("19647331932334", pii=True))
    >>> require_loads(teacher, "Loading files")
    Traceback (most recent call last):
    queries.scope.ScopeError: Loading files is for LEA ELPAC coordinators: your account may ...
    """
    if not may_load(user):
        raise ScopeError(f"{what} is for LEA ELPAC coordinators: your account may not. To do "
                         f"it, {LOAD_RIGHTS_MESSAGE}.")


def require_lea(user: User, lea: str, what: str) -> None:
    """Refuse ``what`` for an LEA the user's scope does not cover whole (their own LEAs only)."""
    if not covers_lea(user, lea):
        raise ScopeError(f"{what} is for your own LEAs: LEA {lea.strip()} is not in your "
                         "access.")


def lea_veto(scope: Scope) -> Callable[[PendingLoad], str | None] | None:
    """The rule an account limited to some LEAs loads under: only those LEAs' records.

    A record is *for* the LEA the file is loaded under and for the LEA of the file's kind
    (enrolled or tested); both must be in the scope, so a renamed file cannot slip another
    LEA's records in. Statewide accounts have no veto.
    """
    if scope.statewide:
        return None

    def veto(pending: PendingLoad) -> str | None:
        own = "enrolled_lea_code" if pending.kind == "enrolled" else "tested_lea_code"
        codes = pending.rows.select(pl.concat([pl.col("source_lea_code"), pl.col(own)])
                                    .drop_nulls().unique()).collect()
        named = set(codes.to_series().to_list())
        others = sorted(c for c in named if not scope.allows_lea(c[:2], c))
        if not others:
            return None
        return (f"it holds records of LEA {', '.join(others)}, which your account does not "
                "cover, so it was not loaded. Load only your own LEA's files, or ask your "
                "dashboard administrator to add those LEAs to your account.")

    return veto


def reads_every_audit_entry(user: User) -> bool:
    """Whether the user reads every audit entry (not only their LEAs'); refused if none.

    State administrators and a local install's operator read every entry; an LEA
    administrator only their LEAs' accounts' (:func:`audited_users`). Anyone else is refused
    (``ScopeError``).
    """
    if not user.audits:
        raise ScopeError("The audit log is for LEA and state administrators.")
    return user.role != "lea_admin"


def audited_users(user: User, accounts: Callable[[], Iterable[Account]]) -> list[str] | None:
    """Whose audit entries the user may read: ``None`` for everyone's.

    An LEA administrator reads the entries of the accounts assigned to their LEAs or to those
    LEAs' schools, and their own (:func:`reads_every_audit_entry` says who reads them all).
    ``accounts`` lists the local accounts (read only when needed). Anyone else is refused.
    """
    if reads_every_audit_entry(user):
        return None
    leas = set(user.scope.leas)
    districts = {lea[:7] for lea in leas}
    found = [a.email for a in accounts()
             if set(a.leas) & leas or any(school[:7] in districts for school in a.schools)]
    return [*found, user.email or user.name]


def owner_of(user: User) -> str:
    """Whose saved reports a user's are: their e-mail, else ``local`` (nobody signed in)."""
    return user.email or "local"
