"""The ``elpac`` command: everything the dashboard does, scriptable.

This root app only adds the commands of ``elpac.commands``, one module per command group; what
they share (the ``--store`` and ``--user`` options, errors, scope, the export audit) is in
``elpac.options``. Bad input ends with a sentence saying what is wrong and exit code 1, never a
traceback.
"""

from __future__ import annotations

import typer

from elpac.commands import (
    catalog,
    demo,
    export,
    files,
    portal,
    rosters,
    serve,
    ssr,
    ssr_delivery,
    users,
)

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Summative ELPAC and Summative Alternate ELPAC results explorer.")

# The help lists single commands first, then command groups, each in the order added here.
app.command()(files.layout)
app.command()(files.ingest)
app.command()(files.loads)
app.command()(demo.demo)
# The parent-portal hand-off (issue 6): the endpoint an SIS vendor's portal fetches SSRs from,
# and the LEA's credential for it (portal-credential, below).
app.command("portal-api")(portal.portal_api)
app.command()(serve.serve)

app.add_typer(export.app, name="export")
app.add_typer(users.app, name="users")
app.add_typer(rosters.app, name="rosters")
# The rosters' earlier name, hidden from the help, so scripts written for it keep working.
app.add_typer(rosters.app, name="groups", hidden=True)
app.add_typer(ssr.app, name="ssr")
app.add_typer(portal.credentials_app, name="portal-credential")
# How each SSR reached the family, bounces and returned mail.
app.add_typer(ssr_delivery.app, name="ssr-delivery")
# Where the catalog is; moving it to PostgreSQL for several dashboard processes (issue 11).
app.add_typer(catalog.app, name="catalog")


def main() -> None:
    """Console-script entry point."""
    app()
