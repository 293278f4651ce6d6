"""``elpac layout``, ``elpac ingest`` and ``elpac loads``: score data files and their loads.

``elpac loads`` is a group: on its own it shows the load history, ``elpac loads undo`` takes a
load back (``data.results.undo``).
"""

from __future__ import annotations

import csv
import io
import os
import time
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from data.problems import InputError, format_row_problem
from data.results.store import Store, store_path
from elpac.options import SHOWN_PROBLEMS, StoreOption, fail
from queries.spreadsheets import csv_bytes


def layout(
    year: Annotated[str, typer.Option(help="School year, e.g. 2024-25.")] = "2024-25",
    fmt: Annotated[str, typer.Option("--format", help="markdown or csv.")] = "markdown",
    out: Annotated[Path | None, typer.Option("-o", "--output", help="File to write.")] = None,
) -> None:
    """Print a year's Student Score Data File layout: fields, types, acceptable values."""
    from data.domain import spring_year
    from data.toms.layout import layout as get_layout
    from data.toms.layout import layout_table

    try:
        spring_year(year)
        rows = layout_table(year)
        lay = get_layout(year)
    except (ValueError, KeyError) as exc:
        raise fail(str(exc).strip("'")) from None
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        text = buf.getvalue()
    elif fmt == "markdown":
        title = (f"# Summative ELPAC and Summative Alternate ELPAC Student Score Data File, "
                 f"{year}\n\nLayout {lay.year}: {len(lay.headers)} fields, caret (^) delimited "
                 f"with a header row; the last field is always ZZ. Source: {lay.source}."
                 + (f" {lay.note}" if lay.note else "") + "\n\n")
        head = "| # | Header | Type | Acceptable values | Meaning | Store column |\n"
        head += "|---|---|---|---|---|---|\n"
        body = "".join(
            f"| {r['position']} | `{r['header']}` | {r['type']} | "
            f"{r['acceptable_values'].replace('|', '/')} | {r['meaning'].replace('|', '/')} | "
            f"{r['store_column']} |\n" for r in rows)
        text = title + head + body
    else:
        raise fail("--format must be markdown or csv")
    if out:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {out} ({len(rows)} fields)")
    else:
        typer.echo(text, nl=False)


def ingest(
    files: Annotated[list[Path], typer.Argument(help="Student Score Data Files (.csv/.txt/.xlsx).",
                                                show_default=False)],
    year: Annotated[str | None, typer.Option(help="School year when the file does not say, "
                                             "e.g. 2024-25.")] = None,
    kind: Annotated[str | None, typer.Option(help="enrolled or tested, when the file name does "
                                             "not say.")] = None,
    store: StoreOption = None,
    date_order: Annotated[str | None, typer.Option(help="dmy or mdy for spreadsheet dates such "
                                                   "as 09-11-2021.")] = None,
    skip_bad_rows: Annotated[bool, typer.Option(help="Load the valid rows and report the "
                                                "others (default: one bad row stops the "
                                                "load).")] = False,
    check: Annotated[bool, typer.Option("--check", help="Check only; load nothing.")] = False,
    report: Annotated[Path | None, typer.Option(help="Where to write every problem (CSV).")]
    = None,
    replace: Annotated[bool, typer.Option("--replace", help="Load even when a file removes "
                                          "students that the file it replaces lists (the "
                                          "refusal says how many).")] = False,
) -> None:
    """Check Student Score Data Files and load them, all or nothing."""
    from data.results.ingest import ingest as run_ingest

    if kind is not None and kind not in ("enrolled", "tested"):
        raise fail("--kind must be enrolled or tested")
    if date_order is not None and date_order not in ("dmy", "mdy"):
        raise fail("--date-order must be dmy or mdy")
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise fail(f"no such file: {', '.join(missing)}")
    st = Store(store_path(store))
    started = time.perf_counter()
    try:
        result = run_ingest(files, store=st, year=year, kind=kind, date_order=date_order,
                            skip_bad_rows=skip_bad_rows, dry_run=check,
                            loaded_by=os.environ.get("USER"), replace=replace)
    except (InputError, ValueError) as exc:
        raise fail(str(exc)) from None
    elapsed = time.perf_counter() - started
    for o in result.outcomes:
        detail = f"{o.school_year or '?'} {o.kind or '?'}, {o.n_records:,} records"
        if o.n_rejected:
            detail += f", {o.n_rejected:,} rejected"
        line = f"{o.status:>9}  {o.file}  ({detail})"
        if o.load_id:
            line += f"  load {o.load_id}"
        if o.message and o.status != "refused":
            line += f"  {o.message}"
        typer.echo(line)
        if o.kind_note:
            typer.echo(f"{'':11}{o.kind_note}")
    for p in result.file_problems:
        typer.echo(f"error: {p}", err=True)
    problems = result.row_problems
    if problems.height:
        typer.echo(f"{problems.height:,} problem(s) in "
                   f"{problems.select('file', 'row').n_unique():,} row(s):", err=True)
        for row in problems.head(SHOWN_PROBLEMS).iter_rows(named=True):
            typer.echo("  " + format_row_problem(row), err=True)
        if problems.height > SHOWN_PROBLEMS:
            typer.echo(f"  ... and {problems.height - SHOWN_PROBLEMS:,} more", err=True)
        target = report or Path(f"ingest-problems-{datetime.now():%Y%m%d-%H%M%S}.csv")
        # Values quoted from the file: a spreadsheet must not run one (queries.spreadsheets).
        target.write_bytes(csv_bytes(problems))
        typer.echo(f"every problem is listed in {target}", err=True)
    if result.loaded:
        typer.echo(f"loaded into {st.path} in {elapsed:.1f} s")
    elif check and result.ok:
        typer.echo("checked: no problems; nothing was loaded (--check)")
    elif not result.ok:
        typer.echo("nothing was loaded" if not result.loaded else "", err=True)
    if not result.ok:
        raise typer.Exit(1)


loads_app = typer.Typer(invoke_without_command=True, help="The load history of a store "
                        "(on its own), and taking a load back (undo).")


@loads_app.callback()
def loads(ctx: typer.Context, store: StoreOption = None) -> None:
    """Show the load history of a store: what each file replaced, what is current."""
    if ctx.invoked_subcommand is not None:
        return
    st = Store(store_path(store))
    try:
        history = st.loads()
    except InputError as exc:
        raise fail(str(exc)) from None
    if history.height == 0:
        typer.echo(f"no loads in {st.path}")
        return
    for r in history.iter_rows(named=True):
        if r["is_undone"]:
            state = "undone"
        elif r["is_current"]:
            state = "current"
        else:
            state = f"superseded by load {r['superseded_by']}"
        if r["replaced_load_id"] is not None:
            state += f", replaced load {r['replaced_load_id']}"
        typer.echo(f"load {r['load_id']:>4}  {r['school_year']}  {r['kind']:<8}  "
                   f"LEA {r['lea_code']}  {r['n_records']:>9,} records  {state}  "
                   f"{r['file_name']}")


@loads_app.command("undo")
def undo(
    load_id: Annotated[int, typer.Argument(help="The load to take back (elpac loads lists "
                                           "them).", show_default=False)],
    store: StoreOption = None,
) -> None:
    """Take a load back: what it replaced is current again, in one new data version."""
    from data.results.undo import undo as run_undo

    st = Store(store_path(store))
    try:
        done = run_undo(st, load_id, undone_by=os.environ.get("USER"))
    except InputError as exc:
        raise fail(str(exc)) from None
    typer.echo(done.sentence())
