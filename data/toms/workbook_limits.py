"""Limits an Excel workbook must keep before anything parses it: a zip bomb is refused unopened.

An ``.xlsx`` is a zip of XML parts. A few MB can inflate to gigabytes of sheet XML, and the Excel
reader keeps every cell it finds (issue 15: a 2 MB upload killed the dashboard). So, before the
reader sees a byte, :func:`check_workbook` checks the zip against the limits below, first as
its directory declares them, then by inflating every part and counting what really comes out,
a chunk at a time (a zip's directory can lie; the stream is what a reader inflates).

Sizes were measured on the demo's 2024-25 records (376 fields) written by xlsxwriter, which
writes sheets as Excel does: a record is about 1.1 KB as caret text and 4.5 KB as sheet XML,
and sheet XML deflates about 9 to 1 (shared strings 8 to 1, Excel's small parts 2-5 to 1). A
large LEA's file, a few hundred MB as text (about 350,000 records), is about 1.6 GB of sheet
XML; the limits leave about twice that.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

from data.problems import InputError

MAX_PARTS = 10_000
"""Excel writes a few dozen parts, and about three more per tab: 10,000 is a workbook of over
3,000 tabs (a school per tab in the largest LEA has about 1,000)."""
MAX_PART_BYTES = 3 << 30
"""3 GiB of XML in one part: a tab of about 700,000 records of 376 fields (4.5 KB each)."""
MAX_TOTAL_BYTES = 4 << 30
"""4 GiB inflated in all: the largest tab above plus its shared strings and any other tabs."""
MAX_RATIO = 100
"""Inflated to compressed, per part: real sheets reach about 9 to 1 and tiny parts 5 to 1; a
zip bomb's repeated rows reach 400 to 1000 to 1."""
RATIO_FROM_BYTES = 1 << 20
"""The ratio is checked on parts of at least 1 MiB inflated: smaller ones cannot hurt."""
METHODS = {0: "stored", 8: "deflate"}
"""Compression methods Excel and every library writing .xlsx use."""
_OTHER_METHODS = {9: "Deflate64", 12: "bzip2", 14: "LZMA", 93: "Zstandard", 95: "xz", 99: "AES"}
_CHUNK = 1 << 20


def _size(n: int) -> str:
    if n >= 1 << 30:
        return f"{n / (1 << 30):.1f} GiB"
    return f"{n:,} bytes ({n / 1e6:.1f} MB)"


def _declared_parts(raw: bytes) -> int | None:
    """The number of parts the zip's end record declares (read before trusting the zip)."""
    end = raw.rfind(b"PK\x05\x06", max(0, len(raw) - 22 - 0xFFFF))
    if end < 0 or len(raw) < end + 22:
        return None
    count = struct.unpack_from("<H", raw, end + 10)[0]
    locator = end - 20
    if count == 0xFFFF and locator >= 0 and raw[locator:locator + 4] == b"PK\x06\x07":
        record = struct.unpack_from("<Q", raw, locator + 8)[0]
        if raw[record:record + 4] == b"PK\x06\x06":
            count = struct.unpack_from("<Q", raw, record + 32)[0]
    return count


def _inflated_size(raw: bytes, info: zipfile.ZipInfo, limit: int) -> int:
    """Bytes a part really inflates to, counting at most ``limit + 1`` of them."""
    start = info.header_offset
    if raw[start:start + 4] != b"PK\x03\x04":
        raise zipfile.BadZipFile(info.filename)
    name_length, extra_length = struct.unpack_from("<HH", raw, start + 26)
    begin = start + 30 + name_length + extra_length
    data = memoryview(raw)[begin:begin + info.compress_size]
    if info.compress_type == 0:
        return len(data)
    inflater = zlib.decompressobj(-15)
    total = 0
    for at in range(0, len(data), _CHUNK):
        chunk = inflater.decompress(data[at:at + _CHUNK], _CHUNK)
        while True:
            total += len(chunk)
            if total > limit:
                return total
            if not inflater.unconsumed_tail:
                break
            chunk = inflater.decompress(inflater.unconsumed_tail, _CHUNK)
        if inflater.eof:
            break
    return total + len(inflater.flush())


def _check_declared(info: zipfile.ZipInfo) -> None:
    name = info.filename
    if info.flag_bits & 0x1:
        raise InputError(f"the workbook part {name} is encrypted (a password-protected "
                         "workbook); save it without a password and load it again")
    if info.compress_type not in METHODS:
        method = _OTHER_METHODS.get(info.compress_type, "unknown")
        raise InputError(f"the workbook part {name} is compressed with method "
                         f"{info.compress_type} ({method}); Excel workbooks use deflate, so it "
                         "was not opened")
    if info.file_size > MAX_PART_BYTES:
        raise InputError(f"the workbook part {name} inflates to more than "
                         f"{_size(MAX_PART_BYTES)}, the most one part may hold")
    if info.file_size >= RATIO_FROM_BYTES:
        _check_ratio(name, info.file_size, info.compress_size)


def _check_ratio(name: str, inflated: int, compressed: int) -> None:
    ratio = inflated // max(compressed, 1)
    if ratio > MAX_RATIO:
        raise InputError(f"the workbook part {name} is compressed {ratio:,} to 1, more than the "
                         f"{MAX_RATIO} to 1 a real workbook reaches (a zip bomb?), so it was not "
                         "opened")


def check_workbook(raw: bytes) -> None:
    r"""Raise ``InputError`` if a workbook's zip breaks a limit of this module; else nothing.

    Memory stays at one chunk of 1 MiB whatever the workbook holds, and a bomb is refused
    after at most the limit's worth of inflating (a few seconds), usually after none at all:
    its directory declares its size or its ratio first.

    Examples
    --------
    >>> check_workbook(b"PK\x03\x04 not a zip")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    data.problems.InputError: cannot be read as an Excel workbook (its zip directory is ...)
    """
    damaged = ("cannot be read as an Excel workbook (its zip directory is missing or "
               "damaged)")
    parts = _declared_parts(raw)
    if parts is None:
        raise InputError(damaged)
    if parts > MAX_PARTS:
        raise InputError(f"the workbook has {parts:,} parts; a Student Score Data File saved "
                         f"from Excel has a few dozen, and at most {MAX_PARTS:,} are read")
    try:
        infos = zipfile.ZipFile(io.BytesIO(raw)).infolist()
        declared_total = 0
        for info in infos:
            _check_declared(info)
            declared_total += info.file_size
            if declared_total > MAX_TOTAL_BYTES:
                raise InputError(f"the workbook inflates to more than {_size(MAX_TOTAL_BYTES)} "
                                 "in all, the most a workbook may hold")
        for info in infos:
            limit = min(info.file_size, MAX_PART_BYTES)
            size = _inflated_size(raw, info, limit)
            if size > info.file_size:
                raise InputError(f"the workbook part {info.filename} inflates to more than the "
                                 f"{info.file_size:,} bytes its zip directory declares (a zip "
                                 "bomb, or a damaged file), so it was not opened")
            if size < info.file_size:
                raise InputError(damaged)
    except (zipfile.BadZipFile, zlib.error, struct.error, ValueError, EOFError, OSError,
            OverflowError, NotImplementedError):
        raise InputError(damaged) from None
