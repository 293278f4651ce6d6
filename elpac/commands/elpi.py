"""``elpac export elpi``, ``elpi-students`` and ``reclassification``: English learner progress.

The same frames as the dashboard's English learner progress page (``queries.elpi_*``,
``queries.elpi_export``), as CSV files (UTF-8 with a byte-order mark, spreadsheet-safe cells).
Without ``--user`` the operator acts (statewide, narrowed by ``--lea``); with it, exactly that
account's access, as the dashboard applies it. Every file written is in the audit log.
"""

from __future__ import annotations

from pathlib import Path  # noqa: TC003 (typer reads the annotations at run time)
from typing import TYPE_CHECKING, Annotated

import typer

from data.problems import InputError
from elpac.options import StoreOption, UserOption, audit_export, fail, snapshot, user_scope

if TYPE_CHECKING:
    from queries.scope import Scope
    from queries.snapshot import Snapshot

OutOption = Annotated[Path, typer.Option("-o", "--output", help="CSV file to write.")]
YearOption = Annotated[str | None, typer.Option(help="School year, e.g. 2024-25 (default: the "
                                                "latest); the year before gives the change.")]
LeaOption = Annotated[str | None, typer.Option(help="Only this LEA (14-digit CDS code) and its "
                                               "schools.")]


def _write(frame: object, out: Path) -> None:
    from queries.spreadsheets import csv_bytes

    out.write_bytes(csv_bytes(frame))  # type: ignore[arg-type]


def _reading(store: Path | None, user: str | None, year: str | None, lea: str | None, *,
             pii: bool) -> tuple[Snapshot, str, Scope]:
    """The store's data, the school year (default the newest) and the scope a command reads.

    The scope is ``--user``'s access, else the operator's (statewide, or ``--lea``).
    """
    from queries.scope import Scope

    snap = snapshot(store)
    scope = user_scope(store, user) or (Scope.lea(lea, pii=pii) if lea
                                        else Scope.state(pii=pii))
    return snap, year or snap.latest_year, scope


def export_elpi(
    out: OutOption,
    year: YearOption = None,
    lea: LeaOption = None,
    no_suppress: Annotated[bool, typer.Option("--no-suppress", help="Show the counts and "
                                              "rates of groups under 11 counted (not for "
                                              "publication).")] = False,
    user: UserOption = None,
    store: StoreOption = None,
) -> None:
    """Write the ELPI per organisation x student group (status, change, colour) as CSV."""
    from queries.elpi_export import elpi_table
    from queries.elpi_orgs import read_elpi
    from queries.scope import ScopeError

    try:
        snap, chosen, scope = _reading(store, user, year, lea, pii=False)
        rows = read_elpi(snap, chosen, scope=scope, lea=lea, suppress=not no_suppress)
        table = elpi_table(rows)
        _write(table, out)
        suppressed = not no_suppress or scope.suppressed
        audit_export(store, user, scope, out, f"elpi year={chosen} lea={lea} "
                     f"suppressed={suppressed}", table.height)
    except (InputError, ScopeError, ValueError) as exc:
        raise fail(str(exc)) from None
    note = ", groups under 11 suppressed" if suppressed else ""
    typer.echo(f"wrote {table.height:,} organisation x group rows ({chosen}{note}) to {out}")


def export_elpi_students(
    out: OutOption,
    year: YearOption = None,
    lea: LeaOption = None,
    school: Annotated[str | None, typer.Option(help="Only this school (14-digit CDS code).")]
    = None,
    user: UserOption = None,
    store: StoreOption = None,
) -> None:
    """Write each student's ELPI: counted or why not, ELPI levels, outcome, prior-year source."""
    from queries.elpi_export import student_table
    from queries.elpi_students import read_elpi_students
    from queries.scope import ScopeError

    try:
        snap, chosen, scope = _reading(store, user, year, lea, pii=True)
        table = student_table(read_elpi_students(snap, chosen, scope=scope, lea=lea,
                                                 school=school))
        _write(table, out)
        audit_export(store, user, scope, out, f"elpi-students year={chosen} lea={lea} "
                     f"school={school}", table.height)
    except (InputError, ScopeError, ValueError) as exc:
        raise fail(str(exc)) from None
    typer.echo(f"wrote {table.height:,} students ({chosen}) to {out}")


def export_reclassification(
    out: OutOption,
    year: YearOption = None,
    lea: LeaOption = None,
    summary: Annotated[bool, typer.Option("--summary", help="Counts by school and grade "
                                          "instead of the list of students.")] = False,
    local_minimums: Annotated[bool, typer.Option(
        "--local-minimums", help="Also say who meets the LEA's local domain minimums (set on "
        "the dashboard's page; needs --lea). The state's criterion 1 is the overall level "
        "alone.")] = False,
    user: UserOption = None,
    store: StoreOption = None,
) -> None:
    """Write the students meeting reclassification criterion 1 (TOMS's Criteria 1 report)."""
    from queries.elpi_reclass import (
        read_candidates,
        read_local_minimums,
        summarise_candidates,
    )
    from queries.scope import ScopeError

    if local_minimums and not lea:
        raise fail("--local-minimums needs --lea: minimums are set per LEA")
    try:
        snap, chosen, scope = _reading(store, user, year, lea, pii=True)
        local = read_local_minimums(snap.store, lea) if local_minimums and lea else None
        students = read_candidates(snap, chosen, scope=scope, lea=lea, local=local,
                                   only_candidates=not summary)
        table = summarise_candidates(students) if summary else students
        _write(table, out)
        audit_export(store, user, scope, out, f"reclassification year={chosen} lea={lea} "
                     f"summary={summary} local={local}", table.height)
    except (InputError, ScopeError, ValueError) as exc:
        raise fail(str(exc)) from None
    what = "school x grade rows" if summary else "students meeting criterion 1"
    typer.echo(f"wrote {table.height:,} {what} ({chosen}) to {out}")
