"""``elpac demo``: a synthetic statewide data set, written as real TOMS files and loaded."""

from __future__ import annotations

from datetime import date
from pathlib import Path  # noqa: TC003 (typer reads the annotations at run time)
from typing import Annotated

import typer

from data.problems import InputError
from data.results.store import Store, store_path
from elpac.options import StoreOption, fail


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
    spring_2020: Annotated[bool, typer.Option(
        "--spring-2020", help="Also write and load 2019-20 (when --years includes it): the "
        "students tested before testing stopped in March 2020.")] = False,
) -> None:
    """Generate a synthetic statewide data set as real TOMS files and load it."""
    from data.synth.demo_accounts import DEMO_PASSWORD, create_demo_accounts
    from data.synth.generator import DemoSpec, build_demo

    st = Store(store_path(store))
    if if_missing and st.exists() and st.year_files():
        try:
            st.check_schema()
        except InputError as exc:
            raise fail(str(exc)) from None
        typer.echo(f"{st.path} already has data; leaving it as it is")
        return
    try:
        spec = DemoSpec(students=students, years=years, seed=seed,
                        as_of=date.fromisoformat(as_of) if as_of else None,
                        spring_2020=spring_2020)
        summary = build_demo(spec, st, keep_files=keep_files, echo=typer.echo)
        made = create_demo_accounts(st) if accounts else []
    except (InputError, ValueError) as exc:
        raise fail(str(exc)) from None
    typer.echo(summary)
    if made:
        typer.echo(f"demo accounts (password {DEMO_PASSWORD}): "
                   + ", ".join(f"{a.email} ({a.role})" for a in made))
