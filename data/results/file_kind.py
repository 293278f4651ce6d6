"""A Student Score Data File's kind: enrolled-LEA or tested-LEA file (issue 14, item 5).

TOMS gives each LEA two files (ELPAC.md §3, "Variants"): the enrolled-LEA file holds the
students enrolled at the LEA, wherever they tested; the tested-LEA file the students tested at
the LEA, wherever they are enrolled. TOMS's file name says which. A renamed file may still show
it: one LEA's file names that LEA on every record on the side of its kind, so

* every record's enrolled LEA is one LEA and some were tested at other LEAs: an enrolled-LEA
  file (one LEA's tested-LEA file never holds another tested LEA);
* every record's tested LEA is one LEA and some are enrolled at other LEAs: a tested-LEA file.

Otherwise the content does not tell, and the kind is asked for. In particular, when every
record is enrolled and tested at the same LEA both kinds would load the same records under the
same LEA, but the kind still matters: a later file replaces only the current load of its own
LEA, school year and kind (``data.results.supersession``), so an enrolled-LEA file taken as a
tested one would stay beside the LEA's next enrolled-LEA file and keep the students that file
no longer lists.

A record's LEA is its district, or its school for a direct-funded charter
(``data.toms.normalise``); a blank code is no evidence either way. A kind in the file name
wins; ``--kind`` may not contradict the name nor the content.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

from data.problems import InputError

if TYPE_CHECKING:
    from data.toms.read import SourceFile

KINDS = ("enrolled", "tested")
COLUMN = {"enrolled": "enrolled_lea_code", "tested": "tested_lea_code"}
CODES = {"enrolled": ("CALPADSDistrictCode", "CALPADSSchoolCode"),
         "tested": ("FinalTestedDistrictCode", "FinalTestedSchoolCode")}
"""The fields a side's LEA comes from: the district's code, or the school's for a DF charter."""
ASK = "(the TOMS file name says which); pass --kind enrolled or --kind tested"
ARTICLE = {"enrolled": "an", "tested": "a"}
SHOWN = 3
"""Other LEAs named in a sentence before "and N more"."""


@dataclass(frozen=True)
class KindDecision:
    """A file's kind and, when its content decided it, the sentence that says how."""

    kind: str
    note: str = ""


def lea_pairs(rows: pl.LazyFrame | pl.DataFrame) -> pl.DataFrame:
    """Records per (enrolled LEA, tested LEA) pair of store rows, with one SSID of each.

    All the kind rule reads: a few rows, whatever the file's size (a lazy ``rows`` is
    aggregated as it is read, never held whole).
    """
    return (rows.lazy().group_by("enrolled_lea_code", "tested_lea_code")
            .agg(pl.len().alias("n"), pl.col("ssid").first())
            .sort("enrolled_lea_code", "tested_lea_code", nulls_last=True).collect())


def content_kind(pairs: pl.DataFrame) -> tuple[str | None, str]:
    """The kind the records show (``None`` when they do not) and the evidence, as a clause.

    ``pairs`` is :func:`lea_pairs`' table (``n`` records of each pair).

    Examples
    --------
    >>> pairs = pl.DataFrame({"enrolled_lea_code": ["A", "A"], "tested_lea_code": ["A", "B"],
    ...                       "n": [5, 1]})
    >>> kind, evidence = content_kind(pairs)
    >>> kind
    'enrolled'
    >>> print(evidence)  # doctest: +NORMALIZE_WHITESPACE
    every record's enrolled LEA is A, and 1 was tested at another LEA (B), which one LEA's
    tested-LEA file never holds
    >>> content_kind(pairs.with_columns(pl.lit("A").alias("tested_lea_code")))[0] is None
    True
    """
    known = {k: pairs.filter(pl.col(COLUMN[k]).is_not_null()) for k in KINDS}
    leas = {k: sorted(known[k].get_column(COLUMN[k]).unique().to_list()) for k in KINDS}
    for kind, other in (KINDS, KINDS[::-1]):
        if len(leas[kind]) != 1:
            continue
        (lea,) = leas[kind]
        away = known[other].filter(pl.col(COLUMN[other]) != lea)
        if away.height == 0 or len(leas[other]) == 1:
            continue  # nothing elsewhere, or one LEA on each side: either kind fits
        n = int(away.get_column("n").sum())
        codes = sorted(set(away.get_column(COLUMN[other]).to_list()))
        where = "another LEA" if len(codes) == 1 else "other LEAs"
        verb = "tested at" if other == "tested" else "enrolled at"
        blank = _blanks(pairs, kind)
        every = f"every {kind} LEA given is {lea}{blank}" if blank else (
            f"every record's {kind} LEA is {lea}")
        return kind, (f"{every}, and {n} "
                      f"{'was' if n == 1 else 'were'} {verb} {where} ({_listed(codes)}), which "
                      f"one LEA's {other}-LEA file never holds")
    return None, _undecided(pairs, leas)


def decide_kind(src: SourceFile, pairs: pl.DataFrame, given: str | None) -> KindDecision:
    """The kind of ``src``: its name's, else ``given`` (``--kind``), else its content's.

    ``InputError`` when ``given`` contradicts the name or the content, when nothing tells, or
    when a record has no LEA on the kind's side and the name gives none to load it under.
    """
    if src.name_kind and given and src.name_kind != given:
        raise InputError(f"{src.name}: the file name says {src.name_kind} but --kind is {given}")
    decision = _decide(src, pairs, given)
    if not src.name_lea:
        _require_leas(src, pairs, decision.kind)
    return decision


def _decide(src: SourceFile, pairs: pl.DataFrame, given: str | None) -> KindDecision:
    if src.name_kind:
        return KindDecision(src.name_kind)
    shown, evidence = content_kind(pairs)
    if given:
        if shown and shown != given:
            raise InputError(f"{src.name}: --kind is {given}, but {evidence}: this is "
                             f"{ARTICLE[shown]} {shown}-LEA file; pass --kind {shown}, or leave "
                             "--kind out")
        return KindDecision(given)
    if shown is None:
        raise InputError(f"{src.name}: cannot tell an enrolled-LEA file from a tested-LEA "
                         f"file: {evidence} {ASK}")
    return KindDecision(shown, f"kind: {shown}, from the content: {evidence}")


def _undecided(pairs: pl.DataFrame, leas: dict[str, list[str]]) -> str:
    """What the records show when it is not the kind, as a clause."""
    n = int(pairs.get_column("n").sum())
    enrolled, tested = leas["enrolled"], leas["tested"]
    every = "its one record is" if n == 1 else f"all {n} records are"
    if n == 0:
        return "it has no valid record to tell by"
    blanks = _blanks(pairs, "enrolled") + _blanks(pairs, "tested")
    if len(enrolled) == 1 and len(tested) == 1:
        (e,), (t,) = enrolled, tested
        if e == t:
            return (f"{every} enrolled and tested at LEA {e}{blanks}, so either kind would load "
                    "the same records, but a later file replaces only the current file of its "
                    "own kind")
        return (f"{every} enrolled at LEA {e} and tested at LEA {t}{blanks}, so it is LEA {e}'s "
                f"enrolled-LEA file or LEA {t}'s tested-LEA file")
    found = f"its records are enrolled at {_count(enrolled)} and tested at {_count(tested)}{blanks}"
    if len(enrolled) > 1 or len(tested) > 1:
        found += (": a file of several LEAs, whose content does not show the kind that decides "
                  "the LEA each record is loaded under")
    return found


def _require_leas(src: SourceFile, pairs: pl.DataFrame, kind: str) -> None:
    """Refuse a file with records that have no LEA to be loaded under (rows keyed by SSID)."""
    blank = pairs.filter(pl.col(COLUMN[kind]).is_null())
    if blank.height == 0:
        return
    n = int(blank.get_column("n").sum())
    ssids = _listed(sorted(blank.get_column("ssid").drop_nulls().to_list()))
    district, school = CODES[kind]
    raise InputError(
        f"{src.name}: {n} record{'' if n == 1 else 's'} ({'' if n == 1 else 'e.g. '}SSID "
        f"{ssids}) "
        f"{'has' if n == 1 else 'have'} no {kind} LEA: {district} is blank (or {school}, on a "
        f"direct-funded charter's record), and a file whose name does not say its LEA is "
        f"loaded under each record's {kind} LEA; fill in the code")


def _blanks(pairs: pl.DataFrame, side: str) -> str:
    """The records with a blank LEA on ``side``, as a parenthesis ("" when none)."""
    n = int(pairs.filter(pl.col(COLUMN[side]).is_null()).get_column("n").sum())
    return f" ({n} with a blank {side} LEA)" if n else ""


def _count(codes: list[str]) -> str:
    return f"{len(codes)} LEA" if len(codes) == 1 else f"{len(codes)} LEAs"


def _listed(codes: list[str]) -> str:
    """The first codes and how many more.

    Examples
    --------
    >>> _listed(["1", "2", "3", "4", "5"])
    '1, 2, 3 and 2 more'
    """
    more = len(codes) - SHOWN
    return ", ".join(codes[:SHOWN]) + (f" and {more} more" if more > 0 else "")
