"""CERS-style aggregate reports: one row per organisation x student group x grade x year.

Two ways to the same numbers, chosen per report:

* the summary built at load time (``data.results.summary``) answers standard reports: whole
  organisations, research-file groups, breakdown by one dimension or by grade;
* the records answer the rest: advanced filters, custom subgroups, completeness, a school
  broken down by grade and a group at once, scopes limited to student groups.

Both apply the scope before aggregating (``queries.scope``), and both sum the same per-record
contributions (``data.results.summary.record_metrics``), so they agree exactly; a test checks it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import polars as pl
import pyarrow as pa

from data.results.summary import (
    ALL_GRADES,
    METRIC_COLUMNS,
    RECORD_COLUMNS,
    duckdb_sums_sql,
    record_metrics,
    sum_metrics,
)
from queries.labels import GRADE_NAMES, RECORD_TYPE_OF_TEST
from queries.metrics import SUPPRESSION_THRESHOLD, publish_arrays, to_frame
from queries.records import RecordQuery, read_records, records_relation
from queries.report_plan import (
    custom_only_filters,
    filters_duckdb,
    filters_polars,
    group_batches,
    needs_records,
    pushdown_filter,
    report_grades,
    resolve_orgs,
    row_groups,
    subgroup_filter,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

    from queries.scope import Scope
    from queries.snapshot import Snapshot
    from queries.spec import ReportSpec

ROW_KEYS = ("school_year", "org_level", "county_code", "lea_code", "school_code", "group_id",
            "row_label", "grade")


def read_report(snap: Snapshot, spec: ReportSpec, *, scope: Scope, suppress: bool,
                threshold: int = SUPPRESSION_THRESHOLD) -> pl.DataFrame:
    """Compute a report: one row per year x organisation x group (or subgroup) x grade.

    Parameters
    ----------
    snap
        The store at one data version (``queries.snapshot.Snapshot``).
    spec
        What to report (``queries.spec.ReportSpec``).
    scope
        Who is asking: rows and students outside it are never counted or returned.
    suppress
        Hide the score cells of rows with fewer than ``threshold`` students tested with
        scores (counts of enrolled and tested stay). Every caller says which it wants.
    threshold
        The suppression threshold (default 11, as the public research files).

    Returns
    -------
    pl.DataFrame
        Keys (``ROW_KEYS``), organisation name, TypeID and 14-digit CDS code, the counts, and
        per measure its total, mean, standard error, error band and count and percent per
        level (``queries.metrics``); ``has_scores``, ``is_suppressed`` and ``data_status``
        (``final`` or ``partial``).
    """
    return _report(snap, spec, scope=scope, suppress=suppress, threshold=threshold)


def cohort_report(snap: Snapshot, spec: ReportSpec, *, scope: Scope, ssids: list[str],
                  suppress: bool, threshold: int = SUPPRESSION_THRESHOLD) -> pl.DataFrame:
    """``read_report`` over the given students only (a longitudinal cohort)."""
    return _report(snap, spec, scope=scope, suppress=suppress, threshold=threshold,
                   ssids=ssids)


def _report(snap: Snapshot, spec: ReportSpec, *, scope: Scope, suppress: bool, threshold: int,
            ssids: list[str] | None = None) -> pl.DataFrame:
    suppress = suppress or scope.suppressed  # an aggregate-only scope cannot turn it off
    if spec.org_level == "group":
        return _group_report(snap, spec, scope=scope, suppress=suppress, threshold=threshold)
    orgs = snap.orgs_of(spec.years)
    rows = resolve_orgs(spec, orgs, scope)
    groups = row_groups(spec, scope)
    grades = report_grades(spec)
    record_type = RECORD_TYPE_OF_TEST[spec.test]
    standard = [g for g in groups if not g[0].startswith("custom:")]
    custom = [g for g in groups if g[0].startswith("custom:")]
    if ssids is not None or needs_records(spec, scope, rows):
        sums = _from_records(snap, spec, scope, rows, orgs, groups, grades, record_type,
                             ssids=ssids)
    else:
        # Standard rows from the summary; only custom subgroups read records, and only the
        # records of those subgroups (the filter runs inside DuckDB). DuckDB releases the GIL,
        # so the records are summed in a worker thread while the summary is read here.
        pending = _POOL.submit(_from_records, snap, spec, scope, rows, orgs, custom, grades,
                               record_type) if custom else None
        parts = [_from_summary(snap, spec.years, rows, standard, grades, record_type)]
        if pending is not None:
            parts.append(pending.result())
        sums = Sums.concat(parts)
    return _assemble(snap, spec, rows, groups, grades, sums, suppress=suppress,
                     threshold=threshold)


def _group_report(snap: Snapshot, spec: ReportSpec, *, scope: Scope, suppress: bool,
                  threshold: int) -> pl.DataFrame:
    """Rows for student groups: each group's students' records, wherever they tested.

    A group row sums its students' records of each year that the scope covers (the scope's
    own SSID limit still applies), as a state row over those students. ``org_level`` is
    ``group``, ``school_code`` the group's key (so two groups of one school stay apart) and
    ``cds_code`` its school's. Comparison rows are the groups' schools with their LEA,
    county and state, for scopes that see whole organisations.
    """
    from queries.rosters import group_students  # groups reads reports' scope rules

    members = group_students(snap.store, scope, spec.orgs)
    orgs = snap.orgs_of(spec.years)
    groups = row_groups(spec, scope)
    grades = report_grades(spec)
    record_type = RECORD_TYPE_OF_TEST[spec.test]
    base = replace(spec, org_level="state", orgs=("00",), comparison=False)
    school_rows = orgs.filter(pl.col("org_level") == "school").unique(
        "school_code", keep="last")
    school_lea = dict(school_rows.select("school_code", "lea_code").iter_rows())
    frames = []
    for key, ssids in members.items():
        name, school = key.partition(":")[2], key[:14]
        row = pl.DataFrame({"org_level": ["state"], "county_code": ["00"], "lea_code": [""],
                            "school_code": [""], "name": [name], "type_id": [""]})
        sums = _from_records(snap, base, scope, row, orgs, groups, grades, record_type,
                             ssids=ssids)
        lea = school_lea.get(school, "")
        part = _assemble(snap, base, row, groups, grades, sums, suppress=suppress,
                         threshold=threshold)
        frames.append(part.with_columns(
            pl.lit("group").alias("org_level"), pl.lit(school[:2]).alias("county_code"),
            pl.lit(lea).alias("lea_code"), pl.lit(key).alias("school_code"),
            pl.lit(school).alias("cds_code"), _status_expr(snap, lea)))
    if spec.comparison and scope.ssids is None:
        schools = sorted({k[:14] for k in members} & set(school_lea))
        visible = scope.visible_orgs(school_rows.filter(pl.col("school_code").is_in(schools)))
        if visible.height:
            frames.append(_report(snap, replace(spec, org_level="school",
                                                orgs=tuple(visible.get_column("school_code")),
                                                comparison=True),
                                  scope=scope, suppress=suppress, threshold=threshold))
    return pl.concat(frames, how="vertical_relaxed")


def _status_expr(snap: Snapshot, lea: str) -> pl.Expr:
    """A student group row's status per year: its school's LEA's (``Snapshot``)."""
    years = snap.years
    return pl.col("school_year").replace_strict(
        {y: snap.lea_data_status(y, lea) for y in years}, default="partial",
        return_dtype=pl.String).alias("data_status")


_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="elpac-report")
"""Threads for work that overlaps inside one report (each uses its own DuckDB cursor)."""

_SUM_KEYS = ("school_year", "org_level", "county_code", "lea_code", "school_code", "group_id",
             "grade")


def _assemble(snap: Snapshot, spec: ReportSpec, rows: pl.DataFrame,
              groups: list[tuple[str, str]], grades: list[str], sums: Sums, *,
              suppress: bool, threshold: int) -> pl.DataFrame:
    """Every requested row in display order, zeros where no record exists, then published.

    Rows are kept for organisations with no record in a group or grade, so a table shows the
    organisation with 0 ("no students") rather than dropping it. Built with plain Python and
    NumPy: a report is small, and per-call Polars planning would cost more than the work.
    """
    org_rows = list(rows.select("org_level", "county_code", "lea_code", "school_code", "name",
                                "type_id").iter_rows())
    years = sorted(set(spec.years))
    grid = [(y, *org[:4], gid, grade, label, org[4], org[5])
            for y in years for org in org_rows for gid, label in groups for grade in grades]
    found = {k: i for i, k in enumerate(sums.keys)}
    at = np.array([found.get(g[:7], -1) for g in grid], dtype=np.int64)
    have = at >= 0
    arrays = {}
    for c in METRIC_COLUMNS:
        values = np.zeros(len(grid), dtype=np.int64)
        values[have] = sums.values[c][at[have]]
        arrays[c] = values
    published = publish_arrays(arrays, test=spec.test, suppress=suppress, threshold=threshold)
    # Per organisation row (a county is final only when all its LEAs are), looked up once
    # per organisation and year rather than once per group and grade.
    statuses = {key: snap.org_data_status(*key) for key in {g[:4] for g in grid}}

    columns: dict[str, object] = {
        "school_year": [g[0] for g in grid], "test": [spec.test] * len(grid),
        "org_level": [g[1] for g in grid], "county_code": [g[2] for g in grid],
        "lea_code": [g[3] for g in grid], "school_code": [g[4] for g in grid],
        "cds_code": [_cds(g[1], g[2], g[3], g[4]) for g in grid],
        "name": [g[8] for g in grid], "type_id": [g[9] for g in grid],
        "group_id": [g[5] for g in grid], "row_label": [g[7] for g in grid],
        "grade": [g[6] for g in grid], "grade_name": [GRADE_NAMES[g[6]] for g in grid],
        **published,
        "data_status": [statuses[g[:4]] for g in grid],
    }
    return to_frame(columns)


def _cds(level: str, county: str, lea: str, school: str) -> str:
    """The 14-digit CDS code of an organisation row (ELPAC.md §6)."""
    if level == "school":
        return school
    if level == "lea":
        return lea
    return county + "000000000000"


# -- the summary path -----------------------------------------------------------------------

@dataclass
class Sums:
    """Summed metric columns keyed by (year, level, county, LEA, school, group, grade)."""

    keys: list[tuple[str, ...]]
    values: dict[str, np.ndarray]

    @classmethod
    def from_frame(cls, frame: pl.DataFrame) -> Sums:
        """From a Polars frame with the key and metric columns."""
        if frame.height == 0:
            return cls([], {c: np.zeros(0, np.int64) for c in METRIC_COLUMNS})
        keys = list(zip(*[frame.get_column(c).to_list() for c in _SUM_KEYS], strict=True))
        return cls(keys, {c: frame.get_column(c).to_numpy().astype(np.int64)
                          for c in METRIC_COLUMNS})

    @classmethod
    def concat(cls, parts: list[Sums]) -> Sums:
        """All parts, in order."""
        keys = [k for p in parts for k in p.keys]
        values = {c: np.concatenate([p.values[c] for p in parts]) if parts
                  else np.zeros(0, np.int64) for c in METRIC_COLUMNS}
        return cls(keys, values)


def _from_summary(snap: Snapshot, years: Iterable[str], rows: pl.DataFrame,
                  groups: list[tuple[str, str]], grades: list[str],
                  record_type: str) -> Sums:
    orgs = list(rows.select("org_level", "county_code", "lea_code", "school_code").iter_rows())
    wanted_groups = [g for g, _ in groups]
    parts = []
    for year in years:
        table = snap.summary_rows(year, record_type, orgs, wanted_groups, grades)
        if table.num_rows == 0:
            continue
        # Decode the dictionary columns in Arrow first: to_pylist on a dictionary array is
        # many times slower (measured 67 ms for 11k rows).
        key_columns = [table.column(c).cast(pa.string()).to_pylist() for c in
                       ("org_level", "county_code", "lea_code", "school_code", "group_id",
                        "grade")]
        keys = [(year, *k) for k in zip(*key_columns, strict=True)]
        values = {c: table.column(c).to_numpy().astype(np.int64) for c in METRIC_COLUMNS}
        parts.append(Sums(keys, values))
    return Sums.concat(parts)


def _from_records(snap: Snapshot, spec: ReportSpec, scope: Scope, rows: pl.DataFrame,
                  orgs: pl.DataFrame, groups: list[tuple[str, str]], grades: list[str],
                  record_type: str, *, ssids: list[str] | None = None) -> Sums:
    """Sum records into report rows inside DuckDB, as a hand-written query would.

    One aggregate per breakdown dimension (its groups never overlap, so a CASE names each
    record's group) and one per custom subgroup, by school and grade; the small results are
    rolled up to the requested organisations and grades in Polars.
    """
    leas = None
    if not rows.filter(pl.col("org_level").is_in(["state", "county"])).height:
        leas = rows.get_column("lea_code").unique().to_list()
    # Group at the finest level the report shows: fewer groups than always by school.
    levels = set(rows.get_column("org_level").to_list())
    cell_keys = ["school_year", "county_code",
                 *(["reporting_lea_code"] if levels & {"lea", "school"} else []),
                 *(["reporting_school_code"] if "school" in levels else []), "grade_assessed"]
    if leas is not None and ssids is None and len(leas) <= _HELD_LEAS:
        held = _held_records(snap, spec.years, scope, orgs, record_type, leas)
        return _sum_held(held, spec, scope, rows, groups, grades, cell_keys)
    parts = []
    for members in group_batches(spec, groups, filters_duckdb, lambda g: g.duckdb()).values():
        label = duckdb.CaseExpression(members[0][1], duckdb.ConstantExpression(members[0][0]))
        for gid, cond in members[1:]:
            label = label.when(cond, duckdb.ConstantExpression(gid))
        rel = records_relation(snap, RecordQuery(
            spec.years, scope=scope, orgs=orgs, record_type=record_type, columns=[],
            leas=leas, ssids=ssids, where=pushdown_filter(spec, scope, groups),
            select=", ".join(cell_keys) + ", " + str(label) + " AS group_id, "
            + duckdb_sums_sql(),
            group_by="ALL", reported_only=True))
        if rel is None:
            return Sums.concat([])
        cells = rel.pl()
        for (gid,), cell in cells.drop_nulls("group_id").group_by(["group_id"]):
            parts.append(_org_sums(cell, rows, grades).with_columns(
                pl.lit(gid).alias("group_id")))
    if not parts:
        return Sums.concat([])
    return Sums.from_frame(pl.concat(parts, how="diagonal"))


_HELD_LEAS = 3
"""Ad-hoc reports on at most this many LEAs (or their schools) sum records held in memory."""
_HELD_BYTES = 256 * 2**20
"""At most this much held in all (a statewide store's largest LEA-year is about 7 MB, so an
8-year longitudinal of three large LEAs about 170 MB); a larger read is used, not kept."""
_held: OrderedDict[tuple[object, ...], pl.DataFrame] = OrderedDict()
_held_lock = threading.Lock()


def _held_records(snap: Snapshot, years: Iterable[str], scope: Scope, orgs: pl.DataFrame,
                  record_type: str, leas: list[str]) -> pl.DataFrame:
    """The reported records of a few LEAs, as the scope allows, kept for the next report.

    Someone building ad-hoc reports tries subgroup after subgroup on the same LEA: each one
    as a DuckDB statement re-read the LEA's rows (about 55 ms for the largest LEA, as long as
    a hand-written query); held here (the largest LEA-year is about 10 MB) the next one sums
    them in a few milliseconds. The scope is applied in SQL when they are read and is part of
    the key, as are the store version and everything else that chose the rows.
    """
    key = (str(snap.store.path), snap.version, tuple(sorted(set(years))), scope, record_type,
           tuple(sorted(leas)))
    with _held_lock:
        if key in _held:
            _held.move_to_end(key)
            return _held[key]
    frame = read_records(snap, years, scope=scope, orgs=orgs, record_type=record_type,
                         columns=list(RECORD_COLUMNS), leas=leas, reported_only=True)
    size = frame.estimated_size()
    if size > _HELD_BYTES:
        return frame
    with _held_lock:
        _held[key] = frame
        while sum(f.estimated_size() for f in _held.values()) > _HELD_BYTES:
            _held.popitem(last=False)
    return frame


def _sum_held(records: pl.DataFrame, spec: ReportSpec, scope: Scope, rows: pl.DataFrame,
              groups: list[tuple[str, str]], grades: list[str], cell_keys: list[str]) -> Sums:
    """``_from_records``'s sums, from held records in Polars (the same metrics, same rules)."""
    keep = subgroup_filter(spec, scope)
    custom = custom_only_filters(spec, groups)
    if custom:
        # As pushdown_filter: only custom subgroups asked for, so records in none of them go first.
        keep = keep & pl.any_horizontal([filters_polars(f) for f in custom])
    # Lazy: Polars fuses the filter, the per-record metrics and the sums into one pass.
    contributions = records.lazy().filter(keep).with_columns(record_metrics())
    parts = []
    for members in group_batches(spec, groups, filters_polars, lambda g: g.polars()).values():
        # A dimension's groups never overlap, so the first that holds names the record's.
        label = pl.when(members[0][1]).then(pl.lit(members[0][0]))
        for gid, cond in members[1:]:
            label = label.when(cond).then(pl.lit(gid))
        cells = (contributions.with_columns(label.alias("group_id")).drop_nulls("group_id")
                 .group_by([*cell_keys, "group_id"]).agg(sum_metrics()).collect())
        for (gid,), cell in cells.group_by(["group_id"]):
            parts.append(_org_sums(cell, rows, grades).with_columns(
                pl.lit(gid).alias("group_id")))
    if not parts:
        return Sums.concat([])
    return Sums.from_frame(pl.concat(parts, how="diagonal"))


def _org_sums(records: pl.DataFrame, rows: pl.DataFrame, grades: list[str]) -> pl.DataFrame:
    """Sum contributions for each requested organisation level and grade."""
    levels = {
        "school": ["county_code", "reporting_lea_code", "reporting_school_code"],
        "lea": ["county_code", "reporting_lea_code"],
        "county": ["county_code"],
        "state": [],
    }
    out = []
    for level, keys in levels.items():
        if not rows.filter(pl.col("org_level") == level).height:
            continue
        frame = records if level != "school" else records.filter(
            pl.col("reporting_school_code").is_not_null())
        by = ["school_year", *keys]
        per_grade = frame.group_by([*by, "grade_assessed"]).agg(sum_metrics()).rename(
            {"grade_assessed": "grade"})
        parts = [per_grade.filter(pl.col("grade").is_in(grades))]
        if ALL_GRADES in grades:
            parts.append(frame.group_by(by).agg(sum_metrics()).with_columns(
                pl.lit(ALL_GRADES).alias("grade")))
        sums = pl.concat(parts, how="diagonal").rename(
            {"reporting_lea_code": "lea_code", "reporting_school_code": "school_code"},
            strict=False)
        filled = {"lea_code": "", "school_code": ""} if level in ("county", "state") else (
            {"school_code": ""} if level == "lea" else {})
        if level == "state":
            filled["county_code"] = "00"
        out.append(sums.with_columns([pl.lit(v).alias(k) for k, v in filled.items()]
                                     + [pl.lit(level).alias("org_level")]))
    if not out:
        return pl.DataFrame(schema={**dict.fromkeys(_SUM_KEYS[:-2], pl.String),
                                    "grade": pl.String,
                                    **dict.fromkeys(METRIC_COLUMNS, pl.Int64)})
    return pl.concat(out, how="diagonal")
