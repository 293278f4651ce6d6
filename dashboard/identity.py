"""Who is using the dashboard: the one place identity becomes a Scope and a ``User``.

Scopes and rights are enforced in ``queries`` (every query takes a scope, and the permission
rules are ``queries.access``'s); here we only decide which scope and which rights the
configuration gives a session (:func:`current_user`). Sources, first match wins:

1. a signed-in user (``st.user``, OpenID Connect via ``st.login``) listed in the secrets'
   ``[access.users."<email>"]`` table: ``statewide``, ``counties``, ``leas``, ``schools``,
   ``groups``, ``pii``, and ``loads`` (an LEA coordinator's rights: :func:`current_user`);
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

import getpass
import json
import os
from dataclasses import replace
from typing import Any

import streamlit as st

from dashboard import cached, local_sign_in
from queries.access import User, describe_scope, scope_of, user_of
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


def who() -> str:
    """How the audit log and the catalog name this session's user.

    The signed-in e-mail, else ``local:<operating-system user>`` (nobody signs in).
    """
    email = signed_in_email()
    if email:
        return email
    try:
        return f"local:{getpass.getuser()}"
    except (KeyError, OSError):
        return "local"


def current_user() -> User:
    """The acting user of this session: name, scope and the rights the configuration grants.

    Query functions decide with it (``queries.access``); pages only ask them. The sources are
    those of :func:`current_scope`, in the same order. A local account's rights are its
    role's (``queries.access.user_of``). Elsewhere ``loads`` (may load files, make the parent-
    portal credential, change SSR languages) must be granted explicitly
    (``[access.users."<email>"] loads = true``, or ``"loads": true`` in ``$ELPAC_SCOPE``): only
    the plain local install, with no access configuration at all, has it without. The audit
    log is read by statewide users with load rights, and without sign-in by statewide scopes.
    """
    access = _secrets_access()
    email = user_email()
    name = who()
    if email is not None:
        account = local_sign_in.account_of(email)
        users = access.get("users", {})
        if email in users:
            scope, loads = _scope_from(users[email]), bool(users[email].get("loads", False))
            role = account.role if account is not None else None
            return User(name, scope, email=email, loads=loads, role=role,
                        audits=role == "lea_admin" or (scope.statewide and loads))
        if account is None:
            return User(name, Scope(), email=email)
        return replace(user_of(account, cached.store()), name=name, email=email)
    if auth_configured():
        # Not signed in on a shared server: the default scope at most, and no rights.
        return User(name, current_scope())
    if local_sign_in.in_use():
        account = local_sign_in.account()
        return user_of(account, cached.store()) if account is not None else User(name, Scope())
    raw = os.environ.get("ELPAC_SCOPE")
    table = json.loads(raw) if raw else dict(access["default"]) if "default" in access else None
    if table is not None:
        scope = _scope_from(table)
        return User(name, scope, loads=bool(table.get("loads", False)), audits=scope.statewide)
    return User(name, LOCAL_DEFAULT, loads=True, audits=True)


def describe(scope: Scope) -> str:
    """A short sentence saying what a scope covers, for the sidebar (``queries.access``)."""
    return describe_scope(scope)
