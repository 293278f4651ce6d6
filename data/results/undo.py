"""Undo a load: a new data version in which what it replaced is current again (issue 15).

``elpac loads undo LOAD_ID`` takes a load back. The files it replaced, for each of its LEAs,
are current again and it is not; the other years' files are hard links of the current
version's, and the school year it touched is rebuilt from the loads current after the undo,
so its records come back byte for byte as they were before that load.

Like a load it is all or nothing (``data.results.loading.publish``): a new version beside the
current one, made current by one catalog commit. The load stays in the history, but its rows
leave the store: nothing can make it current again (its file can be loaded again), and a file
loaded by mistake should not leave its students' records behind. The undo is recorded in
``store_meta`` under
``undone:<load_id>`` with its data version, when and by whom, and the replaced loads keep
``superseded_by`` pointing at the undone load, so the history still says what happened.

An undo is refused, with a sentence, when the load does not exist, was undone already, or a
later load of the same LEA, school year and kind replaced it since (undo that one first).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import polars as pl

from data.catalog.db import upsert
from data.catalog.schema import store_meta
from data.files import writer_lock
from data.problems import InputError
from data.results.loading import collect_garbage, publish
from data.results.store import UNDONE_KEY, load_history, meta_int, undone_loads
from data.results.write_errors import writing

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from data.results.store import Store


@dataclass(frozen=True)
class Undone:
    """What an undo did: the load, the data version it made, the loads current again."""

    load_id: int
    version: int
    restored: pl.DataFrame
    """The (load, LEA) pairs current again: ``load_id``, ``lea_code``, ``file_name``."""

    def sentence(self) -> str:
        """What happened, for the person who asked."""
        if self.restored.is_empty():
            back = "it replaced nothing, so its LEAs have no file of that year and kind now"
        else:
            back = "; ".join(
                f"load {load_id} ({group['file_name'][0]}) is current again for LEA "
                f"{', '.join(group['lea_code'])}"
                for (load_id,), group in self.restored.group_by("load_id", maintain_order=True))
        return f"undid load {self.load_id}: {back}; the store is now at data version {self.version}"


def undo(store: Store, load_id: int, *, undone_by: str | None = None,
         fail_after: str | None = None) -> Undone:
    """Take load ``load_id`` back, atomically; ``InputError`` with a sentence if it may not."""
    with writing(store, "nothing was undone"), writer_lock(store.path):
        if not store.exists():
            raise InputError(f"no store at {store.path}: there is no load to undo")
        store.check_schema()
        collect_garbage(store)
        with store.catalog.write() as con:
            current = meta_int(con, "data_version")
            history = load_history(con)
            undone_at = undone_loads(con)
        mine = history.filter(pl.col("load_id") == load_id)
        _check(store, load_id, mine, history, undone_at)
        restored = history.filter(pl.col("superseded_by") == load_id, ~pl.col("is_undone"))
        keep = [(r["load_id"], r["lea_code"], r["school_year"]) for r in history.filter(
            pl.col("is_current"), pl.col("load_id") != load_id).iter_rows(named=True)]
        keep += [(r["load_id"], r["lea_code"], r["school_year"])
                 for r in restored.iter_rows(named=True)]

        def record(con: Connection, version: int) -> None:
            when = datetime.now().replace(microsecond=0).isoformat(sep=" ")
            upsert(con, store_meta, {"key": f"{UNDONE_KEY}{load_id}", "value": json.dumps(
                {"data_version": version, "undone_at": when, "undone_by": undone_by})})

        version = publish(store, current, keep, set(mine["school_year"]), record,
                          forget=[load_id], fail_after=fail_after)
        collect_garbage(store)
    return Undone(load_id, version, restored.select("load_id", "lea_code", "file_name"))


def _check(store: Store, load_id: int, mine: pl.DataFrame, history: pl.DataFrame,
           undone_at: dict[int, int]) -> None:
    """Refuse an undo that cannot restore the state before the load, with a sentence."""
    if mine.is_empty():
        raise InputError(f"there is no load {load_id} in the store at {store.path}; "
                         "`elpac loads` lists them")
    if load_id in undone_at:
        raise InputError(f"load {load_id} was undone already (data version "
                         f"{undone_at[load_id]}); nothing was changed")
    later = mine.filter(~pl.col("is_current"))
    if later.height:
        by = sorted(set(later["superseded_by"].to_list()))
        names = dict(history.select("load_id", "file_name").unique().iter_rows())
        which = ", ".join(f"load {b} ({names.get(b, '?')})" for b in by)
        raise InputError(
            f"load {load_id} cannot be undone: {which} of the same LEA, school year and kind "
            f"came after it (LEA {', '.join(later['lea_code'])}); undo "
            f"{'that load' if len(by) == 1 else 'those loads'} first; nothing was changed")
