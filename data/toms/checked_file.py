"""Check a Student Score Data File a block of records at a time, into Parquet parts on disk.

A 376-field record is about 1.1 kB of text and, while its values are checked, some twenty times
that in memory: read whole, a large county's file (335,000 records) needed 6 GB (issue 14). Here
a UTF-8 text file is read in blocks of about ``BLOCK_BYTES``, cut at line ends; each block is
checked by ``data.toms.normalise.normalise_part`` on a worker thread and written to a Parquet
part in a working directory, and at most ``WORKERS`` blocks are in memory at once, so memory
follows the block, not the file. What only the whole file can decide is decided after its
blocks: the same student twice in different blocks (the duplicate rule, ELPAC.md §3.1), which
fields beyond the store's columns the file fills (``extra_fields``), and, when dates are not
ISO, whether they are day-first or month-first (a second pass over the file, only then).

Workbooks and text that is not UTF-8 (Excel's Windows-1252 "CSV") are checked whole, as one
block: their readers need the whole file, and such files are small. A Windows-1252 file larger
than ``WHOLE_FILE_LIMIT`` is refused with a sentence.
"""

from __future__ import annotations

import codecs
import hashlib
import itertools
import re
import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import polars as pl

from data.problems import ROW_PROBLEM_SCHEMA, InputError
from data.toms.encoding import BOM
from data.toms.field_hygiene import clean_bytes
from data.toms.field_rules import DateOrderNeeded, date_evidence, decide_date_order, lenient_dates
from data.toms.layout import extra_field_names
from data.toms.normalise import STORE_SCHEMA, Part, normalise_part, pack_extras
from data.toms.read import (
    LOOK_AHEAD,
    ROW,
    SHEET,
    RawFile,
    SourceFile,
    TextHeader,
    parse_block,
    read_file,
    read_header,
)
from data.toms.record_rules import DUPLICATE_REASON

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

BLOCK_BYTES = 24 * 2**20
"""About 21,000 records of 376 fields: ~300 MB while checked, and few enough blocks that the
per-block work (a Parquet part, the packing) stays a small share of the time."""
WORKERS = 2
"""Blocks checked at once (Polars releases the GIL: one block's Python bookkeeping overlaps
the other's vectorised work on a two-core machine)."""
_CHECKING = threading.BoundedSemaphore(WORKERS)
"""Blocks being checked at once in this process, whatever the number of files or ingests."""
WHOLE_FILE_LIMIT = 256 * 2**20
"""Largest file checked whole (a workbook's sheets, Windows-1252 text): about 4 GB while
checked, inside a load's memory limit (``queries.load_worker``)."""


@dataclass
class CheckedFile:
    """A checked file: its store rows in Parquet parts, its problems and what it holds."""

    source: SourceFile
    problems: pl.DataFrame
    n_input_rows: int
    extra_names: list[str]
    parts: list[Path]
    bad_rows: list[int] = field(default_factory=list)
    """Rows written to a part before the whole file showed them bad (duplicates across
    blocks); ``rows`` leaves them out."""
    n_records: int = 0

    def rows(self) -> pl.LazyFrame:
        """The store rows (``STORE_SCHEMA``; school year, load and source LEA still blank)."""
        schema = {**{c: t for c, t in STORE_SCHEMA.items() if c != "extra_fields"},
                  **{f"x:{n}": pl.String() for n in self.extra_names}, ROW: pl.Int64()}
        if not self.parts:
            return pl.LazyFrame(schema=STORE_SCHEMA)
        scan = pl.scan_parquet(self.parts, schema=schema, missing_columns="insert",
                               extra_columns="ignore")
        if self.bad_rows:
            scan = scan.filter(~pl.col(ROW).is_in(pl.lit(pl.Series(self.bad_rows,
                                                                    dtype=pl.Int64)).implode()))
        return scan.with_columns(pack_extras(self.extra_names)).select(list(STORE_SCHEMA))


def check_file(path: Path, workdir: Path, *, date_order: str | None = None) -> CheckedFile:
    """Read and check ``path``; its store rows go to Parquet parts in ``workdir``.

    ``workdir`` is the caller's, one per file, and must be kept until the rows are read.
    Raises ``InputError`` for a file that cannot be read as a Student Score Data File at all.
    """
    try:
        size = path.stat().st_size
        utf8, sha256 = _scan(path)
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})") from None
    if not utf8 or _is_workbook(path):
        if size > WHOLE_FILE_LIMIT:
            raise InputError(
                f"{path.name}: the file is {size / 2**20:,.0f} MB and not UTF-8 text; a "
                f"workbook or a Windows-1252 file is checked whole, up to "
                f"{WHOLE_FILE_LIMIT // 2**20} MB: save it as UTF-8 text (CSV UTF-8, or the "
                "^-delimited file TOMS gives) or split it")
        return _check_whole(path, workdir, date_order)
    header = _header(path)
    try:
        return _check_blocks(path, workdir, header, sha256, date_order, one_of_many=True)
    except DateOrderNeeded:
        evidence = _file_date_evidence(path, header)
        order = decide_date_order(evidence, None, path.name)
        return _check_blocks(path, workdir, header, sha256, order, one_of_many=False)


def _is_workbook(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(4) == b"PK\x03\x04"


def _scan(path: Path) -> tuple[bool, str]:
    """Whether the file is UTF-8 throughout, and its sha256, in one streaming pass."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    utf8 = True
    with path.open("rb") as f:
        while chunk := f.read(8 * 2**20):
            digest.update(chunk)
            if utf8:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    utf8 = False
    if utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8 = False
    return utf8, digest.hexdigest()


def _header(path: Path) -> TextHeader:
    """The header, from the first ``LOOK_AHEAD`` characters as ``read_file`` finds it."""
    with path.open("rb") as f:
        start = f.read(LOOK_AHEAD * 4)  # a character is at most 4 bytes
        whole = not f.read(1)
    body = start[len(BOM):] if start.startswith(BOM) else start
    # The cut may split the last character: the header comes first anyway.
    full = body.decode("utf-8", errors="ignore")
    has_break = re.search(r"[\r\n]", full) is not None or (not whole and _has_break(path))
    header = read_header(path, full[:LOOK_AHEAD], complete=whole and len(full) <= LOOK_AHEAD,
                         has_break=has_break)
    header.offset += len(start) - len(body)
    return header


def _has_break(path: Path) -> bool:
    with path.open("rb") as f:
        while chunk := f.read(8 * 2**20):
            if b"\n" in chunk or b"\r" in chunk:
                return True
    return False


def _check_whole(path: Path, workdir: Path, date_order: str | None) -> CheckedFile:
    raw = read_file(path)
    part = normalise_part(raw, date_order=date_order)
    file = _start(raw.source)
    file.problems = part.problems
    file.n_input_rows = part.n_input_rows
    file.extra_names = part.extra_names
    file.n_records = part.frame.height
    if part.frame.height:
        target = workdir / "part-00000.parquet"
        part.frame.write_parquet(target, compression="lz4", statistics=False)
        file.parts.append(target)
    return file


def _start(source: SourceFile) -> CheckedFile:
    return CheckedFile(source, pl.DataFrame(schema=ROW_PROBLEM_SCHEMA), 0, [], [])


def _blocks(path: Path, header: TextHeader) -> Iterator[tuple[int, bytes]]:
    """The file after its header in blocks cut at line ends: (first line's number, bytes).

    A comma file is cut only where the quotes before the cut are balanced, so a quoted line
    break stays inside its block.
    """
    line = header.line_number + 1
    rest = b""
    with path.open("rb") as f:
        f.seek(header.offset)
        while True:
            data = f.read(BLOCK_BYTES)
            buf = rest + data
            if not data:
                if buf:
                    yield line, buf
                return
            cut = _cut(buf, header.delimiter)
            if cut <= 0:
                rest = buf
                continue
            block, rest = buf[:cut], buf[cut:]
            yield line, block
            line += _line_breaks(block)


def _cut(buf: bytes, delimiter: str) -> int:
    cut = buf.rfind(b"\n") + 1
    if delimiter == ",":
        while cut > 0 and buf.count(b'"', 0, cut) % 2:
            cut = buf.rfind(b"\n", 0, cut - 1) + 1
    return cut


def _line_breaks(block: bytes) -> int:
    """Line ends as ``data.toms.read.split_lines`` counts them: CRLF, CR or LF."""
    return block.count(b"\n") + block.count(b"\r") - block.count(b"\r\n")


def _check_blocks(path: Path, workdir: Path, header: TextHeader, sha256: str,
                  date_order: str | None, *, one_of_many: bool) -> CheckedFile:
    source = header.source(path, sha256)
    file = _start(source)
    keys: list[pl.DataFrame] = []
    for stale in workdir.glob("part-*.parquet"):  # a first pass that needed the date order
        stale.unlink()
    blocks = _blocks(path, header)
    first = next(blocks, None)
    if first is None:
        file.source.n_rows = 0
        return file
    second = next(blocks, None)
    # A file of one block decides its own dates, as a whole file does.
    many = one_of_many and second is not None
    todo = itertools.chain([first], [] if second is None else [second], blocks)

    def work(n: int, line: int, data: bytes) -> tuple[Part, Path]:
        with _CHECKING:
            frame, problems = parse_block(path, data, line, header)
            part = normalise_part(RawFile(source, frame, problems), date_order=date_order,
                                  one_block_of_many=many,
                                  clean=clean_bytes(data, header.delimiter))
            target = workdir / f"part-{n:05d}.parquet"
            if part.frame.height:
                part.frame.write_parquet(target, compression="lz4", statistics=False)
            return part, target

    inflight: deque[Future[tuple[Part, Path]]] = deque()

    def finish(future: Future[tuple[Part, Path]]) -> None:
        part, target = future.result()
        file.problems = pl.concat([file.problems, part.problems])
        file.n_input_rows += part.n_input_rows
        file.extra_names = sorted(set(file.extra_names) | set(part.extra_names))
        file.n_records += part.frame.height
        if part.frame.height:
            file.parts.append(target)
        keys.append(part.keys.with_columns(pl.lit(len(keys), pl.Int32).alias("block")))

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        try:
            for n, (line, data) in enumerate(todo):
                if len(inflight) >= WORKERS:
                    finish(inflight.popleft())
                inflight.append(pool.submit(work, n, line, data))
            while inflight:
                finish(inflight.popleft())
        finally:
            for future in inflight:
                future.cancel()
    file.source.n_rows = file.n_input_rows
    found = set(file.extra_names)
    file.extra_names = [n for n in extra_field_names() if n in found]
    if len(keys) > 1:
        _duplicates_across_blocks(file, pl.concat(keys))
    file.problems = file.problems.sort("row", "field", maintain_order=True)
    return file


def _duplicates_across_blocks(file: CheckedFile, keys: pl.DataFrame) -> None:
    """The duplicate rule over the whole file: a student's first row may be in an earlier block.

    Each block found its own duplicates against its own first rows; a row whose file-wide first
    row is in an earlier block is a duplicate of that row instead (its block's message, if any,
    is replaced), and leaves the store rows.
    """
    key = ["v:SSID", "v:RecordType"]
    firsts = keys.group_by(key).agg(pl.col(ROW).min().alias("first"),
                                    pl.col("block").min().alias("first_block"))
    later = (keys.join(firsts, on=key).filter(pl.col("block") > pl.col("first_block"))
             .select(ROW, SHEET, "value", "first"))
    if later.height == 0:
        return
    rows = later.get_column(ROW)
    stale = (pl.col("row").is_in(rows.implode()) & (pl.col("field") == "SSID")
             & pl.col("reason").str.starts_with(DUPLICATE_REASON.split("{")[0]))
    new = later.select(pl.lit(file.source.name).alias("file"), pl.col(SHEET).alias("sheet"),
                       pl.col(ROW).alias("row"), pl.lit("SSID").alias("field"),
                       pl.col("value"),
                       pl.format(DUPLICATE_REASON, pl.col("first")).alias("reason"))
    before = set(file.problems.get_column("row").to_list())
    file.problems = pl.concat([file.problems.filter(~stale), new.cast(ROW_PROBLEM_SCHEMA)])
    newly_bad = [r for r in rows.to_list() if r not in before]
    file.bad_rows = sorted(newly_bad)
    file.n_records -= len(newly_bad)


def _file_date_evidence(path: Path, header: TextHeader) -> tuple[int | None, int | None]:
    """Every block's date evidence, combined (a pass that only reads)."""
    firsts: list[int] = []
    seconds: list[int] = []
    for line, data in _blocks(path, header):
        frame, _ = parse_block(path, data, line, header)
        fields = header.fields()
        first, second = date_evidence(frame, lenient_dates(frame, fields))
        if first is not None:
            firsts.append(first)
        if second is not None:
            seconds.append(second)
    return (max(firsts) if firsts else None, max(seconds) if seconds else None)

