"""Record rules: checks across the fields of one record, against the state's rules.

Scale scores inside the grade's range for the test, levels matching the cut tables (ELPAC.md
§1.3, §2), the overall score equal to the weighted composites rounded half up (§1.1), nothing
but an overall score and level on an Alternate record (§2), tested status, attemptedness and
include indicator agreeing (§4), condition code EXD exactly when a domain is exempt and at
most one exempt domain per composite (§1.5), dates neither in the future nor before 1950 and a
birth date 3 to 25 years before testing, and no student twice for the same test (§3.1).

Each rule group below returns ``Check``s over the typed columns ``data.toms.field_rules`` adds; a
rule runs only where the fields it reads passed their own checks (``passed``), so one bad
cell gives one problem.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from data import domain
from data.toms.field_catalogue import Field, field_for
from data.toms.field_rules import NS_FIELDS, Check, checked, passed, store_dtype
from data.toms.read import ROW

RECORD_TYPE_GIVEN = "rt:given"
"""Column keeping the record type as the file wrote it (``v:RecordType`` holds the resolved
one), so a problem with it quotes the file."""

SUMMATIVE_ONLY_LAYOUTS = ("2018-19", "2019-20")
"""Layouts of years before the Summative Alternate ELPAC: every SA/SE record is type 21."""

_MEASURES = (("overall", "OverallScaleScore", "OverallPL", "Overall"),
             ("oral", "OralLanguageScaleScore", "OralLanguagePL", "Oral Language"),
             ("written", "WrittenLanguageScaleScore", "WrittenLanguagePL", "Written Language"))


def record_rules(typed: pl.DataFrame, layout_year: str, fields: dict[str, Field]
                 ) -> tuple[pl.DataFrame, list[Check]]:
    """Checks across fields of one record, in a fixed order.

    Adds the resolved record type as ``v:RecordType`` (the given one as
    ``RECORD_TYPE_GIVEN``), blank typed columns for the rule fields the layout lacks, and the
    first row of each student and test (for the duplicate rule).
    """
    typed = _blank_absent_fields(typed)
    typed, rules = _record_type(typed, layout_year)
    grade = checked("GradeAssessed")
    is_sum = checked("RecordType") == "21"
    is_alt = checked("RecordType") == "23"
    base_ok = passed("GradeAssessed", "RecordType") & grade.is_not_null()
    hoss = grade.replace_strict({g: domain.summative_range(g).high for g in domain.GRADES},
                                default=None, return_dtype=pl.Int32)
    ex = [checked(f"DomainEx{n}").fill_null(False) for n in range(1, 5)]
    ex_ok = passed("DomainEx1", "DomainEx2", "DomainEx3", "DomainEx4")
    flags_ok = passed("TestedStatus", "Attemptedness", "IncludeIndicator", "ConditionCode")
    rules += _summative_score_rules(grade, is_sum, hoss, base_ok)
    rules += _alternate_score_rules(grade, is_alt, base_ok)
    rules += _status_rules(flags_ok)
    rules += _composite_exemption_rules(ex, ex_ok)
    rules += _weighting_rules(grade, is_sum, hoss, base_ok)
    rules += _alternate_blank_rules(fields, is_alt.fill_null(False))
    rules += _exemption_code_rules(fields, ex, ex_ok & flags_ok,
                                   checked("ConditionCode"), is_alt.fill_null(False))
    today = date.today()
    rules += _date_range_rules(fields, today)
    rules += _age_rules(fields, today)
    typed, duplicate = _duplicate_rule(typed)
    return typed, rules + duplicate


def _blank_absent_fields(typed: pl.DataFrame) -> pl.DataFrame:
    """Typed, unflagged blank columns for rule fields a layout lacks (2018-19: exemptions)."""
    for name in NS_FIELDS + ("ConditionCode", "Attemptedness", "DomainEx1", "DomainEx2",
                             "DomainEx3", "DomainEx4", "SSREligible"):
        if f"v:{name}" not in typed.columns:
            dtype = store_dtype(field_for(name).kind)
            typed = typed.with_columns(pl.lit(None, dtype=dtype).alias(f"v:{name}"),
                                       pl.lit(False).alias(f"b:{name}"))
            if name in NS_FIELDS:
                typed = typed.with_columns(pl.lit(False).alias(f"ns:{name}"))
    return typed


def _record_type(typed: pl.DataFrame, layout_year: str) -> tuple[pl.DataFrame, list[Check]]:
    """Resolve SA/SE record types to 21 or 23 by layout year and score band.

    ELPAC.md §2, §3.2 field 1: 21 is the Summative ELPAC and 23 the Summative Alternate
    ELPAC; 2018-19 files write SA and 2019-20 files SE on every record, and both years are
    Summative only (the Alternate's first operational year is 2021-22, §2). In later files a
    composite or a score from the LOSS up is Summative while a score in the 200-899 bands is
    Alternate.
    """
    rt = checked("RecordType")
    overall = checked("OverallScaleScore")
    composite = checked("OralLanguageScaleScore").is_not_null() | checked(
        "WrittenLanguageScaleScore").is_not_null()
    resolved = (
        pl.when(rt.is_in(["21", "23"])).then(rt)
        .when(pl.lit(layout_year in SUMMATIVE_ONLY_LAYOUTS)).then(pl.lit("21"))
        .when((overall >= domain.LOSS) | composite).then(pl.lit("21"))
        .when(overall.is_between(200, 899)).then(pl.lit("23"))
    )
    typed = typed.with_columns(resolved.alias("v:RecordType"), rt.alias(RECORD_TYPE_GIVEN))
    return typed, [(
        "x:record_type", "RecordType",
        # ``checked`` now reads the resolved column: the given code is kept aside.
        pl.col(RECORD_TYPE_GIVEN).is_not_null() & checked("RecordType").is_null()
        & passed("RecordType"),
        pl.lit("record type SA/SE without a scale score: cannot tell Summative (21) from "
               "Alternate (23)"),
    )]


def _summative_score_rules(grade: pl.Expr, is_sum: pl.Expr, hoss: pl.Expr, base_ok: pl.Expr
                           ) -> list[Check]:
    """Scores inside the grade's range, levels from the cut tables, a level with each score.

    ELPAC.md §1.1 (LOSS 1150 to the grade's highest score) and §1.3 (cut scores); an overall
    level without a score, or a score without a level, is flagged on either test.
    """
    rules: list[Check] = []
    for measure, score_f, level_f, label in _MEASURES:
        s, lvl = checked(score_f), checked(level_f)
        ok = base_ok & passed(score_f, level_f)
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
    return rules


def _alternate_score_rules(grade: pl.Expr, is_alt: pl.Expr, base_ok: pl.Expr) -> list[Check]:
    """An Alternate score inside its grade span's hundred band, its level from that band.

    ELPAC.md §2: each span scores base + 1 to base + 99; level 2 from base + 44, level 3 from
    base + 60.
    """
    s, lvl = checked("OverallScaleScore"), checked("OverallPL")
    alt_low = grade.replace_strict({g: domain.alternate_range(g).low for g in domain.GRADES},
                                   default=None, return_dtype=pl.Int32)
    alt_high = alt_low + 98
    ok = base_ok & passed("OverallScaleScore", "OverallPL")
    alt_expected = 1 + (s >= alt_low + 43).cast(pl.Int8) + (s >= alt_low + 59).cast(pl.Int8)
    return [
        ("x:altrange", "OverallScaleScore",
         ok & is_alt & s.is_not_null() & ~s.is_between(alt_low, alt_high),
         pl.format("outside the Summative Alternate ELPAC range for grade {} ({}-{})",
                   grade, alt_low, alt_high)),
        ("x:altlevel", "OverallPL",
         ok & is_alt & s.is_between(alt_low, alt_high) & lvl.is_not_null()
         & (lvl != alt_expected),
         pl.format("does not match Alternate scale score {} (grade {}: level {})",
                   s, grade, alt_expected)),
    ]


def _status_rules(flags_ok: pl.Expr) -> list[Check]:
    """Tested status, attemptedness, include indicator and condition code agree.

    ELPAC.md §4: NT is not tested and its include indicator N; a tested record has an
    attemptedness and is included Y or T; Y needs an overall score.
    """
    tested, att = checked("TestedStatus"), checked("Attemptedness")
    include, cond = checked("IncludeIndicator"), checked("ConditionCode")
    return [
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
         flags_ok & passed("OverallScaleScore") & (include == "Y")
         & checked("OverallScaleScore").is_null(),
         pl.lit("is Y (tested with a score) but there is no overall scale score")),
    ]


def _composite_exemption_rules(ex: list[pl.Expr], ex_ok: pl.Expr) -> list[Check]:
    """At most one exempt domain per composite (ELPAC.md §1.5)."""
    return [
        ("x:ex-oral", "DomainEx2", ex_ok & ex[0] & ex[1],
         pl.lit("Listening and Speaking are both exempt; at most one domain per composite can "
                "be (ELPAC.md §1.5)")),
        ("x:ex-written", "DomainEx4", ex_ok & ex[2] & ex[3],
         pl.lit("Reading and Writing are both exempt; at most one domain per composite can be "
                "(ELPAC.md §1.5)")),
    ]


_TENTHS_ORAL = {g: round(domain.SUMMATIVE_WEIGHT_ORAL[g] * 10) for g in domain.GRADES}


def _weighting_rules(grade: pl.Expr, is_sum: pl.Expr, hoss: pl.Expr, base_ok: pl.Expr
                     ) -> list[Check]:
    """Overall = the composites weighted by grade (K 70/30, 1-12 50/50), rounded half up.

    ELPAC.md §1.1. Checked only where all three scores are inside the grade's range (the range
    rules report the others). All 2,010 scored Summative records of the real files agree.
    """
    overall = checked("OverallScaleScore").cast(pl.Int32)
    oral = checked("OralLanguageScaleScore").cast(pl.Int32)
    written = checked("WrittenLanguageScaleScore").cast(pl.Int32)
    tenths = grade.replace_strict(_TENTHS_ORAL, default=None, return_dtype=pl.Int32)
    weighted = (tenths * oral + (10 - tenths) * written + 5) // 10
    in_range = pl.all_horizontal([s.is_between(domain.LOSS, hoss)
                                  for s in (overall, oral, written)])
    ok = base_ok & passed("OverallScaleScore", "OralLanguageScaleScore",
                          "WrittenLanguageScaleScore")
    return [("x:weighted", "OverallScaleScore", ok & is_sum & in_range & (overall != weighted),
             pl.format("is not the weighted composites rounded half up: grade {} weighs Oral "
                       "Language {} and Written Language {} {}/{}, which gives {} (ELPAC.md §1.1)",
                       grade, oral, written, tenths * 10, 100 - tenths * 10, weighted))]


_SUMMATIVE_ONLY = ("OralLanguageScaleScore", "WrittenLanguageScaleScore", "OralLanguagePL",
                   "WrittenLanguagePL", "OralLanguageCSEM", "WrittenLanguageCSEM", "ListeningPL",
                   "SpeakingPL", "ReadingPL", "WritingPL", "RawScore1", "RawScore2", "RawScore3",
                   "RawScore4")
"""Composite and domain fields: blank on Summative Alternate ELPAC records (ELPAC.md §2)."""


def _alternate_blank_rules(fields: dict[str, Field], is_alt: pl.Expr) -> list[Check]:
    """An Alternate record has an overall score and level only: no composites, no domains.

    ELPAC.md §2 "Reported scores"; no domain is exempt on one either (EXD is Summative ELPAC
    only, §4).
    """
    alt_ok = is_alt & passed("RecordType")
    rules: list[Check] = [
        (f"x:alt-blank:{name}", name, alt_ok & passed(name) & pl.col(name).is_not_null(),
         pl.lit("must be blank on a Summative Alternate ELPAC record (type 23): it reports an "
                "overall score and level only (ELPAC.md §2)"))
        for name in _SUMMATIVE_ONLY if name in fields]
    rules += [
        (f"x:alt-exempt:{name}", name, alt_ok & passed(name) & checked(name).fill_null(False),
         pl.lit("is Y but a Summative Alternate ELPAC record (type 23) has no domain to "
                "exempt (EXD is Summative ELPAC only, ELPAC.md §2, §4)"))
        for name in ("DomainEx1", "DomainEx2", "DomainEx3", "DomainEx4") if name in fields]
    return rules


def _exemption_code_rules(fields: dict[str, Field], ex: list[pl.Expr], ok: pl.Expr,
                          cond: pl.Expr, is_alt: pl.Expr) -> list[Check]:
    """Condition code EXD if and only if a domain is exempt (ELPAC.md §1.5, §4).

    The one exception: a student exempt in a domain of each composite who never logged on to
    the others is not tested, and a record has one condition code, so it is NT (§1.5). Files
    without exemption fields (2018-19) are not checked.
    """
    names = [f"DomainEx{n}" for n in range(1, 5)]
    if not any(n in fields for n in names):
        return []
    rules: list[Check] = [
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


def _date_range_rules(fields: dict[str, Field], today: date) -> list[Check]:
    """No date in the future, and none but a birth date before 1950.

    ELPAC.md §3.1 "Dates": the file's dates are of one student's schooling and testing.
    """
    rules: list[Check] = []
    for name, f in fields.items():
        if f.kind.name != "date":
            continue
        d = checked(name)
        rules.append((f"x:future:{name}", name, passed(name) & (d > today),
                      pl.lit(f"is in the future (today is {today.isoformat()})")))
        if name not in _BIRTH:
            rules.append((f"x:oldest:{name}", name, passed(name) & (d < _OLDEST),
                          pl.lit(f"is before {_OLDEST.year}: not a date of a student's "
                                 "schooling")))
    return rules


def _age_rules(fields: dict[str, Field], today: date) -> list[Check]:
    """A birth date before testing, 3 to 25 years before it (a K-12 English learner).

    The age is taken on the final test completed date, else the score available date, else
    the file's creation date (ELPAC.md §3.2 fields 13-14; non-testers have only the last).
    """
    known = [(n, label) for n, label in _TEST_DATES if n in fields]
    if not known:
        return []
    usable = [pl.when(passed(n) & (checked(n) <= today)).then(checked(n)) for n, _ in known]
    on = pl.coalesce(usable)
    which = pl.coalesce([pl.when(u.is_not_null()).then(pl.lit(label))
                         for u, (_, label) in zip(usable, known, strict=True)])
    young, old = _AGES
    rules: list[Check] = []
    for name in _BIRTH:
        if name not in fields:
            continue
        born = checked(name)
        ok = passed(name) & (born <= today) & on.is_not_null()
        age = _age(born, on)
        rules.append((f"x:born-after:{name}", name, ok & (born > on),
                      pl.format("is after {}, {}", which, on)))
        rules.append((f"x:age:{name}", name, ok & (born <= on) & ~age.is_between(young, old),
                      pl.format(f"makes the student {{}} years old on {{}}, {{}}; a K-12 English "
                                f"learner is {young} to {old}", age, which, on)))
    return rules


def duplicate_key_ok() -> pl.Expr:
    """True where a record's student and test are valid, so the duplicate rule reads them."""
    return (passed("SSID", "RecordType") & checked("SSID").is_not_null()
            & checked("RecordType").is_not_null())


DUPLICATE_REASON = "the same student has another record for this test on row {}"


def _duplicate_rule(typed: pl.DataFrame) -> tuple[pl.DataFrame, list[Check]]:
    """One record per student per test (ELPAC.md §3.1 "Record count")."""
    key_ok = duplicate_key_ok()
    # A window over the whole file, kept as a column: problems are later read from a subset.
    typed = typed.with_columns(pl.col(ROW).min().over(["v:SSID", "v:RecordType"])
                               .alias("dup:first"))
    first_row = pl.col("dup:first")
    return typed, [("x:duplicate", "SSID", key_ok & (pl.col(ROW) != first_row),
                    pl.format(DUPLICATE_REASON, first_row))]
