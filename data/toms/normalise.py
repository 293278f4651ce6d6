"""Check every value of a read file and turn it into store rows.

Each field is checked by its kind (``data.toms.layout``): codes, dates, flags, scores, levels. Then
whole records are checked against the state's rules: scale scores inside the grade's range for
the test, levels matching the cut tables (ELPAC.md §1.3, §2), the overall score equal to the
weighted composites rounded half up (§1.1), nothing but an overall score and level on an
Alternate record (§2), tested status, attemptedness and include indicator agreeing (ELPAC.md
§4), condition code EXD exactly when a domain is exempt and at most one exempt domain per
composite (§1.5), dates neither in the future nor before 1950 and a birth date 3 to 25 years
before testing, and no student twice for the same test. Every problem becomes a row problem
with the row number, field, value and reason; nothing here raises for bad data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from data import domain
from data.problems import ROW_PROBLEM_SCHEMA, InputError
from data.student_groups import derived_columns
from data.toms.layout import FIELDS, Field, Kind, extra_field_names, field_for
from data.toms.read import ROW, SHEET, RawFile

EXTRA_SEPARATOR = "\x1f"
"""Joins the verbatim fields in ``extra_fields`` (ASCII unit separator: never in TOMS data)."""

NS_FIELDS: tuple[str, ...] = (
    "OverallScaleScore", "OralLanguageScaleScore", "WrittenLanguageScaleScore",
    "OverallPL", "OralLanguagePL", "WrittenLanguagePL",
    "ListeningPL", "SpeakingPL", "ReadingPL", "WritingPL",
    "RawScore1", "RawScore2", "RawScore3", "RawScore4",
)
"""Fields that can say ``NS``; bit ``i`` of the store column ``ns_fields`` is set when field
``i`` was ``NS`` rather than blank, so exports write back exactly what was loaded."""

_MEASURES = (("overall", "OverallScaleScore", "OverallPL", "Overall"),
             ("oral", "OralLanguageScaleScore", "OralLanguagePL", "Oral Language"),
             ("written", "WrittenLanguageScaleScore", "WrittenLanguagePL", "Written Language"))

REQUIRED = tuple(f.name for f in FIELDS.values() if f.required)


@dataclass
class Normalised:
    """Store rows of one file (valid rows only) and the problems of the others."""

    frame: pl.DataFrame
    problems: pl.DataFrame
    n_input_rows: int
    extra_names: list[str]
    """Fields packed in ``extra_fields``, in order: those of the file with any value."""


def _dtype(kind: Kind) -> pl.DataType:
    if kind.name in ("scale_score", "csem"):
        return pl.Int16()
    if kind.name in ("level", "domain_level", "raw_score"):
        return pl.Int8()
    if kind.name == "date":
        return pl.Date()
    if kind.values in (("Yes", "No"), ("Y", "N")):
        return pl.Boolean()
    return pl.String()


STORE_SCHEMA: dict[str, pl.DataType] = {
    "school_year": pl.String(), "load_id": pl.Int64(), "source_lea_code": pl.String(),
    "enrolled_lea_code": pl.String(), "tested_lea_code": pl.String(),
    **{f.store: _dtype(f.kind) for f in FIELDS.values() if f.store},
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


def _clean(name: str) -> pl.Expr:
    """A raw column after ``normalise``'s first pass (trimmed, blank as null)."""
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


def _date_order(frame: pl.DataFrame, date_columns: list[str], given: str | None,
                file: str) -> str | None:
    """Decide whether non-ISO dates in a file are day-first or month-first."""
    if not date_columns:
        return given
    other = frame.select(pl.any_horizontal(
        pl.col(c).str.contains(r"^\d{1,2}[-/.]").any() for c in date_columns)).item()
    if not other:
        return given
    parts = frame.select(
        pl.concat_list([_clean(c).str.extract_groups(_DMY_OR_MDY).struct[0].cast(pl.Int32)
                        for c in date_columns]).list.max().max().alias("first"),
        pl.concat_list([_clean(c).str.extract_groups(_DMY_OR_MDY).struct[1].cast(pl.Int32)
                        for c in date_columns]).list.max().max().alias("second"),
    ).row(0)
    first, second = parts
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


_NUMERIC = {"scale_score": r"^\d{3,4}$", "csem": r"^\d{1,3}$", "level": r"^[1-4]$",
            "domain_level": r"^[1-3]$", "raw_score": r"^\d{1,2}$"}


def _canonical(f: Field) -> pl.Expr:
    """True where a raw cell is already in canonical form (the common case, checked cheaply).

    Columns where every cell passes take the fast path; any other column is trimmed and read
    leniently (case, aliases, missing leading zeros, spreadsheet dates) by ``_field_rules``.
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


def _fast_rules(f: Field) -> tuple[pl.Expr, pl.Expr]:
    """Value and is-bad mask of a column whose every cell is canonical."""
    c = pl.col(f.name)
    k = f.kind
    if _dtype(k) == pl.Boolean():
        return c == k.values[0], pl.lit(False)
    if k.name == "date":
        value = c.str.to_date("%Y-%m-%d", strict=False)
        return value, c.is_not_null() & value.is_null()  # e.g. 2024-02-30
    if k.name in _NUMERIC:
        return pl.when(c != "NS").then(c).cast(_dtype(k)), pl.lit(False)
    return c, pl.lit(False)


def _field_rules(f: Field, order: str | None, excel: bool) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
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
        if _dtype(k) == pl.Boolean():
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
        value = pl.when(up.str.contains(pattern)).then(up).otherwise(None).cast(_dtype(k))
        is_ns = (up == "NS") if ok_ns else pl.lit(False)
        bad = present & value.is_null() & ~is_ns
        return value, bad, pl.lit(f"is not {what}{' or NS' if ok_ns else ''}")
    return c, pl.lit(False), pl.lit("")


def _text(expr: pl.Expr, f: Field) -> pl.Expr:
    """The normalised value of an extras field as text (dates ISO, flags as the layout spells)."""
    if _dtype(f.kind) == pl.Boolean():
        yes, no = f.kind.values
        return pl.when(expr).then(pl.lit(yes)).when(~expr).then(pl.lit(no))
    return expr.cast(pl.String)


def normalise(raw: RawFile, *, date_order: str | None = None) -> Normalised:
    """Check every value of ``raw`` and return store rows for the rows without problems.

    The school year, load id and source LEA are filled in later (``data.results.ingest``).
    """
    src = raw.source
    frame = raw.frame
    present = [c for c in frame.columns if c not in (ROW, SHEET)]
    missing = [r for r in REQUIRED if r not in present]
    if missing:
        raise InputError(f"{src.name}: the file has no {', '.join(missing)} column "
                         f"(layout {src.layout.year}); it cannot be loaded")
    fields = {c: field_for(c) for c in present}

    checked = {c: f for c, f in fields.items() if f.kind.name != "text"}
    canonical = frame.select([(pl.col(c).is_null() | _canonical(f)).all().alias(c)
                              for c, f in checked.items()]).row(0, named=True)
    lenient = [c for c, ok in canonical.items() if not ok]
    # Free text is kept as written, except the few text fields the store holds (names...).
    trim = lenient + [c for c, f in fields.items() if f.kind.name == "text" and f.store]
    frame = frame.with_columns([_trimmed(c) for c in trim])
    dates = [c for c in lenient if fields[c].kind.name == "date"]
    order = _date_order(frame, dates, date_order, src.name)
    excel = src.delimiter == "xlsx"

    values: list[pl.Expr] = []
    checks: list[tuple[str, str, pl.Expr, pl.Expr]] = []  # (check name, field, bad, reason)
    for c, f in checked.items():
        if canonical[c]:
            value, bad = _fast_rules(f)
            reason = pl.lit("is not a date (YYYY-MM-DD)")
        else:
            value, bad, reason = _field_rules(f, order, excel)
        values.append(value.alias(f"v:{c}"))
        values.append(bad.alias(f"b:{c}"))
        checks.append((f"b:{c}", c, pl.col(f"b:{c}"), reason))
        if f.kind.name in ("level", "domain_level", "raw_score", "scale_score"):
            ns = pl.col(c) == "NS" if canonical[c] else pl.col(c).str.to_uppercase() == "NS"
            values.append(ns.fill_null(False).alias(f"ns:{c}"))
    for r in REQUIRED:
        checks.append((f"r:{r}", r, pl.col(r).is_null(), pl.lit("is required")))
    if "EndofRecord" in fields:
        # A blank end marker means the record lost fields somewhere (ELPAC.md §3.1).
        checks.append(("r:EndofRecord", "EndofRecord", pl.col("EndofRecord").is_null(),
                       pl.lit("is blank; every record ends with ZZ")))
    typed = frame.with_columns(values)
    typed, rules = _record_rules(typed, src.layout.year, fields)
    checks.extend(rules)

    problems = _collect_problems(typed, checks, src.name)
    bad_rows = problems.get_column("row").unique()
    good = typed.filter(~pl.col(ROW).is_in(bad_rows.implode()))
    extra_names = _extra_names(good, fields)
    return Normalised(_store_rows(good, fields, extra_names),
                      pl.concat([raw.problems, problems]), frame.height, extra_names)


def _v(name: str) -> pl.Expr:
    """The checked value of a field (free text is used as read)."""
    return pl.col(name) if field_for(name).kind.name == "text" else pl.col(f"v:{name}")


def _ok(*names: str) -> pl.Expr:
    """True where none of ``names`` failed its own field check (so a record rule can run)."""
    return ~pl.any_horizontal([pl.col(f"b:{n}") for n in names])


def _record_rules(typed: pl.DataFrame, layout_year: str, fields: dict[str, Field]
                  ) -> tuple[pl.DataFrame, list[tuple[str, str, pl.Expr, pl.Expr]]]:
    """Checks across fields of one record. Adds the resolved record type as ``v:RecordType``."""
    for name in NS_FIELDS + ("ConditionCode", "Attemptedness", "DomainEx1", "DomainEx2",
                             "DomainEx3", "DomainEx4", "SSREligible"):
        if f"v:{name}" not in typed.columns:
            dtype = _dtype(field_for(name).kind)
            typed = typed.with_columns(pl.lit(None, dtype=dtype).alias(f"v:{name}"),
                                       pl.lit(False).alias(f"b:{name}"))
            if name in NS_FIELDS:
                typed = typed.with_columns(pl.lit(False).alias(f"ns:{name}"))
    rt = _v("RecordType")
    overall = _v("OverallScaleScore")
    composite = _v("OralLanguageScaleScore").is_not_null() | _v(
        "WrittenLanguageScaleScore").is_not_null()
    resolved = (
        pl.when(rt.is_in(["21", "23"])).then(rt)
        .when(pl.lit(layout_year == "2018-19")).then(pl.lit("21"))
        .when((overall >= domain.LOSS) | composite).then(pl.lit("21"))
        .when(overall.is_between(200, 899)).then(pl.lit("23"))
    )
    typed = typed.with_columns(resolved.alias("v:RecordType"), rt.alias("rt:given"))
    rules: list[tuple[str, str, pl.Expr, pl.Expr]] = [(
        "x:record_type", "RecordType",
        # ``rt`` now reads the resolved column: the given code is kept as ``rt:given``.
        pl.col("rt:given").is_not_null() & _v("RecordType").is_null() & _ok("RecordType"),
        pl.lit("record type SA/SE without a scale score: cannot tell Summative (21) from "
               "Alternate (23)"),
    )]
    grade = _v("GradeAssessed")
    is_sum = _v("RecordType") == "21"
    is_alt = _v("RecordType") == "23"
    hoss = grade.replace_strict({g: domain.summative_range(g).high for g in domain.GRADES},
                                default=None, return_dtype=pl.Int32)
    alt_low = grade.replace_strict({g: domain.alternate_range(g).low for g in domain.GRADES},
                                   default=None, return_dtype=pl.Int32)
    alt_high = alt_low + 98
    base_ok = _ok("GradeAssessed", "RecordType") & grade.is_not_null()
    for measure, score_f, level_f, label in _MEASURES:
        s, lvl = _v(score_f), _v(level_f)
        ok = base_ok & _ok(score_f, level_f)
        cuts = [grade.replace_strict({g: domain.summative_cuts(measure, g)[i]
                                      for g in domain.GRADES}, default=None,
                                     return_dtype=pl.Int32) for i in range(3)]
        expected_sum = 1 + sum((s >= cut).cast(pl.Int8) for cut in cuts)
        rules.append((f"x:range:{score_f}", score_f,
                      ok & is_sum & s.is_not_null() & ~s.is_between(domain.LOSS, hoss),
                      pl.format(f"outside the Summative ELPAC range for grade {{}} "
                                f"({domain.LOSS}-{{}})", grade, hoss)))
        rules.append((f"x:level:{level_f}", level_f,
                      ok & is_sum & s.is_between(domain.LOSS, hoss) & lvl.is_not_null()
                      & (lvl != expected_sum),
                      pl.format(f"does not match {label} scale score {{}} (grade {{}}: level {{}})",
                                s, grade, expected_sum)))
        rules.append((f"x:nolevel:{level_f}", level_f,
                      ok & s.is_not_null() & lvl.is_null()
                      & (is_sum | pl.lit(measure == "overall")),
                      pl.format(f"is missing although {label} scale score is {{}}", s)))
        rules.append((f"x:noscore:{level_f}", level_f,
                      ok & s.is_null() & lvl.is_not_null(),
                      pl.lit(f"is set but {label} scale score is not")))
    s, lvl = overall, _v("OverallPL")
    ok = base_ok & _ok("OverallScaleScore", "OverallPL")
    alt_expected = 1 + (s >= alt_low + 43).cast(pl.Int8) + (s >= alt_low + 59).cast(pl.Int8)
    rules.append(("x:altrange", "OverallScaleScore",
                  ok & is_alt & s.is_not_null() & ~s.is_between(alt_low, alt_high),
                  pl.format("outside the Summative Alternate ELPAC range for grade {} ({}-{})",
                            grade, alt_low, alt_high)))
    rules.append(("x:altlevel", "OverallPL",
                  ok & is_alt & s.is_between(alt_low, alt_high) & lvl.is_not_null()
                  & (lvl != alt_expected),
                  pl.format("does not match Alternate scale score {} (grade {}: level {})",
                            s, grade, alt_expected)))
    tested, att = _v("TestedStatus"), _v("Attemptedness")
    include, cond = _v("IncludeIndicator"), _v("ConditionCode")
    flags_ok = _ok("TestedStatus", "Attemptedness", "IncludeIndicator", "ConditionCode")
    rules += [
        ("x:untested-att", "Attemptedness", flags_ok & ~tested & att.is_not_null(),
         pl.lit("is set but TestedStatus is N (not tested)")),
        ("x:tested-att", "Attemptedness", flags_ok & tested & att.is_null(),
         pl.lit("is blank but TestedStatus is Y (tested)")),
        ("x:untested-include", "IncludeIndicator", flags_ok & ~tested & (include != "N"),
         pl.lit("must be N when TestedStatus is N (ELPAC.md §4)")),
        ("x:tested-include-n", "IncludeIndicator", flags_ok & tested & (include == "N"),
         pl.lit("is N (not tested) but TestedStatus is Y; tested records are Y or T "
                "(ELPAC.md §4)")),
        ("x:nt", "ConditionCode", flags_ok & (cond == "NT") & tested,
         pl.lit("is NT (not tested) but TestedStatus is Y")),
        ("x:include-score", "IncludeIndicator",
         flags_ok & _ok("OverallScaleScore") & (include == "Y") & overall.is_null(),
         pl.lit("is Y (tested with a score) but there is no overall scale score")),
    ]
    ex = [_v(f"DomainEx{n}").fill_null(False) for n in range(1, 5)]
    ex_ok = _ok("DomainEx1", "DomainEx2", "DomainEx3", "DomainEx4")
    rules += [
        ("x:ex-oral", "DomainEx2", ex_ok & ex[0] & ex[1],
         pl.lit("Listening and Speaking are both exempt; at most one domain per composite can "
                "be (ELPAC.md §1.5)")),
        ("x:ex-written", "DomainEx4", ex_ok & ex[2] & ex[3],
         pl.lit("Reading and Writing are both exempt; at most one domain per composite can be "
                "(ELPAC.md §1.5)")),
    ]
    rules += _weighting_rules(grade, is_sum, hoss, base_ok)
    rules += _alternate_rules(fields, is_alt.fill_null(False))
    rules += _exemption_rules(fields, ex, ex_ok & flags_ok, cond, is_alt.fill_null(False))
    rules += _date_rules(fields)
    key_ok = _ok("SSID", "RecordType") & _v("SSID").is_not_null() & _v("RecordType").is_not_null()
    # A window over the whole file, kept as a column: problems are later read from a subset.
    typed = typed.with_columns(pl.col(ROW).min().over(["v:SSID", "v:RecordType"])
                               .alias("dup:first"))
    first_row = pl.col("dup:first")
    rules.append(("x:duplicate", "SSID", key_ok & (pl.col(ROW) != first_row),
                  pl.format("the same student has another record for this test on row {}",
                            first_row)))
    return typed, rules


_Rule = tuple[str, str, pl.Expr, pl.Expr]
"""A record rule: (check name, field, is-bad mask, reason), as ``_record_rules`` returns."""

_TENTHS_ORAL = {g: round(domain.SUMMATIVE_WEIGHT_ORAL[g] * 10) for g in domain.GRADES}


def _weighting_rules(grade: pl.Expr, is_sum: pl.Expr, hoss: pl.Expr, base_ok: pl.Expr
                     ) -> list[_Rule]:
    """Overall = the composites weighted by grade (K 70/30, 1-12 50/50), rounded half up.

    ELPAC.md §1.1. Checked only where all three scores are inside the grade's range (the range
    rules report the others). All 2,010 scored Summative records of the real files agree.
    """
    overall = _v("OverallScaleScore").cast(pl.Int32)
    oral = _v("OralLanguageScaleScore").cast(pl.Int32)
    written = _v("WrittenLanguageScaleScore").cast(pl.Int32)
    tenths = grade.replace_strict(_TENTHS_ORAL, default=None, return_dtype=pl.Int32)
    weighted = (tenths * oral + (10 - tenths) * written + 5) // 10
    in_range = pl.all_horizontal([s.is_between(domain.LOSS, hoss)
                                  for s in (overall, oral, written)])
    ok = base_ok & _ok("OverallScaleScore", "OralLanguageScaleScore", "WrittenLanguageScaleScore")
    return [("x:weighted", "OverallScaleScore", ok & is_sum & in_range & (overall != weighted),
             pl.format("is not the weighted composites rounded half up: grade {} weighs Oral "
                       "Language {} and Written Language {} {}/{}, which gives {} (ELPAC.md §1.1)",
                       grade, oral, written, tenths * 10, 100 - tenths * 10, weighted))]


_SUMMATIVE_ONLY = ("OralLanguageScaleScore", "WrittenLanguageScaleScore", "OralLanguagePL",
                   "WrittenLanguagePL", "OralLanguageCSEM", "WrittenLanguageCSEM", "ListeningPL",
                   "SpeakingPL", "ReadingPL", "WritingPL", "RawScore1", "RawScore2", "RawScore3",
                   "RawScore4")
"""Composite and domain fields: blank on Summative Alternate ELPAC records (ELPAC.md §2)."""


def _alternate_rules(fields: dict[str, Field], is_alt: pl.Expr) -> list[_Rule]:
    """An Alternate record has an overall score and level only: no composites, no domains."""
    alt_ok = is_alt & _ok("RecordType")
    rules: list[_Rule] = [
        (f"x:alt-blank:{name}", name, alt_ok & _ok(name) & pl.col(name).is_not_null(),
         pl.lit("must be blank on a Summative Alternate ELPAC record (type 23): it reports an "
                "overall score and level only (ELPAC.md §2)"))
        for name in _SUMMATIVE_ONLY if name in fields]
    rules += [
        (f"x:alt-exempt:{name}", name, alt_ok & _ok(name) & _v(name).fill_null(False),
         pl.lit("is Y but a Summative Alternate ELPAC record (type 23) has no domain to "
                "exempt (EXD is Summative ELPAC only, ELPAC.md §2, §4)"))
        for name in ("DomainEx1", "DomainEx2", "DomainEx3", "DomainEx4") if name in fields]
    return rules


def _exemption_rules(fields: dict[str, Field], ex: list[pl.Expr], ok: pl.Expr, cond: pl.Expr,
                     is_alt: pl.Expr) -> list[_Rule]:
    """Condition code EXD if and only if a domain is exempt (ELPAC.md §1.5, §4).

    The one exception: a student exempt in a domain of each composite who never logged on to
    the others is not tested, and a record has one condition code, so it is NT (§1.5). Files
    without exemption fields (2018-19) are not checked.
    """
    names = [f"DomainEx{n}" for n in range(1, 5)]
    if not any(n in fields for n in names):
        return []
    rules: list[_Rule] = [
        ("x:exd-none", "ConditionCode", ok & (cond == "EXD") & ~pl.any_horizontal(ex),
         pl.lit("is EXD (exempt domain) but no domain is exempt: DomainEx1-4 are not Y "
                "(ELPAC.md §1.5, §4)"))]
    rules += [
        (f"x:ex-code:{name}", name, ok & ex[i] & ~is_alt & ~cond.is_in(["EXD", "NT"]).fill_null(
            False),
         pl.format("is Y (exempt) but ConditionCode is {}; an exempt domain makes it EXD, or NT "
                   "if the student did not test (ELPAC.md §1.5, §4)",
                   cond.fill_null("blank")))
        for i, name in enumerate(names) if name in fields]
    return rules


_OLDEST = date(1950, 1, 1)
"""No date in a Student Score Data File is earlier (1899-12-30 is Excel's day zero)."""
_BIRTH = ("DateofBirth", "DateofBirthforTesting")
_TEST_DATES = (("FinalTestCompletedDate", "the final test completed date"),
               ("ScoreAvailableDate", "the score available date"),
               ("ReportCreatedDate", "the file's creation date"))
"""The date a record's age is taken on, in order of preference (non-testers have only the
last)."""
_AGES = (3, 25)
"""Youngest and oldest plausible age of a K-12 English learner at testing."""


def _age(born: pl.Expr, on: pl.Expr) -> pl.Expr:
    """Whole years from ``born`` to ``on``."""
    before_birthday = (on.dt.month().cast(pl.Int32) * 100 + on.dt.day()
                       < born.dt.month().cast(pl.Int32) * 100 + born.dt.day())
    return on.dt.year() - born.dt.year() - before_birthday.cast(pl.Int32)


def _date_rules(fields: dict[str, Field]) -> list[_Rule]:
    """No date in the future or before 1950; a birth date 3 to 25 years before testing."""
    today = date.today()
    rules: list[_Rule] = []
    for name, f in fields.items():
        if f.kind.name != "date":
            continue
        d = _v(name)
        rules.append((f"x:future:{name}", name, _ok(name) & (d > today),
                      pl.lit(f"is in the future (today is {today.isoformat()})")))
        if name not in _BIRTH:
            rules.append((f"x:oldest:{name}", name, _ok(name) & (d < _OLDEST),
                          pl.lit(f"is before {_OLDEST.year}: not a date of a student's "
                                 "schooling")))
    known = [(n, label) for n, label in _TEST_DATES if n in fields]
    if not known:
        return rules
    usable = [pl.when(_ok(n) & (_v(n) <= today)).then(_v(n)) for n, _ in known]
    on = pl.coalesce(usable)
    which = pl.coalesce([pl.when(u.is_not_null()).then(pl.lit(label))
                         for u, (_, label) in zip(usable, known, strict=True)])
    young, old = _AGES
    for name in _BIRTH:
        if name not in fields:
            continue
        born = _v(name)
        ok = _ok(name) & (born <= today) & on.is_not_null()
        age = _age(born, on)
        rules.append((f"x:born-after:{name}", name, ok & (born > on),
                      pl.format("is after {}, {}", which, on)))
        rules.append((f"x:age:{name}", name, ok & (born <= on) & ~age.is_between(young, old),
                      pl.format(f"makes the student {{}} years old on {{}}, {{}}; a K-12 English "
                                f"learner is {young} to {old}", age, which, on)))
    return rules


def _collect_problems(typed: pl.DataFrame, checks: list[tuple[str, str, pl.Expr, pl.Expr]],
                      file: str) -> pl.DataFrame:
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
        if name == "x:record_type":
            value = pl.col("rt:given")
        parts.append(rows.select(
            pl.lit(file).alias("file"), pl.col(SHEET).alias("sheet"), pl.col(ROW).alias("row"),
            pl.lit(fieldname).alias("field"), value.cast(pl.String).alias("value"),
            reason.cast(pl.String).alias("reason")))
    return pl.concat(parts).sort("row", "field")


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
            cols[f.store] = _v(f.name)
    for f in FIELDS.values():
        # A CALPADS copy stands in only when the file has no locked "for testing" column at
        # all (2018-19 has none): a blank locked value means blank at testing time.
        if f.fallback_for and f.name in fields and f.fallback_for not in cols:
            cols[f.fallback_for] = _v(f.name)
    out = [expr.cast(STORE_SCHEMA[name]).alias(name) for name, expr in cols.items()]
    ns_bits = [pl.col(f"ns:{n}").cast(pl.Int16) * (1 << i) for i, n in enumerate(NS_FIELDS)]
    out.append(pl.sum_horizontal(ns_bits).cast(pl.Int16).alias("ns_fields"))
    extras = [_text(_v(name), fields[name]).fill_null("") for name in extra_names]
    packed = (pl.concat_str(extras, separator=EXTRA_SEPARATOR) if extras
              else pl.lit(None, pl.String))
    out.append(packed.alias("extra_fields"))
    frame = good.select(out)
    missing = {n: t for n, t in STORE_SCHEMA.items() if n not in frame.columns}
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
    return frame.select(list(STORE_SCHEMA))


def with_year(frame: pl.DataFrame, school_year: str) -> pl.DataFrame:
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


def test_dates(frame: pl.DataFrame) -> pl.Series:
    """Dates that place records in a school year: completion dates, else score dates."""
    return frame.select(pl.coalesce("final_test_completed_date", "score_available_date")
                        .alias("d")).get_column("d").drop_nulls()

