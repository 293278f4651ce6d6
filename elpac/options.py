"""What the ``elpac`` commands share: their common options, errors, scope, audit and progress.

Bad input ends with a sentence saying what is wrong and exit code 1 (:func:`fail`), never a
traceback. Without ``--user`` a command acts for whoever runs it: they own the store, so their
scope is statewide with student records.
"""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from data.problems import InputError
from data.results.store import Store, store_path

if TYPE_CHECKING:
    from collections.abc import Sequence

    from queries.access import User
    from queries.scope import Scope
    from queries.snapshot import Snapshot

StoreOption = Annotated[Path | None, typer.Option(
    "--store", help="Store directory (default: $ELPAC_STORE, else data/store).",
    show_default=False)]
UserOption = Annotated[str | None, typer.Option(
    "--user", help="Apply this account's access (elpac users list), as the dashboard does.",
    show_default=False)]
TestOption = Annotated[str, typer.Option("--test", help="summative or alternate.")]
YearOption = Annotated[str, typer.Option("--year", help="School year, e.g. 2024-25.")]

TESTS = ("summative", "alternate")
SHOWN_PROBLEMS = 20
"""Problems printed on the terminal; a longer list ends with how many more there are."""


def fail(message: str) -> typer.Exit:
    """Print ``error: <message>`` on standard error; return the exit (code 1) to raise."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)


def check_test(test: str) -> None:
    """Refuse a ``--test`` other than ``summative`` or ``alternate`` (exit code 1)."""
    if test not in TESTS:
        raise fail("--test must be summative or alternate")


def operator_name() -> str:
    """The operator as the catalog records them: ``cli:<operating-system user>``.

    ``cli`` alone where the system cannot say who is logged in (a container without a user).
    """
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def acting_user(user: str | None) -> str:
    """Who a command acts for: the ``--user`` account (normalised), else the operator."""
    return user.strip().lower() if user else operator_name()


def snapshot(store: Path | None) -> Snapshot:
    """The store's current data, or an ``InputError`` saying there is none."""
    from queries.snapshot import Snapshot

    st = Store(store_path(store))
    if not st.exists():
        raise InputError(f"no store at {st.path}; run `elpac demo` or `elpac ingest` first")
    snap = Snapshot(st)
    if not snap.years:
        raise InputError(f"the store at {st.path} holds no results")
    return snap


def user_scope(store: Path | None, email: str | None) -> Scope | None:
    """The scope of ``--user`` (``None`` without it); ``InputError`` for an unknown account."""
    return None if email is None else acting(store, email).scope


def operator_scope(store: Path | None, user: str | None) -> Scope:
    """``--user``'s scope, else the operator's: statewide with student records."""
    from queries.scope import Scope

    scope = user_scope(store, user)
    return scope if scope is not None else Scope.state(pii=True)


def acting(store: Path | None, user: str | None) -> User:
    """Who a command acts as: the ``--user`` account, else the operator (everything).

    ``InputError`` for an unknown account. The rights that come with it (load files, make the
    parent-portal credential, change SSR languages, read the audit log) are decided in
    ``queries.access``, as for the dashboard.
    """
    from queries.access import User, user_of

    if user is None:
        return User.operator(operator_name())
    from data.catalog.accounts import Accounts

    the_store = Store(store_path(store))
    account = Accounts(the_store).get(user)
    if account is None:
        raise InputError(f"there is no account for {user.strip().lower()} "
                         "(elpac users list shows them)")
    return user_of(account, the_store)


def audit_export(store: Path | None, user: str | None, scope: Scope, target: Path,
                 detail: str, n_rows: int) -> None:
    """Record a command-line export in the store's audit log, as the dashboard does."""
    from queries.audit import record_event

    record_event(Store(store_path(store)), acting(store, user), "export",
                 detail=f"{target.name}; {detail}", n_rows=n_rows)


def target_path(out: Path, name: str) -> Path:
    """``out``, or the file's own ``name`` inside ``out`` when it is a directory."""
    return out / name if out.is_dir() else out


def echo_progress(fraction: float, message: str) -> None:
    """Progress of an export, one line per step (``queries.extracts``' callbacks)."""
    typer.echo(f"{fraction:>4.0%}  {message}")


def echo_count(done: int, total: int) -> None:
    """Progress of a bulk render on standard error: ``done`` of ``total``."""
    typer.echo(f"  {done:,} of {total:,}", err=True)


def echo_row_problems(file_name: str,
                      problems: Sequence[tuple[int, str, str, str]]) -> None:
    """Print the first problems of an uploaded CSV on standard error, then how many more."""
    for row, name, value, reason in problems[:SHOWN_PROBLEMS]:
        typer.echo(f"{file_name} row {row}, {name} {value!r}: {reason}", err=True)
    more = len(problems) - SHOWN_PROBLEMS
    if more > 0:
        typer.echo(f"... and {more} more", err=True)
