"""``elpac ssr-delivery``: record how SSRs reached parents, and list who is still waiting.

The commands read and write through ``queries.ssr_delivery``, which applies the scope:
``--user`` an account's (as the dashboard does), else the operator's, statewide with student
records (whoever can run ``elpac`` owns the store). Bad input ends with a sentence and exit
code 1.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path  # noqa: TC003 (typer reads the annotations at run time)
from typing import TYPE_CHECKING, Annotated

import polars as pl
import typer

from data.problems import InputError
from elpac.options import (
    StoreOption,
    TestOption,
    UserOption,
    YearOption,
    acting_user,
    audit_export,
    check_test,
    echo_row_problems,
    fail,
    operator_name,
    operator_scope,
    snapshot,
)

if TYPE_CHECKING:
    from data.catalog.ssr_deliveries import ImportResult
    from queries.scope import Scope
    from queries.snapshot import Snapshot

app = typer.Typer(
    no_args_is_help=True,
    help="Student Score Reports to parents: deliveries, bounces and returns, who is waiting.")

def _context(store: Path | None, user: str | None) -> tuple[Snapshot, Scope]:
    """The store's current data and the scope to apply."""
    return snapshot(store), operator_scope(store, user)


def _report(file: Path, result: ImportResult, what: str) -> None:
    if not result.loaded:
        echo_row_problems(file.name, result.problems)
        raise fail(f"nothing loaded: {len(result.problems)} problem(s) in {file.name}"
                   if result.problems else f"{file.name} has no rows")
    typer.echo(f"loaded {result.n_rows:,} rows from {file.name}: {result.n_added:,} new "
               f"{what}")


def _import(kind: str, file: Path, user: str | None, store: Path | None) -> None:
    from queries import ssr_delivery
    from queries.scope import ScopeError

    try:
        text = file.read_text(encoding="utf-8-sig")
        snap, scope = _context(store, user)
        run = (ssr_delivery.import_deliveries if kind == "deliveries"
               else ssr_delivery.import_failures)
        result = run(snap, scope, text, file_name=file.name, uploaded_by=acting_user(user))
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(f"cannot read {file}: {exc}") from None
    except (InputError, ScopeError, ValueError) as exc:
        raise fail(str(exc)) from None
    _report(file, result, "deliveries" if kind == "deliveries" else "bounces or returns")


@app.command("import-deliveries")
def import_deliveries(
    file: Annotated[Path, typer.Argument(help="CSV: ssid, school_year, test, method "
                                         "(portal, email, mail, in_person), date.")],
    user: UserOption = None,
    store: StoreOption = None,
) -> None:
    """Record SSR deliveries from a CSV file; one bad row and nothing is recorded."""
    _import("deliveries", file, user, store)


@app.command("import-failures")
def import_failures(
    file: Annotated[Path, typer.Argument(help="CSV: ssid, school_year, kind (bounced, "
                                         "returned), date, detail.")],
    user: UserOption = None,
    store: StoreOption = None,
) -> None:
    """Record bounced e-mails and returned letters from a CSV; one bad row, nothing recorded."""
    _import("failures", file, user, store)


@app.command("coverage")
def coverage(
    year: YearOption,
    school: Annotated[str | None, typer.Option(help="Only this enrolled school (14-digit CDS "
                                               "code).")] = None,
    test: TestOption = "summative",
    user: UserOption = None,
    store: StoreOption = None,
) -> None:
    """Print, per enrolled school, SSRs released, delivered, bounced or returned, not yet."""
    from queries.scope import ScopeError
    from queries.ssr_delivery import read_coverage, total_coverage

    check_test(test)
    try:
        snap, scope = _context(store, user)
        rows = read_coverage(snap, scope=scope, year=year, test=test, school=school)
    except (InputError, ScopeError, ValueError) as exc:
        raise fail(str(exc)) from None
    if rows.height == 0:
        typer.echo(f"no student in your access has a {year} {test} SSR")
        return
    head = (f"{'school':<40} {'CDS code':<14} {'with SSR':>8} {'released':>8} "
            f"{'delivered':>9} {'failed':>6} {'not yet':>7} {'% deliv.':>8}")
    typer.echo(head)
    total = total_coverage(rows).with_columns(name=pl.lit("Total"), school_code=pl.lit(""))
    for r in [*rows.iter_rows(named=True), *total.iter_rows(named=True)]:
        pct = "–" if r["pct_delivered"] is None else f"{r['pct_delivered']:.1f}%"
        typer.echo(f"{r['name'][:40]:<40} {r['school_code']:<14} {r['n_eligible']:>8,} "
                   f"{r['n_released']:>8,} {r['n_delivered']:>9,} {r['n_failed']:>6,} "
                   f"{r['n_not_delivered']:>7,} {pct:>8}")


@app.command("unreached")
def unreached(
    year: YearOption,
    out: Annotated[Path, typer.Option("-o", "--output", help="The CSV file to write.")],
    school: Annotated[str | None, typer.Option(help="Only this enrolled school (14-digit CDS "
                                               "code).")] = None,
    test: TestOption = "summative",
    user: UserOption = None,
    store: StoreOption = None,
) -> None:
    """Write the students whose parents have not been reached (CSV, safe for spreadsheets)."""
    from queries.scope import ScopeError
    from queries.spreadsheets import csv_bytes
    from queries.ssr_delivery import unreached_students

    check_test(test)
    try:
        snap, scope = _context(store, user)
        rows = unreached_students(snap, scope=scope, year=year, test=test, school=school)
        out.write_bytes(csv_bytes(rows))
        audit_export(store, user, scope, out, f"ssr-delivery unreached year={year} "
                     f"school={school} test={test} on={date.today()}", rows.height)
    except (InputError, ScopeError, ValueError, OSError) as exc:
        raise fail(str(exc)) from None
    typer.echo(f"wrote {rows.height:,} students not yet reached to {out}")


@app.command("resolve")
def resolve(
    failure: Annotated[int, typer.Argument(help="The bounce or return to close: the "
                                           "open_failure_id column of `unreached`.")],
    user: UserOption = None,
    store: StoreOption = None,
) -> None:
    """Mark a bounced e-mail or returned letter resolved (the family was reached another way)."""
    from queries.scope import ScopeError
    from queries.ssr_delivery import resolve_failure

    try:
        snap, scope = _context(store, user)
        resolve_failure(snap, scope, failure, resolved_by=user or operator_name())
    except (InputError, ScopeError, ValueError) as exc:
        raise fail(str(exc)) from None
    typer.echo(f"bounce or return {failure} marked resolved")
