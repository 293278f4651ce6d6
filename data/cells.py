"""Spreadsheet-safe text cells: one rule for every CSV and Excel file the explorer writes.

A cell that starts with ``=``, ``+``, ``-`` or ``@`` is read by Excel, LibreOffice and Google
Sheets as a formula (``=HYPERLINK(...)`` in a student's name, say). So does one whose first
character is a TAB or a carriage return followed by such a character, and the full-width forms
(``＝ ＋ － ＠``), which some spreadsheet programs fold to the ASCII ones. A leading apostrophe
makes the program show the cell as text (OWASP's advice on CSV injection). The TOMS caret
format is not a spreadsheet and keeps every value as loaded.
"""

from __future__ import annotations

import polars as pl

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
"""First characters that make a spreadsheet read a cell as a formula (ASCII, TAB, CR and
full-width forms)."""
_RISKY = "^[" + "".join(f"\\x{{{ord(c):x}}}" for c in FORMULA_START) + "]"


def neutralise(value: str) -> str:
    r"""A text cell a spreadsheet will show as text, not run as a formula.

    >>> neutralise("=HYPERLINK(1)")
    "'=HYPERLINK(1)"
    >>> neutralise("\t=1") == "'\t=1", neutralise("\uff1dSUM(A1)") == "'\uff1dSUM(A1)"
    (True, True)
    >>> neutralise("Smith"), neutralise("")
    ('Smith', '')
    """
    return "'" + value if value.startswith(FORMULA_START) else value


def neutralised(frame: pl.DataFrame) -> pl.DataFrame:
    """``neutralise`` applied to every text cell of a frame (vectorised); other types kept.

    >>> neutralised(pl.DataFrame({"a": ["-1", "ok", None], "n": [1, 2, 3]})).rows()
    [("'-1", 1), ('ok', 2), (None, 3)]
    """
    return frame.with_columns(
        pl.when(pl.col(c).str.contains(_RISKY)).then(pl.lit("'") + pl.col(c))
        .otherwise(pl.col(c)).alias(c)
        for c, dtype in frame.schema.items() if dtype == pl.String)
