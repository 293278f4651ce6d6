"""Write stored records back out in the Student Score Data File layout (the round trip).

One row per stored record, the layout's header names, values as loaded after normalisation
(dates ISO, codes zero-padded, ``NS`` where the file said ``NS``). Three formats:

* ``toms``: caret-delimited like the TOMS download; loads again with ``elpac ingest``.
* ``csv``: comma-separated for spreadsheets; cells starting with ``= + - @`` get a leading
  apostrophe so a spreadsheet never runs them as formulas.
* ``xlsx``: the same neutralised cells, split across tabs at Excel's 1,048,576-row limit.

``records_text`` turns store rows into the layout's text and ``write_table`` writes any frame
(the layout's text, or a typed extract such as ``queries.extracts``' District/School export) as
CSV, caret text or Excel; both are used by the CLI and the dashboard's Exports page.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

import polars as pl

from data.cells import neutralised
from data.toms.field_catalogue import Field, field_for
from data.toms.field_rules import NS_FIELDS
from data.toms.layout import Layout, layout
from data.toms.normalise import EXTRA_SEPARATOR, STORE_SCHEMA

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

EXCEL_MAX_DATA_ROWS = 1_048_575
"""Excel's 1,048,576 rows per sheet, less the header row."""
FORMATS = ("csv", "toms", "xlsx")


def as_text(f: Field) -> pl.Expr:
    """Store column -> the text the layout writes for it."""
    col = pl.col(f.store)  # type: ignore[arg-type]
    dtype = STORE_SCHEMA[f.store]  # type: ignore[index]
    if dtype == pl.Boolean():
        yes, no = f.kind.values
        text = pl.when(col).then(pl.lit(yes)).when(~col).then(pl.lit(no))
    elif dtype == pl.Date():
        text = col.dt.strftime("%Y-%m-%d")
    else:
        text = col.cast(pl.String)
    if f.name in NS_FIELDS:
        bit = 1 << NS_FIELDS.index(f.name)
        is_ns = (pl.col("ns_fields").cast(pl.Int32) & bit) != 0
        text = pl.when(is_ns).then(pl.lit("NS")).otherwise(text)
    return text


def unpack_extras(extra_names: list[str]) -> dict[str, pl.Expr]:
    """Expressions for each field packed in ``extra_fields`` (rows of one load)."""
    if not extra_names:
        return {}
    parts = pl.col("extra_fields").str.split_exact(EXTRA_SEPARATOR, len(extra_names) - 1)
    return {name: parts.struct.field(f"field_{i}") for i, name in enumerate(extra_names)}


def to_layout(frame: pl.DataFrame, lay: Layout, extras: dict[str, pl.Expr], *,
              with_year: bool = False) -> pl.DataFrame:
    """Store rows -> a frame of text columns named and ordered as ``lay`` writes them.

    ``extras`` gives the text of fields without a store column (see ``unpack_extras``); the
    synthetic writer passes its own.
    """
    columns: list[pl.Expr] = []
    if with_year:
        columns.append(pl.col("school_year").alias("SchoolYear"))
    for header, canon in zip(lay.headers, lay.canonical, strict=True):
        if canon is None:
            expr = pl.lit("")
        elif canon == "EndofRecord":
            expr = pl.lit("ZZ")
        else:
            f = field_for(canon)
            expr = as_text(f) if f.store else extras.get(canon, pl.lit(""))
        columns.append(expr.fill_null("").alias(header))
    return frame.select(columns)


def records_text(records: pl.DataFrame, extra_names: dict[int, list[str]], *,
                 year: str | None = None, with_year: bool | None = None) -> pl.DataFrame:
    """Store rows -> the Student Score Data File text of ``year``'s layout, in the same order.

    Without ``year``, the layout of the latest year among the records. Records of more than one
    school year get a leading ``SchoolYear`` column (the layout itself has none; ``with_year``
    decides instead, for a file written a part at a time). ``extra_names`` is
    ``Store.extra_names()``: the fields each load packed in ``extra_fields``.
    """
    found_years = sorted(set(records.get_column("school_year").to_list()))
    lay = layout(year or (found_years[-1] if found_years else "2024-25"))
    return _decode_by_load(records, lay, extra_names,
                           with_year=len(found_years) > 1 if with_year is None else with_year)


def write_table(frame: pl.DataFrame, out: Path, *, fmt: str,
                progress: Callable[[int, int], None] | None = None,
                max_rows: int | None = None, sheet_prefix: str = "Records") -> list[str]:
    """Write a frame as ``csv``, ``toms`` (caret) or ``xlsx``; return the Excel tab names.

    ``csv`` and ``xlsx`` neutralise text cells that a spreadsheet would run as formulas;
    ``toms`` writes the values as they are, so the file loads again. ``max_rows`` is the data
    rows per Excel tab (default ``EXCEL_MAX_DATA_ROWS``).
    """
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "xlsx":
        return write_xlsx(frame, out, progress=progress, max_rows=max_rows,
                          sheet_prefix=sheet_prefix)
    _write_delimited(frame, out, delimiter="^" if fmt == "toms" else ",", safe=fmt == "csv",
                     progress=progress)
    return []


def _decode_by_load(records: pl.DataFrame, lay: Layout, names: dict[int, list[str]], *,
                    with_year: bool) -> pl.DataFrame:
    """The layout text of ``records``, keeping their order; each load has its own extras."""
    if records.height == 0:
        return to_layout(records, lay, {}, with_year=with_year)
    indexed = records.with_row_index("__i")
    parts = []
    for (load_id,), group in indexed.group_by("load_id", maintain_order=True):
        text = to_layout(group, lay, unpack_extras(names[int(load_id)]), with_year=with_year)
        parts.append(text.with_columns(group.get_column("__i")))
    return pl.concat(parts).sort("__i").drop("__i")


def _chunks(frame: pl.DataFrame, size: int = 50_000) -> Iterator[pl.DataFrame]:
    for start in range(0, frame.height, size):
        yield frame.slice(start, size)


def _write_delimited(text: pl.DataFrame, out: Path, *, delimiter: str, safe: bool,
                     progress: Callable[[int, int], None] | None) -> None:
    with delimited_writer(out, fmt="toms" if delimiter == "^" else "csv") as write:
        done = 0
        for chunk in _chunks(text, 100_000):
            write(chunk)
            done += chunk.height
            if progress:
                progress(done, text.height)
        if text.height == 0:
            write(text)


@contextlib.contextmanager
def delimited_writer(out: Path, *, fmt: str) -> Iterator[Callable[[pl.DataFrame], None]]:
    """Write a ``csv`` or ``toms`` file a part at a time: ``write(frame)`` for each part.

    The header comes with the first part; ``csv`` cells a spreadsheet would run are
    neutralised. The file appears at ``out`` whole, once every part is written (a failure
    leaves nothing there).
    """
    tmp = out.with_name(out.name + ".part")
    # TOMS files are never quoted (a caret cannot occur in their data); spreadsheet CSV is
    # quoted where needed and uses CRLF, as Excel writes it.
    options = ({"separator": "^", "quote_style": "never"} if fmt == "toms"
               else {"separator": ",", "quote_style": "necessary", "line_terminator": "\r\n"})
    written = 0
    try:
        with tmp.open("wb") as handle:

            def write(part: pl.DataFrame) -> None:
                nonlocal written
                if written and part.height == 0:
                    return
                (neutralised(part) if fmt == "csv" else part).write_csv(
                    handle, include_header=written == 0, null_value="", **options)
                written += 1

            yield write
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)


def write_xlsx(text: pl.DataFrame, out: Path, *,
               progress: Callable[[int, int], None] | None = None,
               sheet_prefix: str = "Records", max_rows: int | None = None) -> list[str]:
    """Write a frame to Excel, one tab per ``max_rows`` data rows; return the tab names.

    ``max_rows`` defaults to ``EXCEL_MAX_DATA_ROWS`` (Excel's limit less the header). Text
    cells are written as text (neutralised), number columns as numbers, nulls as empty cells.
    """
    import xlsxwriter

    per_sheet = max_rows or EXCEL_MAX_DATA_ROWS
    if per_sheet < 1:
        raise ValueError("an Excel tab holds at least one data row")
    numeric = [dtype.is_numeric() for dtype in text.schema.values()]
    # xlsxwriter writes about 100k cells a second (measured: 7,000 records x 376 fields in
    # 14 s), so report progress every ~500k cells rather than every 50k rows.
    rows_per_step = max(500, 500_000 // max(text.width, 1))
    tmp = out.with_name(out.name + ".part")
    # constant_memory streams rows to disk (measured: 0.29 GB for 2.5 M rows, TOOLCHAIN.md);
    # strings_to_* off so no cell is ever read as a formula, number or link.
    workbook = xlsxwriter.Workbook(str(tmp), {
        "constant_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
        "strings_to_urls": False})
    names: list[str] = []
    try:
        n_sheets = max(1, -(-text.height // per_sheet))
        done = 0
        for s in range(n_sheets):
            name = sheet_prefix if n_sheets == 1 else f"{sheet_prefix} {s + 1}"
            names.append(name)
            sheet = workbook.add_worksheet(name)
            sheet.write_row(0, 0, text.columns)
            part = text.slice(s * per_sheet, per_sheet)
            r = 1
            for chunk in _chunks(part, rows_per_step):
                for row in neutralised(chunk).iter_rows():
                    for c, value in enumerate(row):
                        if value is None or value == "":
                            continue
                        if numeric[c]:
                            sheet.write_number(r, c, value)
                        else:
                            sheet.write_string(r, c, str(value))
                    r += 1
                done += chunk.height
                if progress:
                    progress(done, text.height)
    finally:
        workbook.close()
    tmp.replace(out)
    return names
