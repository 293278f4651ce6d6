"""Rosters (``data.catalog.rosters``) as a user's scope allows them.

A roster is a group of one school's students that a user makes ("Creating Groups" in CERS),
such as a class; *student groups* are only the state's demographic groups
(``queries.labels``). Rosters keep the catalog's names (``group_key``, the ``groups`` audit
action) so stored rows still read.

A roster is visible to a scope when the scope covers its school and, for a scope limited to
some students (a teacher), when every student of the roster is one of them: a teacher sees
the rosters assigned to them and those they built from their own students, never another
teacher's roster that reaches beyond theirs. Who may put a student in a roster follows the
same rule (``may_use``). Only whole-organisation scopes with student records manage rosters
(:func:`manages_rosters`: uploads, assignments, deletion). Roster members are student-level
data: only a scope with PII sees them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from data.catalog import audit
from data.catalog.accounts import Accounts
from data.catalog.rosters import COLUMNS, ImportResult, MayUse, Rosters, group_key, split_group_key
from data.problems import InputError
from queries.access import describe_scope
from queries.labels import ROLE_NAMES
from queries.scope import Scope, ScopeError

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

    from data.results.store import Store

_PII_MESSAGE = ("Rosters list students: your access shows aggregate results only. "
                "Ask your LEA administrator for student-level access.")
TEMPLATE = ",".join(COLUMNS) + "\r\n"
"""The header row of a roster upload (:func:`import_groups`): a template to fill in."""


def _school_leas(store: Store) -> dict[str, str]:
    """Each school's LEA in the newest year (a charter school's LEA is not its district)."""
    with store.reading() as version:
        files = store.org_files(version)
        if not files:
            return {}
        schools = pl.read_parquet(files[max(files)], columns=["org_level", "lea_code",
                                                              "school_code"])
    return dict(schools.filter(pl.col("org_level") == "school")
                .select("school_code", "lea_code").iter_rows())


def _covers_school(scope: Scope, school: str, leas: dict[str, str]) -> bool:
    return scope.allows_school(school[:2], leas.get(school, ""), school)


def _visible(scope: Scope, school: str, ssids: Iterable[str], leas: dict[str, str]) -> bool:
    if not _covers_school(scope, school, leas):
        return False
    return scope.ssids is None or set(ssids) <= set(scope.ssids)


def visible_groups(store: Store, scope: Scope) -> pl.DataFrame:
    """The groups the scope may use, by school and name.

    Columns: ``key`` (``data.catalog.rosters.group_key``), ``name``, ``school_code``,
    ``n_students``,
    ``users`` (assigned e-mails) and ``created_by``.
    """
    rosters = Rosters(store)
    members = rosters.all_members()
    leas = _school_leas(store)
    listed = rosters.list()
    keys = [group_key(n, s) for n, s in listed.select("name", "school_code").iter_rows()]
    listed = listed.with_columns(pl.Series("key", keys, dtype=pl.String))
    keep = [_visible(scope, s, members.get(k, ()), leas) for k, s in
            listed.select("key", "school_code").iter_rows()]
    return listed.filter(pl.Series(keep, dtype=pl.Boolean)).select(
        "key", "name", "school_code", "n_students", "users", "created_by")


def group_students(store: Store, scope: Scope, keys: Iterable[str]) -> dict[str, list[str]]:
    """The SSIDs of each group asked for, by key.

    Raises ``ScopeError`` for a group the scope may not use (an unknown group is refused the
    same way, so a guessed name tells nothing), ``ValueError`` for a malformed key.
    """
    members = Rosters(store).all_members()
    leas = _school_leas(store)
    out = {}
    for key in keys:
        _, school = split_group_key(key)
        ssids = members.get(key)
        if ssids is None or not _visible(scope, school, ssids, leas):
            raise ScopeError(f"the roster {key.partition(':')[2]!r} is not one of yours")
        out[key] = ssids
    return out


def may_use(store: Store, scope: Scope) -> MayUse:
    """Whether the scope's user may put a student of a school in a roster (``None``: yes)."""
    leas: dict[str, str] = {}

    def check(school: str, ssid: str) -> str | None:
        if not leas:
            leas.update(_school_leas(store))
        if not _covers_school(scope, school, leas):
            return "this school is not in your access"
        if not scope.allows_ssid(ssid):
            return ("not one of your students (a teacher puts only students of their rosters in "
                    "a roster)")
        return None

    return check


def _audited(store: Store, scope: Scope, who: str, detail: str, n_rows: int) -> None:
    """Who changed which roster: names and sizes, never the students' SSIDs.

    Under the action key ``groups``, as before rosters had their name (old entries read).
    """
    audit.record(store, who or "unknown", "groups", scope=describe_scope(scope),
                 detail=detail, n_rows=n_rows)


def _require_pii(scope: Scope) -> None:
    if not scope.pii:
        raise ScopeError(_PII_MESSAGE)


def create_group(store: Store, scope: Scope, *, name: str, school_code: str,
                 ssids: Iterable[str], created_by: str, users: Iterable[str] = (),
                 now: datetime | None = None) -> list[str]:
    """Make a group of students the scope covers; a limited scope assigns it to its maker.

    A teacher (a scope limited to some students) may only group their own students and only
    for themselves; other scopes assign the group to ``users``.
    """
    _require_pii(scope)
    users = list(users)
    if scope.ssids is not None:
        if any(u.strip().lower() != created_by.strip().lower() for u in users):
            raise ScopeError("A teacher's roster is for the teacher who makes it; ask your LEA "
                             "administrator to share a roster with others.")
        users = [created_by]
    made = Rosters(store).create(name, school_code, ssids, created_by=created_by,
                                 users=users, may_use=may_use(store, scope), now=now)
    _audited(store, scope, created_by, f"made {group_key(name.strip(), school_code)}"
             + (f" for {', '.join(users)}" if users else ""), len(made))
    return made


def import_groups(store: Store, scope: Scope, text: str, *, file_name: str, uploaded_by: str,
                  now: datetime | None = None) -> ImportResult:
    """``Rosters.import_csv`` where every student must be in the uploader's scope.

    Only whole-organisation scopes upload (an LEA or site administrator): a teacher makes
    their groups one at a time.
    """
    _require_pii(scope)
    if scope.ssids is not None:
        raise ScopeError("Roster uploads are for LEA and site administrators; make your roster "
                         "from your students instead.")
    result = Rosters(store).import_csv(text, file_name=file_name, uploaded_by=uploaded_by,
                                       now=now, may_use=may_use(store, scope))
    if result.loaded:
        _audited(store, scope, uploaded_by, f"uploaded {file_name}", result.n_rows)
    return result


def _own_group(store: Store, scope: Scope, key: str) -> None:
    _require_pii(scope)
    if scope.ssids is not None:
        raise ScopeError("Only LEA and site administrators assign and remove rosters.")
    group_students(store, scope, [key])


def assign_group(store: Store, scope: Scope, key: str, emails: Iterable[str], *,
                 by: str = "") -> None:
    """Give users a group the scope covers (administrators only); ``by`` is audited."""
    _own_group(store, scope, key)
    emails = list(emails)
    Rosters(store).assign(key, emails)
    _audited(store, scope, by, f"gave {key} to {', '.join(emails)}", 0)


def unassign_group(store: Store, scope: Scope, key: str, email: str, *, by: str = "") -> None:
    """Take a group the scope covers away from a user (administrators only)."""
    _own_group(store, scope, key)
    Rosters(store).unassign(key, email)
    _audited(store, scope, by, f"took {key} from {email}", 0)


def remove_group(store: Store, scope: Scope, key: str, *, by: str = "") -> None:
    """Delete a group the scope covers (administrators only)."""
    _own_group(store, scope, key)
    Rosters(store).remove(key)
    _audited(store, scope, by, f"deleted {key}", 0)


def manages_rosters(scope: Scope) -> bool:
    """Whether the scope manages rosters: uploads, assignments and deletion.

    Whole organisations with student records (a state, LEA or site administrator, a local
    install); a teacher (a scope that lists SSIDs) only makes rosters of their own students.

    Examples
    --------
    >>> manages_rosters(Scope.lea("19647330000000", pii=True))
    True
    >>> manages_rosters(Scope(schools=("19647331932334",), ssids=("1014222837",), pii=True))
    False
    """
    return scope.pii and scope.ssids is None


def assignable_accounts(store: Store, scope: Scope, leas_of: dict[str, str]) -> dict[str, str]:
    """Accounts an administrator may give rosters to: e-mail -> "Name <e-mail> (role)".

    Statewide, every account that sees students; else those assigned to an LEA or school the
    scope covers (``leas_of``: each school's LEA). Aggregate-only viewers are left out: a
    roster lists students they may not see.
    """
    out = {}
    listed = Accounts(store).list()
    for email, name, role, assignments in listed.select(
            "email", "name", "role", "assignments").iter_rows():
        if role == "viewer":
            continue
        pairs = [a.split(" ", 1) for a in assignments.split(", ") if " " in a]
        covered = scope.statewide or any(
            (kind == "lea" and scope.allows_lea(code[:2], code))
            or (kind == "school" and scope.allows_school(code[:2], leas_of.get(code, ""), code))
            or (kind == "county" and scope.allows_county(code))
            for kind, code in pairs)
        if covered:
            out[email] = f"{name} <{email}> ({ROLE_NAMES.get(role, role)})"
    return out


def roster_uploads(store: Store, scope: Scope, *, me: str, leas_of: dict[str, str]
                   ) -> pl.DataFrame:
    """Roster uploads the user may see, newest first: all statewide, else their area's.

    Their area's: the uploads of ``me`` and of :func:`assignable_accounts`.
    """
    history = Rosters(store).uploads()
    if scope.statewide:
        return history
    who = {me, *assignable_accounts(store, scope, leas_of)}
    return history.filter(pl.col("uploaded_by").is_in(sorted(who)))


__all__ = ["TEMPLATE", "InputError", "assign_group", "assignable_accounts", "create_group",
           "group_key", "group_students", "import_groups", "manages_rosters", "may_use",
           "remove_group", "roster_uploads", "split_group_key", "unassign_group",
           "visible_groups"]
