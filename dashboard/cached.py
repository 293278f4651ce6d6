"""The only place the dashboard caches: thin wrappers around the pure ``queries`` functions.

* ``snapshot()``: one ``queries.snapshot.Snapshot`` per store path and data version
  (``st.cache_resource``): it holds the opened summaries and per-thread DuckDB cursors, and
  pins its version's files until a newer version is asked for.
* data wrappers (``st.cache_data``, bounded): their arguments are the store path, the data
  version, the scope and the query's own arguments, so the scope is part of every cache key
  and a new load (a new version) is read on the next rerun (STYLE.md, caching).

Pages get the store key from :func:`store_key` and never open DuckDB themselves.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, NamedTuple

import streamlit as st

from queries import records
from queries.elpi_matrix import read_elpi_cell_students, read_elpi_transitions
from queries.elpi_orgs import read_elpi
from queries.elpi_reclass import read_candidates
from queries.longitudinal import read_longitudinal, read_transitions
from queries.reports import read_report
from queries.snapshot import Snapshot
from queries.ssr import read_ssr_status
from queries.store import open_store, store_location
from queries.store_summary import read_load_history, read_store_summary, read_store_totals
from queries.students import find_students, read_student

if TYPE_CHECKING:
    from datetime import date

    import polars as pl

    from queries.scope import Scope
    from queries.spec import ReportSpec
    from queries.store import Store

MAX_ENTRIES = 64
"""Cached results per wrapper: enough for a few users' current pages, bounded."""


class StoreKey(NamedTuple):
    """What identifies the data a query reads: the store directory and its data version."""

    path: str
    version: int


@st.cache_resource(max_entries=8, show_spinner=False)
def _store_at(path: str) -> Store:
    # A Store holds only its paths and opens a short-lived DuckDB connection per call, so one
    # shared handle is thread-safe.
    return open_store(path)


def store() -> Store:
    """Return the store named by ``$ELPAC_STORE`` (default ``data/store``), shared by sessions."""
    return _store_at(str(store_location().resolve()))


def store_key() -> StoreKey:
    """Return the store's path and committed data version (0 when it has no catalog yet).

    Read on every rerun (one short catalog read), so a load that finishes while the dashboard
    is open shows up on the next interaction.
    """
    handle = store()
    return StoreKey(str(handle.path), handle.version())


def snapshot(path: str, version: int) -> Snapshot:
    """The store at one data version, shared by every session (read-only, thread-safe).

    A snapshot pins its version's files (``Store.pin``). Once a session asks for a newer
    version, the older snapshots are dropped: each lets its version go when the last rerun
    using it ends, and the next load removes it from disk.
    """
    with _newest_lock:
        older = _newest.get(path, version) < version
        _newest[path] = max(version, _newest.get(path, version))
    if older:
        _snapshot.clear()
    return _snapshot(path, version)


_newest: dict[str, int] = {}
"""The newest data version asked for, per store path."""
_newest_lock = threading.Lock()


@st.cache_resource(max_entries=4, show_spinner=False)
def _snapshot(path: str, version: int) -> Snapshot:
    return Snapshot(path, version)


@st.cache_data(max_entries=MAX_ENTRIES, show_spinner=False)
def store_summary(path: str, version: int) -> pl.DataFrame:
    """Run :func:`queries.store_summary.read_store_summary` once per store version."""
    del version  # only part of the cache key
    return read_store_summary(_store_at(path))


@st.cache_data(max_entries=MAX_ENTRIES, show_spinner=False)
def store_totals(path: str, version: int) -> pl.DataFrame:
    """Run :func:`queries.store_summary.read_store_totals` once per store version."""
    del version  # only part of the cache key
    return read_store_totals(_store_at(path))


@st.cache_data(max_entries=MAX_ENTRIES, show_spinner=False)
def load_history(path: str, version: int) -> pl.DataFrame:
    """Run :func:`queries.store_summary.read_load_history` once per store version."""
    del version  # only part of the cache key
    return read_load_history(_store_at(path))


@st.cache_data(max_entries=MAX_ENTRIES, show_spinner=False)
def report(path: str, version: int, spec: ReportSpec, scope: Scope, suppress: bool,
           members: tuple[tuple[str, tuple[str, ...]], ...] = ()) -> pl.DataFrame:
    """``read_report`` (or ``read_longitudinal`` for a longitudinal spec), cached.

    ``members``: a roster report's rosters and their SSIDs, only part of the cache key
    (rosters live in the catalog, not in the data version: a roster can gain students).
    """
    del members  # only part of the cache key
    snap = snapshot(path, version)
    if spec.longitudinal:
        return read_longitudinal(snap, spec, scope=scope, suppress=suppress)
    return read_report(snap, spec, scope=scope, suppress=suppress)


@st.cache_data(max_entries=MAX_ENTRIES, show_spinner=False)
def records_left_out(path: str, version: int, scope: Scope, year: str, record_type: str,
                     lea: str | None, school: str | None) -> int:
    """``queries.records.records_left_out`` (TK records no total counts), cached."""
    return records.records_left_out(snapshot(path, version), scope=scope, year=year,
                                    record_type=record_type, lea=lea, school=school)


@st.cache_data(max_entries=MAX_ENTRIES, show_spinner=False)
def transitions(path: str, version: int, spec: ReportSpec, scope: Scope,
                members: tuple[tuple[str, tuple[str, ...]], ...] = (), *,
                suppress: bool) -> pl.DataFrame:
    """``read_transitions``, cached (``members`` as for :func:`report`)."""
    del members  # only part of the cache key
    return read_transitions(snapshot(path, version), spec, scope=scope, suppress=suppress)


@st.cache_data(max_entries=MAX_ENTRIES, show_spinner=False)
def ssr_status(path: str, version: int, year: str, as_of: date, scope: Scope,
               by: str | None, leas: tuple[str, ...] | None = None,
               test: str = "summative") -> pl.DataFrame:
    """``read_ssr_status``, cached."""
    return read_ssr_status(snapshot(path, version), year=year, as_of=as_of, scope=scope,
                           by=by, leas=list(leas) if leas else None,  # type: ignore[arg-type]
                           test=test)


STUDENT_TTL_S = 600
"""Student records (personal data) leave the cache after ten minutes, not only when evicted."""


@st.cache_data(max_entries=MAX_ENTRIES, ttl=STUDENT_TTL_S, show_spinner=False)
def students(path: str, version: int, scope: Scope, text: str = "", year: str | None = None,
             lea: str | None = None, school: str | None = None, grade: str | None = None,
             group: str | None = None, limit: int = 500) -> pl.DataFrame:
    """``find_students``, cached (the scope is part of the key: it decides who is found)."""
    return find_students(snapshot(path, version), scope=scope, text=text, year=year, lea=lea,
                         school=school, grade=grade, group=group, limit=limit)


@st.cache_data(max_entries=MAX_ENTRIES, ttl=STUDENT_TTL_S, show_spinner=False)
def student(path: str, version: int, ssid: str, scope: Scope) -> pl.DataFrame:
    """``read_student``, cached."""
    return read_student(snapshot(path, version), ssid, scope=scope)


# -- English learner progress (queries.elpi_*) --------------------------------------------------

@st.cache_data(max_entries=MAX_ENTRIES, show_spinner=False)
def elpi(path: str, version: int, year: str, scope: Scope, lea: str | None) -> pl.DataFrame:
    """``read_elpi``, cached (an aggregate-only scope's small rows come back suppressed)."""
    return read_elpi(snapshot(path, version), year, scope=scope, lea=lea, suppress=False)


@st.cache_data(max_entries=MAX_ENTRIES, show_spinner=False)
def elpi_transitions(path: str, version: int, year: str, scope: Scope, level: str,
                     code: str) -> pl.DataFrame:
    """``read_elpi_transitions``, cached (suppressed for an aggregate-only scope)."""
    return read_elpi_transitions(snapshot(path, version), year, scope=scope, level=level,
                                 code=code, suppress=False)


@st.cache_data(max_entries=MAX_ENTRIES, ttl=STUDENT_TTL_S, show_spinner=False)
def elpi_cell_students(path: str, version: int, year: str, scope: Scope, level: str,
                       code: str, watch: str | None = None,
                       cell: tuple[str, str] | None = None) -> pl.DataFrame:
    """``read_elpi_cell_students``, cached (student records: ten minutes at most)."""
    return read_elpi_cell_students(snapshot(path, version), year, scope=scope, level=level,
                                   code=code, watch=watch, cell=cell)


@st.cache_data(max_entries=MAX_ENTRIES, ttl=STUDENT_TTL_S, show_spinner=False)
def reclassification(path: str, version: int, year: str, scope: Scope, lea: str | None,
                     local: tuple[tuple[str, int], ...] = ()) -> pl.DataFrame:
    """``read_candidates`` of every scored student (the page summarises), cached."""
    return read_candidates(snapshot(path, version), year, scope=scope, lea=lea,
                           local=dict(local) or None, only_candidates=False)
