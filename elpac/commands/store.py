"""``elpac store``: the store itself, as a whole (``elpac store upgrade``)."""

from __future__ import annotations

import typer

from data.problems import InputError
from data.results.store import Store, store_path
from elpac.options import StoreOption, fail

app = typer.Typer(no_args_is_help=True, help="The store as a whole: bring it up to date.")


@app.command("upgrade")
def upgrade(store: StoreOption = None) -> None:
    """Rebuild the summaries of a store an older version wrote, without loading files again."""
    from data.results.upgrade import upgrade as run_upgrade

    st = Store(store_path(store))
    try:
        done = run_upgrade(st)
    except InputError as exc:
        raise fail(str(exc)) from None
    typer.echo(done.sentence())
