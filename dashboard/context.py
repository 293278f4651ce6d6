"""What every page shares: the store snapshot, the user's scope, the chosen LEA and year.

The LEA and year widgets live in the entrypoint's sidebar (STYLE.md: a filter that must
survive page changes belongs in the entrypoint); pages read them through ``page_context``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl
import streamlit as st

from dashboard import cached, identity
from data.problems import InputError

if TYPE_CHECKING:
    from queries.scope import Scope
    from queries.snapshot import Snapshot

STATE = "00"
"""The sidebar's organisation code for all of California."""


@dataclass(frozen=True)
class PageContext:
    """The store, scope and sidebar choices a page works with."""

    path: str
    version: int
    snap: Snapshot
    scope: Scope
    year: str
    lea: str
    """14-digit CDS code of the chosen LEA, or ``STATE``."""
    lea_name: str

    @property
    def org_level(self) -> str:
        """``state`` or ``lea``: the level of the sidebar's organisation."""
        return "state" if self.lea == STATE else "lea"


def lea_choices(snap: Snapshot, scope: Scope) -> dict[str, str]:
    """LEAs the scope covers (code -> name), California first when the scope is statewide."""
    orgs = scope.visible_orgs(snap.orgs_of(snap.years))
    leas = orgs.filter(pl.col("org_level") == "lea").sort("name")
    choices = {STATE: "California (all LEAs)"} if scope.statewide else {}
    choices.update(dict(zip(leas.get_column("lea_code").to_list(),
                            (f"{n} ({c})" for n, c in leas.select("name", "lea_code").iter_rows()),
                            strict=True)))
    return choices


def sidebar() -> PageContext | str:
    """Draw the shared sidebar; a message for the page instead when there is nothing to show."""
    key = cached.store_key()
    scope = identity.current_scope()
    st.sidebar.caption(identity.describe(scope))
    if not key.version:
        return (f"The store at `{key.path}` holds no results yet. Run `elpac demo` to build a "
                "synthetic one, or load Student Score Data Files on the Data loads page.")
    try:
        snap = cached.snapshot(key.path, key.version)
    except InputError as exc:
        return f"The store cannot be opened: {exc}"
    choices = lea_choices(snap, scope)
    if not choices:
        if identity.auth_configured() and identity.user_email() is None:
            return "Sign in (the button in the sidebar) to see your organisation's results."
        return ("Your account does not cover any organisation with results. Ask your "
                "LEA ELPAC coordinator for access.")
    years = list(reversed(snap.years))
    year = st.sidebar.selectbox("School year", years, key="ctx_year")
    lea = st.sidebar.selectbox("LEA", list(choices), format_func=choices.__getitem__,
                               key="ctx_lea")
    status = snap.year_status.get(year, "partial")
    st.sidebar.caption(f"{year} results are {status}" + (
        "" if status == "final" else f" (as of {snap.as_of() or 'the latest file'})") + ".")
    return PageContext(key.path, key.version, snap, scope, year, lea,
                       choices[lea].rsplit(" (", 1)[0])


_run = threading.local()


def start_run() -> None:
    """Draw the sidebar and keep its context for the page this run shows (entrypoint only).

    Kept per thread, not in session state: a Snapshot is shared and not picklable, and each
    session's script runs in its own thread.
    """
    _run.context = sidebar()


def page_context() -> PageContext:
    """The context of this run; when there is nothing to show, say why and stop the page."""
    context = getattr(_run, "context", None)
    if isinstance(context, PageContext):
        return context
    st.info(context or "The page was opened outside the dashboard's entrypoint.")
    st.stop()
    raise AssertionError("st.stop() returns only outside a script run")
