"""``elpac export``: extracts for analysts, each recorded in the audit log."""

from __future__ import annotations

from datetime import date
from pathlib import Path  # noqa: TC003 (typer reads the annotations at run time)
from typing import Annotated

import typer

from data.problems import InputError
from data.results.store import store_path
from elpac.options import (
    StoreOption,
    UserOption,
    audit_export,
    check_test,
    echo_progress,
    fail,
    snapshot,
    target_path,
    user_scope,
)

app = typer.Typer(no_args_is_help=True, help="Write extracts for analysts.")


def _day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise fail(f"{option} must be a date written YYYY-MM-DD, e.g. 2025-05-01") from None


def _year_notes(loaded: tuple[str, ...], chosen: list[str], *, named: bool) -> None:
    """Say that a chosen year is incomplete, or that an unnamed incomplete year is left out."""
    from queries.labels import INCOMPLETE_YEARS, year_note

    for y in chosen if named else loaded:
        if y in chosen and (note := year_note(y)):
            typer.echo(f"note: {note}")
        elif y in INCOMPLETE_YEARS:
            typer.echo(f"note: {y} is left out (incomplete: {INCOMPLETE_YEARS[y]}); name it "
                       f"with --year {y} to export it")


@app.command("students")
def export_students(
    out: Annotated[Path, typer.Option("-o", "--output", help="File to write, or a directory "
                                      "to write it in under its own name.")],
    year: Annotated[list[str] | None, typer.Option(help="School year(s); default: all but "
                                                   "2019-20, which is incomplete (name it to "
                                                   "have it).")] = None,
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
    with_data_only: Annotated[bool, typer.Option(
        "--with-data-only", help="Excel: leave out the layout's columns that are blank in "
        "every record.")] = False,
    user: UserOption = None,
    store: StoreOption = None,
) -> None:
    """Write Student Score Data File records in the file layout (one row per record)."""
    from queries.extracts import EXTENSIONS, SIDES, STATE, extract_file_name, score_window_start
    from queries.scope import Scope, ScopeError
    from queries.ssdf_extract import build_ssdf_extract

    if fmt not in EXTENSIONS:
        raise fail(f"--format must be one of {', '.join(EXTENSIONS)}")
    if by is not None and by not in SIDES:
        raise fail("--by must be enrolled or tested")
    start, end = _day(score_from, "--score-from"), _day(score_to, "--score-to")
    try:
        snap = snapshot(store)
        years = list(dict.fromkeys(year)) if year else list(snap.default_years)
        if start is None and len(years) == 1 and years[0] in snap.years:
            start = score_window_start(years[0])
        # The operator's tool: statewide with student records, unless --lea narrows it, or
        # exactly an account's access with --user.
        scope = user_scope(store, user) or (
            Scope.lea(lea, pii=True) if lea else Scope.state(pii=True))
        name = extract_file_name("ssdf", detail=by or "all", org=lea or STATE,
                                 year=years[0] if len(years) == 1 else "all-years", fmt=fmt,
                                 on=date.today(), score_from=start, score_to=end,
                                 scored_only=scored_only)
        target = target_path(out, name)
        _year_notes(snap.years, years, named=bool(year))
        typer.echo(f"extracting {', '.join(years)}" + (f", LEA {lea}" if lea else "")
                   + (f", {by} records" if by else "")
                   + (f", scores available {start or '...'} to {end or '...'}"
                      if start or end else ""))
        result = build_ssdf_extract(snap, target, scope=scope, years=years, lea=lea,
                                    by=by, score_from=start, score_to=end,  # type: ignore[arg-type]
                                    scored_only=scored_only, fmt=fmt, progress=echo_progress,
                                    with_data_only=with_data_only)
        audit_export(store, user, scope, target, f"students years={','.join(years)} "
                     f"lea={lea} by={by} from={start} to={end}", result.n_rows)
    except (InputError, ScopeError, ValueError) as exc:
        raise fail(str(exc)) from None
    sheets = f" on {len(result.sheets)} sheets" if len(result.sheets) > 1 else ""
    typer.echo(f"wrote {result.n_rows:,} records to {target}{sheets}")
    if result.n_rows == 0:
        typer.echo("warning: no record matches these options", err=True)


@app.command("district")
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
    from queries.district_export import build_district_export
    from queries.extracts import extract_file_name
    from queries.scope import Scope, ScopeError

    if not lea:
        raise fail("--lea is required: the 14-digit CDS code of the LEA")
    if (out is None) == (output is None):
        raise fail("give the file to write once, as OUT or with -o")
    check_test(test)
    if fmt not in ("csv", "xlsx"):
        raise fail("--format must be csv or xlsx")
    try:
        snap = snapshot(store)
        chosen = year or snap.latest_year
        name = extract_file_name("district", detail=test, org=school or lea, year=chosen,
                                 fmt=fmt, on=date.today())
        target = target_path(out or output, name)  # type: ignore[arg-type]
        scope = user_scope(store, user) or Scope.lea(lea, pii=True)
        _year_notes(snap.years, [chosen], named=True)
        result = build_district_export(snap, target, scope=scope,
                                       year=chosen, lea=lea, school=school, test=test, fmt=fmt,
                                       progress=echo_progress)
        audit_export(store, user, scope, target, f"district year={chosen} lea={lea} "
                     f"school={school} test={test}", result.n_rows)
    except (InputError, ScopeError, ValueError) as exc:
        raise fail(str(exc)) from None
    typer.echo(f"wrote {result.n_rows:,} students ({chosen}, {test}) to {target}")


@app.command("research-file")
def export_research_file(
    out: Annotated[Path, typer.Option("-o", "--output", help="File to write.")],
    year: Annotated[str | None, typer.Option(help="School year; default: the latest.")] = None,
    test: Annotated[str, typer.Option(help="summative or alternate.")] = "summative",
    lea: Annotated[str | None, typer.Option(help="Only this LEA (14-digit CDS) and its "
                                            "schools.")] = None,
    school: Annotated[str | None, typer.Option(help="Only this school (14-digit CDS): for "
                                               "a school's staff.")] = None,
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

    check_test(test)
    try:
        snap = Snapshot(store_path(store))
        if not snap.years:
            raise InputError(f"the store at {snap.store.path} holds no results")
        chosen = year or snap.latest_year
        scope = user_scope(store, user) or Scope.state()
        _year_notes(snap.years, [chosen], named=True)
        rows = research_rows(snap, year=chosen, test=test, scope=scope, lea=lea,
                             school=school, suppress=not no_suppress)
        write_research_file(rows, out)
        audit_export(store, user, scope, out, f"research-file year={chosen} test={test} "
                     f"lea={lea} school={school} "
                     f"suppressed={not no_suppress or scope.suppressed}", rows.height)
    except (InputError, ScopeError, ValueError) as exc:
        raise fail(str(exc)) from None
    suppressed = "" if no_suppress and not scope.suppressed else ", suppressed under 11"
    typer.echo(f"wrote {rows.height:,} rows ({chosen}, {test}{suppressed}) to {out}")
