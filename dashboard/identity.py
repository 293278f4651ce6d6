"""Who is using the dashboard, and what they may see: the one place identity becomes a Scope.

Scopes are enforced in ``queries`` (every query takes one); here we only decide which scope a
session gets. Sources, first match wins:

1. a signed-in user (``st.user``, OpenID Connect via ``st.login``) listed in the secrets'
   ``[access.users."<email>"]`` table: ``statewide``, ``counties``, ``leas``, ``schools``,
   ``groups``, ``pii``, and ``loads`` (may load files: :func:`can_load`);
2. when the store holds local accounts (``elpac users add``) and OpenID Connect is not set
   up: the account the session signed in with (``dashboard.local_sign_in``), its role and
   assignments as a scope (``queries.access``); nothing before signing in;
3. ``$ELPAC_SCOPE``: the same keys as JSON (scripts, tests, a single-LEA install);
4. ``[access.default]`` in the secrets;
5. otherwise statewide with personal information: the local demo on one's own machine.

A signed-in user who is not listed gets nothing (an empty scope), never the default. When
sign-in is configured (an ``[auth]`` table), a session that has not signed in gets nothing
either, unless ``[access.default]`` grants something: the entrypoint asks it to sign in.
"""

from __future__ import annotations

import json
import os
from typing import Any

import streamlit as st

from dashboard import cached, local_sign_in
from queries.access import describe_scope, scope_of
from queries.scope import Scope

LOCAL_DEFAULT = Scope.state(pii=True)


def _scope_from(table: dict[str, Any]) -> Scope:
    return Scope(statewide=bool(table.get("statewide", False)),
                 counties=tuple(table.get("counties", ())), leas=tuple(table.get("leas", ())),
                 schools=tuple(table.get("schools", ())), groups=tuple(table.get("groups", ())),
                 pii=bool(table.get("pii", False)))


def _secrets_access() -> dict[str, Any]:
    try:
        return dict(st.secrets.get("access", {}))
    except FileNotFoundError:  # no secrets.toml: a plain local install
        return {}


def auth_configured() -> bool:
    """Whether sign-in (OpenID Connect, ``[auth]`` in the secrets) is set up."""
    try:
        return "auth" in st.secrets
    except FileNotFoundError:
        return False


def user_email() -> str | None:
    """The signed-in user's e-mail (OpenID Connect), if anyone signed in that way."""
    try:
        if st.user.is_logged_in:
            return str(st.user.get("email") or "")
    except (AttributeError, KeyError):
        return None
    return None


def signed_in_email() -> str | None:
    """Whoever is signed in, by OpenID Connect or with a local account."""
    email = user_email()
    if email is None and local_sign_in.in_use():
        account = local_sign_in.account()
        email = account.email if account is not None else None
    return email


def listed(email: str) -> bool:
    """Whether an e-mail signed in with OpenID Connect has access: in the secrets or an account."""
    return email in _secrets_access().get("users", {}) or (
        local_sign_in.account_of(email) is not None)


def current_scope() -> Scope:
    """The scope of this session (see the module docstring for where it comes from)."""
    access = _secrets_access()
    email = user_email()
    if email is not None:
        users = access.get("users", {})
        if email in users:
            return _scope_from(users[email])
        # Else the explorer's own account of that e-mail (elpac users add); none: nothing.
        account = local_sign_in.account_of(email)
        return scope_of(account, cached.store()) if account is not None else Scope()
    if auth_configured():
        # A shared server: whoever has not signed in never falls back to the local default.
        return _scope_from(dict(access["default"])) if "default" in access else Scope()
    if local_sign_in.in_use():
        account = local_sign_in.account()
        return scope_of(account, cached.store()) if account is not None else Scope()
    raw = os.environ.get("ELPAC_SCOPE")
    if raw:
        return _scope_from(json.loads(raw))
    if "default" in access:
        return _scope_from(dict(access["default"]))
    return LOCAL_DEFAULT


def can_load() -> bool:
    """Whether this session may load files into the store (the Data loads page).

    The same sources as :func:`current_scope`, in the same order, with a ``loads`` boolean
    (``[access.users."<email>"] loads = true``). It must be granted explicitly: only the plain
    local install, with no access configuration at all, may load without it.
    """
    access = _secrets_access()
    email = user_email()
    if email is not None:
        users = access.get("users", {})
        if email in users:
            return bool(users[email].get("loads", False))
        account = local_sign_in.account_of(email)
        return account is not None and account.role in local_sign_in.LOADING_ROLES
    if auth_configured():
        return False
    if local_sign_in.in_use():
        account = local_sign_in.account()
        return account is not None and account.role in local_sign_in.LOADING_ROLES
    raw = os.environ.get("ELPAC_SCOPE")
    if raw:
        return bool(json.loads(raw).get("loads", False))
    if "default" in access:
        return bool(dict(access["default"]).get("loads", False))
    return True


def may_audit() -> bool:
    """Whether this session may read the audit log (the menu's check: no account list read)."""
    if auth_configured():
        email = user_email()
        account = local_sign_in.account_of(email) if email else None
        if account is not None and account.role == "lea_admin":
            return True
        return current_scope().statewide and can_load()
    if not local_sign_in.in_use():
        return current_scope().statewide
    account = local_sign_in.account()
    return account is not None and account.role in local_sign_in.LOADING_ROLES


def audited_users() -> list[str] | None:
    """Whose audit entries this session may read: ``None`` for everyone's, ``[]`` for none.

    State administrators and a plain local install see every entry; an LEA administrator
    sees the entries of the accounts assigned to their LEAs or those LEAs' schools, and their
    own. Everyone else sees none.
    """
    if not may_audit():
        return []
    email = user_email() if auth_configured() else None
    account = (local_sign_in.account_of(email) if email else
               None if auth_configured() else local_sign_in.account())
    if account is not None and account.role == "lea_admin":
        return local_sign_in.accounts_of_leas(account.leas) + [account.email]
    return None


def describe(scope: Scope) -> str:
    """A short sentence saying what a scope covers, for the sidebar (``queries.access``)."""
    return describe_scope(scope)
