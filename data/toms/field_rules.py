"""Per-field rules: type and check each value of a read file by its field's kind.

Each field is read by its kind (``data.toms.field_catalogue``): codes, dates, flags, scores, levels.
``check_fields`` adds three columns per checked field to the raw frame: ``v:<field>`` the typed
value, ``b:<field>`` True where the cell is not a valid value of the field, and for scores,
levels and raw scores ``ns:<field>`` True where the cell said ``NS``. The record rules
(``data.toms.record_rules``) and the store rows (``data.toms.normalise``) read those columns through
``checked`` and ``passed``.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from data.problems import InputError
from data.toms.field_catalogue import FIELDS, Field, Kind, field_for, per_field_cache

Check = tuple[str, str, pl.Expr, pl.Expr]
"""One check of a file's rows: (check name, field, is-bad mask, reason)."""

REQUIRED = tuple(f.name for f in FIELDS.values() if f.required)
"""Fields every record must fill; a file without one of these columns cannot be loaded."""

NS_KINDS = ("level", "domain_level", "raw_score", "scale_score")
"""Kinds of field that can say ``NS`` (no score) instead of a value (ELPAC.md §1.2, §1.4)."""

NS_FIELDS: tuple[str, ...] = (
    "OverallScaleScore", "OralLanguageScaleScore", "WrittenLanguageScaleScore",
    "OverallPL", "OralLanguagePL", "WrittenLanguagePL",
    "ListeningPL", "SpeakingPL", "ReadingPL", "WritingPL",
    "RawScore1", "RawScore2", "RawScore3", "RawScore4",
)
"""Fields that can say ``NS``; bit ``i`` of the store column ``ns_fields`` is set when field
``i`` was ``NS`` rather than blank, so exports write back exactly what was loaded."""


def store_dtype(kind: Kind) -> pl.DataType:
    """The Polars type a field of ``kind`` is stored as.

    Examples
    --------
    >>> store_dtype(field_for("OverallScaleScore").kind)
    Int16
    """
    if kind.name in ("scale_score", "csem"):
        return pl.Int16()
    if kind.name in ("level", "domain_level", "raw_score"):
        return pl.Int8()
    if kind.name == "date":
        return pl.Date()
    if kind.values in (("Yes", "No"), ("Y", "N")):
        return pl.Boolean()
    return pl.String()


def checked(name: str) -> pl.Expr:
    """The checked value of a field (free text is used as read)."""
    return pl.col(name) if field_for(name).kind.name == "text" else pl.col(f"v:{name}")


def passed(*names: str) -> pl.Expr:
    """True where none of ``names`` failed its own field check (so a record rule can run)."""
    return ~pl.any_horizontal([pl.col(f"b:{n}") for n in names])


def _clean(name: str) -> pl.Expr:
    """A raw column after ``check_fields``' first pass (trimmed, blank as null)."""
    return pl.col(name)


def _trimmed(name: str) -> pl.Expr:
    stripped = pl.col(name).str.strip_chars()
    return pl.when(stripped.str.len_bytes() > 0).then(stripped)


_ISO = r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?(?:\.\d+)?)?$"
_DMY_OR_MDY = (r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})"
               r"(?:\s+\d{1,2}:\d{2}(?::\d{2})?(?:\s?[AaPp][Mm])?)?$")


def _ymd(y: pl.Expr, m: pl.Expr, d: pl.Expr) -> pl.Expr:
    return pl.concat_str([y, pl.lit("-"), m.str.zfill(2), pl.lit("-"), d.str.zfill(2)]).str.to_date(
        "%Y-%m-%d", strict=False)


def _date_value(c: pl.Expr, order: str | None, excel: bool) -> pl.Expr:
    # Fast path for what TOMS writes (YYYY-MM-DD, sometimes with a time); the regex guards
    # against a valid date prefix followed by junk.
    value = pl.when(c.str.contains(_ISO)).then(
        c.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False))
    if not order and not excel:
        return value
    iso = c.str.extract_groups(_ISO)
    value = pl.coalesce(value, _ymd(iso.struct[0], iso.struct[1], iso.struct[2]))
    if order:
        other = c.str.extract_groups(_DMY_OR_MDY)
        first, second, year = other.struct[0], other.struct[1], other.struct[2]
        day, month = (first, second) if order == "dmy" else (second, first)
        value = pl.coalesce(value, _ymd(year, month, day))
    if excel:
        # Excel stores a date cell as days since 1899-12-30.
        serial = c.str.extract(r"^(\d{5})(?:\.0+)?$", 1).cast(pl.Int32, strict=False)
        value = pl.coalesce(value, pl.lit(date(1899, 12, 30)) + pl.duration(days=serial))
    return value


class DateOrderNeeded(Exception):
    """A block of a file has dates whose order (day or month first) the whole file decides."""


DateEvidence = tuple[int | None, int | None]
"""The largest first and second number of a file's non-ISO dates (None: no such date)."""


def date_evidence(frame: pl.DataFrame, date_columns: list[str]) -> DateEvidence:
    """What ``frame``'s non-ISO dates say about their order (``decide_date_order`` reads it)."""
    if not date_columns:
        return None, None
    other = frame.select(pl.any_horizontal(
        pl.col(c).str.contains(r"^\d{1,2}[-/.]").any() for c in date_columns)).item()
    if not other:
        return None, None
    first, second = frame.select(
        pl.concat_list([_clean(c).str.extract_groups(_DMY_OR_MDY).struct[0].cast(pl.Int32)
                        for c in date_columns]).list.max().max().alias("first"),
        pl.concat_list([_clean(c).str.extract_groups(_DMY_OR_MDY).struct[1].cast(pl.Int32)
                        for c in date_columns]).list.max().max().alias("second"),
    ).row(0)
    return first, second


def decide_date_order(evidence: DateEvidence, given: str | None, file: str) -> str | None:
    """Day-first or month-first for a file's non-ISO dates, from all of its dates' evidence."""
    first, second = evidence
    if first is None:
        return given
    dmy, mdy = first > 12, second is not None and second > 12
    if given:
        return given
    if dmy and not mdy:
        return "dmy"
    if mdy and not dmy:
        return "mdy"
    if not dmy and not mdy:
        raise InputError(
            f"{file}: dates such as 09-11-2021 could be day-first or month-first and no date in "
            "the file settles it; save the file with YYYY-MM-DD dates or pass --date-order dmy "
            "(or mdy)")
    return "dmy" if first >= second else "mdy"


def lenient_dates(frame: pl.DataFrame, fields: dict[str, Field]) -> list[str]:
    """The date columns of ``frame`` not all in canonical form (their order may matter)."""
    dates = {c: f for c, f in fields.items() if f.kind.name == "date"}
    if not dates:
        return []
    canonical = frame.select([(pl.col(c).is_null() | _canonical(f)).all().alias(c)
                              for c, f in dates.items()]).row(0, named=True)
    return [c for c, ok in canonical.items() if not ok]


_NUMERIC = {"scale_score": r"^\d{3,4}$", "csem": r"^\d{1,3}$", "level": r"^[1-4]$",
            "domain_level": r"^[1-3]$", "raw_score": r"^\d{1,2}$"}


@per_field_cache
def _canonical(f: Field) -> pl.Expr:
    """True where a raw cell is already in canonical form (the common case, checked cheaply).

    Columns where every cell passes take the fast path; any other column is trimmed and read
    leniently (case, aliases, missing leading zeros, spreadsheet dates) by ``_lenient_rules``.
    """
    c = pl.col(f.name)
    k = f.kind
    if k.name in ("enum", "end", "grade", "record_type"):
        return c.is_in(k.values)
    if k.name == "code":
        return c.str.contains(rf"^\d{{{k.width}}}$")
    if k.name == "ssid":
        return c.str.contains(r"^\d{10}$")
    if k.name == "language":
        return c.str.contains(r"^(?:\d\d|[A-Z]{3})$")
    if k.name == "date":
        return c.str.contains(r"^\d{4}-\d{2}-\d{2}$")
    if k.name in _NUMERIC:
        ok = c.str.contains(_NUMERIC[k.name])
        return ok if k.name == "csem" else ok | (c == "NS")
    return pl.lit(True)


@per_field_cache
def _fast_rules(f: Field) -> tuple[pl.Expr, pl.Expr]:
    """Value and is-bad mask of a column whose every cell is canonical."""
    c = pl.col(f.name)
    k = f.kind
    if store_dtype(k) == pl.Boolean():
        return c == k.values[0], pl.lit(False)
    if k.name == "date":
        value = c.str.to_date("%Y-%m-%d", strict=False)
        return value, c.is_not_null() & value.is_null()  # e.g. 2024-02-30
    if k.name in _NUMERIC:
        return pl.when(c != "NS").then(c).cast(store_dtype(k)), pl.lit(False)
    return c, pl.lit(False)


@per_field_cache
def _lenient_rules(f: Field, order: str | None, excel: bool) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """Value, is-bad mask and reason of one field, as expressions over the raw column."""
    c = _clean(f.name)
    k = f.kind
    present = c.is_not_null()
    if k.name == "enum" or k.name == "end":
        lookup = {v.upper(): v for v in k.values}
        lookup.update({a.upper(): t for a, t in k.aliases.items()})
        value = c.str.to_uppercase().replace_strict(lookup, default=None, return_dtype=pl.String)
        bad = present & value.is_null()
        reason = pl.lit(f"is not one of {', '.join(k.values)}")
        if store_dtype(k) == pl.Boolean():
            return value == k.values[0], bad, reason
        return value, bad, reason
    if k.name == "code":
        bad = present & ~c.str.contains(rf"^\d{{1,{k.width}}}$")
        return c.str.zfill(k.width), bad, pl.lit(f"is not a code of up to {k.width} digits")
    if k.name == "ssid":
        bad = present & ~c.str.contains(r"^\d{1,10}$")
        return c.str.zfill(10), bad, pl.lit("is not an SSID (up to 10 digits)")
    if k.name == "grade":
        up = c.str.to_uppercase()
        up = pl.when(up.str.contains(r"^\d{1,2}$")).then(up.str.zfill(2)).otherwise(up)
        value = up.replace(k.aliases)
        bad = present & ~value.is_in(k.values)
        return value, bad, pl.lit("is not a grade (KN, 01-12)")
    if k.name == "language":
        up = c.str.to_uppercase()
        value = pl.when(up.str.contains(r"^\d{1,2}$")).then(up.str.zfill(2)).otherwise(up)
        bad = present & ~value.str.contains(r"^[A-Z0-9]{1,3}$")
        return value, bad, pl.lit("is not a language code")
    if k.name == "record_type":
        value = c.str.to_uppercase()
        bad = present & ~value.is_in(k.values)
        return value, bad, pl.lit("is not a record type (21 Summative, 23 Alternate)")
    if k.name == "date":
        value = _date_value(c, order, excel)
        bad = present & value.is_null()
        return value, bad, pl.lit("is not a date (YYYY-MM-DD)")
    numeric = {"scale_score": (r"^\d{3,4}$", "a scale score"), "csem": (r"^\d{1,3}$", "a CSEM"),
               "level": (r"^[1-4]$", "a level (1-4)"), "domain_level": (r"^[1-3]$",
               "a domain level (1-3)"), "raw_score": (r"^\d{1,2}$", "a raw score (0-99)")}
    if k.name in numeric:
        pattern, what = numeric[k.name]
        up = c.str.to_uppercase()
        ok_ns = k.name != "csem"
        value = pl.when(up.str.contains(pattern)).then(up).otherwise(None).cast(store_dtype(k))
        is_ns = (up == "NS") if ok_ns else pl.lit(False)
        bad = present & value.is_null() & ~is_ns
        return value, bad, pl.lit(f"is not {what}{' or NS' if ok_ns else ''}")
    return c, pl.lit(False), pl.lit("")


def check_fields(frame: pl.DataFrame, fields: dict[str, Field], *, date_order: str | None,
                 excel: bool, file: str, one_block_of_many: bool = False
                 ) -> tuple[pl.DataFrame, list[Check]]:
    """Type every checked field of a raw file and say which cells are bad, and why.

    Parameters
    ----------
    frame
        The raw file, every cell as text (``data.toms.read``).
    fields
        The file's columns and their canonical fields.
    date_order
        ``"dmy"`` or ``"mdy"`` for non-ISO dates; ``None`` decides from the file's dates.
    excel
        The file was a workbook: a date may be an Excel day number.
    file
        The file's name, for the refusal of dates no order settles.
    one_block_of_many
        ``frame`` is one block of a larger file: dates whose order the file must decide raise
        ``DateOrderNeeded`` instead (unless ``date_order`` is given).

    Returns
    -------
    tuple[pl.DataFrame, list[Check]]
        ``frame`` with the ``v:``, ``b:`` and ``ns:`` columns added, and the field checks:
        each field's own, then the required fields, then the end-of-record marker.

    Raises
    ------
    InputError
        Day-first or month-first dates that nothing in the file tells apart.
    """
    checked_fields = {c: f for c, f in fields.items() if f.kind.name != "text"}
    canonical = frame.select([(pl.col(c).is_null() | _canonical(f)).all().alias(c)
                              for c, f in checked_fields.items()]).row(0, named=True)
    lenient = [c for c, ok in canonical.items() if not ok]
    # Free text is kept as written, except the few text fields the store holds (names...).
    trim = lenient + [c for c, f in fields.items() if f.kind.name == "text" and f.store]
    frame = frame.with_columns([_trimmed(c) for c in trim])
    dates = [c for c in lenient if fields[c].kind.name == "date"]
    evidence = date_evidence(frame, dates)
    if one_block_of_many and date_order is None and evidence[0] is not None:
        raise DateOrderNeeded(file)
    order = decide_date_order(evidence, date_order, file)

    values: list[pl.Expr] = []
    checks: list[Check] = []
    for c, f in checked_fields.items():
        if canonical[c]:
            value, bad = _fast_rules(f)
            reason = pl.lit("is not a date (YYYY-MM-DD)")
        else:
            value, bad, reason = _lenient_rules(f, order, excel)
        values.append(value.alias(f"v:{c}"))
        values.append(bad.alias(f"b:{c}"))
        checks.append((f"b:{c}", c, pl.col(f"b:{c}"), reason))
        if f.kind.name in NS_KINDS:
            ns = pl.col(c) == "NS" if canonical[c] else pl.col(c).str.to_uppercase() == "NS"
            values.append(ns.fill_null(False).alias(f"ns:{c}"))
    for r in REQUIRED:
        checks.append((f"r:{r}", r, pl.col(r).is_null(), pl.lit("is required")))
    if "EndofRecord" in fields:
        # A blank end marker means the record lost fields somewhere (ELPAC.md §3.1).
        checks.append(("r:EndofRecord", "EndofRecord", pl.col("EndofRecord").is_null(),
                       pl.lit("is blank; every record ends with ZZ")))
    return frame.with_columns(values), checks
