"""``elpac users``: add, list, assign, reset-password and remove local accounts."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from typer.testing import CliRunner

from data.catalog.accounts import MAX_FAILURES, Accounts, SignInError
from data.results.store import Store
from elpac.cli import app

if TYPE_CHECKING:
    from pathlib import Path

LEA = "19647330000000"
SCHOOL = "19647331932334"
PASSWORD = "correct horse battery staple"


def users(store: Path, *args: str, password: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["users", *args, "--store", str(store)],
                                input=None if password is None else password + "\n")
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        result.exception)
    return result.exit_code, result.output


def test_add_list_assign_remove(tmp_path: Path) -> None:
    store = tmp_path / "store"
    code, out = users(store, "list")
    assert (code, out.strip()) == (0, "no accounts: add the first administrator with "
                                      "`elpac users add`")
    code, out = users(store, "add", "Ana@Example.org", "--name", "Ana Ruiz", "--role",
                      "lea_admin", "--lea", LEA, "--password-stdin", password=PASSWORD)
    assert (code, out.strip()) == (0, "added ana@example.org (lea_admin)")
    assert Accounts(Store(store)).sign_in("ana@example.org", PASSWORD).leas == (LEA,)
    code, out = users(store, "list")
    assert code == 0
    assert "ana@example.org" in out
    assert f"lea {LEA}" in out
    assert "Ana Ruiz" in out
    code, out = users(store, "assign", "ana@example.org", "--role", "site_admin", "--school",
                      SCHOOL)
    assert (code, out.strip()) == (0, f"ana@example.org: site_admin, {SCHOOL}")
    code, out = users(store, "remove", "ana@example.org")
    assert (code, out.strip()) == (0, "removed ana@example.org")
    assert Accounts(Store(store)).get("ana@example.org") is None


@pytest.mark.parametrize(("args", "password", "message"), [
    (["add", "b@x.org", "--name", "B", "--role", "viewer", "--lea", LEA, "--password-stdin"],
     "short", "a password needs at least 12 characters"),
    (["add", "b@x.org", "--name", "B", "--role", "lea_admin", "--password-stdin"],
     PASSWORD, "an LEA administrator needs at least one lea code"),
    (["add", "b@x.org", "--name", "B", "--role", "boss", "--password-stdin"],
     PASSWORD, "unknown role 'boss'"),
    (["remove", "nobody@x.org"], None, "there is no account for nobody@x.org"),
    (["reset-password", "nobody@x.org", "--password-stdin"], PASSWORD,
     "there is no account for nobody@x.org"),
])
def test_bad_requests_say_why_and_exit_1(tmp_path: Path, args: list[str],
                                         password: str | None, message: str) -> None:
    code, out = users(tmp_path / "store", *args, password=password)
    assert code == 1
    assert f"error: {message}" in out
    assert "Traceback" not in out


def test_reset_password_ends_a_lockout(tmp_path: Path) -> None:
    store = tmp_path / "store"
    users(store, "add", "ana@x.org", "--name", "Ana", "--role", "state_admin",
          "--password-stdin", password=PASSWORD)
    accounts = Accounts(Store(store))
    for _ in range(MAX_FAILURES):
        with pytest.raises(SignInError):
            accounts.sign_in("ana@x.org", "not the password")
    assert "locked until" in users(store, "list")[1]
    code, out = users(store, "reset-password", "ana@x.org", "--password-stdin",
                      password="a new long passphrase")
    assert (code, out.strip()) == (0, "password of ana@x.org reset")
    assert "locked until" not in users(store, "list")[1]
    assert accounts.sign_in("ana@x.org", "a new long passphrase").email == "ana@x.org"
