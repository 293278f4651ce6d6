"""Signed-in sessions as the dashboard uses them (kept by ``data.catalog.sessions``).

Begin one at sign-in, find its account from the browser's cookie, hand it to the browser, end
it.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import TYPE_CHECKING

from data.catalog import sessions
from data.catalog.sessions import COOKIE, HAND_OFF_SECONDS

if TYPE_CHECKING:
    from datetime import datetime

    from data.results.store import Store


DEFAULT_IDLE_MINUTES = 30


def idle_limit() -> timedelta:
    """How long a session may stay idle before it ends (``$ELPAC_IDLE_MINUTES``, default 30).

    >>> idle_limit() >= timedelta(minutes=1)
    True
    """
    try:
        minutes = float(os.environ.get("ELPAC_IDLE_MINUTES", DEFAULT_IDLE_MINUTES))
    except ValueError:
        minutes = DEFAULT_IDLE_MINUTES
    return timedelta(minutes=max(1.0, minutes))


def begin_session(store: Store, email: str) -> str:
    """A new session's token, for an account that has just signed in."""
    return sessions.start(store, email)


def session_account(store: Store, *, token: str | None = None, cookie: str | None = None,
                    idle: timedelta, now: datetime | None = None) -> str | None:
    """The e-mail of a live session, from its token or from the browser's signed cookie."""
    return sessions.who(store, token or sessions.token_of(store, cookie), idle=idle, now=now)


def end_session(store: Store, *, token: str | None = None, cookie: str | None = None) -> None:
    """Sign a session out everywhere it is used (every tab, every dashboard process)."""
    sessions.end(store, token or sessions.token_of(store, cookie))


def hand_off_link(store: Store, token: str, next_url: str) -> str:
    """Where to send the browser once so that it keeps the session in its cookie."""
    from urllib.parse import urlencode

    return "/auth/session?" + urlencode({"h": sessions.hand_off(store, token),
                                         "next": safe_next(next_url)})


def take_hand_off(store: Store, value: str) -> str | None:
    """The signed cookie value for a fresh, unused hand-off; ``None`` otherwise."""
    token = sessions.take_hand_off(store, value)
    return None if token is None else sessions.cookie_value(store, token)


def safe_next(url: str | None) -> str:
    """A path on this server to return to after sign-in (never another site).

    >>> safe_next("/students?school=1")
    '/students?school=1'
    >>> safe_next("https://evil.example/x"), safe_next("//evil.example"), safe_next(None)
    ('/', '/', '/')
    """
    if not url or not url.startswith("/") or url.startswith("//") or "\\" in url:
        return "/"
    return url


__all__ = ["COOKIE", "HAND_OFF_SECONDS", "begin_session", "end_session", "hand_off_link",
           "idle_limit", "safe_next", "session_account", "take_hand_off"]
