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
    elpi,
    export,
    files,
    portal,
    published,
    rosters,
    serve,
    ssr,
    ssr_delivery,
    store,
    users,
)

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Summative ELPAC and Summative Alternate ELPAC results explorer.")

# The help lists single commands first, then command groups, each in the order added here.
app.command()(files.layout)
app.command()(files.ingest)
app.command()(demo.demo)
# The parent-portal hand-off (issue 6): the endpoint an SIS vendor's portal fetches SSRs from,
# and the LEA's credential for it (portal-credential, below).
app.command("portal-api")(portal.portal_api)
app.command()(serve.serve)

# The load history, and taking a load back (issue 15).
app.add_typer(files.loads_app, name="loads")
# English learner progress (issue 13): in the export group, beside the other extracts.
export.app.command("elpi")(elpi.export_elpi)
export.app.command("elpi-students")(elpi.export_elpi_students)
export.app.command("reclassification")(elpi.export_reclassification)
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
# The store as a whole: rebuilding its summaries after an upgrade of the explorer (issue 14).
app.add_typer(store.app, name="store")
# CDE's public research file as published aggregates, and our numbers beside it (issue 12).
app.add_typer(published.import_app, name="import")
app.command("published")(published.list_published)
export.app.command("reconcile")(published.export_reconcile)


def main() -> None:
    """Console-script entry point."""
    app()
