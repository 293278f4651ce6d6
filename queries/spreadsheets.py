"""Files people open in a spreadsheet: an uploaded CSV's text, and downloads that run no formula.

Every CSV a user uploads is decoded here, with the rules ``data.toms.read`` reads TOMS files
with (UTF-8 with or without a byte-order mark, else Windows cp1252 as Excel saves it). Every
CSV or Excel file the dashboard offers goes through :func:`spreadsheet_safe`: a text cell that
starts with ``=``, ``+``, ``-`` or ``@`` would run as a formula in a spreadsheet, so it gets a
leading apostrophe (``data.toms.export.neutralise``; OWASP's CSV-injection advice).
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from data.cells import neutralised
from data.toms.read import decode_text

if TYPE_CHECKING:
    import polars as pl


def decode_upload(data: bytes) -> str:
    r"""An uploaded text file's bytes as text (UTF-8, else cp1252 as Excel on Windows saves).

    Examples
    --------
    >>> decode_upload("\ufeffname,ssid\r\n".encode())
    'name,ssid\r\n'
    >>> decode_upload("Peña".encode("cp1252"))
    'Peña'
    """
    return decode_text(data)[0]


def spreadsheet_safe(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with every text cell that a spreadsheet would run as a formula neutralised.

    Number columns stay as they are (a negative number is not a formula).

    Examples
    --------
    >>> import polars as pl
    >>> spreadsheet_safe(pl.DataFrame({"a": ["=1+1", "Smith"], "n": [-1, 2]})).rows()
    [("'=1+1", -1), ('Smith', 2)]
    """
    return neutralised(frame)


def csv_bytes(frame: pl.DataFrame) -> bytes:
    r"""``frame`` as a spreadsheet-safe CSV file (:func:`spreadsheet_safe`).

    UTF-8 with a byte-order mark (so Excel reads the accents), CRLF line ends as Excel writes
    them, empty cells for nulls.

    Examples
    --------
    >>> import polars as pl
    >>> csv_bytes(pl.DataFrame({"name": ["@SUM(A1)", None]}))
    b"\xef\xbb\xbfname\r\n'@SUM(A1)\r\n\r\n"
    """
    buffer = io.BytesIO()
    buffer.write("\ufeff".encode())
    spreadsheet_safe(frame).write_csv(buffer, null_value="", line_terminator="\r\n")
    return buffer.getvalue()
