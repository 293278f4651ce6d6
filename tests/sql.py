"""Reading the catalog with plain SQL in tests, with dates and times as the catalog types them.

SQLite keeps dates and times as text, so a raw ``SELECT`` returns strings there and
``date``/``datetime`` on PostgreSQL; columns named ``*_on`` / ``*_at`` / ``loaded`` are read
back as the schema declares them, so one expectation serves both databases.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import text

if TYPE_CHECKING:
    from data.results.store import Store


def catalog_rows(store: Store, sql: str) -> list[tuple]:
    """The rows of ``sql`` on the store's catalog."""
    with store.catalog.read() as con:
        result = con.execute(text(sql))
        names = result.keys()  # the columns, in the query's order
        kinds = [_typed(str(name)) for name in names]
        return [tuple(kind(v) if v is not None else None for kind, v in zip(kinds, row,
                                                                             strict=True))
                for row in result]


def _typed(column: str) -> Callable[[object], object]:
    if column.endswith("_on"):
        return lambda v: v if isinstance(v, date) else date.fromisoformat(str(v))
    if column.endswith("_at"):
        return lambda v: v if isinstance(v, datetime) else datetime.fromisoformat(str(v))
    if column == "loaded":
        return bool
    return lambda v: v
