"""Decode a text file strictly: UTF-8, or Windows cp1252 through and through, or refuse it.

TOMS writes UTF-8; Excel on Windows saves "CSV" as cp1252 (names such as Peña). A file that
mixes the two (UTF-8 names and one stray byte, issue 15) used to be decoded whole as cp1252
with replacement characters, which turned every "Núñez" into "NÃºÃ±ez" on the Student Score
Reports sent home. The rule now (``decode_text``):

1. UTF-8, with or without a byte-order mark, when every byte is valid UTF-8.
2. Otherwise cp1252, when (a) every byte is a cp1252 character (0x81, 0x8D, 0x8F, 0x90 and
   0x9D are not) and (b) no run of bytes is a well-formed UTF-8 multi-byte character, and the
   file has no UTF-8 byte-order mark. (b) is what tells "UTF-8 with a few bad bytes" from
   cp1252: in cp1252 text such a run is an accented capital (À-ß) followed by a symbol of
   0x80-0xBF (É’), or an accented small letter followed by two such symbols: never a name.
   Such a rare cp1252 file is refused too, with where, and loads once saved as UTF-8.
3. Otherwise the file is refused, naming the row (line), field and byte offset of the first
   byte that is not UTF-8.
"""

from __future__ import annotations

import csv
import re

from data.problems import InputError

BOM = b"\xef\xbb\xbf"
UTF8_CHARACTER = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}"
    rb"|\xed[\x80-\x9f][\x80-\xbf]|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}"
    rb"|\xf4[\x80-\x8f][\x80-\xbf]{2}")
"""A well-formed UTF-8 character of two to four bytes (RFC 3629, section 4)."""
_SAVE = "it was not loaded: save it again as UTF-8 (CSV UTF-8 in Excel)"


def _line_breaks(raw: bytes, end: int) -> int:
    """Line breaks (CRLF, CR or LF, as the reader splits lines) in ``raw[:end]``."""
    return raw.count(b"\n", 0, end) + raw.count(b"\r", 0, end) - raw.count(b"\r\n", 0, end)


def _line_start(raw: bytes, offset: int) -> int:
    return max(raw.rfind(b"\n", 0, offset), raw.rfind(b"\r", 0, offset)) + 1


def where(raw: bytes, offset: int) -> str:
    r"""Where the byte at ``offset`` is, as "row R, field F: " (the header: a column number).

    Rows are lines, the header being row 1 (after any blank lines); the field is the header's
    name of the column the byte is in, counted by the header's delimiter (^, tab or comma).

    Examples
    --------
    >>> where(b"A^B^C\n1^2^3\n", 9)
    'row 2, field B: '
    >>> where(b"A^B^C\n", 2)
    'row 1 (the header), column 2: '
    """
    lines = [line for line in re.split(rb"\r\n|\r|\n", raw[: 1 << 20]) if line.strip()]
    header = lines[0].decode("utf-8", errors="replace") if lines else ""
    delimiter = next((d for d in ("^", "\t", ",") if d in header), "^")
    start = _line_start(raw, offset)
    prefix = raw[start:offset].decode("utf-8", errors="replace")
    if delimiter == ",":
        column = len(next(csv.reader([prefix]), [""])) - 1 if prefix else 0
    else:
        column = prefix.count(delimiter)
    row = _line_breaks(raw, offset) + 1
    header_row = _line_breaks(raw, raw.find(lines[0])) + 1 if lines else 1
    if row <= header_row:
        return f"row {row} (the header), column {column + 1}: "
    names = next(csv.reader([header])) if delimiter == "," else header.split(delimiter)
    name = names[column].strip() if column < len(names) else f"column {column + 1}"
    return f"row {row}, field {name}: "


def decode_text(raw: bytes) -> tuple[str, str]:
    r"""A text file's bytes as text and the encoding read, by the module's rule; else refused.

    Raises ``InputError`` (without the file's name, which the caller adds) for bytes that are
    neither UTF-8 nor, through and through, cp1252.

    Examples
    --------
    >>> decode_text("Peña".encode("cp1252"))
    ('Peña', 'cp1252')
    >>> decode_text(b"\xef\xbb\xbfNguy\xe1\xbb\x85n")
    ('Nguyễn', 'utf-8')
    """
    body = raw[len(BOM):] if raw.startswith(BOM) else raw
    try:
        return body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        bad = exc.start + len(raw) - len(body)
    not_utf8 = f"{where(raw, bad)}byte 0x{raw[bad]:02X} at byte offset {bad:,} is not UTF-8"
    if body is not raw:
        raise InputError(f"{not_utf8}, though the file begins with a UTF-8 byte-order mark; "
                         f"{_SAVE}")
    try:
        text = raw.decode("cp1252")
    except UnicodeDecodeError:
        raise InputError(f"{not_utf8}, and the file is not Windows-1252 (cp1252) throughout "
                         f"either; {_SAVE}") from None
    utf8 = UTF8_CHARACTER.search(raw)
    if utf8:
        row = _line_breaks(raw, utf8.start()) + 1
        raise InputError(f"{not_utf8}, while row {row} holds UTF-8 text: the file mixes two "
                         f"encodings, and its names would be garbled; {_SAVE}")
    return text, "cp1252"
