"""Student groups and breakdown dimensions, declared once as conditions on store columns.

Each group is a list of conditions (column, operator, values) that are all true for its
students. The declarations are translated mechanically into Polars expressions (the summary
built at load time) and DuckDB expressions (ad-hoc reports), so the two can never disagree.

Group IDs are the research files' ``StudentGroupID`` values (ELPAC.md §5.6); IDs marked
[unconfirmed] there are kept, and groups the research files do not have (Section 504, primary
language, nonbinary) get IDs that are not numbers so the research-file export leaves them out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import polars as pl

Condition = tuple[str, str, tuple[object, ...]]
"""(store column, "in" or ">=", values)."""


@dataclass(frozen=True)
class Group:
    """A student group: an ID, a name, the dimension it belongs to, and its conditions."""

    id: str
    name: str
    dimension: str
    conditions: tuple[Condition, ...]

    @property
    def in_research_file(self) -> bool:
        """Research files carry only three-digit numeric IDs."""
        return self.id.isdigit()

    def duckdb(self) -> duckdb.Expression:
        """The group's membership as a DuckDB expression (values are constants, not SQL)."""
        return conditions_duckdb(self.conditions)

    def polars(self) -> pl.Expr:
        """The group's membership as a Polars expression (null counts as not a member)."""
        expr = pl.lit(True)
        for column, op, values in self.conditions:
            col = pl.col(column)
            cond = col.is_in(list(values)) if op == "in" else col >= values[0]
            expr = expr & cond.fill_null(False)
        return expr


def conditions_duckdb(conditions: tuple[Condition, ...]) -> duckdb.Expression:
    """All conditions as one DuckDB expression, for ``WHERE`` and ``CASE WHEN`` only.

    A null column value makes its condition null, which both treat as false: a null fails
    its condition. Conditions are only ever joined by AND and OR (never NOT), so a null can
    never make a record a member. No COALESCE around them: it kept DuckDB from pushing the
    conditions into the Parquet scan (an ad-hoc subgroup report read every column first).
    """
    parts = []
    for column, op, values in conditions:
        col = duckdb.ColumnExpression(column)
        if op == "in":
            parts.append(col.isin(*[duckdb.ConstantExpression(v) for v in values]))
        else:
            parts.append(col >= duckdb.ConstantExpression(values[0]))
    return all_of(parts)


def all_of(parts: list[duckdb.Expression]) -> duckdb.Expression:
    """``parts`` joined by AND (TRUE when there are none)."""
    if not parts:
        return duckdb.ConstantExpression(True)
    expr = parts[0]
    for part in parts[1:]:
        expr = expr & part
    return expr


def any_of(parts: list[duckdb.Expression]) -> duckdb.Expression:
    """``parts`` joined by OR (FALSE when there are none)."""
    if not parts:
        return duckdb.ConstantExpression(False)
    expr = parts[0]
    for part in parts[1:]:
        expr = expr | part
    return expr


def _g(id_: str, name: str, dimension: str, *conditions: Condition) -> Group:
    return Group(id_, name, dimension, tuple(conditions))


def _flag(column: str, yes_id: str, yes: str, no_id: str, no: str, dimension: str
          ) -> list[Group]:
    return [_g(yes_id, yes, dimension, (column, "in", (True,))),
            _g(no_id, no, dimension, (column, "in", (False,)))]


_ETHNICITIES = (("074", "600", "Black or African American"),
                ("075", "100", "American Indian or Alaska Native"),
                ("076", "200", "Asian"), ("077", "400", "Filipino"),
                ("078", "500", "Hispanic or Latino"),
                ("079", "300", "Native Hawaiian or Pacific Islander"), ("080", "700", "White"),
                ("144", "800", "Two or more races"))
# Ethnicity x economic status: 200-207 disadvantaged, 220-227 not (ELPAC.md §5.6), in the
# order Black, American Indian, Asian, Filipino, Hispanic, Pacific Islander, White, Two+.
_ETH_ORDER = ("600", "100", "200", "400", "500", "300", "700", "800")
_ETH_NAME = {code: name for _, code, name in _ETHNICITIES}

LANGUAGES = (("SPA", "Spanish"), ("VIE", "Vietnamese"), ("CMN", "Mandarin"),
             ("YUE", "Cantonese"), ("ARA", "Arabic"), ("TGL", "Filipino (Tagalog)"),
             ("KOR", "Korean"), ("PAN", "Punjabi"), ("RUS", "Russian"), ("HMN", "Hmong"),
             ("PES", "Farsi"), ("POR", "Portuguese"), ("JPN", "Japanese"), ("HIN", "Hindi"))
"""Primary languages with a group of their own (by CEDS code); others fall in no group."""

GROUPS: tuple[Group, ...] = (
    _g("001", "All students", "all"),
    _g("003", "Male", "gender", ("gender", "in", ("M",))),
    _g("004", "Female", "gender", ("gender", "in", ("F",))),
    _g("G-X", "Nonbinary", "gender", ("gender", "in", ("X",))),
    *[_g(gid, name, "ethnicity", ("ethnicity", "in", (code,))) for gid, code, name in _ETHNICITIES],
    *_flag("is_economically_disadvantaged", "031", "Economically disadvantaged", "111",
           "Not economically disadvantaged", "economic"),
    *_flag("is_special_education", "128", "Reported disabilities", "099",
           "No reported disabilities", "disability"),
    *_flag("is_section504", "S504", "Section 504 plan", "N504", "No Section 504 plan",
           "section504"),
    *_flag("is_migrant", "028", "Migrant education", "029", "Not migrant education", "migrant"),
    *_flag("is_homeless", "052", "Homeless", "053", "Not homeless", "homeless"),
    *_flag("is_foster", "240", "Foster youth", "241", "Not foster youth", "foster"),
    *_flag("is_military", "050", "Armed forces family member",
           "051", "Not armed forces family member", "military"),
    *[_g(gid, f"{_ETH_NAME[code]}, economically disadvantaged", "ethnicity_economic",
         ("ethnicity", "in", (code,)), ("is_economically_disadvantaged", "in", (True,)))
      for gid, code in zip([f"{200 + i}" for i in range(8)], _ETH_ORDER, strict=True)],
    *[_g(gid, f"{_ETH_NAME[code]}, not economically disadvantaged", "ethnicity_economic",
         ("ethnicity", "in", (code,)), ("is_economically_disadvantaged", "in", (False,)))
      for gid, code in zip([f"{220 + i}" for i in range(8)], _ETH_ORDER, strict=True)],
    _g("094", "Graduate school/post graduate", "parent_education",
       ("parent_education", "in", ("10",))),
    _g("093", "College graduate", "parent_education", ("parent_education", "in", ("11",))),
    _g("092", "Some college (includes AA degree)", "parent_education",
       ("parent_education", "in", ("12",))),
    _g("091", "High school graduate", "parent_education", ("parent_education", "in", ("13",))),
    _g("090", "Not a high school graduate", "parent_education",
       ("parent_education", "in", ("14",))),
    _g("121", "Declined to state", "parent_education", ("parent_education", "in", ("15",))),
    *[_g(f"L-{code}", name, "language", ("ceds_language", "in", (code,)))
      for code, name in LANGUAGES],
    _g("160", "All English learners", "english_learner"),
    _g("120", "ELs enrolled in US schools less than 12 months", "us_schools",
       ("us_school_months", "in", tuple(range(12)))),
    _g("142", "ELs enrolled in US schools 12 months or more", "us_schools",
       ("us_school_months", ">=", (12,))),
    _g("248", "EL: less than 1 year in program", "years_in_program",
       ("el_years_in_program", "in", (0,))),
    *[_g(f"{241 + k}", f"EL: {k} year{'s' if k > 1 else ''} in program", "years_in_program",
         ("el_years_in_program", "in", (k,))) for k in range(1, 6)],
    _g("247", "EL: 6 or more years in program", "years_in_program",
       ("el_years_in_program", ">=", (6,))),
    _g("250", "Long-term English learner (LTEL)", "ltel", ("ltel_status", "in", ("1",))),
    _g("251", "At risk of becoming a long-term EL (AR-LTEL)", "ltel",
       ("ltel_status", "in", ("2",))),
)
"""Every group. LTEL codes 1/2 are [unconfirmed]: the real 2024-25 file only shows ``2``."""

GROUP_BY_ID = {g.id: g for g in GROUPS}

DIMENSIONS: dict[str, str] = {
    "gender": "Gender", "ethnicity": "Race and ethnicity",
    "economic": "Economic disadvantage", "disability": "Disability (IEP)",
    "section504": "Section 504", "migrant": "Migrant", "homeless": "Homeless",
    "foster": "Foster youth", "military": "Military family", "parent_education":
    "Parent education", "language": "Primary language", "us_schools": "Time in US schools",
    "years_in_program": "EL time in program", "ltel": "LTEL / AR-LTEL",
    "ethnicity_economic": "Ethnicity by economic status",
}
"""Breakdown dimensions (CERS's list, ELPAC.md §5.6) and their labels; grade is the other."""


def groups_of(dimension: str) -> list[Group]:
    """Groups of one breakdown dimension, in display order."""
    return [g for g in GROUPS if g.dimension == dimension]


def derived_columns(school_year: str) -> list[pl.Expr]:
    """Columns computed at load time from the file's fields (ELPAC.md §3.3 and §5.6).

    * ``reporting_lea_code``: the LEA a record counts under: the tested LEA, or for a student
      tested at a nonpublic school with a special-education district of accountability, that
      district (§3.3 rule 6).
    * ``reporting_school_code``: the tested school, none for NPS students (school rows leave
      them out, §3.3 rule 6).
    * ``county_code``: the first two digits of the reporting LEA.
    * ``is_reported``: false for records no aggregate counts (TK students from 2024-25);
    * ``el_years_in_program``: whole years from EL entry to the start of the school year
      (July 1); ``us_school_months``: whole months from first entry in a US school to the test
      (or to February 1 for non-testers). Both definitions are [unconfirmed] readings of
      UND-ALT's "relative to the current year".
    """
    start = int(school_year[:4])
    nps = pl.col("tested_is_nps").fill_null(False)
    sped = pl.col("sped_district_code")
    lea = (pl.when(nps & sped.is_not_null()).then(sped + "0000000")
           .otherwise(pl.col("tested_lea_code")))
    tested_on = pl.coalesce(pl.col("final_test_completed_date"), pl.lit(date(start + 1, 2, 1)))
    entry = pl.col("us_school_entry_date")
    months = ((tested_on.dt.year() - entry.dt.year()) * 12
              + tested_on.dt.month() - entry.dt.month()
              - (tested_on.dt.day() < entry.dt.day()).cast(pl.Int32))
    years = (pl.lit(date(start, 7, 1)) - pl.col("el_entry_date")).dt.total_days() // 365.25
    # From 2024-25 kindergarten results leave out transitional-kindergarten students
    # (ELPAC.md §1.1, UND-IA); they are left out of every aggregate [unconfirmed: all grades].
    tk = pl.col("is_tk").fill_null(False) & pl.lit(school_year >= "2024-25")
    return [
        (~tk).alias("is_reported"),
        lea.alias("reporting_lea_code"),
        pl.when(~nps).then(pl.col("tested_school_code")).alias("reporting_school_code"),
        lea.str.slice(0, 2).alias("county_code"),
        pl.max_horizontal(years, pl.lit(0)).cast(pl.Int16).alias("el_years_in_program"),
        pl.max_horizontal(months, pl.lit(0)).cast(pl.Int16).alias("us_school_months"),
    ]
