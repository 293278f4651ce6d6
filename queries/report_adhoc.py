"""The records path of a report: advanced filters, custom subgroups, limited scopes, cohorts.

What the load-time summary cannot answer (``queries.report_plan.needs_records``) is summed
from the records: inside DuckDB, as a hand-written query would, or, for ad-hoc reports on a
few LEAs, in Polars from those LEAs' records held in memory for the next report. Both apply
the same filters (``queries.report_plan``) and sum the same per-record contributions as the
summary (``data.results.summary.record_metrics``), so every path gives the same ``Sums``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import TYPE_CHECKING

import duckdb
import polars as pl

from data.results.summary import (
    ALL_GRADES,
    METRIC_COLUMNS,
    RECORD_COLUMNS,
    duckdb_sums_sql,
    record_metrics,
    sum_metrics,
)
from queries.records import RecordQuery, read_records, records_relation
from queries.report_plan import (
    custom_only_filters,
    filters_duckdb,
    filters_polars,
    group_batches,
    pushdown_filter,
    subgroup_filter,
)
from queries.report_summary import SUM_KEYS, Sums

if TYPE_CHECKING:
    from collections.abc import Iterable

    from queries.scope import Scope
    from queries.snapshot import Snapshot
    from queries.spec import ReportSpec

HELD_LEAS = 3
"""Ad-hoc reports on at most this many LEAs (or their schools) sum records held in memory."""
_HELD_BYTES = 256 * 2**20
"""At most this much held in all (a statewide store's largest LEA-year is about 7 MB, so an
8-year longitudinal of three large LEAs about 170 MB); a larger read is used, not kept."""
_held: OrderedDict[tuple[object, ...], pl.DataFrame] = OrderedDict()
_held_lock = threading.Lock()


def records_sums(snap: Snapshot, spec: ReportSpec, scope: Scope, rows: pl.DataFrame,
                 orgs: pl.DataFrame, groups: list[tuple[str, str]], grades: list[str],
                 record_type: str, *, ssids: list[str] | None = None) -> Sums:
    """Sum records into report rows inside DuckDB, as a hand-written query would.

    One aggregate per breakdown dimension (its groups never overlap, so a CASE names each
    record's group) and one per custom subgroup, by school and grade; the small results are
    rolled up to the requested organisations and grades in Polars. A report on at most
    ``HELD_LEAS`` LEAs (and no cohort) sums their held records in Polars instead.
    """
    leas = None
    if not rows.filter(pl.col("org_level").is_in(["state", "county"])).height:
        leas = rows.get_column("lea_code").unique().to_list()
    # Group at the finest level the report shows: fewer groups than always by school.
    levels = set(rows.get_column("org_level").to_list())
    cell_keys = ["school_year", "county_code",
                 *(["reporting_lea_code"] if levels & {"lea", "school"} else []),
                 *(["reporting_school_code"] if "school" in levels else []), "grade_assessed"]
    if leas is not None and ssids is None and len(leas) <= HELD_LEAS:
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
    """``records_sums``'s sums, from held records in Polars (the same metrics, same rules)."""
    keep = subgroup_filter(spec, scope)
    custom = custom_only_filters(spec, groups)
    if custom:
        # As pushdown_filter: only custom subgroups asked for, so records in none of them
        # go first.
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
        return pl.DataFrame(schema={**dict.fromkeys(SUM_KEYS[:-2], pl.String),
                                    "grade": pl.String,
                                    **dict.fromkeys(METRIC_COLUMNS, pl.Int64)})
    return pl.concat(out, how="diagonal")
