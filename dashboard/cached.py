"""The only place the dashboard caches: thin wrappers around the pure ``queries`` functions.

Every data wrapper takes the store's path and data version as arguments, so both are part of
the cache key: a new load raises the version and the next rerun reads the new data, and two
stores served from one process never share entries (STYLE.md, caching). Each cache is bounded.
Pages get the key from :func:`store_key` and never open DuckDB themselves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import streamlit as st

from data.store import Store, store_path
from queries.store_summary import read_load_history, read_store_summary, read_store_totals

if TYPE_CHECKING:
    import polars as pl

MAX_ENTRIES = 8
"""Cached results per wrapper: a few stores times the current and previous data version."""


class StoreKey(NamedTuple):
    """What identifies the data a query reads: the store directory and its data version."""

    path: str
    version: int


@st.cache_resource(max_entries=MAX_ENTRIES, show_spinner=False)
def _store_at(path: str) -> Store:
    # A Store holds only its paths and opens a short-lived DuckDB connection per call, so one
    # shared handle is thread-safe.
    return Store(path)


def store() -> Store:
    """Return the store named by ``$ELPAC_STORE`` (default ``data/store``), shared by sessions."""
    return _store_at(str(store_path().resolve()))


def store_key() -> StoreKey:
    """Return the store's path and committed data version (0 when it has no catalog yet).

    Read on every rerun (one short catalog read), so a load that finishes while the dashboard
    is open shows up on the next interaction.
    """
    handle = store()
    return StoreKey(str(handle.path), handle.version())


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
