"""Local accounts in the store's DuckDB catalog: who may sign in, in which role, where.

The built-in sign-in for districts without an identity provider (issue 5). An account has an
e-mail (its id), a role and assignments (counties, LEAs or schools, by CDS code); the query
layer turns them into a ``Scope`` (``queries.access``). Passwords are kept only as Argon2id
hashes. Repeated failures lock the account for a while; the same sentence answers an unknown
e-mail and a wrong password, so the sign-in form does not say which e-mails exist.

Roles (as CERS):

* ``state_admin``: every organisation (the operator of a statewide install).
* ``lea_admin``: all schools of their LEAs; student records, reports, exports, data loads,
  users and groups.
* ``site_admin``: their schools; student records.
* ``teacher``: only students in the groups assigned to them (groups come with issue 5's
  second part; until then a teacher sees no student).
* ``viewer``: aggregates of their organisations only, small-n suppression forced, no student
  record (a board presenter).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import polars as pl
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import case, false, select

from data.catalog import audit, sessions
from data.catalog.db import frame
from data.catalog.schema import user_assignments, users
from data.problems import InputError

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from data.results.store import Store

ROLES = {
    "state_admin": "State administrator",
    "lea_admin": "LEA administrator",
    "site_admin": "Site administrator",
    "teacher": "Teacher",
    "viewer": "Aggregate-only viewer",
}
_A_ROLE = {"state_admin": "a state administrator", "lea_admin": "an LEA administrator",
           "site_admin": "a site administrator", "teacher": "a teacher",
           "viewer": "an aggregate-only viewer"}
ASSIGNMENT_KINDS = {"county": 2, "lea": 14, "school": 14}
"""Organisations an account can be assigned, with the length of their code."""
ROLE_KINDS = {"state_admin": (), "lea_admin": ("lea",), "site_admin": ("school",),
              "teacher": ("school",), "viewer": ("county", "lea", "school")}
"""The assignments each role takes (a state administrator needs none)."""
MIN_PASSWORD = 12
MAX_FAILURES = 5
"""Wrong passwords in a row that lock an account."""
LOCKOUT = timedelta(minutes=15)
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_HASHER = PasswordHasher()  # Argon2id with the library's current recommended parameters
# Verified against when the e-mail is unknown, so that an unknown e-mail costs as much time
# as a wrong password (no timing hint about which e-mails exist).
_DUMMY_HASH = _HASHER.hash("not a password: timing equaliser")



class SignInError(InputError):
    """A sign-in refused: the one sentence every refusal shows, and why (for the audit log)."""

    def __init__(self, reason: str) -> None:
        super().__init__(REFUSED)
        self.reason = reason


REFUSED = ("The e-mail or the password is wrong, or the account is locked after too many "
           "wrong passwords (try again in 15 minutes, or ask your LEA administrator).")
"""What every refused sign-in says: nothing tells an unknown e-mail from a locked account."""


@dataclass(frozen=True)
class Account:
    """One local account and its assignments (codes by kind)."""

    email: str
    name: str
    role: str
    counties: tuple[str, ...] = ()
    leas: tuple[str, ...] = ()
    schools: tuple[str, ...] = ()


def normalise_email(email: str) -> str:
    """The e-mail as accounts are keyed: trimmed, lower case; ``InputError`` if not one.

    >>> normalise_email("  Ana.Ruiz@Example-USD.org ")
    'ana.ruiz@example-usd.org'
    """
    value = email.strip().lower()
    if not _EMAIL.fullmatch(value):
        raise InputError(f"{email.strip()!r} is not an e-mail address")
    return value


def check_password(password: str) -> None:
    """Refuse a password too weak to keep (``InputError`` with the reason)."""
    if len(password) < MIN_PASSWORD:
        raise InputError(f"a password needs at least {MIN_PASSWORD} characters")
    if password.strip() != password:
        raise InputError("a password cannot start or end with a space")


def _check_assignments(role: str, assignments: dict[str, tuple[str, ...]]) -> None:
    if role not in ROLES:
        raise InputError(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
    for kind, codes in assignments.items():
        for code in codes:
            if not (code.isdigit() and len(code) == ASSIGNMENT_KINDS[kind]):
                raise InputError(f"{code!r} is not a {ASSIGNMENT_KINDS[kind]}-digit {kind} code")
        if codes and kind not in ROLE_KINDS[role]:
            raise InputError(f"{_A_ROLE[role]} is not assigned {kind} codes")
    if ROLE_KINDS[role] and not any(assignments.get(k) for k in ROLE_KINDS[role]):
        raise InputError(f"{_A_ROLE[role]} needs at least one "
                         f"{' or '.join(ROLE_KINDS[role])} code")


class Accounts:
    """The accounts of one store (its catalog)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # -- reading ---------------------------------------------------------------------------
    def list(self) -> pl.DataFrame:
        """Every account: e-mail, name, role, assignments as text, lock and sign-in times."""
        schema = {"email": pl.String, "name": pl.String, "role": pl.String,
                  "locked_until": pl.Datetime("us"), "last_sign_in": pl.Datetime("us")}
        if not self.store.exists():
            return pl.DataFrame(schema=schema).select(
                "email", "name", "role", pl.lit("").alias("assignments"), "locked_until",
                "last_sign_in").clear()
        with self.store.catalog.read() as con:
            found = frame(con, select(users.c.email, users.c.name, users.c.role,
                                      users.c.locked_until, users.c.last_sign_in)
                          .order_by(users.c.email), schema)
            given = frame(con, select(user_assignments), {
                "email": pl.String, "kind": pl.String, "code": pl.String})
        text = (given.sort("kind", "code")
                .group_by("email", maintain_order=True)
                .agg((pl.col("kind") + " " + pl.col("code")).str.join(", ").alias("assignments")))
        return (found.join(text, on="email", how="left")
                .with_columns(pl.col("assignments").fill_null(""))
                .select("email", "name", "role", "assignments", "locked_until", "last_sign_in"))

    def get(self, email: str) -> Account | None:
        """The account of an e-mail, or ``None``."""
        if not self.store.exists():
            return None
        key = normalise_email(email)
        with self.store.catalog.read() as con:
            row = con.execute(select(users.c.name, users.c.role)
                              .where(users.c.email == key)).first()
            if row is None:
                return None
            codes: dict[str, list[str]] = {k: [] for k in ASSIGNMENT_KINDS}
            for kind, code in con.execute(
                    select(user_assignments.c.kind, user_assignments.c.code)
                    .where(user_assignments.c.email == key).order_by(user_assignments.c.code)):
                codes[kind].append(code)
        return Account(key, row[0], row[1], tuple(codes["county"]), tuple(codes["lea"]),
                       tuple(codes["school"]))

    # -- changing --------------------------------------------------------------------------
    def add(self, email: str, *, name: str, role: str, password: str,
            counties: tuple[str, ...] = (), leas: tuple[str, ...] = (),
            schools: tuple[str, ...] = (), now: datetime | None = None) -> Account:
        """Create an account; ``InputError`` if it exists or a value is refused."""
        key = normalise_email(email)
        assignments = {"county": tuple(counties), "lea": tuple(leas), "school": tuple(schools)}
        _check_assignments(role, assignments)
        check_password(password)
        if not name.strip():
            raise InputError("give the account a name")
        digest = _HASHER.hash(password)
        with self.store.catalog.write() as con:
            if con.execute(select(users.c.email).where(users.c.email == key)).first():
                raise InputError(f"an account for {key} already exists")
            con.execute(users.insert().values(email=key, name=name.strip(), role=role,
                                              password_hash=digest,
                                              created_at=now or datetime.now()))
            _assign(con, key, assignments)
        account = self.get(key)
        assert account is not None
        return account

    def assign(self, email: str, *, role: str | None = None, counties: tuple[str, ...] = (),
               leas: tuple[str, ...] = (), schools: tuple[str, ...] = ()) -> Account:
        """Replace an account's role (if given) and assignments."""
        current = self._existing(email)
        role = role or current.role
        assignments = {"county": tuple(counties), "lea": tuple(leas), "school": tuple(schools)}
        _check_assignments(role, assignments)
        with self.store.catalog.write() as con:
            con.execute(users.update().where(users.c.email == current.email).values(role=role))
            con.execute(user_assignments.delete()
                        .where(user_assignments.c.email == current.email))
            _assign(con, current.email, assignments)
        return self._existing(email)

    def reset_password(self, email: str, password: str) -> None:
        """Set a new password; also lifts a lockout."""
        account = self._existing(email)
        check_password(password)
        digest = _HASHER.hash(password)
        with self.store.catalog.write() as con:
            con.execute(users.update().where(users.c.email == account.email).values(
                password_hash=digest, failed_attempts=0, locked_until=None))
        sessions.end_all(self.store, account.email)  # whoever knew the old one is signed out

    def remove(self, email: str) -> None:
        """Delete an account and its assignments; ``InputError`` if there is none."""
        account = self._existing(email)
        with self.store.catalog.write() as con:
            con.execute(user_assignments.delete()
                        .where(user_assignments.c.email == account.email))
            con.execute(users.delete().where(users.c.email == account.email))
        sessions.end_all(self.store, account.email)

    def _existing(self, email: str) -> Account:
        account = self.get(email)
        if account is None:
            raise InputError(f"there is no account for {normalise_email(email)}")
        return account

    # -- signing in ------------------------------------------------------------------------
    def sign_in(self, email: str, password: str, *, now: datetime | None = None) -> Account:
        """The account, if the password is right and the account not locked.

        Raises ``SignInError`` otherwise: the same sentence (``REFUSED``) and the same work (a
        catalog read, a password hash verified, a catalog write) whether the e-mail is
        unknown, the password wrong or the account locked, so the form tells no one which
        e-mails exist. The audit log records the real reason. A wrong password counts towards
        the lockout (``MAX_FAILURES`` in a row lock the account for ``LOCKOUT``); a right one
        resets the count.
        """
        now = now or datetime.now()
        try:
            key = normalise_email(email)
        except InputError:
            key = email.strip().lower()[:200]
        try:
            account = self._sign_in(key, password, now)
        except SignInError as exc:
            audit.record(self.store, key, "sign_in_refused", detail=exc.reason, at=now)
            raise
        audit.record(self.store, key, "sign_in", detail=ROLES[account.role], at=now)
        return account

    def _sign_in(self, key: str, password: str, now: datetime) -> Account:
        # The hash is checked outside any transaction: it takes a fifth of a second, and a
        # write transaction held that long would make every other writer wait behind it.
        with self.store.catalog.read() as con:
            row = con.execute(select(users.c.password_hash, users.c.locked_until)
                              .where(users.c.email == key)).first()
        digest, locked_until = row if row is not None else (None, None)
        right = _verify(digest or _DUMMY_HASH, password) and digest is not None
        locked = locked_until is not None and locked_until > now
        mine = users.update().where(users.c.email == key)
        if right and not locked:
            changes = {"failed_attempts": 0, "locked_until": None, "last_sign_in": now}
            if _HASHER.check_needs_rehash(digest):
                changes["password_hash"] = _HASHER.hash(password)
            with self.store.catalog.write() as con:
                con.execute(mine.values(**changes))
            account = self.get(key)
            assert account is not None
            return account
        # Counted in the database, so two wrong passwords at once both count. After a lockout
        # has run out, counting starts again from one. An unknown e-mail or a locked account
        # makes the same write, matching no row: the same work as a counted failure.
        failures = case((users.c.locked_until.is_not(None), 1),
                        else_=users.c.failed_attempts + 1)
        counted = mine if row is not None and not locked else mine.where(false())
        with self.store.catalog.write() as con:
            con.execute(counted.values(failed_attempts=failures, locked_until=case(
                (failures >= MAX_FAILURES, now + LOCKOUT), else_=None)))
            now_locked = con.execute(select(users.c.locked_until)
                                     .where(users.c.email == key)).scalar()
        if row is None:
            raise SignInError("no account has this e-mail")
        if locked:
            raise SignInError(f"the account is locked until {locked_until:%H:%M}")
        if now_locked is not None:
            raise SignInError(f"wrong password; {MAX_FAILURES} in a row: locked until "
                              f"{now_locked:%H:%M}")
        raise SignInError("wrong password")


def _assign(con: Connection, email: str, assignments: dict[str, tuple[str, ...]]) -> None:
    rows = [{"email": email, "kind": kind, "code": code}
            for kind, codes in assignments.items() for code in sorted(set(codes))]
    if rows:
        con.execute(user_assignments.insert(), rows)


def _verify(digest: str, password: str) -> bool:
    try:
        return _HASHER.verify(digest, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
