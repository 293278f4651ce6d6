"""Signed-in sessions of local accounts, kept in the catalog so they outlive a page reload.

A session is a random token: the browser keeps it in a signed, HttpOnly, SameSite=Strict
cookie (``dashboard.web``), the catalog keeps only its SHA-256, with the account, when it
began and when it was last used. A session ends when it has been idle longer than the idle
limit, when the user signs out (everywhere it is used: every tab and every dashboard
process reads the same row), or when the account's password is reset or the account removed.

The cookie is signed with a key kept in the catalog (``store_meta``), so every dashboard
process over one store, on one machine or several, accepts it; the signature lets a process
refuse a forged cookie without a catalog read. A sign-in on the dashboard's form reaches the
browser through a one-time hand-off: the session is made, and the browser is sent once to
``/auth/session`` with a short-lived signed copy of its token, which that route exchanges for
the cookie (``hand_off`` / ``take_hand_off``).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from itsdangerous import BadSignature, SignatureExpired, Signer, TimestampSigner
from sqlalchemy import select

from data.catalog.db import insert_ignore
from data.catalog.schema import sessions, store_meta

if TYPE_CHECKING:
    from data.results.store import Store

COOKIE = "elpac_session"
HAND_OFF_SECONDS = 60
"""How long the sign-in hand-off link is good for (it is used once, at once)."""
TOUCH_EVERY = timedelta(minutes=1)
"""A session's last use is written at most this often (not on every page run)."""
_KEY = "session_signing_key"


def start(store: Store, email: str, *, now: datetime | None = None) -> str:
    """Begin a session for ``email``; its token (for the cookie and the hand-off)."""
    token = secrets.token_urlsafe(32)
    now = now or datetime.now()
    with store.catalog.write() as con:
        con.execute(sessions.insert().values(token_hash=_hash(token), email=email,
                                             created_at=now, last_seen_at=now))
    return token


def who(store: Store, token: str | None, *, idle: timedelta,
        now: datetime | None = None) -> str | None:
    """The e-mail of a live session, or ``None`` (unknown, signed out, idle too long).

    A session idle longer than ``idle`` is ended here, so it cannot come back.
    """
    if not token or not store.exists():
        return None
    now = now or datetime.now()
    key = _hash(token)
    with store.catalog.read() as con:
        row = con.execute(select(sessions.c.email, sessions.c.last_seen_at,
                                 sessions.c.revoked_at)
                          .where(sessions.c.token_hash == key)).first()
    if row is None or row.revoked_at is not None:
        return None
    if now - row.last_seen_at > idle:
        with store.catalog.write() as con:
            con.execute(sessions.update().where(sessions.c.token_hash == key,
                                                sessions.c.revoked_at.is_(None))
                        .values(revoked_at=now))
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        with store.catalog.write() as con:
            con.execute(sessions.update().where(sessions.c.token_hash == key)
                        .values(last_seen_at=now))
    return str(row.email)


def end(store: Store, token: str | None, *, now: datetime | None = None) -> None:
    """Sign a session out, wherever it is used."""
    if not token or not store.exists():
        return
    with store.catalog.write() as con:
        con.execute(sessions.update().where(sessions.c.token_hash == _hash(token),
                                            sessions.c.revoked_at.is_(None))
                    .values(revoked_at=now or datetime.now()))


def end_all(store: Store, email: str, *, now: datetime | None = None) -> int:
    """Sign every session of an account out (a password reset, a removed account)."""
    if not store.exists():
        return 0
    with store.catalog.write() as con:
        return con.execute(sessions.update().where(sessions.c.email == email,
                                                   sessions.c.revoked_at.is_(None))
                           .values(revoked_at=now or datetime.now())).rowcount


def cookie_value(store: Store, token: str) -> str:
    """The token as the cookie holds it: signed with the store's key."""
    return Signer(_signing_key(store), salt="session").sign(token).decode()


def token_of(store: Store, cookie: str | None) -> str | None:
    """The token of a cookie the store's key signed; ``None`` for anything else."""
    if not cookie:
        return None
    try:
        return Signer(_signing_key(store), salt="session").unsign(cookie).decode()
    except BadSignature:
        return None


def hand_off(store: Store, token: str) -> str:
    """A short-lived signed copy of a new session's token, for the one-time ``/auth/session``."""
    return TimestampSigner(_signing_key(store), salt="hand-off").sign(token).decode()


def take_hand_off(store: Store, value: str) -> str | None:
    """The token of a fresh hand-off, once only; ``None`` if forged, stale or used before.

    The hand-off of a session that has been used (its first page already read the cookie)
    is refused, so a hand-off link seen later in a log or a history gives nothing.
    """
    try:
        token = TimestampSigner(_signing_key(store), salt="hand-off").unsign(
            value, max_age=HAND_OFF_SECONDS).decode()
    except (BadSignature, SignatureExpired):
        return None
    with store.catalog.write() as con:
        taken = con.execute(sessions.update().where(
            sessions.c.token_hash == _hash(token), sessions.c.revoked_at.is_(None),
            sessions.c.handed_off_at.is_(None)).values(handed_off_at=datetime.now())).rowcount
    return token if taken else None


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _signing_key(store: Store) -> str:
    """The store's cookie-signing key, made on first use (one for every dashboard process)."""
    cached = _KEYS.get(store.catalog.url)
    if cached:
        return cached
    with store.catalog.read() as con:
        key = con.execute(select(store_meta.c.value).where(store_meta.c.key == _KEY)).scalar()
    if not key:
        with store.catalog.write() as con:
            # Two processes at once: the first key written wins, and both read it back.
            insert_ignore(con, store_meta, [{"key": _KEY, "value": secrets.token_urlsafe(48)}])
            key = con.execute(select(store_meta.c.value)
                              .where(store_meta.c.key == _KEY)).scalar_one()
    _KEYS[store.catalog.url] = str(key)
    return str(key)


_KEYS: dict[str, str] = {}
"""Signing keys read this process, by catalog (a key never changes)."""
