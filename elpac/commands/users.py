"""``elpac users``: the local accounts, their roles and where they may look."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path  # noqa: TC003 (typer reads the annotations at run time)
from typing import TYPE_CHECKING, Annotated

import typer

from data.problems import InputError
from data.results.store import Store, store_path
from elpac.options import StoreOption, fail

if TYPE_CHECKING:
    from data.catalog.accounts import Accounts

app = typer.Typer(no_args_is_help=True,
                  help="Local accounts: who may sign in, in which role, where.")

RoleOption = Annotated[str, typer.Option(
    help="state_admin, lea_admin, site_admin, teacher or viewer (aggregates only).")]
LeaOption = Annotated[list[str] | None, typer.Option(
    "--lea", help="An LEA's 14-digit CDS code (repeat for several).")]
SchoolOption = Annotated[list[str] | None, typer.Option(
    "--school", help="A school's 14-digit CDS code (repeat for several).")]
CountyOption = Annotated[list[str] | None, typer.Option(
    "--county", help="A two-digit county code (viewers only; repeat for several).")]
PasswordStdin = Annotated[bool, typer.Option(
    "--password-stdin", help="Read the password from the first line of standard input.")]


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


def _accounts(store: Path | None) -> Accounts:
    from data.catalog.accounts import Accounts

    return Accounts(Store(store_path(store)))


@app.command("add")
def users_add(
    email: Annotated[str, typer.Argument(help="The user's e-mail: their sign-in name.")],
    name: Annotated[str, typer.Option(help="The user's name, as the dashboard shows it.")],
    role: RoleOption,
    lea: LeaOption = None,
    school: SchoolOption = None,
    county: CountyOption = None,
    password_stdin: PasswordStdin = False,
    store: StoreOption = None,
) -> None:
    """Create a local account (the first one should be an LEA or state administrator)."""
    try:
        account = _accounts(store).add(
            email, name=name, role=role, password=_password(password_stdin),
            leas=tuple(lea or ()), schools=tuple(school or ()), counties=tuple(county or ()))
    except InputError as exc:
        raise fail(str(exc)) from None
    typer.echo(f"added {account.email} ({account.role})")


@app.command("list")
def users_list(store: StoreOption = None) -> None:
    """List the local accounts: e-mail, name, role, assignments, lockout, last sign-in."""
    listed = _accounts(store).list()
    if listed.height == 0:
        typer.echo("no accounts: add the first administrator with `elpac users add`")
        return
    for r in listed.iter_rows(named=True):
        locked = f"  locked until {r['locked_until']:%Y-%m-%d %H:%M}" if (
            r["locked_until"] and r["locked_until"] > datetime.now()) else ""
        seen = f"{r['last_sign_in']:%Y-%m-%d %H:%M}" if r["last_sign_in"] else "never"
        typer.echo(f"{r['email']:<36} {r['role']:<11} {r['name']:<24} "
                   f"{r['assignments'] or 'statewide'}  last sign-in {seen}{locked}")


@app.command("remove")
def users_remove(email: Annotated[str, typer.Argument()], store: StoreOption = None) -> None:
    """Delete a local account."""
    try:
        _accounts(store).remove(email)
    except InputError as exc:
        raise fail(str(exc)) from None
    typer.echo(f"removed {email.strip().lower()}")


@app.command("reset-password")
def users_reset_password(email: Annotated[str, typer.Argument()],
                         password_stdin: PasswordStdin = False,
                         store: StoreOption = None) -> None:
    """Set a new password (also ends a lockout)."""
    try:
        accounts = _accounts(store)
        if accounts.get(email) is None:
            raise InputError(f"there is no account for {email.strip().lower()}")
        accounts.reset_password(email, _password(password_stdin))
    except InputError as exc:
        raise fail(str(exc)) from None
    typer.echo(f"password of {email.strip().lower()} reset")


@app.command("assign")
def users_assign(
    email: Annotated[str, typer.Argument()],
    role: Annotated[str | None, typer.Option(help="A new role (default: unchanged).")] = None,
    lea: LeaOption = None,
    school: SchoolOption = None,
    county: CountyOption = None,
    store: StoreOption = None,
) -> None:
    """Replace an account's assignments (and role, with --role)."""
    try:
        account = _accounts(store).assign(email, role=role, leas=tuple(lea or ()),
                                          schools=tuple(school or ()),
                                          counties=tuple(county or ()))
    except InputError as exc:
        raise fail(str(exc)) from None
    where = ", ".join([*account.counties, *account.leas, *account.schools]) or "statewide"
    typer.echo(f"{account.email}: {account.role}, {where}")
