"""The CDE public research-file layout, computed from the store (ELPAC.md §5.3).

Columns as §5.3 lists them with the 2023-24 names: ``TypeID`` for ``RecordType`` and an empty
``Filler`` for ``CharterNumber``.

Caret-delimited, one row per organisation (school, LEA or direct-funded charter, county,
state) x research student group x grade (KN, 01-12, 13 = all) that has records. Headers as
ELPAC.md §5.3 lists them (the 2023-24 ``TypeID`` naming). Percents are on a 0-100 scale with
two decimals, means with one. Suppressed by default, as the public files are: a row with fewer
than 11 students tested with scores has ``*`` in every score cell (counts of enrolled and
tested stay). The Summative Alternate ELPAC file has the overall block only, with 3 levels.

Analysts can compare these rows with the state's files with their own tools.

``research_rows`` also says whether each row's data is ``final`` or ``partial``
(``STATUS_COLUMN``, as report rows do); it is not part of the CDE layout, so
``write_research_file`` leaves it out of the file.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from data.domain import GRADES, spring_year
from data.results.summary import ALL_GRADES, METRIC_COLUMNS, RECORD_COLUMNS, build_summary
from data.student_groups import GROUP_BY_ID
from queries.labels import RECORD_TYPE_OF_TEST, SUPPRESSED
from queries.metrics import SUPPRESSION_THRESHOLD, publish_arrays
from queries.records import read_records
from queries.scope import ScopeError
from queries.suppression import Cell, applies, hidden_cells

if TYPE_CHECKING:
    from pathlib import Path

    from queries.scope import Scope
    from queries.snapshot import Snapshot

_BLOCKS = (("Overall", "overall"), ("OralLang", "oral"), ("WritLang", "written"))
_DOMAIN_BLOCKS = (("Listening", "listening"), ("Speaking", "speaking"), ("Reading", "reading"),
                  ("Writing", "writing"))
_DOMAIN_STEMS = (("Begin", 1), ("Moderate", 2), ("Developed", 3))
_TYPE_ORDER = {"04": 0, "03": 1, "02": 2, "09": 2, "01": 3, "10": 3}
STATUS_COLUMN = "data_status"
"""``final`` or ``partial`` per row (``Snapshot.org_data_status``); not a CDE column."""
ASSESSMENT_TYPE = {"summative": "2", "alternate": "2"}
"""``AssessmentType``: 2 in the real 2018 files; later values are [unconfirmed] (ELPAC.md
§5.3), so this is the one place to change it."""


def research_columns(test: str) -> list[str]:
    """The research file's columns for a test, in file order.

    Examples
    --------
    >>> research_columns("summative")[:4]
    ['CountyCode', 'DistrictCode', 'SchoolCode', 'TypeID']
    >>> len(research_columns("summative")), len(research_columns("alternate"))
    (70, 20)
    """
    cols = ["CountyCode", "DistrictCode", "SchoolCode", "TypeID", "Filler", "TestYear",
            "StudentGroupID", "AssessmentType", "Grade", "TotalEnrolled", "TotalTested",
            "TotalTestedWithScores"]
    levels = (1, 2, 3) if test == "alternate" else (1, 2, 3, 4)
    for stem, _ in _BLOCKS if test == "summative" else _BLOCKS[:1]:
        cols.append(f"{stem}MeanSclScr")
        cols += [f"{stem}PerfLvl{k}Pcnt" for k in levels]
        cols += [f"{stem}PerfLvl{k}Count" for k in levels]
        cols.append(f"{stem}Total")
    if test == "summative":
        for stem, _ in _DOMAIN_BLOCKS:
            for name, _k in _DOMAIN_STEMS:
                cols += [f"{stem}Domain{name}Pcnt", f"{stem}Domain{name}Count"]
            cols.append(f"{stem}DomainTotal")
    return cols


def research_rows(snap: Snapshot, *, year: str, test: str = "summative", scope: Scope,
                  lea: str | None = None, school: str | None = None, suppress: bool,
                  threshold: int = SUPPRESSION_THRESHOLD) -> pl.DataFrame:
    """Every research-file row of a year and test as text, in file order.

    ``lea`` keeps that LEA's rows and its schools' rows; ``school`` (a 14-digit CDS code)
    only that school's rows, for a school's own staff. The scope must be statewide unless
    ``lea`` or ``school`` names an organisation it covers (county and state rows count
    students outside any LEA).
    A scope limited to student groups counts only their students and has only their rows,
    as ``read_report``. ``suppress`` has no default: every caller says whether small groups
    show ``*`` (an aggregate-only scope always does). Columns: ``research_columns(test)``,
    then ``data_status`` (``STATUS_COLUMN``).
    """
    suppress = suppress or scope.suppressed  # an aggregate-only scope cannot turn it off
    if year not in snap.years:
        raise ValueError(f"no results for {year} in the store")
    orgs = snap.orgs_of([year])
    if school is not None:
        found = orgs.filter((pl.col("org_level") == "school")
                            & (pl.col("school_code") == school))
        if found.height == 0:
            raise ValueError(f"school {school} has no results for {year} in the store")
        lea = str(found.item(0, "lea_code"))
        if not scope.allows_school(school[:2], lea, school):
            raise ScopeError(f"school {school} is not in your scope")
    elif lea is None and not scope.statewide:
        raise ScopeError("the full research file needs a statewide scope; choose an LEA")
    elif lea is not None and not scope.allows_lea(lea[:2], lea):
        raise ScopeError(f"LEA {lea} is not in your scope")
    if lea is not None and orgs.filter((pl.col("org_level") == "lea")
                                       & (pl.col("lea_code") == lea)).height == 0:
        raise ValueError(f"LEA {lea} has no results for {year} in the store")
    records = read_records(snap, [year], scope=scope, orgs=orgs,
                           record_type=RECORD_TYPE_OF_TEST[test], columns=RECORD_COLUMNS,
                           leas=[lea] if lea else None, reported_only=True)
    groups = [g for g in GROUP_BY_ID if GROUP_BY_ID[g].in_research_file]
    if not scope.all_students:
        # The scope's students only, and only its groups' rows: an "All students" row over
        # them would say it counts everyone.
        records = records.filter(pl.any_horizontal(
            [GROUP_BY_ID[g].polars() for g in scope.groups])) if records.height else records
        groups = [g for g in groups if g in scope.groups]
    if records.height == 0:
        return pl.DataFrame(schema=dict.fromkeys([*research_columns(test), STATUS_COLUMN],
                                                 pl.String))
    summary = build_summary(records.drop("school_year"), every_school_grade=True).filter(
        pl.col("group_id").is_in(groups) & (pl.col("n_enrolled") > 0))
    if school is not None:
        summary = summary.filter((pl.col("org_level") == "school")
                                 & (pl.col("school_code") == school))
    elif lea is not None:
        summary = summary.filter(pl.col("org_level").is_in(["lea", "school"]))
    summary = summary.join(orgs.select("org_level", "county_code", "lea_code", "school_code",
                                       "type_id"),
                           on=["org_level", "county_code", "lea_code", "school_code"],
                           how="left")
    summary = _sorted(summary)
    also_hidden = None
    if suppress and applies(scope, suppress):
        # The same decisions as every report of the account (complementary suppression).
        also_hidden = hidden_cells(snap, scope, RECORD_TYPE_OF_TEST[test], [
            Cell(year, level, county, lea_code, school, grade,
                 () if group in ("001", "160") else ((GROUP_BY_ID[group].dimension, (group,)),))
            for level, county, lea_code, school, grade, group in summary.select(
                "org_level", "county_code", "lea_code", "school_code", "grade",
                "group_id").iter_rows()], threshold=threshold)
    rows = _format(summary, year=year, test=test, suppress=suppress, threshold=threshold,
                   also_hidden=also_hidden)
    # One lookup per organisation, joined on: a statewide file has a million rows.
    keys = ["org_level", "county_code", "lea_code"]
    orgs_status = summary.select(keys).unique()
    orgs_status = orgs_status.with_columns(pl.Series(STATUS_COLUMN, [
        snap.org_data_status(year, *key) for key in orgs_status.iter_rows()],
        dtype=pl.String))
    status = summary.select(keys).join(orgs_status, on=keys, how="left",
                                       maintain_order="left")
    return rows.with_columns(status.get_column(STATUS_COLUMN))


def _count(values: np.ndarray, hidden: np.ndarray) -> list[str]:
    return [SUPPRESSED if h else str(int(v)) for v, h in zip(values.tolist(), hidden.tolist(),
                                                              strict=True)]


def _ratio(numerators: np.ndarray, denominators: np.ndarray, *, scale: int, decimals: int,
           hidden: np.ndarray) -> list[str]:
    """Format numerator x scale / denominator, rounded half up from the exact integers.

    Half up, as the state rounds scale scores (ELPAC.md §1.1): a mean of exactly 1527.25 is
    1527.3, where binary floating point would write 1527.2.
    """
    quantum = Decimal(1).scaleb(-decimals)
    out = []
    for num, den, h in zip(numerators.tolist(), denominators.tolist(), hidden.tolist(),
                           strict=True):
        if h:
            out.append(SUPPRESSED)
        elif not den:
            out.append("")
        else:
            value = Decimal(int(num) * scale) / Decimal(int(den))
            out.append(str(value.quantize(quantum, rounding=ROUND_HALF_UP)))
    return out


def _sorted(summary: pl.DataFrame) -> pl.DataFrame:
    """Summary rows in file order: state, counties, LEAs, schools; then group and grade."""
    grade_order = {g: i for i, g in enumerate((*GRADES, ALL_GRADES))}
    return summary.with_columns(
        pl.col("type_id").replace_strict(_TYPE_ORDER, default=9).alias("_t"),
        pl.col("grade").replace_strict(grade_order).alias("_g")).sort(
        "_t", "county_code", "lea_code", "school_code", "group_id", "_g")


def _format(summary: pl.DataFrame, *, year: str, test: str, suppress: bool,
            threshold: int, also_hidden: np.ndarray | None = None) -> pl.DataFrame:
    """The research-file cells of summary rows already in file order (``_sorted``)."""
    arrays = {c: summary.get_column(c).to_numpy() for c in METRIC_COLUMNS}
    pub = publish_arrays(arrays, test=test, suppress=suppress, threshold=threshold,
                         also_hidden=also_hidden)
    hidden = pub["is_suppressed"]
    shown = np.zeros(summary.height, dtype=bool)
    lea = summary.get_column("lea_code").to_list()
    school = summary.get_column("school_code").to_list()
    level = summary.get_column("org_level").to_list()
    n = summary.height
    cols: dict[str, list[str]] = {
        "CountyCode": summary.get_column("county_code").to_list(),
        "DistrictCode": [code[2:7] if code else "00000" for code in lea],
        "SchoolCode": [s[7:] if lv == "school" else (code[7:] if lv == "lea" else "0000000")
                       for s, code, lv in zip(school, lea, level, strict=True)],
        "TypeID": summary.get_column("type_id").to_list(),
        "Filler": [""] * n,
        "TestYear": [str(spring_year(year))] * n,
        "StudentGroupID": summary.get_column("group_id").to_list(),
        "AssessmentType": [ASSESSMENT_TYPE[test]] * n,
        "Grade": summary.get_column("grade").to_list(),
        "TotalEnrolled": _count(arrays["n_enrolled"], shown),
        "TotalTested": _count(arrays["n_tested"], shown),
        "TotalTestedWithScores": _count(arrays["n_scored"], shown),
    }
    levels = (1, 2, 3) if test == "alternate" else (1, 2, 3, 4)
    for stem, m in _BLOCKS if test == "summative" else _BLOCKS[:1]:
        n_m = arrays[f"{m}_n"]
        cols[f"{stem}MeanSclScr"] = _ratio(arrays[f"{m}_sum"], n_m, scale=1, decimals=1,
                                           hidden=hidden)
        for k in levels:
            cols[f"{stem}PerfLvl{k}Pcnt"] = _ratio(arrays[f"{m}_l{k}"], n_m, scale=100,
                                                   decimals=2, hidden=hidden)
        for k in levels:
            cols[f"{stem}PerfLvl{k}Count"] = _count(arrays[f"{m}_l{k}"], hidden)
        cols[f"{stem}Total"] = _count(n_m, hidden)
    if test == "summative":
        for stem, d in _DOMAIN_BLOCKS:
            n_d = arrays[f"{d}_n"]
            for name, k in _DOMAIN_STEMS:
                cols[f"{stem}Domain{name}Pcnt"] = _ratio(arrays[f"{d}_l{k}"], n_d, scale=100,
                                                         decimals=2, hidden=hidden)
                cols[f"{stem}Domain{name}Count"] = _count(arrays[f"{d}_l{k}"], hidden)
            cols[f"{stem}DomainTotal"] = _count(n_d, hidden)
    return pl.DataFrame(cols, schema=dict.fromkeys(research_columns(test), pl.String))


def write_research_file(rows: pl.DataFrame, out: Path) -> None:
    """Write research rows caret-delimited with a header row, as the public files are.

    The CDE columns only: ``data_status`` is the explorer's, not the layout's.
    """
    tmp = out.with_name(out.name + ".part")
    rows.drop(STATUS_COLUMN, strict=False).write_csv(
        tmp, separator="^", quote_style="never", line_terminator="\r\n")
    tmp.replace(out)
