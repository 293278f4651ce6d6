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
from typing import TYPE_CHECKING, Annotated

import typer

from data.problems import InputError, format_row_problem
from data.results.store import Store, store_path
from elpac.distribution_cli import distribution_app
from elpac.portal_cli import credentials_app, portal_api

if TYPE_CHECKING:
    from data.catalog.accounts import Accounts
    from queries.scope import Scope
    from queries.snapshot import Snapshot

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Summative ELPAC and Summative Alternate ELPAC results explorer.")
export_app = typer.Typer(no_args_is_help=True, help="Write extracts for analysts.")
app.add_typer(export_app, name="export")
users_app = typer.Typer(no_args_is_help=True,
                        help="Local accounts: who may sign in, in which role, where.")
app.add_typer(users_app, name="users")
groups_app = typer.Typer(no_args_is_help=True,
                         help="Student groups made by LEA staff (teachers see their groups).")
app.add_typer(groups_app, name="groups")
ssr_app = typer.Typer(no_args_is_help=True,
                      help="Student Score Reports: one student's, or many as one PDF or a zip.")
app.add_typer(ssr_app, name="ssr")

StoreOption = Annotated[Path | None, typer.Option(
    "--store", help="Store directory (default: $ELPAC_STORE, else data/store).",
    show_default=False)]
SHOWN_PROBLEMS = 20
UserOption = Annotated[str | None, typer.Option(
    "--user", help="Apply this account's access (elpac users list), as the dashboard does.",
    show_default=False)]


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
    from data.toms.layout import layout as get_layout
    from data.toms.layout import layout_table

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
    from data.results.ingest import ingest as run_ingest

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
    accounts: Annotated[bool, typer.Option(
        help="Create demo accounts, one per role, listed on the sign-in form.")] = True,
) -> None:
    """Generate a synthetic statewide data set as real TOMS files and load it."""
    from data.catalog.accounts import DEMO_PASSWORD, create_demo_accounts
    from data.synth.generator import DemoSpec, build_demo

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
        made = create_demo_accounts(st) if accounts else []
    except (InputError, ValueError) as exc:
        raise _fail(str(exc)) from None
    typer.echo(summary)
    if made:
        typer.echo(f"demo accounts (password {DEMO_PASSWORD}): "
                   + ", ".join(f"{a.email} ({a.role})" for a in made))


def _echo_progress(fraction: float, message: str) -> None:
    """Progress of an export, one line per step (``queries.extracts``' callbacks)."""
    typer.echo(f"{fraction:>4.0%}  {message}")


def _day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _fail(f"{option} must be a date written YYYY-MM-DD, e.g. 2025-05-01") from None


def _snapshot(store: Path | None) -> Snapshot:
    """The store's current data, or an ``InputError`` saying there is none."""
    from queries.snapshot import Snapshot

    st = Store(store_path(store))
    if not st.exists():
        raise InputError(f"no store at {st.path}; run `elpac demo` or `elpac ingest` first")
    snap = Snapshot(st)
    if not snap.years:
        raise InputError(f"the store at {st.path} holds no results")
    return snap


def _user_scope(store: Path | None, email: str | None) -> Scope | None:
    """The scope of ``--user`` (``None`` without it); ``InputError`` for an unknown account."""
    if email is None:
        return None
    from data.catalog.accounts import Accounts
    from queries.access import scope_of

    the_store = Store(store_path(store))
    account = Accounts(the_store).get(email)
    if account is None:
        raise InputError(f"there is no account for {email.strip().lower()} "
                         "(elpac users list shows them)")
    return scope_of(account, the_store)


def _audit_export(store: Path | None, user: str | None, scope: Scope, target: Path,
                  detail: str, n_rows: int) -> None:
    """Record a command-line export in the store's audit log (data.catalog.audit)."""
    import getpass

    from data.catalog import audit
    from queries.access import describe_scope

    try:
        who = user.strip().lower() if user else f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        who = "cli"
    audit.record(Store(store_path(store)), who, "export", scope=describe_scope(scope),
                 detail=f"{target.name}; {detail}", n_rows=n_rows)


def _target(out: Path, name: str) -> Path:
    """``out``, or the extract's own file name inside ``out`` when it is a directory."""
    return out / name if out.is_dir() else out


@export_app.command("students")
def export_students(
    out: Annotated[Path, typer.Option("-o", "--output", help="File to write, or a directory "
                                      "to write it in under its own name.")],
    year: Annotated[list[str] | None, typer.Option(help="School year(s); default: all.")] = None,
    lea: Annotated[str | None, typer.Option(help="14-digit CDS code of an LEA.")] = None,
    by: Annotated[str | None, typer.Option(help="enrolled or tested: the LEA's enrolled-LEA "
                                           "or tested-LEA records, as TOMS offers them "
                                           "(default: either).")] = None,
    score_from: Annotated[str | None, typer.Option(help="Scores available on or after this "
                                                   "date (default with one --year: February "
                                                   "1 of the year).")] = None,
    score_to: Annotated[str | None, typer.Option(help="Scores available on or before this "
                                                 "date.")] = None,
    scored_only: Annotated[bool, typer.Option("--scored-only", help="Leave out records "
                                              "without a score-available date (not "
                                              "tested).")] = False,
    fmt: Annotated[str, typer.Option("--format", help="csv, xlsx or toms (caret, loads "
                                     "again).")] = "csv",
    user: UserOption = None,
    store: StoreOption = None,
) -> None:
    """Write Student Score Data File records in the file layout (one row per record)."""
    from queries.extracts import (
        EXTENSIONS,
        SIDES,
        STATE,
        build_ssdf_extract,
        extract_file_name,
        score_window_start,
    )
    from queries.scope import Scope, ScopeError

    if fmt not in EXTENSIONS:
        raise _fail(f"--format must be one of {', '.join(EXTENSIONS)}")
    if by is not None and by not in SIDES:
        raise _fail("--by must be enrolled or tested")
    start, end = _day(score_from, "--score-from"), _day(score_to, "--score-to")
    try:
        snap = _snapshot(store)
        years = list(dict.fromkeys(year)) if year else list(snap.years)
        if start is None and len(years) == 1 and years[0] in snap.years:
            start = score_window_start(years[0])
        # The operator's tool: statewide with student records, unless --lea narrows it, or
        # exactly an account's access with --user.
        scope = _user_scope(store, user) or (
            Scope.lea(lea, pii=True) if lea else Scope.state(pii=True))
        name = extract_file_name("ssdf", detail=by or "all", org=lea or STATE,
                                 year=years[0] if len(years) == 1 else "all-years", fmt=fmt,
                                 on=date.today())
        target = _target(out, name)
        typer.echo(f"extracting {', '.join(years)}" + (f", LEA {lea}" if lea else "")
                   + (f", {by} records" if by else "")
                   + (f", scores available {start or '...'} to {end or '...'}"
                      if start or end else ""))
        result = build_ssdf_extract(snap, target, scope=scope, years=years, lea=lea,
                                    by=by, score_from=start, score_to=end,  # type: ignore[arg-type]
                                    scored_only=scored_only, fmt=fmt, progress=_echo_progress)
        _audit_export(store, user, scope, target, f"students years={','.join(years)} "
                      f"lea={lea} by={by} from={start} to={end}", result.n_rows)
    except (InputError, ScopeError, ValueError) as exc:
        raise _fail(str(exc)) from None
    sheets = f" on {len(result.sheets)} sheets" if len(result.sheets) > 1 else ""
    typer.echo(f"wrote {result.n_rows:,} records to {target}{sheets}")
    if result.n_rows == 0:
        typer.echo("warning: no record matches these options", err=True)


@export_app.command("district")
def export_district(
    out: Annotated[Path | None, typer.Argument(help="File to write, or a directory to write "
                                               "it in under its own name.",
                                               show_default=False)] = None,
    lea: Annotated[str, typer.Option(help="14-digit CDS code of the LEA.",
                                     show_default=False)] = "",
    school: Annotated[str | None, typer.Option(help="14-digit CDS code of one of its "
                                               "schools.")] = None,
    year: Annotated[str | None, typer.Option(help="School year; default: the latest.")] = None,
    test: Annotated[str, typer.Option(help="summative or alternate.")] = "summative",
    fmt: Annotated[str, typer.Option("--format", help="csv or xlsx.")] = "csv",
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Same as OUT.")] = None,
    user: UserOption = None,
    store: StoreOption = None,
) -> None:
    """Write the District/School export: each student's results and demographics (CERS)."""
    from queries.extracts import build_district_export, extract_file_name
    from queries.scope import Scope, ScopeError

    if not lea:
        raise _fail("--lea is required: the 14-digit CDS code of the LEA")
    if (out is None) == (output is None):
        raise _fail("give the file to write once, as OUT or with -o")
    if test not in ("summative", "alternate"):
        raise _fail("--test must be summative or alternate")
    if fmt not in ("csv", "xlsx"):
        raise _fail("--format must be csv or xlsx")
    try:
        snap = _snapshot(store)
        chosen = year or snap.years[-1]
        name = extract_file_name("district", detail=test, org=school or lea, year=chosen,
                                 fmt=fmt, on=date.today())
        target = _target(out or output, name)  # type: ignore[arg-type]
        scope = _user_scope(store, user) or Scope.lea(lea, pii=True)
        result = build_district_export(snap, target, scope=scope,
                                       year=chosen, lea=lea, school=school, test=test, fmt=fmt,
                                       progress=_echo_progress)
        _audit_export(store, user, scope, target, f"district year={chosen} lea={lea} "
                      f"school={school} test={test}", result.n_rows)
    except (InputError, ScopeError, ValueError) as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"wrote {result.n_rows:,} students ({chosen}, {test}) to {target}")


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
    user: UserOption = None,
    store: StoreOption = None,
) -> None:
    """Write the CDE public research-file layout (caret-delimited) from the store."""
    from queries.research import research_rows, write_research_file
    from queries.scope import Scope, ScopeError
    from queries.snapshot import Snapshot

    if test not in ("summative", "alternate"):
        raise _fail("--test must be summative or alternate")
    try:
        snap = Snapshot(store_path(store))
        if not snap.years:
            raise InputError(f"the store at {snap.store.path} holds no results")
        chosen = year or snap.years[-1]
        scope = _user_scope(store, user) or Scope.state()
        rows = research_rows(snap, year=chosen, test=test, scope=scope, lea=lea,
                             suppress=not no_suppress)
        write_research_file(rows, out)
        _audit_export(store, user, scope, out, f"research-file year={chosen} test={test} "
                      f"lea={lea} suppressed={not no_suppress or scope.suppressed}", rows.height)
    except (InputError, ScopeError, ValueError) as exc:
        raise _fail(str(exc)) from None
    suppressed = "" if no_suppress and not scope.suppressed else ", suppressed under 11"
    typer.echo(f"wrote {rows.height:,} rows ({chosen}, {test}{suppressed}) to {out}")


# -- users --------------------------------------------------------------------------------

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


@users_app.command("add")
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
        raise _fail(str(exc)) from None
    typer.echo(f"added {account.email} ({account.role})")


@users_app.command("list")
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


@users_app.command("remove")
def users_remove(email: Annotated[str, typer.Argument()], store: StoreOption = None) -> None:
    """Delete a local account."""
    try:
        _accounts(store).remove(email)
    except InputError as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"removed {email.strip().lower()}")


@users_app.command("reset-password")
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
        raise _fail(str(exc)) from None
    typer.echo(f"password of {email.strip().lower()} reset")


@users_app.command("assign")
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
        raise _fail(str(exc)) from None
    where = ", ".join([*account.counties, *account.leas, *account.schools]) or "statewide"
    typer.echo(f"{account.email}: {account.role}, {where}")


# -- student groups -------------------------------------------------------------------------

def _groups_scope(store: Path | None, user: str | None) -> Scope:
    """``--user``'s scope, else the operator's (whoever can run elpac owns the store)."""
    from queries.scope import Scope as _Scope

    scope = _user_scope(store, user)
    return scope if scope is not None else _Scope(statewide=True, pii=True)


def _by(user: str | None, by: str | None) -> str:
    import getpass

    return user or by or f"cli:{getpass.getuser()}"


@groups_app.command("import")
def groups_import(
    file: Annotated[Path, typer.Argument(help="CSV: name, school CDS, SSID, user e-mail.")],
    by: Annotated[str | None, typer.Option("--by", help="Who uploads it (default: --user, "
                                           "else the operating-system user).")] = None,
    user: UserOption = None,
    store: StoreOption = None,
) -> None:
    """Add student groups from a CSV file; one bad row and nothing is added."""
    from queries.rosters import import_groups

    try:
        text = file.read_text(encoding="utf-8-sig")
        result = import_groups(Store(store_path(store)), _groups_scope(store, user), text,
                               file_name=file.name, uploaded_by=_by(user, by))
    except (OSError, UnicodeDecodeError) as exc:
        raise _fail(f"cannot read {file}: {exc}") from None
    except (InputError, ValueError) as exc:
        raise _fail(str(exc)) from None
    if not result.loaded:
        for row, name, value, reason in result.problems[:SHOWN_PROBLEMS]:
            typer.echo(f"{file.name} row {row}, {name} {value!r}: {reason}", err=True)
        more = len(result.problems) - SHOWN_PROBLEMS
        if more > 0:
            typer.echo(f"... and {more} more", err=True)
        raise _fail(f"nothing added: {len(result.problems)} problem(s) in {file.name}"
                    if result.problems else f"{file.name} has no rows")
    typer.echo(f"added the groups of {result.n_rows:,} rows from {file.name}")


@groups_app.command("list")
def groups_list(user: UserOption = None, store: StoreOption = None) -> None:
    """List the student groups (``--user``: the ones that account may use)."""
    from queries.rosters import visible_groups

    try:
        listed = visible_groups(Store(store_path(store)), _groups_scope(store, user))
    except (InputError, ValueError) as exc:
        raise _fail(str(exc)) from None
    if listed.height == 0:
        typer.echo("no student groups: add some with `elpac groups import FILE` or "
                   "`elpac groups create`")
        return
    for r in listed.iter_rows(named=True):
        typer.echo(f"{r['key']:<46} {r['n_students']:>5} students  "
                   f"{r['users'] or 'not assigned'}")


GroupArgument = Annotated[str, typer.Argument(
    help='The group as `elpac groups list` shows it: "school CDS:name".')]


@groups_app.command("create")
def groups_create(
    name: Annotated[str, typer.Argument(help="The group's name, e.g. \"Period 3\".")],
    school: Annotated[str, typer.Option("--school", help="14-digit school CDS code.")],
    ssid: Annotated[list[str] | None, typer.Option(
        "--ssid", help="A student's SSID (repeat, or give a file with --ssids-from).")] = None,
    ssids_from: Annotated[Path | None, typer.Option(
        "--ssids-from", help="A text file of SSIDs, one per line or separated by commas.")
    ] = None,
    assign: Annotated[list[str] | None, typer.Option(
        "--assign", help="An account to give the group to (repeat).")] = None,
    user: UserOption = None,
    store: StoreOption = None,
) -> None:
    """Make a group from SSIDs; one unknown or out-of-access SSID and nothing is made."""
    from queries.rosters import create_group

    wanted = list(ssid or [])
    try:
        if ssids_from is not None:
            wanted += ssids_from.read_text(encoding="utf-8-sig").replace(",", "\n").split()
        made = create_group(Store(store_path(store)), _groups_scope(store, user), name=name,
                            school_code=school, ssids=wanted, created_by=_by(user, None),
                            users=assign or ())
    except (OSError, UnicodeDecodeError) as exc:
        raise _fail(f"cannot read {ssids_from}: {exc}") from None
    except (InputError, ValueError) as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"{school}:{name.strip()}: {len(made):,} students")


@groups_app.command("members")
def groups_members(group: GroupArgument, user: UserOption = None,
                   store: StoreOption = None) -> None:
    """Print the SSIDs of a group, one per line."""
    from queries.rosters import group_students

    scope = _groups_scope(store, user)
    if not scope.pii:
        raise _fail("your access shows aggregate results only: group members are students")
    try:
        members = group_students(Store(store_path(store)), scope, [group])[group]
    except (InputError, ValueError) as exc:
        raise _fail(str(exc)) from None
    typer.echo("\n".join(members))


@groups_app.command("assign")
def groups_assign(group: GroupArgument,
                  email: Annotated[list[str], typer.Argument(help="Accounts to give it to.")],
                  user: UserOption = None, store: StoreOption = None) -> None:
    """Give a group to users (their access then covers its students)."""
    from queries.rosters import assign_group

    try:
        assign_group(Store(store_path(store)), _groups_scope(store, user), group, email,
                     by=_by(user, None))
    except (InputError, ValueError) as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"{group}: given to {', '.join(email)}")


@groups_app.command("unassign")
def groups_unassign(group: GroupArgument, email: Annotated[str, typer.Argument()],
                    user: UserOption = None, store: StoreOption = None) -> None:
    """Take a group away from a user."""
    from queries.rosters import unassign_group

    try:
        unassign_group(Store(store_path(store)), _groups_scope(store, user), group, email,
                       by=_by(user, None))
    except (InputError, ValueError) as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"{group}: taken from {email}")


@groups_app.command("remove")
def groups_remove(group: GroupArgument, user: UserOption = None,
                  store: StoreOption = None) -> None:
    """Delete a group (the results stay; its users lose access to its students)."""
    from queries.rosters import remove_group

    try:
        remove_group(Store(store_path(store)), _groups_scope(store, user), group,
                     by=_by(user, None))
    except (InputError, ValueError) as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"removed {group}")


# -- Student Score Reports ------------------------------------------------------------------

TestOption = Annotated[str, typer.Option("--test", help="summative or alternate.")]


@ssr_app.command("render")
def ssr_render(
    ssid: Annotated[str, typer.Option("--ssid", help="The student's SSID.")],
    out: Annotated[Path, typer.Option("-o", "--output", help="File to write (.pdf or .html), "
                                      "or a directory to write it in under its own name.")],
    lang: Annotated[str | None, typer.Option(
        "--lang", help="ENG, SPA, VIE, FIL, KOR or CHI (or es, vi, fil, ko, zh): default "
                       "English.")] = None,
    year: Annotated[str | None, typer.Option(help="School year (default: the newest with an "
                                             "SSR).")] = None,
    test: TestOption = "summative",
    user: UserOption = None,
    store: StoreOption = None,
) -> None:
    """Write one student's SSR as PDF (two Letter pages) or HTML."""
    from documents.ssr import file_name, render_html, render_pdf
    from queries.scope import Scope, ScopeError
    from queries.ssr_documents import read_ssr_content

    language = _ssr_language(lang)
    try:
        snap = _snapshot(store)
        scope = _user_scope(store, user) or Scope.state(pii=True)
        content = read_ssr_content(snap, ssid, scope=scope, year=year, test=test)
        suffix = "html" if out.suffix.lower() in (".html", ".htm") else "pdf"
        target = _target(out, file_name(content, language, suffix))
        data = (render_html(content, language).encode() if suffix == "html"
                else render_pdf(content, language))
        target.write_bytes(data)
        _audit_export(store, user, scope, target, f"ssr ssid={content.ssid} "
                      f"year={content.school_year} lang={language}", 1)
    except (InputError, ScopeError, ValueError, OSError) as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"wrote {target}")


@ssr_app.command("bulk")
def ssr_bulk(
    out: Annotated[Path, typer.Option("-o", "--output", help="The .pdf (merged) or .zip file "
                                      "to write.")],
    year: Annotated[str, typer.Option(help="School year, e.g. 2024-25.")],
    lea: Annotated[str | None, typer.Option(help="Enrolled LEA (14-digit CDS code).")] = None,
    school: Annotated[str | None, typer.Option(help="Enrolled school (14-digit CDS code).")
                      ] = None,
    grade: Annotated[str | None, typer.Option(help="Assessment grade: KN, 01-12.")] = None,
    lang: Annotated[str | None, typer.Option(
        "--lang", help="Only this language's SSRs (SPA: the Spanish ones); default: every "
                       "student's English SSR and their primary-language one.")] = None,
    test: TestOption = "summative",
    fmt: Annotated[str, typer.Option("--format", help="pdf (per-student PDFs in a zip, or "
                                     "one merged PDF when -o ends in .pdf) or html (a zip).")
                   ] = "pdf",
    user: UserOption = None,
    store: StoreOption = None,
) -> None:
    """Write many SSRs as one merged PDF or a zip of per-student files."""
    from documents.ssr import bulk_pdf, bulk_zip, languages_of
    from queries.scope import Scope, ScopeError
    from queries.ssr_documents import list_ssr_contents

    language = _ssr_language(lang) if lang else None
    if fmt not in ("pdf", "html"):
        raise _fail("--format must be pdf or html")
    merged = out.suffix.lower() == ".pdf"
    if merged and fmt != "pdf":
        raise _fail("a merged file is a PDF: use -o FILE.zip for HTML files")
    try:
        snap = _snapshot(store)
        scope = _user_scope(store, user) or Scope.state(pii=True)
        contents = list_ssr_contents(snap, scope=scope, year=year, test=test, lea=lea,
                                     school=school, grade=grade, language=language)
        items = [(c, lang_) for c in contents for lang_ in languages_of(c)
                 if language is None or lang_ == language]
        if not items:
            raise InputError("no Student Score Report matches these options in your access")
        typer.echo(f"rendering {len(items):,} SSRs of {len(contents):,} students")
        data = (bulk_pdf(items, progress=_count_progress) if merged
                else bulk_zip(items, fmt=fmt, progress=_count_progress))
        out.write_bytes(data)
        _audit_export(store, user, scope, out, f"ssr bulk year={year} lea={lea} "
                      f"school={school} grade={grade} lang={language} test={test}", len(items))
    except (InputError, ScopeError, ValueError, OSError) as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"wrote {len(items):,} SSRs to {out}")


@ssr_app.command("language")
def ssr_language(
    ssid: Annotated[str, typer.Option("--ssid", help="The student's SSID.")],
    year: Annotated[str, typer.Option(help="School year, e.g. 2024-25.")],
    lang: Annotated[str, typer.Option(
        "--lang", help="ENG (English only), SPA, VIE, FIL, KOR or CHI (English and that "
                       "language), or 'file' for the score file's own choice.")],
    test: TestOption = "summative",
    user: UserOption = None,
    store: StoreOption = None,
) -> None:
    """Change a student's SSR languages, as an LEA coordinator can in TOMS."""
    import getpass

    from data.catalog.ssr_languages import clear_languages, set_languages
    from queries.labels import RECORD_TYPE_OF_TEST
    from queries.scope import Scope, ScopeError
    from queries.ssr_documents import read_ssr_content

    try:
        snap = _snapshot(store)
        scope = _user_scope(store, user) or Scope.state(pii=True)
        # Only a student whose SSR the account may have: the same check as making it.
        content = read_ssr_content(snap, ssid, scope=scope, year=year, test=test)
        record_type = RECORD_TYPE_OF_TEST[test]
        if lang.strip().lower() == "file":
            clear_languages(snap.store, content.ssid, year, record_type)
        else:
            code = _ssr_language(lang)
            set_languages(snap.store, content.ssid, year, record_type,
                          None if code == "ENG" else code,
                          set_by=user or f"cli:{getpass.getuser()}")
        after = read_ssr_content(snap, ssid, scope=scope, year=year, test=test)
    except (InputError, ScopeError, ValueError) as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"{after.ssid} {year}: SSRs in {', '.join(after.languages)}")


def _ssr_language(lang: str | None) -> str:
    """An SSR language code from ``--lang`` (``SPA``, or its locale ``es``)."""
    from documents.i18n import LOCALES

    if lang is None:
        return "ENG"
    code = lang.strip()
    by_locale = {loc.split("_")[0].lower(): c for c, loc in LOCALES.items()}
    found = code.upper() if code.upper() in LOCALES else by_locale.get(code.lower())
    if found is None:
        raise _fail(f"--lang must be one of {', '.join(LOCALES)} (or "
                    f"{', '.join(sorted(by_locale))})")
    return found


def _count_progress(done: int, total: int) -> None:
    typer.echo(f"  {done:,} of {total:,}", err=True)


# The parent-portal hand-off (issue 6): the endpoint an SIS vendor's portal fetches SSRs from,
# and the LEA's credential for it (elpac/portal_cli.py).
app.command("portal-api")(portal_api)
app.add_typer(credentials_app, name="portal-credential")
# How each SSR reached the family, bounces and returned mail (elpac/distribution_cli.py).
app.add_typer(distribution_app, name="ssr-delivery")


@app.command()
def serve(
    store: StoreOption = None,
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8501,
    address: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
) -> None:
    """Start the dashboard."""
    app_file = Path(__file__).resolve().parent.parent / "dashboard" / "app.py"
    env = dict(os.environ, ELPAC_STORE=str(store_path(store).resolve()))
    # elpac.serve_app imports the dashboard's libraries before Streamlit listens, so the first
    # visitor does not wait for them.
    cmd = [sys.executable, "-m", "elpac.serve_app", "run", str(app_file), "--server.port",
           str(port),
           "--server.address", address, "--server.headless", "true",
           "--browser.gatherUsageStats", "false"]
    typer.echo(f"dashboard on http://{address}:{port} (store {env['ELPAC_STORE']})")
    # Streamlit reads .streamlit/config.toml from the working directory: run from the project
    # so its settings (no tracebacks for users, upload size) hold wherever serve is called.
    raise typer.Exit(subprocess.call(cmd, env=env, cwd=app_file.parent.parent))


def main() -> None:
    """Console-script entry point."""
    app()
