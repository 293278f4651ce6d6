"""``elpac rosters``: the student groups LEA staff make; a teacher sees the students of theirs.

``elpac groups``, the commands' earlier name, still runs them (a hidden alias in ``elpac.cli``).
"""

from __future__ import annotations

from pathlib import Path  # noqa: TC003 (typer reads the annotations at run time)
from typing import Annotated

import typer

from data.problems import InputError
from data.results.store import Store, store_path
from elpac.options import (
    StoreOption,
    UserOption,
    echo_row_problems,
    fail,
    operator_name,
    operator_scope,
)

app = typer.Typer(no_args_is_help=True,
                  help="Rosters made by LEA staff (teachers see their rosters).")


@app.command("import")
def rosters_import(
    file: Annotated[Path, typer.Argument(help="CSV: name, school CDS, SSID, user e-mail.")],
    by: Annotated[str | None, typer.Option("--by", help="Who uploads it (default: --user, "
                                           "else the operating-system user).")] = None,
    user: UserOption = None,
    store: StoreOption = None,
) -> None:
    """Add rosters from a CSV file; one bad row and nothing is added."""
    from queries.rosters import import_groups

    try:
        text = file.read_text(encoding="utf-8-sig")
        result = import_groups(Store(store_path(store)), operator_scope(store, user), text,
                               file_name=file.name, uploaded_by=user or by or operator_name())
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(f"cannot read {file}: {exc}") from None
    except (InputError, ValueError) as exc:
        raise fail(str(exc)) from None
    if not result.loaded:
        echo_row_problems(file.name, result.problems)
        raise fail(f"nothing added: {len(result.problems)} problem(s) in {file.name}"
                   if result.problems else f"{file.name} has no rows")
    typer.echo(f"added the groups of {result.n_rows:,} rows from {file.name}")


@app.command("list")
def rosters_list(user: UserOption = None, store: StoreOption = None) -> None:
    """List the rosters (``--user``: the ones that account may use)."""
    from queries.rosters import visible_groups

    try:
        listed = visible_groups(Store(store_path(store)), operator_scope(store, user))
    except (InputError, ValueError) as exc:
        raise fail(str(exc)) from None
    if listed.height == 0:
        typer.echo("no student groups: add some with `elpac rosters import FILE` or "
                   "`elpac rosters create`")
        return
    for r in listed.iter_rows(named=True):
        typer.echo(f"{r['key']:<46} {r['n_students']:>5} students  "
                   f"{r['users'] or 'not assigned'}")


RosterArgument = Annotated[str, typer.Argument(
    help='The roster as `elpac rosters list` shows it: "school CDS:name".')]


@app.command("create")
def rosters_create(
    name: Annotated[str, typer.Argument(help="The roster's name, e.g. \"Period 3\".")],
    school: Annotated[str, typer.Option("--school", help="14-digit school CDS code.")],
    ssid: Annotated[list[str] | None, typer.Option(
        "--ssid", help="A student's SSID (repeat, or give a file with --ssids-from).")] = None,
    ssids_from: Annotated[Path | None, typer.Option(
        "--ssids-from", help="A text file of SSIDs, one per line or separated by commas.")
    ] = None,
    assign: Annotated[list[str] | None, typer.Option(
        "--assign", help="An account to give the roster to (repeat).")] = None,
    user: UserOption = None,
    store: StoreOption = None,
) -> None:
    """Make a roster from SSIDs; one unknown or out-of-access SSID and nothing is made."""
    from queries.rosters import create_group

    wanted = list(ssid or [])
    try:
        if ssids_from is not None:
            wanted += ssids_from.read_text(encoding="utf-8-sig").replace(",", "\n").split()
        made = create_group(Store(store_path(store)), operator_scope(store, user), name=name,
                            school_code=school, ssids=wanted, created_by=user or operator_name(),
                            users=assign or ())
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(f"cannot read {ssids_from}: {exc}") from None
    except (InputError, ValueError) as exc:
        raise fail(str(exc)) from None
    typer.echo(f"{school}:{name.strip()}: {len(made):,} students")


@app.command("members")
def rosters_members(roster: RosterArgument, user: UserOption = None,
                    store: StoreOption = None) -> None:
    """Print the SSIDs of a roster, one per line."""
    from queries.rosters import group_students

    scope = operator_scope(store, user)
    if not scope.pii:
        raise fail("your access shows aggregate results only: group members are students")
    try:
        members = group_students(Store(store_path(store)), scope, [roster])[roster]
    except (InputError, ValueError) as exc:
        raise fail(str(exc)) from None
    typer.echo("\n".join(members))


@app.command("assign")
def rosters_assign(roster: RosterArgument,
                   email: Annotated[list[str], typer.Argument(help="Accounts to give it to.")],
                   user: UserOption = None, store: StoreOption = None) -> None:
    """Give a roster to users (their access then covers its students)."""
    from queries.rosters import assign_group

    try:
        assign_group(Store(store_path(store)), operator_scope(store, user), roster, email,
                     by=user or operator_name())
    except (InputError, ValueError) as exc:
        raise fail(str(exc)) from None
    typer.echo(f"{roster}: given to {', '.join(email)}")


@app.command("unassign")
def rosters_unassign(roster: RosterArgument, email: Annotated[str, typer.Argument()],
                     user: UserOption = None, store: StoreOption = None) -> None:
    """Take a roster away from a user."""
    from queries.rosters import unassign_group

    try:
        unassign_group(Store(store_path(store)), operator_scope(store, user), roster, email,
                       by=user or operator_name())
    except (InputError, ValueError) as exc:
        raise fail(str(exc)) from None
    typer.echo(f"{roster}: taken from {email}")


@app.command("remove")
def rosters_remove(roster: RosterArgument, user: UserOption = None,
                   store: StoreOption = None) -> None:
    """Delete a roster (the results stay; its users lose access to its students)."""
    from queries.rosters import remove_group

    try:
        remove_group(Store(store_path(store)), operator_scope(store, user), roster,
                     by=user or operator_name())
    except (InputError, ValueError) as exc:
        raise fail(str(exc)) from None
    typer.echo(f"removed {roster}")
