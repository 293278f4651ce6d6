"""The English Learner Progress Indicator's rules, declared once (ELPI.md, every section cited).

Like ``data.results.summary.METRICS``, each rule is data here, and both executions are
generated from it, so they cannot disagree (a test checks that they agree on every record):

* :func:`student_polars` (Polars expressions): the per-student rows (``queries.elpi_students``);
* :func:`student_duckdb` (DuckDB expressions): the per-organisation counts
  (``queries.elpi_orgs``), summed where the records are, without a Polars frame per student.

What is declared: the six ELPI levels and the split points per grade (``SPLITS``, §1); why a
student is not counted (``REASONS``, in order, §3); each counted student's outcome
(``OUTCOMES``, in order, §2, Summative and Alternate); and the organisation-level rules, status
cut points, change edges, the colour grid and the minimum n (§4), applied with exact integer
arithmetic by :mod:`queries.elpi_status`.

A rule is ``(name, atoms)``: it holds when every atom ``(column, op, operand)`` holds; the
operand is a constant or ``Col(name)``, another column. A null makes an atom false, in both
engines (a missing score never satisfies a comparison).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import duckdb
import polars as pl

from data.domain import GRADES, RECORD_TYPE_ALTERNATE, RECORD_TYPE_SUMMATIVE

if TYPE_CHECKING:
    from collections.abc import Sequence

ELPI_LEVELS: tuple[str, ...] = ("1", "2L", "2H", "3L", "3H", "4")
"""The six ELPI levels, lowest first; a student's *rank* is the position + 1 (ELPI.md §1)."""

SPLITS: dict[str, tuple[int, int, int, int, int]] = {
    "KN": (1374, 1398, 1422, 1448, 1474), "01": (1411, 1433, 1455, 1481, 1507),
    "02": (1424, 1447, 1471, 1501, 1532), "03": (1448, 1468, 1488, 1511, 1535),
    "04": (1459, 1479, 1499, 1524, 1549), "05": (1467, 1490, 1514, 1537, 1560),
    "06": (1475, 1496, 1517, 1542, 1567), "07": (1481, 1504, 1527, 1551, 1576),
    "08": (1486, 1510, 1534, 1562, 1590), "09": (1493, 1519, 1545, 1575, 1606),
    "10": (1493, 1519, 1545, 1575, 1606), "11": (1500, 1527, 1555, 1585, 1615),
    "12": (1500, 1527, 1555, 1585, 1615),
}
"""Lowest Summative overall scale score of ELPI levels 2L, 2H, 3L, 3H and 4 per assessment
grade: Table 3 of the 2025 Dashboard Technical Guide (ELPI.md §1). Level 2 and 3 ranges are
halved, the High half taking the odd point; a test derives them from ``data.domain``'s cuts."""

ALTERNATE_LEVEL_FROM = (44, 60)
"""Summative Alternate ELPAC levels 2 and 3 start at base + 44 and base + 60 of every grade
span's hundred band (ELPAC.md §2), so the level follows from the last two digits."""
ALTERNATE_GAIN = 10
"""Alternate progress by score: a gain of 10 or more after dropping the first digit (§2)."""
SUMMATIVE_LOWEST = 1150
"""Summative scale scores start at 1150 (ELPAC.md §1.1); Alternate ones are 201-899 (§2).
A prior-year score from the file's ``OverallScaleScoreMinus1`` says its test by its range."""


@dataclass(frozen=True)
class Col:
    """An operand that is another column (rather than a constant)."""

    name: str


Atom = tuple[str, str, object]
"""(column, op, operand): op is ``==``, ``!=``, ``<``, ``>``, ``>=`` or ``null``."""
Rule = tuple[str, tuple[Atom, ...]]

SUMMATIVE = ("test", "==", RECORD_TYPE_SUMMATIVE)
ALTERNATE = ("test", "==", RECORD_TYPE_ALTERNATE)

REASONS: tuple[Rule, ...] = (
    # Grades 1-12 in the current year; TK -> K does not count either (ELPI.md §3).
    ("kindergarten", (("grade", "==", "KN"),)),
    # An overall score on the same assessment in both years (§3).
    ("no_score", (("score", "null", None),)),
    ("no_prior_score", (("prior_score", "null", None),)),
    ("different_assessment", (("test", "!=", Col("prior_test")),)),
    # Excluded: a grade lower this year than last (§3). The same grade (retained) counts.
    ("lower_grade", (("grade_rank", "<", Col("prior_grade_rank")),)),
    # A prior Summative score without a grade has no ELPI level (the split depends on it).
    ("no_prior_grade", (("prior_grade_rank", "null", None),)),
)
"""Why a student is not counted: the first rule that holds. Counted: none holds."""

OUTCOMES: tuple[Rule, ...] = (
    # Summative (ELPI.md §2): 4 in both years counts as progress.
    ("maintained_4", (SUMMATIVE, ("rank", "==", 6), ("prior_rank", "==", 6))),
    ("progressed", (SUMMATIVE, ("rank", ">", Col("prior_rank")))),
    ("maintained_other", (SUMMATIVE, ("rank", "==", Col("prior_rank")))),
    ("declined", (SUMMATIVE, ("rank", "<", Col("prior_rank")))),
    # Summative Alternate ELPAC (§2; the guide's table: current 2 from prior 1, current 3 from
    # any prior level, else a scale-score gain of 10 or more). Level 3 in both years is the
    # Alternate's top level kept, counted with "maintained level 4" [our reading].
    ("maintained_4", (ALTERNATE, ("alt_level", "==", 3), ("prior_alt_level", "==", 3))),
    ("progressed", (ALTERNATE, ("alt_level", ">", Col("prior_alt_level")))),
    ("progressed", (ALTERNATE, ("alt_gain", ">=", ALTERNATE_GAIN))),
    ("maintained_other", (ALTERNATE, ("alt_level", "==", Col("prior_alt_level")))),
    ("declined", (ALTERNATE, ("alt_level", "<", Col("prior_alt_level")))),
)
"""A counted student's outcome: the first rule that holds."""

PROGRESS_OUTCOMES = ("progressed", "maintained_4")
"""Outcomes in the rate's numerator (ELPI.md §4): progressed + maintained level 4."""
OUTCOME_NAMES = ("progressed", "maintained_4", "maintained_other", "declined")

INPUT_COLUMNS: tuple[str, ...] = ("test", "grade", "score", "prior_test", "prior_grade",
                                  "prior_score")
"""What the rules read of each current-year record (``queries.elpi_students`` assembles it):
``test`` its record type, ``grade`` the grade assessed, ``score`` its overall scale score
(tested with scores only), and the same three of the prior year (null when unknown)."""
DERIVED_COLUMNS: tuple[str, ...] = (
    "grade_rank", "prior_grade_rank", "rank", "prior_rank", "alt_level", "prior_alt_level",
    "alt_gain", "elpi_level", "prior_elpi_level", "not_counted_reason", "is_counted",
    "outcome", "is_progress")
"""What both executions add, in this order."""


def _grade_rank(grades: Sequence[str] = GRADES) -> dict[str, int]:
    return {g: i for i, g in enumerate(grades)}


# -- Polars ----------------------------------------------------------------------------------

def _pl_operand(operand: object) -> pl.Expr:
    return pl.col(operand.name) if isinstance(operand, Col) else pl.lit(operand)


def _pl_atom(atom: Atom) -> pl.Expr:
    column, op, operand = atom
    col = pl.col(column)
    if op == "null":
        return col.is_null()
    other = _pl_operand(operand)
    compare = {"==": col == other, "!=": col != other, "<": col < other, ">": col > other,
               ">=": col >= other}[op]
    return compare.fill_null(False)


def _pl_rule(atoms: tuple[Atom, ...]) -> pl.Expr:
    expr = pl.lit(True)
    for atom in atoms:
        expr = expr & _pl_atom(atom)
    return expr


def _pl_first(rules: tuple[Rule, ...]) -> pl.Expr:
    expr = pl.lit(None, pl.String)
    for name, atoms in reversed(rules):
        expr = pl.when(_pl_rule(atoms)).then(pl.lit(name)).otherwise(expr)
    return expr


def _pl_rank(score: str, grade: str) -> pl.Expr:
    expr = pl.lit(None, pl.Int8)
    for g, cuts in SPLITS.items():
        rank = pl.lit(1, pl.Int8)
        for cut in cuts:
            rank = rank + (pl.col(score) >= cut).cast(pl.Int8)
        expr = pl.when(pl.col(grade) == g).then(rank).otherwise(expr)
    return expr


def _pl_alt_level(score: str) -> pl.Expr:
    position = pl.col(score) % 100
    return (1 + sum((position >= k).cast(pl.Int8) for k in ALTERNATE_LEVEL_FROM)).cast(pl.Int8)


def student_polars() -> list[list[pl.Expr]]:
    """The rules as Polars expressions, in stages (each stage reads the ones before).

    Apply with ``frame.with_columns(stage)`` for each stage; the frame needs
    ``INPUT_COLUMNS``. Adds ``DERIVED_COLUMNS``.

    Examples
    --------
    >>> frame = pl.DataFrame({"test": ["21"], "grade": ["05"], "score": [1500],
    ...                       "prior_test": ["21"], "prior_grade": ["04"],
    ...                       "prior_score": [1480]})
    >>> for stage in student_polars():
    ...     frame = frame.with_columns(stage)
    >>> frame.select("prior_elpi_level", "elpi_level", "outcome").row(0)
    ('2H', '2H', 'maintained_other')
    """
    ranks = _grade_rank()
    summative = pl.col("test") == RECORD_TYPE_SUMMATIVE
    alternate = pl.col("test") == RECORD_TYPE_ALTERNATE
    prior_summative = pl.col("prior_test") == RECORD_TYPE_SUMMATIVE
    prior_alternate = pl.col("prior_test") == RECORD_TYPE_ALTERNATE
    first = [
        pl.col("grade").replace_strict(ranks, default=None, return_dtype=pl.Int8)
        .alias("grade_rank"),
        pl.col("prior_grade").replace_strict(ranks, default=None, return_dtype=pl.Int8)
        .alias("prior_grade_rank"),
        pl.when(summative).then(_pl_rank("score", "grade")).alias("rank"),
        pl.when(prior_summative).then(_pl_rank("prior_score", "prior_grade"))
        .alias("prior_rank"),
        pl.when(alternate).then(_pl_alt_level("score")).alias("alt_level"),
        pl.when(prior_alternate).then(_pl_alt_level("prior_score")).alias("prior_alt_level"),
        pl.when(alternate & prior_alternate).then(
            (pl.col("score") % 100 - pl.col("prior_score") % 100).cast(pl.Int16))
        .alias("alt_gain"),
    ]
    labels = dict(enumerate(ELPI_LEVELS, start=1))
    second = [
        pl.col("rank").replace_strict(labels, default=None, return_dtype=pl.String)
        .alias("elpi_level"),
        pl.col("prior_rank").replace_strict(labels, default=None, return_dtype=pl.String)
        .alias("prior_elpi_level"),
        _pl_first(REASONS).alias("not_counted_reason"),
    ]
    third = [pl.col("not_counted_reason").is_null().alias("is_counted")]
    fourth = [pl.when(pl.col("is_counted")).then(_pl_first(OUTCOMES)).alias("outcome")]
    fifth = [pl.col("outcome").is_in(PROGRESS_OUTCOMES).fill_null(False).alias("is_progress")]
    return [first, second, third, fourth, fifth]


# -- DuckDB ----------------------------------------------------------------------------------

def _k(value: object) -> duckdb.Expression:
    return duckdb.ConstantExpression(value)


def _c(name: str) -> duckdb.Expression:
    return duckdb.ColumnExpression(name)


def _db_atom(atom: Atom) -> duckdb.Expression:
    column, op, operand = atom
    col = _c(column)
    if op == "null":
        return col.isnull()
    other = _c(operand.name) if isinstance(operand, Col) else _k(operand)
    compare = {"==": col == other, "!=": col != other, "<": col < other, ">": col > other,
               ">=": col >= other}[op]
    return duckdb.CaseExpression(compare, _k(True)).otherwise(_k(False))


def _db_rule(atoms: tuple[Atom, ...]) -> duckdb.Expression:
    expr = _db_atom(atoms[0])
    for atom in atoms[1:]:
        expr = expr & _db_atom(atom)
    return expr


def _db_first(rules: tuple[Rule, ...]) -> duckdb.Expression:
    name, atoms = rules[0]
    expr = duckdb.CaseExpression(_db_rule(atoms), _k(name))
    for name, atoms in rules[1:]:
        expr = expr.when(_db_rule(atoms), _k(name))
    return expr.otherwise(_k(None).cast(duckdb.sqltypes.VARCHAR))


def _db_rank(score: duckdb.Expression, grade: duckdb.Expression) -> duckdb.Expression:
    expr = None
    for g, cuts in SPLITS.items():
        rank = _k(1)
        for cut in cuts:
            rank = rank + duckdb.CaseExpression(score >= _k(cut), _k(1)).otherwise(_k(0))
        cond = grade == _k(g)
        expr = duckdb.CaseExpression(cond, rank) if expr is None else expr.when(cond, rank)
    assert expr is not None
    return expr.otherwise(_k(None).cast(duckdb.sqltypes.INTEGER))


def _db_alt_level(score: duckdb.Expression) -> duckdb.Expression:
    position = score % _k(100)
    expr = _k(1)
    for k in ALTERNATE_LEVEL_FROM:
        expr = expr + duckdb.CaseExpression(position >= _k(k), _k(1)).otherwise(_k(0))
    return expr


def _when(cond: duckdb.Expression, value: duckdb.Expression, sql_type: object
          ) -> duckdb.Expression:
    return duckdb.CaseExpression(cond, value).otherwise(_k(None).cast(sql_type))


def student_duckdb() -> list[list[duckdb.Expression]]:
    """The same rules as DuckDB expressions, in the same stages as :func:`student_polars`.

    Apply with ``relation.project(StarExpression(), *stage)`` for each stage; the relation
    needs ``INPUT_COLUMNS``. Generated from this module's constants, so no text a user typed
    reaches them.
    """
    ranks = _grade_rank()
    int_t, str_t = duckdb.sqltypes.INTEGER, duckdb.sqltypes.VARCHAR
    test, prior_test = _c("test"), _c("prior_test")
    summative, alternate = test == _k(RECORD_TYPE_SUMMATIVE), test == _k(RECORD_TYPE_ALTERNATE)
    prior_summative = prior_test == _k(RECORD_TYPE_SUMMATIVE)
    prior_alternate = prior_test == _k(RECORD_TYPE_ALTERNATE)

    def grade_rank(column: str) -> duckdb.Expression:
        expr = None
        for g, r in ranks.items():
            cond = _c(column) == _k(g)
            expr = duckdb.CaseExpression(cond, _k(r)) if expr is None else expr.when(
                cond, _k(r))
        assert expr is not None
        return expr.otherwise(_k(None).cast(int_t))

    def label(rank: duckdb.Expression) -> duckdb.Expression:
        expr = duckdb.CaseExpression(rank == _k(1), _k(ELPI_LEVELS[0]))
        for i, name in enumerate(ELPI_LEVELS[1:], start=2):
            expr = expr.when(rank == _k(i), _k(name))
        return expr.otherwise(_k(None).cast(str_t))

    score, prior_score = _c("score"), _c("prior_score")
    first = {
        "grade_rank": grade_rank("grade"), "prior_grade_rank": grade_rank("prior_grade"),
        # No score, no level: a CASE would otherwise count a null as below every cut.
        "rank": _when(summative & score.isnotnull(), _db_rank(score, _c("grade")), int_t),
        "prior_rank": _when(prior_summative & prior_score.isnotnull(),
                            _db_rank(prior_score, _c("prior_grade")), int_t),
        "alt_level": _when(alternate & score.isnotnull(), _db_alt_level(score), int_t),
        "prior_alt_level": _when(prior_alternate & prior_score.isnotnull(),
                                 _db_alt_level(prior_score), int_t),
        "alt_gain": _when(alternate & prior_alternate,
                          score % _k(100) - prior_score % _k(100), int_t),
    }
    second = {"elpi_level": label(_c("rank")), "prior_elpi_level": label(_c("prior_rank")),
              "not_counted_reason": _db_first(REASONS)}
    third = {"is_counted": _c("not_counted_reason").isnull()}
    fourth = {"outcome": _when(_c("is_counted"), _db_first(OUTCOMES), str_t)}
    progress = _c("outcome").isin(*[_k(o) for o in PROGRESS_OUTCOMES])
    fifth = {"is_progress": duckdb.CaseExpression(progress, _k(True)).otherwise(_k(False))}
    return [[expr.alias(name) for name, expr in stage.items()]
            for stage in (first, second, third, fourth, fifth)]
