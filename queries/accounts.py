"""Local accounts as the dashboard's sign-in reads them: any at all, one, sign in, the demo's.

Accounts live in the store's catalog (``data.catalog.accounts``); a signed-in account becomes a
:class:`queries.access.User` with :func:`queries.access.user_of`. A refused sign-in raises
``SignInError`` (an ``InputError``) whose message is the same sentence for an unknown e-mail
and a wrong password.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from data.catalog.accounts import Account, Accounts, SignInError
from data.problems import InputError
from data.synth.demo_accounts import DEMO_PASSWORD, demo_accounts

if TYPE_CHECKING:
    from data.results.store import Store


def has_accounts(store: Store) -> bool:
    """Whether the store holds any local account (then every session must sign in)."""
    try:
        return Accounts(store).list().height > 0
    except InputError:  # a store the catalog cannot read: no sign-in to offer
        return False


def read_account(store: Store, email: str) -> Account | None:
    """The account of an e-mail, ``None`` if there is none or ``email`` is not an address."""
    try:
        return Accounts(store).get(email)
    except InputError:
        return None


def list_accounts(store: Store) -> list[Account]:
    """Every local account, by e-mail."""
    accounts = Accounts(store)
    found = (accounts.get(email) for email in accounts.list().get_column("email"))
    return [a for a in found if a is not None]


def sign_in(store: Store, email: str, password: str) -> Account:
    """The account, if the password is right and it is not locked (audited either way).

    Raises ``SignInError`` with the sentence for the user.
    """
    return Accounts(store).sign_in(email, password)


def list_demo_accounts(store: Store) -> list[Account]:
    """The demo store's accounts (one per role, password ``DEMO_PASSWORD``); none elsewhere."""
    try:
        return demo_accounts(store)
    except InputError:
        return []


__all__ = ["DEMO_PASSWORD", "Account", "SignInError", "has_accounts", "list_accounts",
           "list_demo_accounts", "read_account", "sign_in"]
