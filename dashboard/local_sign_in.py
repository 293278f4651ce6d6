"""Sign-in with the store's local accounts (``queries.accounts``): no identity provider needed.

Used when sign-in with OpenID Connect is not configured and the store holds at least one
account (``elpac users add``): every session must then sign in with an e-mail and password,
and its scope is the account's (``queries.access.scope_of``). A session that stays idle
longer than ``$ELPAC_IDLE_MINUTES`` (default 30) is signed out. Only the e-mail and the time
of the last activity are kept in session state; the account (role, assignments) is read
again at most every few seconds, so a removed account loses access quickly.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

import streamlit as st

from queries.accounts import (
    DEMO_PASSWORD,
    Account,
    SignInError,
    has_accounts,
    list_demo_accounts,
    read_account,
    sign_in,
)
from queries.labels import ROLE_NAMES
from queries.store import open_store, store_location

EMAIL_KEY = "auth_local_email"
SEEN_KEY = "auth_local_seen"
_NOTICE = "auth_local_notice"
DEFAULT_IDLE_MINUTES = 30


def idle_limit() -> timedelta:
    """How long a session may stay idle before it is signed out."""
    try:
        minutes = float(os.environ.get("ELPAC_IDLE_MINUTES", DEFAULT_IDLE_MINUTES))
    except ValueError:
        minutes = DEFAULT_IDLE_MINUTES
    return timedelta(minutes=max(1.0, minutes))


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
    return _account(_path(), email) if email else None


def account_of(email: str) -> Account | None:
    """The local account of an e-mail signed in elsewhere (OpenID Connect), if there is one."""
    return _account(_path(), email)  # None too for what is not an e-mail address


def keep_alive(now: datetime | None = None) -> None:
    """Sign out a session idle for too long; otherwise note this run as activity."""
    if not st.session_state.get(EMAIL_KEY):
        return
    now = now or datetime.now()
    seen = st.session_state.get(SEEN_KEY)
    if seen is None or now - seen > idle_limit():
        sign_out(notice=f"You were signed out after {idle_limit().seconds // 60} minutes "
                        "without activity. Sign in again.")
        return
    st.session_state[SEEN_KEY] = now


def sign_out(*, notice: str | None = None) -> None:
    """End this session's sign-in."""
    for key in (EMAIL_KEY, SEEN_KEY):
        st.session_state.pop(key, None)
    if notice:
        st.session_state[_NOTICE] = notice


def _submit(email: str | None = None, password: str | None = None) -> None:
    state = st.session_state
    if email is None:
        email = str(state.get("auth_local_form_email", ""))
        password = str(state.get("auth_local_form_password", ""))
    try:
        signed = sign_in(open_store(_path()), email, password or "")
    except SignInError as exc:
        state[_NOTICE] = str(exc)
    else:
        state[EMAIL_KEY] = signed.email
        state[SEEN_KEY] = datetime.now()
        _account.clear()
    # The password never stays in session state.
    state["auth_local_form_password"] = ""


def sidebar() -> None:
    """The sidebar's sign-in form, or who is signed in and a Sign out button."""
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
