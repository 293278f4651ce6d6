"""The record's tested LEA and school from the per-domain blocks, for a file without a final one.

The 2019-20 Student Score Data File (``layouts/2019-20.txt``) gives a tested-LEA/school block per
domain ("Tested County-District Code 1-Listening" ... "Testing Completed Date 4-Writing") but,
unlike every other layout, no ``FinalTested...`` block: the tested LEA and school that the
store's ``tested_*`` columns hold, and every aggregate counts under
(``data.student_groups.derived_columns``), are derived here from the blocks.

The rule is the state's tested-LEA rule (ELPAC.md §3.3, SDFL-21, stated for 2020-21 [official];
the 2019-20 edition of the layout, whose mirror ELPAC.md §0 cites, could not be read, so that
2019-20 follows the same rule is [unconfirmed]):

1. A tested student counts under the LEA and school of the **domain tested last** (§3.3 rule
   1): the block with the latest Test Completed Date; a domain started but never completed
   counts on its Test Start Date.
2. An exempt domain (``DomainExN`` = Y) is passed over: the student counts where the last
   non-exempt domain was tested (§3.3 rule 3).
3. Two domains finished on the same day, at different sites: the later domain in the file's
   order (Listening, Speaking, Reading, Writing) wins. No source says so; it is chosen because
   the file lists domains in the order they are usually given, and any fixed choice keeps a
   record's LEA the same every time the file is loaded.
4. A record with no dated block (a student who did not test) counts under the enrolled LEA
   (§3.3 rule 4): the last block that names a district (TOMS fills a non-tester's blocks with the
   enrolled LEA, ELPAC.md §3.2 fields 62-97), else the CALPADS district and school.

Rule 2 (K-2 students who took Writing on paper count where they last tested online) is not
applied: the 2019-20 file has one Test Mode for the whole test, so the paper domain cannot be
told apart. ``FinalTestCompletedDate`` is the latest Test Completed Date of any domain.

The per-domain values stay in the store's ``extra_fields`` (they are not store columns), so
``elpac export students`` writes the 2019-20 file back with every value.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import polars as pl

from data.toms.field_catalogue import Field, field_for

if TYPE_CHECKING:
    from collections.abc import Collection

    from data.toms.field_rules import Check

FROM_BLOCK: dict[str, tuple[str, str | None]] = {
    "FinalTestedDistrictName": ("TestedDistrictName", "CALPADSDistrictName"),
    "FinalTestedDistrictCode": ("TestedDistrictCode", "CALPADSDistrictCode"),
    "FinalTestedSchoolName": ("TestedSchoolName", "CALPADSSchoolName"),
    "FinalTestedSchoolCode": ("TestedSchoolCode", "CALPADSSchoolCode"),
    "FinalTestedCharterSchoolIndicator": ("TestedCharterSchoolIndicator",
                                          "CALPADSCharterSchoolIndicator"),
    "FinalTestedCharterCode": ("TestedCharterCode", "CALPADSCharterCode"),
    "FinalTestedSchoolNPSFlag": ("TestedSchoolNPSFlag", "CALPADSNPSSchoolFlag"),
}
"""Each derived field: its per-domain block stem (``<stem>1``-``<stem>4``) and the enrolled
(CALPADS) field it falls back to (rule 4)."""
COMPLETED = "FinalTestCompletedDate"
DOMAIN_NUMBERS = (1, 2, 3, 4)
_CHOSEN = "tb:domain"
"""Column holding the domain number whose block a record counts under (null: enrolled)."""


def derived_fields(present: Collection[str], layout_fields: Collection[str | None]
                   ) -> list[str]:
    """The ``FinalTested...`` fields derived for a file of a layout without them (2019-20).

    ``present`` are the file's fields, ``layout_fields`` its layout's (``Layout.canonical``).
    A file of a layout that has a final block and lost it is not mended: it is refused.

    Examples
    --------
    >>> from data.toms.layout import layout
    >>> derived_fields(["TestedDistrictCode1"], layout("2019-20").canonical)[:2]
    ['FinalTestedDistrictName', 'FinalTestedDistrictCode']
    >>> derived_fields(["TestedDistrictCode1"], layout("2024-25").canonical)
    []
    """
    if "FinalTestedDistrictCode" in layout_fields or "FinalTestedDistrictCode" in present or (
            not any(f"TestedDistrictCode{n}" in present for n in DOMAIN_NUMBERS)):
        return []
    return [*FROM_BLOCK, COMPLETED]


def _typed(name: str, fields: dict[str, Field]) -> pl.Expr:
    """A field's checked value, null where the file lacks it or the cell failed its check."""
    if name not in fields:
        return pl.lit(None)
    if fields[name].kind.name == "text":
        return pl.col(name)
    return pl.when(~pl.col(f"b:{name}")).then(pl.col(f"v:{name}"))


def _chosen_domain(fields: dict[str, Field]) -> pl.Expr:
    """The domain number whose block the record counts under (rules 1-4), or null."""
    dated, named = [], []
    for n in DOMAIN_NUMBERS:
        code = f"TestedDistrictCode{n}"
        if code not in fields:
            continue
        has_code = pl.col(code).is_not_null()
        on = pl.coalesce(_typed(f"TestCompletedDate{n}", fields),
                         _typed(f"TestStartDate{n}", fields)).cast(pl.Date)
        exempt = _typed(f"DomainEx{n}", fields).cast(pl.Boolean).fill_null(False)
        # Day number x 10 + domain: the latest day wins, then the later domain (rule 3).
        dated.append(pl.when(has_code & on.is_not_null() & ~exempt)
                     .then(on.cast(pl.Int64) * 10 + n))
        named.append(pl.when(has_code).then(pl.lit(n, pl.Int64)))
    return pl.coalesce(pl.max_horizontal(dated) % 10, pl.max_horizontal(named))


def _pick(stem: str, enrolled: str | None, fields: dict[str, Field], *, typed: bool
          ) -> pl.Expr:
    """The chosen block's value of ``stem`` (typed or as read), else the enrolled field's."""
    def value(name: str) -> pl.Expr:
        if name not in fields:
            return pl.lit(None)
        return _typed(name, fields) if typed else pl.col(name)

    picked = pl.coalesce([pl.when(pl.col(_CHOSEN) == n).then(value(f"{stem}{n}"))
                          for n in DOMAIN_NUMBERS])
    fallback = value(enrolled) if enrolled else pl.lit(None)
    return pl.when(pl.col(_CHOSEN).is_null()).then(fallback).otherwise(picked)


def with_final_tested(typed: pl.DataFrame, fields: dict[str, Field], checks: list[Check],
                      layout_fields: Collection[str | None]
                      ) -> tuple[pl.DataFrame, dict[str, Field], list[Check]]:
    """Add the derived ``FinalTested...`` fields to a checked file that lacks them.

    ``typed`` is the file after ``data.toms.field_rules.check_fields``. Each derived field gets
    the columns that function makes (the cell as read, ``v:`` the typed value, ``b:`` never
    set: a bad cell is reported once, on the block's own field). The required-field check of
    ``FinalTestedDistrictCode`` is replaced by one naming the file's own fields. A file whose
    layout has a ``FinalTested...`` block is returned unchanged (``derived_fields``).
    """
    derived = derived_fields(fields, layout_fields)
    if not derived:
        return typed, fields, checks
    typed = typed.with_columns(_chosen_domain(fields).alias(_CHOSEN))
    columns: list[pl.Expr] = []
    for name, (stem, enrolled) in FROM_BLOCK.items():
        kind = field_for(name).kind.name
        columns.append(_pick(stem, enrolled, fields, typed=False).cast(pl.String).alias(name))
        if kind != "text":
            columns += [_pick(stem, enrolled, fields, typed=True).alias(f"v:{name}"),
                        pl.lit(False).alias(f"b:{name}")]
    # The latest completion of any domain; a date its own field refuses (in the future, before
    # 1950) is left out so that it is reported once, there.
    sane = (date(1950, 1, 1), date.today())
    done = [pl.when(d.is_between(*sane)).then(d) for d in (
        _typed(f"TestCompletedDate{n}", fields).cast(pl.Date) for n in DOMAIN_NUMBERS
        if f"TestCompletedDate{n}" in fields)]
    last = pl.max_horizontal(done) if done else pl.lit(None, pl.Date)
    columns += [last.dt.strftime("%Y-%m-%d").alias(COMPLETED), last.alias(f"v:{COMPLETED}"),
                pl.lit(False).alias(f"b:{COMPLETED}")]
    typed = typed.with_columns(columns)
    fields = {**fields, **{name: field_for(name) for name in derived}}
    blocks = [f"TestedDistrictCode{n}" for n in DOMAIN_NUMBERS if f"TestedDistrictCode{n}"
              in fields]
    checks = [c for c in checks if c[0] != "r:FinalTestedDistrictCode"]
    checks.append((
        "r:tested-lea", blocks[0], pl.col("FinalTestedDistrictCode").is_null(),
        pl.lit(f"is blank, as are {', '.join(blocks[1:]) or 'the other domains'} and "
               "CALPADSDistrictCode: the record's tested LEA cannot be told (the file has no "
               "FinalTestedDistrictCode)")))
    return typed, fields, checks

