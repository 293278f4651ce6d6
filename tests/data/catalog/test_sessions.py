"""Signed-in sessions (issue 11): they outlive a reload, end everywhere at sign-out, after an
idle spell or a password reset, and their cookie and hand-off cannot be forged or reused."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest

from data.catalog import sessions
from data.catalog.accounts import Accounts
from data.results.store import Store

IDLE = timedelta(minutes=30)
NOW = datetime(2026, 3, 2, 9, 0)
PASSWORD = "correct horse battery"


def test_a_session_is_the_same_account_until_it_ends(store_copy: Store) -> None:
    token = sessions.start(store_copy, "ana@x.org", now=NOW)
    # Another process over the same store (a second dashboard, a reload) sees it too.
    again = Store(store_copy.path)
    assert sessions.who(again, token, idle=IDLE, now=NOW + timedelta(minutes=5)) == "ana@x.org"
    sessions.end(again, token)
    assert sessions.who(store_copy, token, idle=IDLE, now=NOW + timedelta(minutes=6)) is None


def test_an_idle_session_ends_and_stays_ended(store_copy: Store) -> None:
    token = sessions.start(store_copy, "ana@x.org", now=NOW)
    assert sessions.who(store_copy, token, idle=IDLE, now=NOW + IDLE) == "ana@x.org"
    # Used at NOW + IDLE (written: more than a minute after the last write), so still alive
    # another IDLE later; then idle too long.
    assert sessions.who(store_copy, token, idle=IDLE, now=NOW + 2 * IDLE) == "ana@x.org"
    late = NOW + 3 * IDLE + timedelta(seconds=1)
    assert sessions.who(store_copy, token, idle=IDLE, now=late) is None
    assert sessions.who(store_copy, token, idle=IDLE, now=late) is None


def test_unknown_and_missing_tokens_are_nobody(store_copy: Store) -> None:
    assert sessions.who(store_copy, None, idle=IDLE) is None
    assert sessions.who(store_copy, "not a token", idle=IDLE) is None


def test_a_password_reset_or_removal_ends_every_session_of_the_account(
        store_copy: Store) -> None:
    accounts = Accounts(store_copy)
    accounts.add("ana@x.org", name="Ana", role="state_admin", password=PASSWORD)
    accounts.add("bo@x.org", name="Bo", role="state_admin", password=PASSWORD)
    anas = [sessions.start(store_copy, "ana@x.org") for _ in range(2)]
    bos = sessions.start(store_copy, "bo@x.org")
    accounts.reset_password("ana@x.org", PASSWORD + "!")
    assert [sessions.who(store_copy, t, idle=IDLE) for t in anas] == [None, None]
    assert sessions.who(store_copy, bos, idle=IDLE) == "bo@x.org"
    accounts.remove("bo@x.org")
    assert sessions.who(store_copy, bos, idle=IDLE) is None


def test_the_cookie_is_signed_and_a_forged_one_is_nobody(store_copy: Store) -> None:
    token = sessions.start(store_copy, "ana@x.org")
    cookie = sessions.cookie_value(store_copy, token)
    assert token in cookie
    assert cookie != token
    assert sessions.token_of(Store(store_copy.path), cookie) == token
    assert sessions.token_of(store_copy, token) is None  # unsigned
    assert sessions.token_of(store_copy, token + "." + "A" * 27) is None  # forged signature
    assert sessions.token_of(store_copy, None) is None


def test_a_hand_off_is_taken_once(store_copy: Store) -> None:
    token = sessions.start(store_copy, "ana@x.org")
    value = sessions.hand_off(store_copy, token)
    assert sessions.take_hand_off(store_copy, value) == token
    assert sessions.take_hand_off(store_copy, value) is None  # a link seen later: nothing
    assert sessions.take_hand_off(store_copy, value.replace(token, token[::-1])) is None


def test_a_hand_off_of_an_ended_session_or_a_stale_one_is_refused(
        store_copy: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    ended = sessions.start(store_copy, "ana@x.org")
    value = sessions.hand_off(store_copy, ended)
    sessions.end(store_copy, ended)
    assert sessions.take_hand_off(store_copy, value) is None
    stale = sessions.start(store_copy, "ana@x.org")
    value = sessions.hand_off(store_copy, stale)
    monkeypatch.setattr(sessions, "HAND_OFF_SECONDS", 0)
    time.sleep(1.1)
    assert sessions.take_hand_off(store_copy, value) is None
