"""Read a Student Score Data File (caret or comma text, or Excel with one or many tabs).

The result is every cell as a string under its canonical field name, plus the row number a
person would see, the layout the header matched, and structural problems (rows with the wrong
number of fields). Values are not checked here: that is ``data.toms.normalise``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import polars as pl

from data.problems import ROW_PROBLEM_SCHEMA, InputError
from data.toms.encoding import decode_text
from data.toms.field_catalogue import Field, field_for
from data.toms.layout import Layout, match_layout
from data.toms.workbook_limits import check_workbook

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

ROW = "__row"
SHEET = "__sheet"

_TOMS_NAME = re.compile(
    r"(?:(?P<cds>\d{14})_)?.*?(?P<kind>Enrolled|Tested)StudentScoreData_(?P<year>\d{4})", re.I)
_YEAR_IN_NAME = re.compile(r"(?<!\d)(20\d\d)-(\d\d)(?!\d)")
_KIND_IN_NAME = re.compile(
    # A word of its own: "2021-22_tested", "DistrictTested", "LEA_TESTED"; not "contested",
    # "untested" or "CONTESTED".
    r"((?<![A-Za-z])(?:enrolled|tested)|Enrolled|Tested|(?<![A-Z])(?:ENROLLED|TESTED))(?![a-z])")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
LOOK_AHEAD = 200_000
"""Characters read to find the header row (376 header names take under 8,000)."""


@dataclass
class SourceFile:
    """What was learnt about one input file while reading it."""

    path: Path
    sha256: str
    size: int
    layout: Layout
    delimiter: str
    encoding: str
    unknown_headers: list[str]
    n_rows: int = 0
    name_lea: str | None = None
    name_kind: str | None = None
    name_year: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        """The file name as the user gave it (no directories: reports may be shared)."""
        return self.path.name


@dataclass
class RawFile:
    """A file's cells as strings, canonical column names, one row per record."""

    source: SourceFile
    frame: pl.DataFrame
    problems: pl.DataFrame


def file_name_facts(name: str) -> tuple[str | None, str | None, str | None]:
    """LEA CDS code, kind and school year that a TOMS file name states, where it does.

    Examples
    --------
    >>> file_name_facts("19647330000000_Summative_ELPAC_and_Summative_Alternate_ELPAC_"
    ...                 "Student_Score_Data_File_TestedStudentScoreData_2024_DLMTR.CSV")
    ('19647330000000', 'tested', '2023-24')
    >>> file_name_facts("2021-22_tested_dlmtr_scrubbed.csv")
    (None, 'tested', '2021-22')
    >>> file_name_facts("DistrictEnrolled_2024-25.csv")[1], file_name_facts("LEA_TESTED.txt")[1]
    ('enrolled', 'tested')
    >>> file_name_facts("contested_scores_2024-25.csv"), file_name_facts("untested.csv")[1]
    ((None, None, '2024-25'), None)
    """
    m = _TOMS_NAME.search(name)
    if m:
        spring = int(m["year"])
        return m["cds"], m["kind"].lower(), f"{spring - 1}-{spring % 100:02d}"
    year = None
    y = _YEAR_IN_NAME.search(name)
    if y and (int(y[1]) + 1) % 100 == int(y[2]):
        year = f"{y[1]}-{y[2]}"
    k = _KIND_IN_NAME.search(name)
    return None, (k[1].lower() if k else None), year


def split_lines(text: str) -> list[str]:
    r"""Lines split at CRLF, CR or LF only, as a record's line ends.

    Not ``str.splitlines``, which also splits at form feeds, ASCII separators and Unicode line
    separators: those are data (and control characters are refused, ``data.toms.field_hygiene``),
    not line ends that would cut a record in two.

    Examples
    --------
    >>> split_lines("a^b\r\nc\x1ed\n\ne\rf\n")
    ['a^b', 'c\x1ed', '', 'e', 'f']
    """
    lines = _LINE_BREAK.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _problem_frame(rows: list[dict[str, object]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=ROW_PROBLEM_SCHEMA)


def _columns_for(headers: list[str], path: Path) -> tuple[Layout, list[str | None], list[str]]:
    if len(headers) < 5:
        raise InputError(
            f"{path.name}: the first line has {len(headers)} column(s); a Student Score Data "
            "File starts with a header row of 99 to 376 names separated by ^ or commas")
    lay, mapping, unknown = match_layout(headers)
    canonical = [mapping.get(h) for h in headers]
    known = [c for c in canonical if c]
    if len(known) < 20:
        raise InputError(
            f"{path.name}: the header row does not look like a Student Score Data File "
            f"({len(known)} of {len(headers)} names are fields of any known layout)")
    seen: set[str] = set()
    for c in known:
        if c in seen:
            raise InputError(f"{path.name}: the header names field {c} twice")
        seen.add(c)
    return lay, canonical, unknown


def _frame(columns: list[list[str]], canonical: list[str | None], rows: list[int],
           sheet: str | None) -> pl.DataFrame:
    data = {c: col for c, col in zip(canonical, columns, strict=True) if c}
    frame = pl.DataFrame(data, schema=dict.fromkeys(data, pl.String))
    # Blank cells are null, as Polars' CSV reader gives them.
    frame = frame.with_columns([pl.when(pl.col(c) != "").then(pl.col(c)).alias(c) for c in data])
    frame = frame.with_columns(pl.Series(ROW, rows, dtype=pl.Int64),
                               pl.lit(sheet, dtype=pl.String).alias(SHEET))
    return frame


def _parse_plain_fast(raw: bytes, header_line: str, first: int, delimiter: str, width: int,
                      canonical: list[str | None]) -> pl.DataFrame | None:
    """Parse a well-formed caret file straight from its bytes; None sends it the slow way.

    Well-formed means: no blank line inside, and every line has exactly the header's number of
    fields. Polars refuses a line with too many; then, with no line longer, the file's total
    number of delimiters equals (width - 1) x lines only if no line is shorter either.
    """
    start = raw.find(header_line.encode("utf-8"))
    end = raw.find(b"\n", start)
    if start < 0 or end < 0:
        return None
    body = raw[end + 1:]
    names = [f"c{i}" for i in range(width)]
    try:
        frame = pl.read_csv(body, has_header=False, separator=delimiter, quote_char=None,
                            infer_schema=False, new_columns=names)
    except pl.exceptions.PolarsError:
        return None  # the careful path reports which line is wrong
    # Polars skips blank lines: the row count must equal the line count for row numbers to
    # be the file's line numbers.
    lines = body.count(b"\n") + (0 if body.endswith(b"\n") else 1)
    sep = delimiter.encode("utf-8")
    if frame.height != lines or raw.count(sep) != (width - 1) * (frame.height + 1):
        return None
    keep = {f"c{i}": c for i, c in enumerate(canonical) if c}
    return frame.select([pl.col(src).alias(dst) for src, dst in keep.items()]).with_columns(
        pl.int_range(first + 2, first + 2 + frame.height, dtype=pl.Int64).alias(ROW),
        pl.lit(None, dtype=pl.String).alias(SHEET))


def _read_text(path: Path, raw: bytes) -> tuple[SourceFile, pl.DataFrame, pl.DataFrame]:
    # hashlib releases the GIL on large inputs: hash while the file is parsed.
    with ThreadPoolExecutor(max_workers=1) as pool:
        digest = pool.submit(lambda: hashlib.sha256(raw).hexdigest())
        source, frame, problems = _parse_text(path, raw)
        source.sha256 = digest.result()
    return source, frame, problems


def _parse_text(path: Path, raw: bytes) -> tuple[SourceFile, pl.DataFrame, pl.DataFrame]:
    try:
        text, encoding = decode_text(raw)
    except InputError as exc:
        raise InputError(f"{path.name}: {exc}") from None
    first, header_line, delimiter, headers = _header_row(
        path, text[:LOOK_AHEAD], size=len(raw), complete=len(text) <= LOOK_AHEAD,
        has_break=lambda: bool(_LINE_BREAK.search(text)))
    lay, canonical, unknown = _columns_for(headers, path)
    source = SourceFile(path, "", len(raw), lay, delimiter, encoding, unknown)
    width = len(headers)
    problems: list[dict[str, object]] = []
    fast = _parse_plain_fast(raw, header_line, first, delimiter, width, canonical) if (
        encoding == "utf-8" and delimiter != ",") else None
    if fast is not None:
        frame = fast
    elif delimiter == ",":
        frame, problems = _parse_quoted(path, text, first, width, canonical)
    else:
        frame, problems = _parse_plain(path, split_lines(text), first, delimiter, width,
                                       canonical)
    source.n_rows = frame.height
    return source, frame, _problem_frame(problems)


def _header_row(path: Path, text: str, *, size: int, complete: bool,
                has_break: Callable[[], bool]) -> tuple[int, str, str, list[str]]:
    """The header row in the start of a file's text: line index, line, delimiter and names.

    ``text`` is at most ``LOOK_AHEAD`` characters (``complete``: the whole file); ``has_break``
    is asked only when no header row is found, to say why.
    """
    lines = split_lines(text)
    if not complete:
        lines = lines[:-1]  # the cut may split the last line; the header comes first anyway
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        _no_header(path, size, complete=complete, has_break=has_break())
    header_line = lines[first]
    delimiter = next((d for d in ("^", "\t", ",") if d in header_line), None)
    if delimiter is None:
        raise InputError(f"{path.name}: the header row has no ^, tab or comma between names")
    headers = (next(csv.reader([header_line])) if delimiter == ","
               else header_line.split(delimiter))
    return first, header_line, delimiter, headers


def _no_header(path: Path, size: int, *, complete: bool, has_break: bool) -> None:
    if complete:
        raise InputError(f"{path.name}: the file is empty")
    if not has_break:
        raise InputError(f"{path.name}: the file is one line of {size:,} bytes with no line "
                         "break: it is not a Student Score Data File, or its line breaks were "
                         "lost (a record per line is needed)")
    raise InputError(f"{path.name}: the first line is longer than {LOOK_AHEAD:,} characters; a "
                     "Student Score Data File starts with a header row of 99 to 376 names "
                     "separated by ^ or commas")


@dataclass
class TextHeader:
    """A UTF-8 text file's header row and where its records start (``read_header``)."""

    line_number: int
    """The header's line (1-based); records start on the next."""
    offset: int
    """Bytes before the first record (the header line and its line end, blank lines, BOM)."""
    delimiter: str
    headers: list[str]
    layout: Layout
    canonical: list[str | None]
    unknown: list[str]

    def source(self, path: Path, sha256: str) -> SourceFile:
        """The file's ``SourceFile`` (row count 0 until its records are read)."""
        lea, kind, year = file_name_facts(path.name)
        return SourceFile(path, sha256, path.stat().st_size, self.layout, self.delimiter,
                          "utf-8", self.unknown, name_lea=lea, name_kind=kind, name_year=year)

    def fields(self) -> dict[str, Field]:
        """The file's canonical fields by column name."""
        return {c: field_for(c) for c in self.canonical if c}


def read_header(path: Path, text: str, *, complete: bool, has_break: bool) -> TextHeader:
    """The header of a UTF-8 text file from the start of its text.

    ``text`` is at most ``LOOK_AHEAD`` characters; ``complete`` when it is the whole file,
    ``has_break`` when the file has a line break anywhere. Raises ``InputError`` as
    ``read_file`` does for a file without a usable header row.
    """
    first, _, delimiter, headers = _header_row(path, text, size=path.stat().st_size,
                                               complete=complete, has_break=lambda: has_break)
    lay, canonical, unknown = _columns_for(headers, path)
    end = 0
    for _ in range(first + 1):
        found = _LINE_BREAK.search(text, end)
        end = found.end() if found else len(text)
    return TextHeader(first + 1, len(text[:end].encode("utf-8")), delimiter, headers, lay,
                      canonical, unknown)


def parse_block(path: Path, data: bytes, line: int, header: TextHeader
                ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Records of a block of a UTF-8 text file (whole lines, the first on line ``line``).

    The cells as strings under canonical names with their row numbers, and the rows with the
    wrong number of fields as problems, exactly as ``read_file`` reads a whole file.
    """
    width = len(header.headers)
    canonical = header.canonical
    if header.delimiter != ",":
        fast = _fast_block(data, line, header.delimiter, width, canonical)
        if fast is not None:
            return fast, _problem_frame([])
    text = data.decode("utf-8")
    if header.delimiter == ",":
        frame, problems = _parse_quoted(path, text, -1, width, canonical)
    else:
        frame, problems = _parse_plain(path, split_lines(text), -1, header.delimiter, width,
                                       canonical)
    shift = line - 1
    frame = frame.with_columns(pl.col(ROW) + shift)
    for problem in problems:
        problem["row"] = int(problem["row"]) + shift  # type: ignore[call-overload]
    return frame, _problem_frame(problems)


def _fast_block(data: bytes, line: int, delimiter: str, width: int,
                canonical: list[str | None]) -> pl.DataFrame | None:
    """``_parse_plain_fast`` for a block: None when a line is blank or has the wrong width."""
    names = [f"c{i}" for i in range(width)]
    try:
        frame = pl.read_csv(data, has_header=False, separator=delimiter, quote_char=None,
                            infer_schema=False, new_columns=names)
    except pl.exceptions.PolarsError:
        return None
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    stray_cr = b"\r" in data and data.count(b"\r") != data.count(b"\r\n")  # most have none
    if (frame.height != lines or stray_cr
            or data.count(delimiter.encode("utf-8")) != (width - 1) * frame.height):
        return None
    keep = {f"c{i}": c for i, c in enumerate(canonical) if c}
    return frame.select([pl.col(src).alias(dst) for src, dst in keep.items()]).with_columns(
        pl.int_range(line, line + frame.height, dtype=pl.Int64).alias(ROW),
        pl.lit(None, dtype=pl.String).alias(SHEET))


def _parse_plain(path: Path, lines: list[str], first: int, delimiter: str, width: int,
                 canonical: list[str | None]) -> tuple[pl.DataFrame, list[dict[str, object]]]:
    # TOMS caret files never quote, so a quote character is data; count fields per line first
    # so a short or long row is reported with its line number instead of shifting columns.
    good: list[str] = []
    rows: list[int] = []
    problems: list[dict[str, object]] = []
    expected = width - 1
    for i in range(first + 1, len(lines)):
        line = lines[i]
        if not line.strip():
            continue
        n = line.count(delimiter)
        if n != expected:
            problems.append({"file": path.name, "sheet": None, "row": i + 1, "field": "(record)",
                             "value": None,
                             "reason": f"has {n + 1} fields; the header has {width}"})
            continue
        good.append(line)
        rows.append(i + 1)
    if not good:
        columns: list[list[str]] = [[] for _ in range(width)]
        return _frame(columns, canonical, [], None), problems
    names = [f"c{i}" for i in range(width)]
    body = pl.read_csv(io.BytesIO("\n".join(good).encode("utf-8")), has_header=False,
                       separator=delimiter, quote_char=None, infer_schema=False,
                       new_columns=names)
    keep = {f"c{i}": c for i, c in enumerate(canonical) if c}
    body = body.select([pl.col(src).alias(dst) for src, dst in keep.items()])
    body = body.with_columns(pl.Series(ROW, rows, dtype=pl.Int64),
                             pl.lit(None, dtype=pl.String).alias(SHEET))
    return body, problems


def _parse_quoted(path: Path, text: str, first: int, width: int,
                  canonical: list[str | None]) -> tuple[pl.DataFrame, list[dict[str, object]]]:
    # Comma files come from spreadsheets, which quote cells holding commas: use a real CSV
    # reader. They are small (hand-saved), so Python speed is fine here. The reader gets the
    # text as it is (newline=""), so a quoted line break stays in its cell, where the field
    # checks refuse it, and a record is numbered by the line it starts on.
    reader = csv.reader(io.StringIO(text, newline=""))
    for _ in range(first + 1):  # blank lines, then the header
        next(reader)
    columns: list[list[str]] = [[] for _ in range(width)]
    rows: list[int] = []
    problems: list[dict[str, object]] = []
    while True:
        line_no = reader.line_num + 1
        record = next(reader, None)
        if record is None:
            break
        if not any(cell.strip() for cell in record):
            continue
        if len(record) != width:
            problems.append({"file": path.name, "sheet": None, "row": line_no,
                             "field": "(record)", "value": None,
                             "reason": f"has {len(record)} fields; the header has {width}"})
            continue
        for col, cell in zip(columns, record, strict=True):
            col.append(cell)
        rows.append(line_no)
    return _frame(columns, canonical, rows, None), problems


def _read_excel(path: Path, raw: bytes) -> tuple[SourceFile, pl.DataFrame, pl.DataFrame]:
    import fastexcel

    try:
        check_workbook(raw)  # before the reader inflates anything: zip bombs (issue 15)
    except InputError as exc:
        raise InputError(f"{path.name}: {exc}") from None
    try:
        reader = fastexcel.read_excel(raw)
    except Exception as exc:  # fastexcel raises its own error types for damaged workbooks
        raise InputError(f"{path.name}: cannot be read as an Excel workbook ({exc})") from None
    frames: list[pl.DataFrame] = []
    source: SourceFile | None = None
    for sheet in reader.sheet_names:
        table = reader.load_sheet(sheet, header_row=None, dtypes="string").to_polars()
        if table.height == 0:
            continue
        headers = [("" if v is None else str(v)).strip() for v in table.row(0)]
        while headers and not headers[-1]:
            headers.pop()
        table = table.select(table.columns[: len(headers)])
        lay, canonical, unknown = _columns_for(headers, path)
        if source is None:
            source = SourceFile(path, hashlib.sha256(raw).hexdigest(), len(raw), lay, "xlsx",
                                "xlsx", unknown)
        elif lay.year != source.layout.year:
            raise InputError(f"{path.name}: tab {sheet!r} has the {lay.year} layout but the "
                             f"first tab has the {source.layout.year} layout")
        keep = {old: c for old, c in zip(table.columns, canonical, strict=True) if c}
        body = (table.slice(1)
                .with_columns(pl.int_range(2, table.height + 1, dtype=pl.Int64).alias(ROW))
                .select([pl.when(pl.col(old) != "").then(pl.col(old)).alias(c)
                         for old, c in keep.items()] + [pl.col(ROW)])
                .filter(pl.any_horizontal(pl.col(c).str.strip_chars().fill_null("") != ""
                                          for c in keep.values()))
                .with_columns(pl.lit(sheet, dtype=pl.String).alias(SHEET)))
        frames.append(body)
    if source is None:
        raise InputError(f"{path.name}: the workbook has no rows")
    frame = pl.concat(frames, how="diagonal_relaxed")
    source.n_rows = frame.height
    return source, frame, _problem_frame([])


def read_file(path: Path) -> RawFile:
    """Read one Student Score Data File; raise ``InputError`` if it cannot be read at all."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})") from None
    if raw[:4] == b"PK\x03\x04":
        source, frame, problems = _read_excel(path, raw)
    else:
        source, frame, problems = _read_text(path, raw)
    source.name_lea, source.name_kind, source.name_year = file_name_facts(path.name)
    return RawFile(source, frame, problems)
