"""``elpac import research-file``, ``elpac published`` and ``elpac export reconcile``.

CDE's public ELPAC research file (ELPAC.md §5.1, §5.3) imported as published aggregates, the
list of what was imported, and our aggregates set beside it cell by cell.
"""

from __future__ import annotations

from pathlib import Path  # noqa: TC003 (typer reads the annotations at run time)
from typing import Annotated

import typer

from data.problems import InputError
from data.results.store import Store, store_path
from elpac.options import (
    StoreOption,
    TestOption,
    UserOption,
    YearOption,
    audit_export,
    check_test,
    fail,
    operator_name,
    snapshot,
    user_scope,
)

import_app = typer.Typer(no_args_is_help=True,
                         help="Import files published by the state (CDE) into the store.")


@import_app.command("research-file")
def import_research_file(
    file: Annotated[Path, typer.Argument(help="The caret-delimited research file (.txt, or "
                                         "the .zip CDE publishes).", show_default=False)],
    year: Annotated[str | None, typer.Option(help="School year, e.g. 2024-25 (default: the "
                                             "file's TestYear).")] = None,
    test: Annotated[str | None, typer.Option(help="summative or alternate (default: what the "
                                             "columns say).")] = None,
    entities: Annotated[Path | None, typer.Option(help="The entities file (names of the "
                                                  "counties, districts and schools).")] = None,
    store: StoreOption = None,
) -> None:
    """Check a CDE research file row by row and import it as published aggregates."""
    from data.published.store import ResearchFileRefused
    from data.published.store import import_research_file as run_import

    if test is not None:
        check_test(test)
    try:
        result = run_import(Store(store_path(store)), file, year=year, test=test,
                            entities=entities, imported_by=operator_name())
    except ResearchFileRefused as exc:
        raise fail(str(exc)) from None
    except (InputError, ValueError, OSError) as exc:
        raise fail(str(exc)) from None
    version = f", {result.version_label}" if result.version_label else ""
    what = f"{result.file_name} ({result.school_year} {result.test}{version})"
    if result.status == "already imported":
        typer.echo(f"already imported: {what} is published file {result.file_id}; nothing "
                   "changed")
    else:
        typer.echo(f"imported {result.n_rows:,} rows from {what} as published file "
                   f"{result.file_id}, now the current one")


def list_published(store: StoreOption = None) -> None:
    """List the imported research files, newest first, and which is current."""
    from queries.published import published_files

    try:
        files = published_files(Store(store_path(store)))
    except InputError as exc:
        raise fail(str(exc)) from None
    if files.height == 0:
        typer.echo("no research file imported yet: elpac import research-file FILE")
        return
    for f in files.iter_rows(named=True):
        current = "current" if f["is_current"] else "older"
        version = f" {f['version_label']}" if f["version_label"] else ""
        typer.echo(f"{f['file_id']:>4}  {f['school_year']} {f['test']:<9} {current:<7} "
                   f"{f['file_name']}{version}  {f['n_rows']:,} rows  "
                   f"{f['imported_at']:%Y-%m-%d %H:%M} by {f['imported_by']}")


def export_reconcile(
    out: Annotated[Path, typer.Option("-o", "--out", help="File to write: .csv or .xlsx.")],
    year: YearOption,
    test: TestOption = "summative",
    lea: Annotated[str | None, typer.Option(help="Only this LEA (14-digit CDS) and its "
                                            "schools.")] = None,
    all_cells: Annotated[bool, typer.Option("--all", help="Every compared cell (default: "
                                            "only those that are not the same).")] = False,
    user: UserOption = None,
    store: StoreOption = None,
) -> None:
    """Write our aggregates beside the published research file, cell by cell."""
    from queries.reconcile import reconcile, reconcile_file
    from queries.scope import Scope, ScopeError

    check_test(test)
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in ("csv", "xlsx"):
        raise fail("--out must name a .csv or .xlsx file")
    try:
        snap = snapshot(store)
        scope = user_scope(store, user) or Scope.state()
        result = reconcile(snap, year=year, test=test, scope=scope, lea=lea)
        data = reconcile_file(result, fmt, all_cells=all_cells)
        tmp = out.with_name(out.name + ".part")
        tmp.write_bytes(data)
        tmp.replace(out)
        n_rows = result.table(all_cells=all_cells).height
        audit_export(store, user, scope, out, f"reconcile year={year} test={test} lea={lea} "
                     f"all={all_cells}", n_rows)
    except (InputError, ScopeError, ValueError, OSError) as exc:
        raise fail(str(exc)) from None
    typer.echo(result.summary())
    typer.echo(f"wrote {n_rows:,} cells to {out}")
