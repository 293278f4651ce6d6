"""Field hygiene: what no field of a Student Score Data File holds, refused before any rule.

Three things, checked on every field of a file as read (before any value is trimmed):

* a control character, U+0000-U+001F or U+007F: TOMS fields hold none. Tab, CR and LF are only
  delimiters and line ends; inside a field they come from a spreadsheet's quoted cell or an
  Alt+Enter, and a NUL or an escape sequence from worse. The unit separator (U+001F) would also
  break the store's packing of fields without a column (``data.toms.normalise``: one in
  ``LocalUse`` shifted 115 exported fields of its record);
* a ``^``, the TOMS delimiter: a caret file cannot hold one, but a comma file or a workbook
  can, and the record could then never be written back as TOMS text;
* free text longer than its kind's ``max_length`` (``data.toms.field_catalogue``: the TOMS
  layout's width), such as a 5 MB name.

:func:`hygiene_checks` adds, for each column with a problem, the reason per cell
(``hr:<field>``) and the value as read (``hv:<field>``), so the row problem quotes the cell as
it was. :func:`shown_value` is how a problem quotes a value: control characters as their visible
pictures (U+2400-U+2421: ␟ for U+001F) and a long value cut short.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from data.toms.field_catalogue import per_field_cache

if TYPE_CHECKING:
    from data.toms.field_catalogue import Field

CONTROLS = r"[\x00-\x1f\x7f]"
"""The characters no field holds (as a regular expression)."""
SHOWN_CHARACTERS = 60
"""A problem quotes at most this much of a value (more than the longest name's 50)."""
_PICTURES = {chr(i): chr(0x2400 + i) for i in range(32)} | {"\x7f": "\u2421"}
_REASONS = {c: f"holds a control character (U+{ord(c):04X}, shown as {p}); no field of a "
               "Student Score Data File does" for c, p in _PICTURES.items()}
_CARET = ("holds a ^, the delimiter of Student Score Data Files; such a file could never be "
          "written back")


def shown_value(value: str | None) -> str | None:
    r"""A cell as a problem quotes it: control characters made visible, a long value cut.

    Examples
    --------
    >>> shown_value("A\x1fB")
    'A␟B'
    >>> shown_value("x" * 70)
    'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx… (70 characters)'
    """
    if value is None:
        return None
    shown = value[:SHOWN_CHARACTERS].translate(str.maketrans(_PICTURES))
    return shown + (f"… ({len(value):,} characters)" if len(value) > SHOWN_CHARACTERS else "")


def needs_showing(values: pl.Series) -> bool:
    """Whether any value would be quoted differently from itself (``shown_value``)."""
    return bool(values.str.contains(CONTROLS).any()
                or (values.str.len_chars() > SHOWN_CHARACTERS).any())


def _thousands(n: pl.Expr) -> pl.Expr:
    """A count as text with thousands separators (5,242,880), for a reason."""
    def part(x: pl.Expr) -> pl.Expr:
        return (x % 1000).cast(pl.String).str.zfill(3)

    return (pl.when(n >= 1_000_000).then(pl.format("{},{},{}", n // 1_000_000,
                                                    part(n // 1000), part(n)))
            .when(n >= 1000).then(pl.format("{},{}", n // 1000, part(n)))
            .otherwise(n.cast(pl.String)))


@per_field_cache
def _reason(name: str, f: Field) -> pl.Expr:
    """Why a cell of ``name`` breaks the hygiene rules (null where it does not)."""
    c = pl.col(name)
    control = c.str.extract(f"({CONTROLS})", 1).replace_strict(_REASONS, default=None,
                                                             return_dtype=pl.String)
    reason = pl.when(control.is_not_null()).then(control).when(
        c.str.contains("^", literal=True)).then(pl.lit(_CARET))
    limit = f.kind.max_length
    if limit:
        n = c.str.strip_chars().str.len_chars()
        reason = reason.when(n > limit).then(pl.format(
            "is {} characters long; {} holds at most {} (its width in the TOMS layout)",
            _thousands(n), pl.lit(name), pl.lit(limit)))
    return reason.otherwise(None)


@per_field_cache
def _breaks_a_rule(name: str, f: Field) -> pl.Expr:
    c = pl.col(name)
    bad = c.str.contains(f"{CONTROLS}|\\^")
    if f.kind.max_length:
        bad = bad | (c.str.strip_chars().str.len_chars() > f.kind.max_length)
    return bad.any().alias(name)


def hygiene_checks(frame: pl.DataFrame, fields: dict[str, Field], *,
                   lengths_only: bool = False
                   ) -> tuple[pl.DataFrame, list[tuple[str, str, pl.Expr, pl.Expr]]]:
    """``frame`` with a reason and a value column for each field that breaks a rule; checks.

    The checks are one per such field, named ``h:<field>``, as ``data.toms.field_rules.Check``.
    ``lengths_only``: the caller found no control character and no ``^`` in the cells' bytes
    (``clean_bytes``), so only the lengths are left to check, and only in the columns whose
    longest cell has more bytes than the column's width.

    One pass over the file finds the fields with a problem (usually none); only those get
    columns.
    """
    if lengths_only:
        fields = {c: f for c, f in fields.items() if f.kind.max_length}
        if fields:
            # A cell has no more characters, stripped or not, than bytes: only a column whose
            # longest cell has more bytes than its width can break it (usually none), and
            # counting bytes copies nothing (stripping copied every cell: 118 -> 12 ms for a
            # block of 22,000 records).
            longest = frame.select(pl.col(c).str.len_bytes().max() for c in fields).row(0)
            fields = {c: f for (c, f), n in zip(fields.items(), longest, strict=True)
                      if n is not None and n > f.kind.max_length}
    if not fields:
        return frame, []
    found = frame.select(_breaks_a_rule(c, f) for c, f in fields.items()).row(0, named=True)
    bad = [c for c, hit in found.items() if hit]
    if not bad:
        return frame, []
    frame = frame.with_columns(
        [_reason(c, fields[c]).alias(f"hr:{c}") for c in bad]
        + [pl.col(c).alias(f"hv:{c}") for c in bad])
    return frame, [(f"h:{c}", c, pl.col(f"hr:{c}").is_not_null(), pl.col(f"hr:{c}"))
                   for c in bad]


_CONTROL_BYTES = bytes([*range(0x00, 0x0a), 0x0b, 0x0c, *range(0x0e, 0x20), 0x7f])
_CONTROL_BYTES_TAB = _CONTROL_BYTES.replace(b"\t", b"")


def clean_bytes(data: bytes, delimiter: str) -> bool:
    """True when no cell of these whole lines of UTF-8 text can break the character rules.

    No control byte but the line ends (and the delimiter, for a tab file; UTF-8 encodes no
    other character with these bytes), and no ``^`` unless it is the delimiter: one scan of
    the bytes instead of a regular expression over each of 376 columns (issue 14).
    """
    if delimiter == "," and b'"' in data:
        return False  # a quoted cell of a comma file may hold a line break
    controls = _CONTROL_BYTES_TAB if delimiter == "\t" else _CONTROL_BYTES
    # Deleting them is one table lookup a byte: four times a regular expression's speed.
    if len(data.translate(None, controls)) != len(data):
        return False
    return delimiter == "^" or b"^" not in data
