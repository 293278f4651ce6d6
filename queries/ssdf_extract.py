"""The Student Score Data File extract: stored records back in the TOMS layout of their year.

Records whose enrolled or tested LEA (TOMS's two files) is the one asked, in the user's
access, optionally within a score-available window; written as CSV, TOMS caret text or
Excel. CSV and TOMS text are written a batch of schools at a time, so a statewide extract
never sits in memory whole.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from data.problems import InputError
from data.toms.export import delimited_writer, records_text, typed_columns, write_table
from data.toms.layout import layout
from data.toms.normalise import STORE_SCHEMA
from queries.extracts import (
    EXTENSIONS,
    SIDES,
    Extract,
    Side,
    check_year,
    in_groups,
    progress_writer,
    require_pii,
    say,
    side_in_scope,
)
from queries.scope import ScopeError

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import date
    from pathlib import Path

    from queries.scope import Scope
    from queries.snapshot import Snapshot

def _ssdf_filter(snap: Snapshot, *, scope: Scope, years: list[str], lea: str | None,
                 by: Side | None, score_from: date | None, score_to: date | None,
                 scored_only: bool) -> tuple[pl.Expr, Side]:
    """Which stored records an extract holds (``read_ssdf_records``), and the side it sorts by."""
    require_pii(scope)
    if by is not None and by not in SIDES:
        raise ValueError("Choose enrolled or tested records.")
    for year in years:
        check_year(snap, year)
    if score_from and score_to and score_from > score_to:
        raise ValueError(f"The score-available start date ({score_from}) is after the end date "
                         f"({score_to}). Choose an end date on or after the start date.")
    sides: tuple[Side, ...] = SIDES if by is None else (by,)
    if lea is not None and not scope.allows_lea(lea[:2], lea):
        raise ScopeError(f"LEA {lea} is not in your access. Choose one of your own LEAs.")
    keep = in_groups(scope)
    in_scope = pl.lit(False)
    for side in sides:
        in_scope = in_scope | side_in_scope(scope, side)
    keep = keep & in_scope
    if lea is not None:
        keep = keep & pl.any_horizontal([pl.col(f"{s}_lea_code") == lea for s in sides]
                                        ).fill_null(False)
    scored = pl.col("score_available_date")
    window = pl.lit(True)
    if score_from is not None:
        window = window & (scored >= score_from)
    if score_to is not None:
        window = window & (scored <= score_to)
    keep = keep & (window.fill_null(False) | (scored.is_null() & pl.lit(not scored_only)))
    return keep, sides[0]


def read_ssdf_records(snap: Snapshot, *, scope: Scope, years: list[str],
                      lea: str | None = None, by: Side | None = None,
                      score_from: date | None = None, score_to: date | None = None,
                      scored_only: bool = False) -> pl.DataFrame:
    """Stored records for a Student Score Data File extract, both tests, in file order.

    Parameters
    ----------
    snap
        The store at one data version.
    scope
        Who is asking; it must allow personal information. A record is in scope when its
        organisation on the ``by`` side (either side when ``by`` is ``None``) is covered.
    years
        School years to extract.
    lea
        14-digit CDS code; ``None`` for every record in scope.
    by
        ``"enrolled"``: records whose CALPADS enrolled LEA is ``lea``; ``"tested"``: records
        whose final tested LEA is ``lea`` (ELPAC.md §3.1, §3.3); ``None``: either.
    score_from, score_to
        Keep records whose score became available on or between these dates (both
        inclusive, either may be ``None``).
    scored_only
        Leave out records without a score-available date (non-testers, scores not yet
        released). Kept by default, as an enrolled-LEA file lists eligible students who did
        not test [unconfirmed: how TOMS's date filter treats them].

    Returns
    -------
    pl.DataFrame
        Store rows (``data.toms.normalise.STORE_SCHEMA``), sorted by year, the side's LEA and
        school, SSID and record type; ``data.toms.export.records_text`` gives their file text.
    """
    keep, sort_side = _ssdf_filter(snap, scope=scope, years=years, lea=lea, by=by,
                                   score_from=score_from, score_to=score_to,
                                   scored_only=scored_only)
    frames = [pl.scan_parquet(snap.year_files[y]).with_columns(pl.lit(y).alias("school_year"))
              .filter(keep) for y in sorted(set(years))]
    if not frames:
        return pl.DataFrame(schema=STORE_SCHEMA)
    return (pl.concat(frames).select(list(STORE_SCHEMA))
            .sort("school_year", f"{sort_side}_lea_code", f"{sort_side}_school_code", "ssid",
                  "record_type", nulls_last=True).collect())


def ssdf_text(snap: Snapshot, records: pl.DataFrame, *, year: str | None = None
              ) -> pl.DataFrame:
    """Records from ``read_ssdf_records`` as the text of the Student Score Data File layout.

    ``year`` picks the layout (default: the latest year among the records).
    """
    return records_text(records, snap.store.extra_names(), year=year)


XLSX_MAX_RECORDS = 200_000
"""Above this, a Student Score Data File extract is offered as CSV or TOMS text only: Excel
of every field takes minutes and gigabytes (../shared/TOOLCHAIN.md), CSV streams."""
BATCH_RECORDS = 50_000
"""Records laid out and written at a time: memory stays that of one batch, whatever the size."""


def build_ssdf_extract(snap: Snapshot, out: Path, *, scope: Scope, years: list[str],
                       lea: str | None = None, by: Side | None = None,
                       score_from: date | None = None, score_to: date | None = None,
                       scored_only: bool = False, fmt: str = "csv",
                       progress: Callable[[float, str], None] | None = None,
                       max_rows: int | None = None, with_data_only: bool = False) -> Extract:
    """Write a Student Score Data File extract (``read_ssdf_records``) in the year's layout.

    ``fmt`` is ``csv`` or ``xlsx`` (neutralised cells) or ``toms`` (caret, loads again). CSV
    and TOMS text are written a batch of schools at a time, in the order of
    ``read_ssdf_records``: a statewide extract never sits in memory whole. ``InputError`` for
    Excel beyond ``XLSX_MAX_RECORDS``. Excel holds scores and dates as numbers and dates,
    and ``with_data_only`` leaves out the layout's columns that are empty in every record
    (TOMS writes them all, as ``csv`` and ``toms`` do here).
    """
    say(progress, 0.0, "Counting records")
    keep, side = _ssdf_filter(snap, scope=scope, years=years, lea=lea, by=by,
                              score_from=score_from, score_to=score_to,
                              scored_only=scored_only)
    plan = _batches(snap, keep, side, sorted(set(years)))
    total = sum(n for *_, n in plan)
    if fmt == "xlsx":
        if total > XLSX_MAX_RECORDS:
            raise InputError(f"{total:,} records are too many for Excel here (at most "
                             f"{XLSX_MAX_RECORDS:,}): choose CSV or TOMS text, or one LEA")
        records = read_ssdf_records(snap, scope=scope, years=years, lea=lea, by=by,
                                    score_from=score_from, score_to=score_to,
                                    scored_only=scored_only)
        say(progress, 0.1, f"Laying out {records.height:,} records")
        layout_year = years[0] if len(set(years)) == 1 else None
        text = ssdf_text(snap, records, year=layout_year)
        if with_data_only and text.height:
            empty = [c for c in text.columns if text.get_column(c).fill_null("").eq("").all()]
            text = text.drop(empty)
        say(progress, 0.3, f"Writing {records.height:,} records")
        lay = layout(layout_year or (max(records.get_column("school_year")) if records.height
                                     else years[-1]))
        sheets = write_table(text, out, fmt=fmt, progress=progress_writer(progress, 0.3),
                             max_rows=max_rows, typed=typed_columns(lay, text.columns))
        return Extract(out, records.height, tuple(sheets))
    if fmt not in EXTENSIONS:
        raise ValueError(f"format must be one of {', '.join(EXTENSIONS)}")
    found = sorted({year for year, _, n in plan if n})
    layout_year = years[0] if len(set(years)) == 1 else (found[-1] if found else None)
    names = snap.store.extra_names()
    done = 0
    out.parent.mkdir(parents=True, exist_ok=True)
    with delimited_writer(out, fmt=fmt) as write:
        for year, keys, n in plan:
            lea_col, school_col = pl.col(f"{side}_lea_code"), pl.col(f"{side}_school_code")
            batch = (pl.scan_parquet(snap.year_files[year])
                     .with_columns(pl.lit(year).alias("school_year"))
                     .filter(keep & _key(lea_col, school_col).is_in(keys))
                     .select(list(STORE_SCHEMA))
                     .sort(f"{side}_lea_code", f"{side}_school_code", "ssid", "record_type",
                           nulls_last=True).collect())
            write(records_text(batch, names, year=layout_year, with_year=len(found) > 1))
            done += n
            say(progress, done / max(total, 1), f"Writing records: {done:,} of {total:,}")
        if total == 0:
            empty = pl.DataFrame(schema=STORE_SCHEMA)
            write(records_text(empty, names, year=layout_year, with_year=len(found) > 1))
    say(progress, 1.0, f"Wrote {total:,} records")
    return Extract(out, total, ())


def _key(lea: pl.Expr, school: pl.Expr) -> pl.Expr:
    """One text per (LEA, school), nulls included, to pick a batch's records."""
    return pl.concat_str([lea.fill_null("-"), school.fill_null("-")], separator="|")


def _batches(snap: Snapshot, keep: pl.Expr, side: Side, years: list[str]
             ) -> list[tuple[str, list[str], int]]:
    """(year, the (LEA, school) keys of a batch, its records), in the extract's order."""
    lea_col, school_col = f"{side}_lea_code", f"{side}_school_code"
    plan = []
    for year in years:
        counts = (pl.scan_parquet(snap.year_files[year])
                  .with_columns(pl.lit(year).alias("school_year")).filter(keep)
                  .group_by(lea_col, school_col).len()
                  .sort(lea_col, school_col, nulls_last=True).collect())
        keys: list[str] = []
        n = 0
        for lea_code, school_code, count in counts.iter_rows():
            keys.append(f"{lea_code or '-'}|{school_code or '-'}")
            n += count
            if n >= BATCH_RECORDS:
                plan.append((year, keys, n))
                keys, n = [], 0
        if keys:
            plan.append((year, keys, n))
    return plan


