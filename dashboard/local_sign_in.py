"""Sign-in with the store's local accounts (``queries.accounts``): no identity provider needed.

Used when sign-in with OpenID Connect is not configured and the store holds at least one
account (``elpac users add``): every session must then sign in with an e-mail and password,
and its scope is the account's (``queries.access.scope_of``).

A sign-in is a session kept in the catalog (``queries.sessions``), so it outlives a reload:
the form's sign-in begins it, and the browser is sent once through ``/auth/session``
(``dashboard.web``), which puts it in an HttpOnly cookie and comes back to the same page. Each
run finds its account from that session, read again every run: a session signed out in
another tab, idle longer than ``$ELPAC_IDLE_MINUTES`` (default 30) or ended by a password
reset signs this one out at its next run. The account (role, assignments) is read again at
most every few seconds, so a removed account loses access quickly.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit

import streamlit as st

from queries.accounts import (
    DEMO_PASSWORD,
    Account,
    has_accounts,
    list_demo_accounts,
    read_account,
    sign_in,
)
from queries.errors import InputError
from queries.labels import ROLE_NAMES
from queries.sessions import (
    COOKIE,
    begin_session,
    end_session,
    hand_off_link,
    idle_limit,
    safe_next,
    session_account,
)
from queries.store import open_store, store_location

if TYPE_CHECKING:
    from datetime import datetime

EMAIL_KEY = "auth_local_email"
TOKEN_KEY = "auth_local_token"
"""The session begun by this Streamlit session's own sign-in (before the cookie is set)."""
_DEAD_COOKIE = "auth_local_dead_cookie"
_GO = "auth_local_go"
"""Where to send the browser once: the cookie hand-off after a sign-in, or clearing it."""
_NOTICE = "auth_local_notice"


@st.cache_data(ttl=5, show_spinner=False)
def _has_accounts(path: str) -> bool:
    return has_accounts(open_store(path))


@st.cache_data(ttl=5, show_spinner=False)
def _account(path: str, email: str) -> Account | None:
    return read_account(open_store(path), email)


@st.cache_data(ttl=5, show_spinner=False)
def _demo(path: str) -> list[Account]:
    return list_demo_accounts(open_store(path))


def _path() -> str:
    return str(store_location())


def in_use() -> bool:
    """Whether this store's sessions must sign in with a local account."""
    return _has_accounts(_path())


def account() -> Account | None:
    """The account this session signed in with, if any (and if it still exists)."""
    email = st.session_state.get(EMAIL_KEY)
    return _account(_path(), email) if isinstance(email, str) and email else None


def account_of(email: str) -> Account | None:
    """The local account of an e-mail signed in elsewhere (OpenID Connect), if there is one."""
    return _account(_path(), email)  # None too for what is not an e-mail address


def resolve(now: datetime | None = None) -> None:
    """Find this run's signed-in account from its session (first thing in every run).

    The session is this Streamlit session's own sign-in, else the browser's cookie. One that
    has ended (signed out elsewhere, idle too long, password reset) signs this one out and
    says why, once.
    """
    state = st.session_state
    token = state.get(TOKEN_KEY)
    if token is not None and not isinstance(token, str):
        # Session state can be written by a crafted widget message: a value of any other
        # shape is no sign-in (and no traceback).
        state.pop(TOKEN_KEY, None)
        token = None
    cookie = None if token else _cookie()
    if cookie is not None and cookie == state.get(_DEAD_COOKIE):
        cookie = None  # already found ended: said once
    if not token and not cookie:
        state.pop(EMAIL_KEY, None)
        return
    try:
        email = session_account(open_store(_path()), token=token, cookie=cookie,
                                idle=idle_limit(), now=now)
    except InputError as exc:  # the catalog busy or unreadable: signed out, and why
        email = None
        state[_NOTICE] = f"The sign-in could not be checked: {exc}."
    if email is not None:
        state[EMAIL_KEY] = email
        return
    was_signed_in = state.pop(EMAIL_KEY, None) is not None or bool(token)
    state.pop(TOKEN_KEY, None)
    if cookie is not None:
        state[_DEAD_COOKIE] = cookie
        state[_GO] = "/auth/sign-out?next=" + quote(_here(), safe="")
    if was_signed_in or cookie is not None:
        state.setdefault(_NOTICE, "You were signed out: the session ended here or in another "
                         f"tab, or it was idle for more than {_minutes()} minutes. Sign in "
                         "again.")


def sign_out() -> None:
    """End this sign-in everywhere it is used, and clear the browser's cookie."""
    state = st.session_state
    end_session(open_store(_path()), token=state.pop(TOKEN_KEY, None), cookie=_cookie())
    state.pop(EMAIL_KEY, None)
    state[_GO] = "/auth/sign-out?next=/"


def _submit(email: str | None = None, password: str | None = None) -> None:
    state = st.session_state
    if email is None:
        email = str(state.get("auth_local_form_email", ""))
        password = str(state.get("auth_local_form_password", ""))
    try:
        store = open_store(_path())
        signed = sign_in(store, email, password or "")
        token = begin_session(store, signed.email)
    except InputError as exc:  # a refused sign-in says why; a busy catalog too
        state[_NOTICE] = str(exc)
    else:
        state[TOKEN_KEY] = token
        state[EMAIL_KEY] = signed.email
        state.pop(_DEAD_COOKIE, None)
        state[_GO] = hand_off_link(store, token, _here())
        _account.clear()
    # The password never stays in session state.
    state["auth_local_form_password"] = ""


def _cookie() -> str | None:
    """The browser's session cookie (``None`` without a browser request: AppTest, bare mode)."""
    try:
        value = st.context.cookies.get(COOKIE)
    except (AttributeError, RuntimeError):
        return None
    return value if isinstance(value, str) else None


def _here() -> str:
    """The page and query this run shows, to come back to after the cookie hand-off."""
    try:
        url = st.context.url
    except (AttributeError, RuntimeError):
        url = None
    if not isinstance(url, str) or not url:
        return "/"
    parts = urlsplit(url)
    return safe_next(parts.path + (f"?{parts.query}" if parts.query else ""))


def _minutes() -> int:
    return int(idle_limit().total_seconds() // 60)


def _go_once() -> None:
    """Send the browser where it must go (once): a redirect no Streamlit widget can make."""
    target = st.session_state.pop(_GO, None)
    if target:
        st.html(f"<script>window.location.replace({json.dumps(target)});</script>",
                unsafe_allow_javascript=True)


def sidebar() -> None:
    """The sidebar's sign-in form, or who is signed in and a Sign out button."""
    _go_once()
    signed = account()
    if signed is not None:
        st.sidebar.caption(f"Signed in as {signed.name} ({signed.email}): "
                           f"{ROLE_NAMES[signed.role]}.")
        st.sidebar.button("Sign out", key="auth_local_sign_out", on_click=sign_out)
        return
    with st.sidebar.form("auth_local_form", border=True):
        st.markdown("**Sign in**")
        st.text_input("E-mail", key="auth_local_form_email", autocomplete="username")
        st.text_input("Password", type="password", key="auth_local_form_password",
                      autocomplete="current-password")
        st.form_submit_button("Sign in", type="primary", on_click=_submit)
    notice = st.session_state.pop(_NOTICE, None)
    if notice:
        st.sidebar.error(notice, icon=":material/lock:")
    demo = _demo(_path())
    if demo:
        # Only the synthetic demo store has these (data.synth.demo_accounts).
        st.sidebar.caption(f"Demo store: try each role (password `{DEMO_PASSWORD}`).")
        for each in demo:
            st.sidebar.button(f"{ROLE_NAMES[each.role]}: {each.email}",
                              key=f"auth_demo_{each.role}", on_click=_submit,
                              args=(each.email, DEMO_PASSWORD), width="stretch")
