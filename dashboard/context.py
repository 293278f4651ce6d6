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
from queries.errors import InputError
from queries.labels import year_note

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
    """CDS code of the sidebar's organisation: ``STATE``, an LEA, or (for an account that
    covers single schools, not whole LEAs) a school."""
    lea_name: str
    level: str = "lea"
    """``state``, ``lea`` or ``school``: what ``lea`` is."""
    lea_of: str = ""
    """The LEA of the sidebar's organisation (itself for an LEA; empty for the state)."""

    @property
    def org_level(self) -> str:
        """The level of the sidebar's organisation: ``state``, ``lea`` or ``school``."""
        return "state" if self.lea == STATE else self.level

    @property
    def lea_code(self) -> str | None:
        """The LEA the pages narrow to (``None`` for the state): a school's own LEA."""
        return None if self.lea == STATE else (self.lea_of or self.lea)


@dataclass(frozen=True)
class SidebarOrg:
    """One choice of the sidebar's organisation picker."""

    label: str
    level: str
    lea_code: str


def org_choices(snap: Snapshot, scope: Scope) -> dict[str, SidebarOrg]:
    """The organisations the sidebar offers (code -> choice).

    California first for a statewide scope, then the LEAs the scope covers whole; then the
    schools it covers outside those LEAs (a site administrator's schools), so an account of
    single schools has something to choose.
    """
    orgs = scope.visible_orgs(snap.orgs_of(snap.years))
    leas = orgs.filter(pl.col("org_level") == "lea").sort("name")
    choices = {STATE: SidebarOrg("California (all LEAs)", "state", "")} if (
        scope.statewide) else {}
    whole = set(leas.get_column("lea_code").to_list())
    for name, code in leas.select("name", "lea_code").iter_rows():
        choices[code] = SidebarOrg(f"{name} ({code})", "lea", code)
    schools = orgs.filter((pl.col("org_level") == "school")
                          & ~pl.col("lea_code").is_in(list(whole))).sort("name")
    for name, code, lea in schools.select("name", "school_code", "lea_code").iter_rows():
        choices.setdefault(code, SidebarOrg(f"{name} ({code})", "school", lea))
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
    orgs = org_choices(snap, scope)
    choices = {code: org.label for code, org in orgs.items()}
    if not choices:
        if identity.auth_configured() and identity.user_email() is None:
            return "Sign in (the button in the sidebar) to see your organisation's results."
        email = identity.user_email()
        if email is not None and not identity.listed(email):
            return (f"You signed in as {email}, but this explorer has no account for that "
                    "e-mail, so it shows you nothing. Ask your LEA ELPAC coordinator to add "
                    "you (elpac users add) with the right role.")
        if identity.signed_in_email() is None and local_sign_in.in_use():
            return ("Sign in with your e-mail and password (in the sidebar) to see your "
                    "organisation's results.")
        return ("Your account does not cover any organisation with results. Ask your "
                "LEA ELPAC coordinator for access.")
    years = snap.year_choices  # an incomplete year (2019-20) last: shown only when chosen
    year = _chosen("ctx_year", years)
    lea = _chosen("ctx_lea", list(choices))
    _run.pickers = (st.sidebar.container(), years, choices, snap)
    _run.leas = {c for c, o in orgs.items() if o.level != "school"}
    return PageContext(key.path, key.version, snap, scope, year, lea,
                       choices[lea].rsplit(" (", 1)[0], orgs[lea].level, orgs[lea].lea_code)


def _draw_pickers() -> None:
    slot, years, choices, snap = _run.pickers
    year = slot.selectbox("School year", years, key="ctx_year")
    # "LEA" unless the account covers single schools only (a site administrator).
    label = "School" if all(len(c) == 14 and c not in _run.leas for c in choices) else "LEA"
    slot.selectbox(label, list(choices), format_func=choices.__getitem__, key="ctx_lea")
    status = snap.year_status.get(year, "partial")
    if status == "incomplete":
        slot.caption(year_note(year) or "")
        return
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


def require_student_records(ctx: PageContext, what: str, *, every_group: bool = False) -> None:
    """Stop the page, with the same sentence everywhere, when the scope sees no student record.

    ``what`` says why the page needs them ("Rosters list students"). ``every_group`` also
    stops a scope limited to some student groups (a page about every student of a school).
    Only the page: the queries it calls refuse such a scope too.
    """
    scope = ctx.scope
    if scope.pii and (scope.all_students or not every_group):
        return
    shows = "some student groups only" if scope.pii else "aggregate results only"
    st.info(f"{what}: your account shows {shows}. Ask your LEA ELPAC coordinator for access "
            "to student records.")
    stop()
