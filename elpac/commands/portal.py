"""``elpac portal-api`` and ``elpac portal-credential``: the parent-portal hand-off.

``portal-api`` runs the endpoint an SIS vendor's parent portal fetches SSRs from
(``elpac.portal_api``); ``portal-credential generate`` makes the LEA's credential for it (shown
once; every earlier one stops working) and ``portal-credential show`` says when it was made.
"""

from __future__ import annotations

import ipaddress
from typing import Annotated

import typer

from data.problems import InputError
from data.results.store import Store, store_path
from elpac.options import StoreOption, UserOption, acting, fail

LeaOption = Annotated[str, typer.Option("--lea", help="The LEA (14-digit CDS code).")]

credentials_app = typer.Typer(
    no_args_is_help=True,
    help="The credential an LEA's parent portal (its SIS vendor) fetches SSRs with.")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_lea_has_results(store: Store, lea: str) -> None:
    """``InputError`` unless the store has results of the LEA (a mistyped code, say)."""
    from queries.snapshot import Snapshot

    if not store.exists():
        raise InputError(f"no store at {store.path}: run `elpac demo` or `elpac ingest` first")
    orgs = Snapshot(store).orgs
    if lea not in set(orgs.get_column("lea_code").to_list()):
        raise InputError(f"the store has no results of LEA {lea!r}: check the 14-digit code")


def portal_api(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8600,
    store: StoreOption = None,
) -> None:
    """Serve SSRs to the parent portal: GET /ssr/<SSID> with the LEA's credential."""
    from elpac.portal_api import PortalServer, serve

    def announce(server: PortalServer) -> None:
        if not _is_loopback(host):
            typer.echo(f"warning: listening on {host} in plain HTTP: put a TLS reverse proxy "
                       "in front, or credentials and reports cross the network readable",
                       err=True)
        typer.echo(f"parent-portal API on {server.url} (store {server.store.path}); "
                   "Ctrl-C stops it")

    try:
        serve(store, host, port, announce=announce)
    except (InputError, OSError) as exc:
        raise fail(str(exc)) from None


@credentials_app.command("generate")
def generate(
    lea: LeaOption,
    by: Annotated[str | None, typer.Option(
        "--by", help="Who made it, for the record (default: the operating-system user).",
        show_default=False)] = None,
    user: UserOption = None,
    store: StoreOption = None,
) -> None:
    """Make the LEA's parent-portal credential; every earlier one stops working."""
    from queries.access import User
    from queries.portal_credentials import make_portal_credential
    from queries.scope import ScopeError

    the_store = Store(store_path(store))
    try:
        who = acting(store, user)
        if by is not None and user is None:  # the operator names who it is made for the record
            who = User.operator(by.strip())
        _check_lea_has_results(the_store, lea.strip())
        token = make_portal_credential(the_store, who, lea.strip())
    except (InputError, ScopeError) as exc:
        raise fail(str(exc)) from None
    typer.echo(token)
    typer.echo(f"This is the parent-portal credential of LEA {lea.strip()}. Give it to the "
               "SIS vendor now: it will not be shown again, and every earlier credential "
               "of this LEA has stopped working.", err=True)


@credentials_app.command("show")
def show(lea: LeaOption, user: UserOption = None, store: StoreOption = None) -> None:
    """When and by whom the LEA's current credential was made (never the credential)."""
    from queries.portal_credentials import read_portal_credential
    from queries.scope import ScopeError

    try:
        info = read_portal_credential(Store(store_path(store)), acting(store, user),
                                      lea.strip())
    except (InputError, ScopeError) as exc:
        raise fail(str(exc)) from None
    if info is None:
        typer.echo(f"LEA {lea.strip()} has no parent-portal credential "
                   "(elpac portal-credential generate makes one)")
        return
    typer.echo(f"LEA {info.lea_code}: credential elpac_{info.key_id}_… made by "
               f"{info.created_by} on {info.created_at:%Y-%m-%d %H:%M}")
