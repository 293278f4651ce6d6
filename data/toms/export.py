"""Write stored records back out in the Student Score Data File layout (the round trip).

One row per stored record, the layout's header names, values as loaded after normalisation
(dates ISO, codes zero-padded, ``NS`` where the file said ``NS``). Three formats:

* ``toms``: caret-delimited like the TOMS download; loads again with ``elpac ingest``. A value
  that such a file cannot carry (a ``^``, a line break, any control character: a store loaded
  before the ingest refused them may hold one) stops the export with a sentence instead.
* ``csv``: comma-separated for spreadsheets; cells starting with ``= + - @`` get a leading
  apostrophe so a spreadsheet never runs them as formulas.
* ``xlsx``: the same neutralised cells, split across tabs at Excel's 1,048,576-row limit.

``records_text`` turns store rows into the layout's text and ``write_table`` writes any frame
(the layout's text, or a typed extract such as ``queries.extracts``' District/School export) as
CSV, caret text or Excel; both are used by the CLI and the dashboard's Exports page.
"""

from __future__ import annotations

import contextlib
import re
from datetime import datetime
from typing import TYPE_CHECKING, Any

import polars as pl

from data.cells import neutralised
from data.problems import InputError
from data.toms.field_catalogue import Field, field_for
from data.toms.field_rules import NS_FIELDS
from data.toms.layout import Layout, layout
from data.toms.normalise import EXTRA_SEPARATOR, STORE_SCHEMA

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

UNWRITABLE = r"[\^\x00-\x1f\x7f]"
"""What a caret-delimited TOMS file cannot carry in a value: the delimiter, line ends and the
other control characters (the ingest refuses all of them, ``data.toms.field_hygiene``)."""
_UNWRITABLE_NAMES = {"^": "a ^", "\n": "a line break", "\r": "a carriage return"}
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


NUMBER_KINDS = frozenset({"scale_score", "raw_score", "csem", "level", "domain_level"})
"""Field kinds whose values are numbers in a spreadsheet (a code keeps its leading zeros)."""


def typed_columns(lay: Layout, columns: list[str]) -> dict[str, str]:
    """The columns of a layout's text that Excel should hold as numbers or dates."""
    kinds = {h: field_for(c).kind.name for h, c in zip(lay.headers, lay.canonical, strict=True)
             if c is not None}
    return {h: "number" if kinds.get(h) in NUMBER_KINDS else "date"
            for h in columns if kinds.get(h) in (*NUMBER_KINDS, "date")}


def write_table(frame: pl.DataFrame, out: Path, *, fmt: str,
                progress: Callable[[int, int], None] | None = None,
                max_rows: int | None = None, sheet_prefix: str = "Records",
                typed: dict[str, str] | None = None) -> list[str]:
    """Write a frame as ``csv``, ``toms`` (caret) or ``xlsx``; return the Excel tab names.

    ``csv`` and ``xlsx`` neutralise text cells that a spreadsheet would run as formulas;
    ``toms`` writes the values as they are, so the file loads again. ``max_rows`` is the data
    rows per Excel tab (default ``EXCEL_MAX_DATA_ROWS``); ``typed`` as ``write_xlsx``.
    """
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "xlsx":
        return write_xlsx(frame, out, progress=progress, max_rows=max_rows,
                          sheet_prefix=sheet_prefix, typed=typed)
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
        extra_names = names[int(load_id)]
        _check_packed(group, int(load_id), len(extra_names))
        text = to_layout(group, lay, unpack_extras(extra_names), with_year=with_year)
        parts.append(text.with_columns(group.get_column("__i")))
    return pl.concat(parts).sort("__i").drop("__i")


def _check_packed(records: pl.DataFrame, load_id: int, n: int) -> None:
    """Refuse records whose packed fields do not unpack into their load's ``n`` fields.

    A separator inside a value (a store loaded before control characters were refused) moves
    every later field of its record: refused here rather than written shifted.
    """
    if n == 0:
        return
    count = pl.col("extra_fields").str.count_matches(EXTRA_SEPARATOR, literal=True) + 1
    wrong = records.filter(pl.col("extra_fields").is_not_null() & (count != n))
    if wrong.height:
        ssid, found = wrong.select(pl.col("ssid"), count).row(0)
        raise InputError(
            f"the stored record of SSID {ssid} (load {load_id}) holds {found} packed fields "
            f"where its load has {n}: a control character in a value, loaded before the ingest "
            "refused them, moved its fields; nothing was written. Load that record's file "
            "again: the ingest now names the row and field to correct")


def check_toms_text(part: pl.DataFrame, *, first_line: int) -> None:
    """Raise ``InputError`` if a value of ``part`` cannot be written as caret-delimited text.

    ``first_line`` is the file line ``part``'s first row is written on (the header is line 1).

    Examples
    --------
    >>> check_toms_text(pl.DataFrame({"Name": ["Ana", "Smith^Jones"]}), first_line=2)
    Traceback (most recent call last):
    ...
    data.problems.InputError: line 3 of the file, field Name holds a ^; a caret-delimited TOMS file cannot carry it, so nothing was written. Export as CSV or Excel, or correct the record's file and load it again
    """  # noqa: E501
    text = [c for c, dtype in part.schema.items() if dtype == pl.String]
    if not text or part.height == 0:
        return
    marks = part.select(pl.col(c).str.contains(UNWRITABLE).fill_null(False) for c in text)
    rows = marks.select(pl.any_horizontal(pl.all())).to_series()
    if not rows.any():
        return
    i = int(rows.arg_true()[0])
    column = next(c for c in text if marks.get_column(c)[i])
    value = part.get_column(column)[i]
    char = next(ch for ch in value if ch == "^" or ord(ch) < 32 or ord(ch) == 127)
    what = _UNWRITABLE_NAMES.get(char, f"a control character (U+{ord(char):04X})")
    whose = f" (the record of SSID {part.get_column('SSID')[i]})" if "SSID" in part.columns \
        else ""
    raise InputError(f"line {first_line + i} of the file, field {column} holds {what}{whose}; a "
                     "caret-delimited TOMS file cannot carry it, so nothing was written. Export "
                     "as CSV or Excel, or correct the record's file and load it again")


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

    The header comes with the first part; ``csv`` starts with a UTF-8 byte-order mark and
    its cells a spreadsheet would run are neutralised; a ``toms`` value the format cannot
    carry raises ``InputError`` (:func:`check_toms_text`). The file appears at ``out``
    whole, once every part is written (a failure leaves nothing there).
    """
    tmp = out.with_name(out.name + ".part")
    # TOMS files are never quoted (a caret cannot occur in their data); spreadsheet CSV is
    # quoted where needed and uses CRLF, as Excel writes it.
    options = ({"separator": "^", "quote_style": "never"} if fmt == "toms"
               else {"separator": ",", "quote_style": "necessary", "line_terminator": "\r\n"})
    written = 0
    lines = 1  # the header
    try:
        with tmp.open("wb") as handle:
            if fmt == "csv":
                # Excel reads a CSV without a byte-order mark as the system's code page:
                # "Núñez" would open as "NÃºÃ±ez". The report CSV has always had one.
                handle.write("\ufeff".encode())

            def write(part: pl.DataFrame) -> None:
                nonlocal written, lines
                if written and part.height == 0:
                    return
                if fmt == "toms":
                    check_toms_text(part, first_line=lines + 1)
                (neutralised(part) if fmt == "csv" else part).write_csv(
                    handle, include_header=written == 0, null_value="", **options)
                written += 1
                lines += part.height

            yield write
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)


def write_xlsx(text: pl.DataFrame, out: Path, *,
               progress: Callable[[int, int], None] | None = None,
               sheet_prefix: str = "Records", max_rows: int | None = None,
               typed: dict[str, str] | None = None) -> list[str]:
    """Write a frame to Excel, one tab per ``max_rows`` data rows; return the tab names.

    ``max_rows`` defaults to ``EXCEL_MAX_DATA_ROWS`` (Excel's limit less the header). Text
    cells are written as text (neutralised), number columns as numbers, nulls as empty cells.
    ``typed`` names text columns whose values are ``number`` or ``date`` (ISO): written as
    Excel numbers and dates where they parse (a scale score can be summed, a date sorted),
    as text where they do not ("NS"). Each tab has its header frozen and a filter on it.
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
    kinds = [(typed or {}).get(c) for c in text.columns]
    dated = workbook.add_format({"num_format": "yyyy-mm-dd"})
    names: list[str] = []
    try:
        n_sheets = max(1, -(-text.height // per_sheet))
        done = 0
        for s in range(n_sheets):
            name = sheet_prefix if n_sheets == 1 else f"{sheet_prefix} {s + 1}"
            names.append(name)
            sheet = workbook.add_worksheet(name)
            part = text.slice(s * per_sheet, per_sheet)
            # Set before any row is written (constant_memory writes rows as they come).
            sheet.freeze_panes(1, 0)
            sheet.autofilter(0, 0, max(part.height, 1), max(text.width - 1, 0))
            sheet.write_row(0, 0, text.columns)
            r = 1
            for chunk in _chunks(part, rows_per_step):
                for row in neutralised(chunk).iter_rows():
                    for c, value in enumerate(row):
                        if value is None or value == "":
                            continue
                        if numeric[c]:
                            sheet.write_number(r, c, value)
                        elif kinds[c] is not None:
                            _write_typed(sheet, r, c, str(value), kinds[c], dated)
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


_NUMBER = re.compile(r"-?\d{1,15}")


def _write_typed(sheet: Any, r: int, c: int, value: str, kind: str | None, dated: Any) -> None:
    if kind == "number" and _NUMBER.fullmatch(value):
        sheet.write_number(r, c, int(value))
    elif kind == "date" and len(value) == 10:
        try:
            sheet.write_datetime(r, c, datetime.strptime(value, "%Y-%m-%d"), dated)
        except ValueError:
            sheet.write_string(r, c, value)
    else:
        sheet.write_string(r, c, value)
