"""The store handle the dashboard opens: where the store is, and the handle to read it with.

The dashboard builds its one shared handle here (``dashboard.cached.store``) and passes it to
query functions; it never opens the store's files itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from data.results.store import Store, store_path

if TYPE_CHECKING:
    from pathlib import Path


def store_location(path: str | Path | None = None) -> Path:
    """The store directory: ``path``, else ``$ELPAC_STORE``, else ``data/store``."""
    return store_path(path)


def open_store(path: str | Path | None = None) -> Store:
    """A handle on the store at ``path`` (default: :func:`store_location`).

    Cheap: it holds paths and opens a short-lived DuckDB connection per read, so one handle
    may be shared by threads.
    """
    return Store(store_location(path))


__all__ = ["Store", "open_store", "store_location"]
