"""``elpac catalog``: where the store's catalog is, and moving it to PostgreSQL."""

from __future__ import annotations

from typing import Annotated

import typer

from data.catalog.db import ENV_URL, Catalog, copy_catalog
from data.problems import InputError
from data.results.store import Store, store_path
from elpac.options import StoreOption, fail

app = typer.Typer(no_args_is_help=True, help="The store's catalog (accounts, rosters, "
                  "sessions, audit, loads): where it is, and moving it to PostgreSQL.")


@app.command("show")
def show(store: StoreOption = None) -> None:
    """Say which database holds the catalog, and how many rows each table has."""
    from data.catalog.db import read_catalog

    st = Store(store_path(store))
    try:
        rows = read_catalog(st.catalog)
    except InputError as exc:
        raise fail(str(exc)) from None
    typer.echo(f"catalog: {st.catalog!r}")
    for name, (_, values) in rows.items():
        typer.echo(f"  {name}: {len(values):,} rows")


@app.command("copy")
def copy(
    to: Annotated[str, typer.Option("--to", help="The new catalog's database URL, e.g. "
                                    "postgresql://user@host/elpac (an empty database).")],
    store: StoreOption = None,
) -> None:
    """Copy the store's catalog into another, empty database (one transaction).

    Then set ``ELPAC_CATALOG_URL`` to that URL for the dashboard and every command. The old
    catalog is left as it was.
    """
    st = Store(store_path(store))
    if not st.exists():
        raise fail(f"no store at {st.path}: nothing to copy")
    try:
        counts = copy_catalog(st.catalog, Catalog(st.path, url=to))
    except InputError as exc:
        raise fail(str(exc)) from None
    typer.echo(f"copied {sum(counts.values()):,} rows of {len(counts)} tables; now set "
               f"{ENV_URL} to use it")
