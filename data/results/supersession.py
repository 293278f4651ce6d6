"""Which loaded files a new file replaces, and when it may not (issue 15, finding 4).

A file replaces the current load of the same LEA, school year and kind (one TOMS download
supersedes the earlier ones: ELPAC.md §7). The rules, each stated in the sentence people read:

1. An older file never replaces a newer one (by ``ReportCreatedDate``).
2. A file without a created date never replaces a dated one: nothing says it is newer.
3. A dated file replaces an undated one: its date makes it the more reliable. Two undated
   files, or two of the same date: the later load replaces the earlier.
4. A replacement that removes students (SSIDs the replaced load lists for the LEA and the new
   file does not) says how many and is refused unless the loader confirms it (``replace``:
   ``elpac ingest --replace``, the confirmation on the Data loads page).

``data.results.loading`` applies them under the store's writer lock, against the loads current
at that moment; a check without loading (``--check``, the Data loads page's report) applies
the same rules to the loads current when it looks.
"""

from __future__ import annotations

from datetime import date  # noqa: TC003 (the doctests use it)
from typing import TYPE_CHECKING, Protocol

import polars as pl

from data.problems import InputError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

REPLACEMENT_SCHEMA = {"load_id": pl.Int64, "lea_code": pl.String, "school_year": pl.String,
                      "kind": pl.String, "by": pl.Int64, "old_file": pl.String,
                      "rule": pl.String, "n_removed": pl.Int64}
"""One row per (load, LEA) pair a new load replaces: ``by`` is the new load, ``rule`` why it
may, ``n_removed`` the students of the pair the new load does not list."""

NEWER = "a newer file replaces an older one"
SAME_DATE = "the same created date: the later load replaces the earlier"
DATED_OVER_UNDATED = "a dated file replaces an undated one: its date makes it the more reliable"
NEITHER_DATED = "neither file has a created date: the later load replaces the earlier"
REPLACE_HINT = "If they are meant to go, load it again with --replace"
"""The end of a refused removal (``queries.data_loads`` words it for the page)."""


class _Lea(Protocol):
    lea_code: str


class NewFile(Protocol):
    """What the rules read of a file about to be loaded.

    A ``data.results.loading.PendingLoad``, named by its shape: that module imports this one.
    """

    file_name: str
    kind: str
    school_year: str
    report_created_date: date | None
    leas: Sequence[_Lea]


class ReplacementRefused(InputError):
    """A file may not replace what is loaded; ``file_name`` is the file, ``reason`` why."""

    def __init__(self, file_name: str, reason: str) -> None:
        super().__init__(f"{file_name}: {reason}")
        self.file_name = file_name
        self.reason = reason


def replacement_rule(new: date | None, old: date | None, old_file: str, where: str) -> str:
    """Why a file created ``new`` may replace one created ``old``.

    ``InputError`` with the reason (without the file name) if it may not.

    Examples
    --------
    >>> replacement_rule(date(2025, 10, 1), None, "a.csv", "LEA 1, 2024-25, tested")
    'a dated file replaces an undated one: its date makes it the more reliable'
    >>> replacement_rule(None, None, "a.csv", "LEA 1, 2024-25, tested")
    'neither file has a created date: the later load replaces the earlier'
    """
    if old is not None and new is None:
        raise InputError(
            f"its ReportCreatedDate is blank, and {old_file} (created {old}) is already loaded "
            f"for {where}: a file without a created date never replaces a dated one, so "
            "nothing was loaded. Load the file as TOMS gave it, with its date")
    if old is not None and new is not None and new < old:
        raise InputError(f"older than {old_file} (created {old}), already loaded for {where}; "
                         "the newer file stays and nothing was loaded")
    if old is None:
        return NEITHER_DATED if new is None else DATED_OVER_UNDATED
    return SAME_DATE if new == old else NEWER


def supersessions(pending: Sequence[NewFile], ids: list[int],
                  active: pl.DataFrame) -> pl.DataFrame:
    """Which current (load, LEA) pairs the new loads replace (``REPLACEMENT_SCHEMA``).

    ``n_removed`` is 0 until :func:`with_removed`; ``ReplacementRefused`` when one may not.
    ``active`` holds the current pairs (``data.results.store.LOAD_HISTORY_SCHEMA``). A batch is
    taken in order: its second file of an LEA replaces its first.
    """
    rows: list[dict[str, object]] = []
    latest: dict[tuple[str, str, str], tuple[int, date | None, str]] = {}
    for r in active.iter_rows(named=True):
        latest[(r["kind"], r["school_year"], r["lea_code"])] = (
            r["load_id"], r["report_created_date"], r["file_name"])
    for p, load_id in zip(pending, ids, strict=True):
        for lea in p.leas:
            key = (p.kind, p.school_year, lea.lea_code)
            if key in latest:
                old_id, old_date, old_name = latest[key]
                where = f"LEA {lea.lea_code}, {p.school_year}, {p.kind}"
                try:
                    rule = replacement_rule(p.report_created_date, old_date, old_name, where)
                except InputError as exc:
                    raise ReplacementRefused(p.file_name, str(exc)) from None
                rows.append({"load_id": old_id, "lea_code": lea.lea_code,
                             "school_year": p.school_year, "kind": p.kind, "by": load_id,
                             "old_file": old_name, "rule": rule, "n_removed": 0})
            latest[key] = (load_id, p.report_created_date, p.file_name)
    return pl.DataFrame(rows, schema=REPLACEMENT_SCHEMA)


def with_removed(replacements: pl.DataFrame,
                 rows_of: Callable[[int], pl.LazyFrame]) -> pl.DataFrame:
    """``replacements`` with ``n_removed``, the students each replacement removes.

    Those are the SSIDs a replaced pair lists for its LEA that the load replacing it does not.

    ``rows_of`` gives a load's rows (``source_lea_code``, ``ssid``), read once per load: a
    statewide file replaces a thousand LEAs at once.
    """
    if replacements.is_empty():
        return replacements

    def students(ids: list[int], name: str) -> pl.LazyFrame:
        return pl.concat([rows_of(i).select(pl.lit(i, dtype=pl.Int64).alias(name),
                                            pl.col("source_lea_code").alias("lea_code"), "ssid")
                          for i in ids])

    pairs = replacements.lazy().select("load_id", "lea_code", "by")
    old = pairs.join(students(replacements["load_id"].unique().to_list(), "load_id"),
                     on=["load_id", "lea_code"])
    new = students(replacements["by"].unique().to_list(), "by")
    gone = (old.join(new, on=["by", "lea_code", "ssid"], how="anti")
            .group_by("load_id", "lea_code").agg(pl.col("ssid").n_unique().alias("gone"))
            .collect())
    return (replacements.join(gone, on=["load_id", "lea_code"], how="left",
                              maintain_order="left")
            .with_columns(pl.col("gone").fill_null(0).cast(pl.Int64).alias("n_removed"))
            .select(list(REPLACEMENT_SCHEMA)))


def refuse_removals(replacements: pl.DataFrame, pending: Sequence[NewFile],
                    ids: list[int]) -> None:
    """``ReplacementRefused`` for the first file whose replacements remove students."""
    removing = replacements.filter(pl.col("n_removed") > 0)
    if removing.is_empty():
        return
    name_of = {load_id: p.file_name for p, load_id in zip(pending, ids, strict=True)}
    by = int(removing["by"][0])
    mine = removing.filter(pl.col("by") == by)
    details = "; ".join(
        f"{g['school_year'][0]}, {g['kind'][0]}, load {old} ({g['old_file'][0]}): "
        + ", ".join(f"{n:,} of LEA {lea}" for lea, n in g.select("lea_code", "n_removed").rows())
        for (old,), g in mine.group_by("load_id", maintain_order=True))
    raise ReplacementRefused(
        name_of[by], f"loading it would remove {int(mine['n_removed'].sum()):,} student(s) "
        f"that the file it replaces lists and it does not ({details}); nothing was loaded. "
        f"{REPLACE_HINT}")


def describe(replacements: pl.DataFrame, load_id: int) -> str:
    """What one new load replaces, in a sentence ("" when it replaces nothing).

    Examples
    --------
    >>> rows = pl.DataFrame([{"load_id": 1, "lea_code": "19647330000000",
    ...     "school_year": "2024-25", "kind": "tested", "by": 2, "old_file": "a.csv",
    ...     "rule": NEITHER_DATED, "n_removed": 40}], schema=REPLACEMENT_SCHEMA)
    >>> describe(rows, 2)  # doctest: +NORMALIZE_WHITESPACE
    'replaces load 1 for LEA 19647330000000 (neither file has a created date: the later
    load replaces the earlier), removing 40 student(s) it listed'
    """
    mine = replacements.filter(pl.col("by") == load_id)
    parts = []
    for (old, rule), group in mine.group_by("load_id", "rule", maintain_order=True):
        part = f"replaces load {old} for LEA {', '.join(group['lea_code'])} ({rule})"
        removed = int(group["n_removed"].sum())
        if removed:
            part += f", removing {removed:,} student(s) it listed"
        parts.append(part)
    return "; ".join(parts)
