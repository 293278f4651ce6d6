"""Check every value of a read file and turn it into store rows (the assembly).

``data.toms.field_rules`` types and checks each field by its kind, ``data.toms.record_rules`` checks
whole records against the state's rules; here the two run over a file, every problem becomes a
row problem with the row number, field, value and reason, and the rows without one become
store rows (``STORE_SCHEMA``). Nothing here raises for bad data, only for a file that cannot be
read as this layout at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

import polars as pl

from data import domain
from data.problems import ROW_PROBLEM_SCHEMA, InputError
from data.student_groups import derived_columns
from data.toms.field_catalogue import FIELDS, Field, field_for
from data.toms.field_hygiene import hygiene_checks, needs_showing, shown_value
from data.toms.field_rules import NS_FIELDS, REQUIRED, Check, check_fields, checked, store_dtype
from data.toms.layout import extra_field_names
from data.toms.read import ROW, SHEET, RawFile
from data.toms.record_rules import RECORD_TYPE_GIVEN, duplicate_key_ok, record_rules
from data.toms.tested_blocks import derived_fields, with_final_tested

EXTRA_SEPARATOR = "\x1f"
"""Joins the verbatim fields in ``extra_fields`` (ASCII unit separator: never in TOMS data)."""


@dataclass
class Normalised:
    """Store rows of one file (valid rows only) and the problems of the others."""

    frame: pl.DataFrame
    problems: pl.DataFrame
    n_input_rows: int
    extra_names: list[str]
    """Fields packed in ``extra_fields``, in order: those of the file with any value."""


STORE_SCHEMA: dict[str, pl.DataType] = {
    "school_year": pl.String(), "load_id": pl.Int64(), "source_lea_code": pl.String(),
    "enrolled_lea_code": pl.String(), "tested_lea_code": pl.String(),
    **{f.store: store_dtype(f.kind) for f in FIELDS.values() if f.store},
    "ssr_languages": pl.String(), "ns_fields": pl.Int16(),
    # Derived at load time (data.student_groups.derived_columns):
    "reporting_lea_code": pl.String(), "reporting_school_code": pl.String(),
    "county_code": pl.String(), "el_years_in_program": pl.Int16(),
    "us_school_months": pl.Int16(), "is_reported": pl.Boolean(),
    "extra_fields": pl.String(),
}
"""Columns of the ``results`` table, one row per student x test x school year."""

SET_BY_LOAD: tuple[str, ...] = (
    "school_year", "load_id", "source_lea_code", "ssr_languages", "reporting_lea_code",
    "reporting_school_code", "county_code", "el_years_in_program", "us_school_months",
    "is_reported")
"""Columns a file does not say on its own: set when it is loaded into a year (``with_year``)."""


def _text(expr: pl.Expr, f: Field) -> pl.Expr:
    """The normalised value of an extras field as text (dates ISO, flags as the layout spells)."""
    if store_dtype(f.kind) == pl.Boolean():
        yes, no = f.kind.values
        return pl.when(expr).then(pl.lit(yes)).when(~expr).then(pl.lit(no))
    return expr.cast(pl.String)


@dataclass
class Part:
    """Store rows and problems of a file or of one block of its records.

    ``frame`` holds the store columns except ``extra_fields``, whose fields are left unpacked as
    ``x:<field>`` columns (text; only those with a value in the block), and ``ROW``: the
    blocks of one file are packed together once every block is known (``pack_extras``).
    ``keys`` lists the student and test of every row the duplicate rule could read (``ROW``,
    ``v:SSID``, ``v:RecordType``, ``SHEET`` and the SSID cell as ``value``), so duplicates
    across blocks can be found after them.
    """

    frame: pl.DataFrame
    problems: pl.DataFrame
    n_input_rows: int
    extra_names: list[str]
    keys: pl.DataFrame


def normalise(raw: RawFile, *, date_order: str | None = None) -> Normalised:
    """Check every value of ``raw`` and return store rows for the rows without problems.

    The school year, load id and source LEA are filled in later (``data.results.ingest``).
    """
    part = normalise_part(raw, date_order=date_order)
    frame = part.frame.with_columns(pack_extras(part.extra_names)).select(list(STORE_SCHEMA))
    return Normalised(frame, part.problems, part.n_input_rows, part.extra_names)


def normalise_part(raw: RawFile, *, date_order: str | None = None,
                   one_block_of_many: bool = False, clean: bool = False) -> Part:
    """Check every value of ``raw`` (a file, or a block of one) into a ``Part``.

    ``one_block_of_many`` (``data.toms.checked_file``): dates that need a day-first or
    month-first order raise ``DateOrderNeeded`` unless ``date_order`` is given, because one
    block cannot decide it for the whole file. ``clean``: the block's bytes hold no control
    character or stray ``^`` (``data.toms.field_hygiene.clean_bytes``).
    """
    src = raw.source
    frame = raw.frame
    present = [c for c in frame.columns if c not in (ROW, SHEET)]
    derived = derived_fields(present, src.layout.canonical)  # 2019-20: from its domain blocks
    missing = [r for r in REQUIRED if r not in present and r not in derived]
    if missing:
        raise InputError(f"{src.name}: the file has no {', '.join(missing)} column "
                         f"(layout {src.layout.year}); it cannot be loaded")
    fields = {c: field_for(c) for c in present}
    # Hygiene first, on the cells as read: the field checks trim some of them.
    frame, hygiene = hygiene_checks(frame, fields, lengths_only=clean)
    typed, checks = check_fields(frame, fields, date_order=date_order,
                                 excel=src.delimiter == "xlsx", file=src.name,
                                 one_block_of_many=one_block_of_many)
    typed, fields, checks = with_final_tested(typed, fields, checks, src.layout.canonical)
    typed, rules = record_rules(typed, src.layout.year, fields)
    checks = [*hygiene, *checks, *rules]

    problems = _collect_problems(typed, checks, src.name)
    bad_rows = problems.get_column("row").unique()
    keys = typed.filter(duplicate_key_ok()).select(
        ROW, SHEET, "v:SSID", "v:RecordType", pl.col("SSID").cast(pl.String).alias("value"))
    good = typed.filter(~pl.col(ROW).is_in(bad_rows.implode()))
    extra_names = _extra_names(good, fields)
    return Part(_store_rows(good, fields, extra_names), pl.concat([raw.problems, problems]),
                frame.height, extra_names, keys)


def pack_extras(extra_names: list[str]) -> pl.Expr:
    """``extra_fields``: the ``x:<field>`` columns of ``extra_names`` joined (``EXTRA_SEPARATOR``).

    A block without a value in one of them has no such column: read it with missing columns
    as null (``pl.scan_parquet(..., missing_columns="insert")``).
    """
    if not extra_names:
        return pl.lit(None, pl.String).alias("extra_fields")
    return pl.concat_str([pl.col(f"x:{n}").fill_null("") for n in extra_names],
                         separator=EXTRA_SEPARATOR).alias("extra_fields")


def _collect_problems(typed: pl.DataFrame, checks: list[Check], file: str) -> pl.DataFrame:
    # Every mask is computed once over the whole file; only flagged rows get messages.
    names = [name for name, *_ in checks]
    marked = typed.with_columns([bad.fill_null(False).alias(name)
                                 for name, _, bad, _ in checks])
    sub = marked.filter(pl.any_horizontal(names))
    if sub.height == 0:
        return pl.DataFrame(schema=ROW_PROBLEM_SCHEMA)
    parts = []
    for name, fieldname, _, reason in checks:
        rows = sub.filter(pl.col(name))
        if rows.height == 0:
            continue
        value = pl.col(fieldname) if fieldname in sub.columns else pl.lit(None, pl.String)
        if name == "x:record_type":  # quote the code as the file wrote it
            value = pl.col(RECORD_TYPE_GIVEN)
        elif name.startswith("h:"):  # the cell as read, before any trimming
            value = pl.col(f"hv:{fieldname}")
        parts.append(rows.select(
            pl.lit(file).alias("file"), pl.col(SHEET).alias("sheet"), pl.col(ROW).alias("row"),
            pl.lit(fieldname).alias("field"), value.cast(pl.String).alias("value"),
            reason.cast(pl.String).alias("reason")))
    found = pl.concat(parts).sort("row", "field")
    values = found.get_column("value")
    if needs_showing(values):  # a NUL or a 5 MB name is quoted visibly and short
        found = found.with_columns(pl.Series("value", [shown_value(v) for v in values],
                                             dtype=pl.String))
    return found


def _extra_names(frame: pl.DataFrame, fields: dict[str, Field]) -> list[str]:
    """Fields without a store column that hold a value in this file, in catalogue order.

    Packing only these (not every field of every layout) keeps loads fast: a typical file
    fills about 75 of its 300 such fields.
    """
    candidates = [n for n in extra_field_names() if n in fields]
    if not candidates:
        return []
    nulls = frame.select([pl.col(n).null_count() for n in candidates]).row(0)
    return [n for n, k in zip(candidates, nulls, strict=True) if k < frame.height]


def _store_rows(good: pl.DataFrame, fields: dict[str, Field],
                extra_names: list[str]) -> pl.DataFrame:
    cols: dict[str, pl.Expr] = {}
    for f in FIELDS.values():
        if f.store and f.name in fields:
            cols[f.store] = checked(f.name)
    for f in FIELDS.values():
        # A CALPADS copy stands in only when the file has no locked "for testing" column at
        # all (2018-19 has none): a blank locked value means blank at testing time.
        if f.fallback_for and f.name in fields and f.fallback_for not in cols:
            cols[f.fallback_for] = checked(f.name)
    out = [expr.cast(STORE_SCHEMA[name]).alias(name) for name, expr in cols.items()]
    ns_bits = [pl.col(f"ns:{n}").cast(pl.Int16) * (1 << i) for i, n in enumerate(NS_FIELDS)]
    out.append(pl.sum_horizontal(ns_bits).cast(pl.Int16).alias("ns_fields"))
    out += [_text(checked(name), fields[name]).alias(f"x:{name}") for name in extra_names]
    out.append(pl.col(ROW))
    frame = good.select(out)
    missing = {n: t for n, t in STORE_SCHEMA.items()
               if n not in frame.columns and n != "extra_fields"}
    frame = frame.with_columns([pl.lit(None, dtype=t).alias(n) for n, t in missing.items()])
    if "SSREligible" not in fields and "Attemptedness" in fields:
        # 2018-19 files have no SSREligible field; an SSR is made for attemptedness Y
        # (ELPAC.md §7 "Who gets one").
        frame = frame.with_columns(
            pl.when(pl.col("attemptedness").is_not_null())
            .then(pl.col("attemptedness") == "Y").alias("is_ssr_eligible"))
    lea = {p: pl.when(pl.col(f"{p}_charter_indicator") == "DF")
           .then(pl.col(f"{p}_school_code")).otherwise(pl.col(f"{p}_district_code"))
           for p in ("enrolled", "tested")}
    frame = frame.with_columns(lea["enrolled"].alias("enrolled_lea_code"),
                               lea["tested"].alias("tested_lea_code"))
    return frame.select([c for c in STORE_SCHEMA if c != "extra_fields"]
                        + [f"x:{n}" for n in extra_names] + [ROW])


Frame = TypeVar("Frame", pl.DataFrame, pl.LazyFrame)


def with_year(frame: Frame, school_year: str) -> Frame:
    """Set the school year and what depends on it.

    That is the SSR languages (ELPAC.md §7), the reporting LEA and school and the time in
    program (``data.student_groups.derived_columns``).
    """
    ceds = pl.coalesce(pl.col("ceds_language"), pl.col("primary_language").replace_strict(
        domain.CALPADS_LANGUAGE_TO_CEDS, default=None, return_dtype=pl.String))
    lang = ceds.replace_strict(domain.CEDS_TO_SSR_LANGUAGE, default=None, return_dtype=pl.String)
    if domain.spring_year(school_year) <= 2020:
        lang = pl.when(lang == "KOR").then(None).otherwise(lang)
    ssr = pl.when(pl.col("is_ssr_eligible")).then(
        pl.when(lang.is_null()).then(pl.lit("ENG")).otherwise(pl.lit("ENG;") + lang))
    return frame.with_columns(pl.lit(school_year).alias("school_year"), ssr.alias("ssr_languages"),
                              *derived_columns(school_year))


def test_dates(frame: pl.DataFrame | pl.LazyFrame) -> pl.Series:
    """Dates that place records in a school year: completion dates, else score dates."""
    return frame.lazy().select(pl.coalesce("final_test_completed_date", "score_available_date")
                               .alias("d")).collect().get_column("d").drop_nulls()

