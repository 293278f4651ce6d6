"""The ``elpac`` command: everything the dashboard does, scriptable.

Bad input ends with a sentence saying what is wrong and exit code 1, never a traceback.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import time
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer

from data.problems import InputError, format_row_problem
from data.store import Store, store_path

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Summative ELPAC and Summative Alternate ELPAC results explorer.")
export_app = typer.Typer(no_args_is_help=True, help="Write extracts for analysts.")
app.add_typer(export_app, name="export")

StoreOption = Annotated[Path | None, typer.Option(
    "--store", help="Store directory (default: $ELPAC_STORE, else data/store).",
    show_default=False)]
SHOWN_PROBLEMS = 20


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)


@app.command()
def layout(
    year: Annotated[str, typer.Option(help="School year, e.g. 2024-25.")] = "2024-25",
    fmt: Annotated[str, typer.Option("--format", help="markdown or csv.")] = "markdown",
    out: Annotated[Path | None, typer.Option("-o", "--output", help="File to write.")] = None,
) -> None:
    """Print a year's Student Score Data File layout: fields, types, acceptable values."""
    from data.domain import spring_year
    from data.layout import layout as get_layout
    from data.layout import layout_table

    try:
        spring_year(year)
        rows = layout_table(year)
        lay = get_layout(year)
    except (ValueError, KeyError) as exc:
        raise _fail(str(exc).strip("'")) from None
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        text = buf.getvalue()
    elif fmt == "markdown":
        title = (f"# Summative ELPAC and Summative Alternate ELPAC Student Score Data File, "
                 f"{year}\n\nLayout {lay.year}: {len(lay.headers)} fields, caret (^) delimited "
                 f"with a header row; the last field is always ZZ. Source: {lay.source}.\n\n")
        head = "| # | Header | Type | Acceptable values | Meaning | Store column |\n"
        head += "|---|---|---|---|---|---|\n"
        body = "".join(
            f"| {r['position']} | `{r['header']}` | {r['type']} | "
            f"{r['acceptable_values'].replace('|', '/')} | {r['meaning'].replace('|', '/')} | "
            f"{r['store_column']} |\n" for r in rows)
        text = title + head + body
    else:
        raise _fail("--format must be markdown or csv")
    if out:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {out} ({len(rows)} fields)")
    else:
        typer.echo(text, nl=False)


@app.command()
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
) -> None:
    """Check Student Score Data Files and load them, all or nothing."""
    from data.ingest import ingest as run_ingest

    if kind is not None and kind not in ("enrolled", "tested"):
        raise _fail("--kind must be enrolled or tested")
    if date_order is not None and date_order not in ("dmy", "mdy"):
        raise _fail("--date-order must be dmy or mdy")
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise _fail(f"no such file: {', '.join(missing)}")
    st = Store(store_path(store))
    started = time.perf_counter()
    try:
        result = run_ingest(files, store=st, year=year, kind=kind, date_order=date_order,
                            skip_bad_rows=skip_bad_rows, dry_run=check,
                            loaded_by=os.environ.get("USER"))
    except (InputError, ValueError) as exc:
        raise _fail(str(exc)) from None
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
        problems.write_csv(target)
        typer.echo(f"every problem is listed in {target}", err=True)
    if result.loaded:
        typer.echo(f"loaded into {st.path} in {elapsed:.1f} s")
    elif check and result.ok:
        typer.echo("checked: no problems; nothing was loaded (--check)")
    elif not result.ok:
        typer.echo("nothing was loaded" if not result.loaded else "", err=True)
    if not result.ok:
        raise typer.Exit(1)


@app.command()
def loads(store: StoreOption = None) -> None:
    """Show the load history of a store."""
    st = Store(store_path(store))
    try:
        history = st.loads()
    except InputError as exc:
        raise _fail(str(exc)) from None
    if history.height == 0:
        typer.echo(f"no loads in {st.path}")
        return
    for r in history.iter_rows(named=True):
        state = "current" if r["is_current"] else f"superseded by load {r['superseded_by']}"
        typer.echo(f"load {r['load_id']:>4}  {r['school_year']}  {r['kind']:<8}  "
                   f"LEA {r['lea_code']}  {r['n_records']:>9,} records  {state}  "
                   f"{r['file_name']}")


@app.command()
def demo(
    students: Annotated[int, typer.Option(help="Students per year, statewide.")] = 20_000,
    years: Annotated[str, typer.Option(help="School years, e.g. 2018-19..2025-26.")]
    = "2021-22..2025-26",
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same data).")] = 2024,
    store: StoreOption = None,
    as_of: Annotated[str | None, typer.Option(help="Date the data is as of (YYYY-MM-DD); the "
                                              "year in progress is partly released.")] = None,
    keep_files: Annotated[Path | None, typer.Option(help="Keep the generated TOMS files in "
                                                    "this directory.")] = None,
    if_missing: Annotated[bool, typer.Option(help="Do nothing if the store has data.")] = False,
) -> None:
    """Generate a synthetic statewide data set as real TOMS files and load it."""
    from data.synth import DemoSpec, build_demo

    st = Store(store_path(store))
    if if_missing and st.exists() and st.year_files():
        try:
            st.check_schema()
        except InputError as exc:
            raise _fail(str(exc)) from None
        typer.echo(f"{st.path} already has data; leaving it as it is")
        return
    try:
        spec = DemoSpec(students=students, years=years, seed=seed,
                        as_of=date.fromisoformat(as_of) if as_of else None)
        summary = build_demo(spec, st, keep_files=keep_files, echo=typer.echo)
    except (InputError, ValueError) as exc:
        raise _fail(str(exc)) from None
    typer.echo(summary)


@export_app.command("students")
def export_students(
    out: Annotated[Path, typer.Option("-o", "--output", help="File to write.")],
    year: Annotated[list[str] | None, typer.Option(help="School year(s); default: all.")] = None,
    lea: Annotated[str | None, typer.Option(help="14-digit CDS code of an LEA.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="csv, toms (caret, loads again) or "
                                     "xlsx.")] = "csv",
    store: StoreOption = None,
) -> None:
    """Write stored student records in the file layout (one row per record)."""
    from data.export import FORMATS
    from data.export import export_students as run_export

    if fmt not in FORMATS:
        raise _fail(f"--format must be one of {', '.join(FORMATS)}")
    st = Store(store_path(store))
    try:
        if not st.exists():
            raise InputError(f"no store at {st.path}")
        n = run_export(st, out, years=year or None, lea=lea, fmt=fmt)
    except InputError as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"wrote {n:,} records to {out}")


@export_app.command("research-file")
def export_research_file(
    out: Annotated[Path, typer.Option("-o", "--output", help="File to write.")],
    year: Annotated[str | None, typer.Option(help="School year; default: the latest.")] = None,
    test: Annotated[str, typer.Option(help="summative or alternate.")] = "summative",
    lea: Annotated[str | None, typer.Option(help="Only this LEA (14-digit CDS) and its "
                                            "schools.")] = None,
    no_suppress: Annotated[bool, typer.Option("--no-suppress", help="Show the scores of "
                                              "groups under 11 (not for publication).")]
    = False,
    store: StoreOption = None,
) -> None:
    """Write the CDE public research-file layout (caret-delimited) from the store."""
    from queries.reports import ScopeError
    from queries.research import research_rows, write_research_file
    from queries.scope import Scope
    from queries.snapshot import Snapshot

    if test not in ("summative", "alternate"):
        raise _fail("--test must be summative or alternate")
    try:
        snap = Snapshot(store_path(store))
        if not snap.years:
            raise InputError(f"the store at {snap.store.path} holds no results")
        chosen = year or snap.years[-1]
        rows = research_rows(snap, year=chosen, test=test, scope=Scope.state(), lea=lea,
                             suppress=not no_suppress)
        write_research_file(rows, out)
    except (InputError, ScopeError, ValueError) as exc:
        raise _fail(str(exc)) from None
    suppressed = "" if no_suppress else ", suppressed under 11"
    typer.echo(f"wrote {rows.height:,} rows ({chosen}, {test}{suppressed}) to {out}")


@app.command()
def serve(
    store: StoreOption = None,
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8501,
    address: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
) -> None:
    """Start the dashboard."""
    app_file = Path(__file__).resolve().parent.parent / "dashboard" / "app.py"
    env = dict(os.environ, ELPAC_STORE=str(store_path(store).resolve()))
    cmd = [sys.executable, "-m", "streamlit", "run", str(app_file), "--server.port", str(port),
           "--server.address", address, "--server.headless", "true",
           "--browser.gatherUsageStats", "false"]
    typer.echo(f"dashboard on http://{address}:{port} (store {env['ELPAC_STORE']})")
    # Streamlit reads .streamlit/config.toml from the working directory: run from the project
    # so its settings (no tracebacks for users, upload size) hold wherever serve is called.
    raise typer.Exit(subprocess.call(cmd, env=env, cwd=app_file.parent.parent))


def main() -> None:
    """Console-script entry point."""
    app()
