"""What every page shares: the store snapshot, the user's scope, the chosen LEA and year.

The LEA and year widgets live in the entrypoint's sidebar (STYLE.md: a filter that must
survive page changes belongs in the entrypoint); pages read them through ``page_context``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, NoReturn

import polars as pl
import streamlit as st

from dashboard import cached, identity, local_sign_in
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


def _chosen(key: str, options: list[str]) -> str:
    # The widget's value from the browser (session state) if it is still an option, else the
    # first option, which the widget then shows too (its default). A value the options no
    # longer hold (another user's scope, a rebuilt store) is dropped so the widget agrees.
    value = st.session_state.get(key)
    if value is None:
        return options[0]
    if value not in options:
        del st.session_state[key]
        return options[0]
    return str(value)


def sidebar() -> PageContext | str:
    """Work out the shared context; a message for the page instead when there is nothing.

    The scope caption is drawn now; the school year and LEA pickers only at the end of the
    run (:func:`finish_run`), in a slot kept for them here. A selectbox holds back everything
    drawn after it until its code has loaded (about a second on a fresh tab, measured by
    ``benchmarks/dashboard.py``); drawn last, it no longer delays the page's figures. Their
    values come from session state, where Streamlit keeps them between runs.
    """
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
        if identity.signed_in_email() is None and local_sign_in.in_use():
            return ("Sign in with your e-mail and password (in the sidebar) to see your "
                    "organisation's results.")
        return ("Your account does not cover any organisation with results. Ask your "
                "LEA ELPAC coordinator for access.")
    years = list(reversed(snap.years))
    year = _chosen("ctx_year", years)
    lea = _chosen("ctx_lea", list(choices))
    _run.pickers = (st.sidebar.container(), years, choices, snap)
    return PageContext(key.path, key.version, snap, scope, year, lea,
                       choices[lea].rsplit(" (", 1)[0])


def _draw_pickers() -> None:
    slot, years, choices, snap = _run.pickers
    year = slot.selectbox("School year", years, key="ctx_year")
    slot.selectbox("LEA", list(choices), format_func=choices.__getitem__, key="ctx_lea")
    status = snap.year_status.get(year, "partial")
    slot.caption(f"{year} results are {status}" + (
        "" if status == "final" else f" (as of {snap.as_of() or 'the latest file'})") + ".")


_run = threading.local()


def start_run() -> None:
    """Work out the context of the page this run shows (entrypoint only, before the page).

    Kept per thread, not in session state: a Snapshot is shared and not picklable, and each
    session's script runs in its own thread.
    """
    _run.pickers = None
    _run.context = sidebar()


def finish_run() -> None:
    """Draw the sidebar's school year and LEA pickers (entrypoint only, after the page)."""
    if getattr(_run, "pickers", None) is not None:
        _draw_pickers()
        _run.pickers = None


class PageStop(BaseException):  # noqa: N818 - named for what it does, like StopException
    """Raised by :func:`stop`; the entrypoint ends the page there and draws the pickers.

    A ``BaseException``, like Streamlit's own ``StopException``, so that a page's
    ``except Exception`` does not swallow it.
    """


def stop() -> NoReturn:
    """End the page here, as ``st.stop()`` does, keeping the sidebar's pickers.

    Pages call this, never ``st.stop()`` (a test checks): nothing can be drawn after
    ``st.stop()``, and the pickers are drawn after the page, by the entrypoint, so that they
    are always the same widgets (a widget drawn inside a page's run is another widget to
    Streamlit than one drawn by the entrypoint, and would lose its value). Not for fragments:
    the entrypoint does not run around a fragment's rerun.
    """
    raise PageStop


def page_context() -> PageContext:
    """The context of this run; when there is nothing to show, say why and stop the page."""
    context = getattr(_run, "context", None)
    if isinstance(context, PageContext):
        return context
    st.info(context or "The page was opened outside the dashboard's entrypoint.")
    stop()
