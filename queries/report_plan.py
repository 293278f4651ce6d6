"""Planning a report: which organisations, row groups and grades it shows, which records count.

A report is a grid (``queries.reports``): school years x organisations x row groups x grades.
Its organisations are those the scope covers (``resolve_orgs``); the records every row counts
are kept by the advanced filters, the scope's student groups and the completeness choice,
written here once for each engine (Polars and DuckDB) from the same group definitions
(``data.student_groups``). ``needs_records`` chooses between the load-time summary and the
records. ``queries.report_size`` counts the same grid before a report runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

import duckdb
import polars as pl

from data.results.summary import ALL_GRADES
from data.student_groups import GROUP_BY_ID, all_of, any_of, groups_of
from queries.labels import GRADE_NAMES, GROUP_NAMES
from queries.scope import Scope, ScopeError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from data.student_groups import Group
    from queries.snapshot import Snapshot
    from queries.spec import ReportSpec

E = TypeVar("E")
"""A condition of either engine: a DuckDB or a Polars expression (``group_batches``)."""


def resolve_orgs(spec: ReportSpec, orgs: pl.DataFrame, scope: Scope) -> pl.DataFrame:
    """The organisation rows a report shows, in scope, comparison rows included.

    Raises ``ScopeError`` when none of the chosen organisations is visible to the scope.
    """
    if orgs.height == 0:
        raise ValueError(f"the store has no results for {', '.join(spec.years)}")
    level, codes = spec.org_level, pl.Series(spec.orgs, dtype=pl.String).implode()
    key = {"state": "county_code", "county": "county_code", "lea": "lea_code",
           "school": "school_code"}[level]
    at = pl.col("org_level")
    chosen = (at == level) & pl.col(key).is_in(codes)
    if spec.expand == "schools_of_leas" and level == "lea":
        chosen = chosen | ((at == "school") & pl.col("lea_code").is_in(codes))
    elif spec.expand == "leas_of_schools" and level == "school":
        leas = orgs.filter(chosen).get_column("lea_code").unique().implode()
        chosen = chosen | ((at == "lea") & pl.col("lea_code").is_in(leas))
    visible = chosen if scope.statewide else chosen & scope.covers()
    if scope.allows_state() is False:
        visible = visible & (at != "state")
    # Rows of queries.report_summary.report_orgs carry their place in the organisation list,
    # which is sorted by county, LEA and school: one integer sorts them as the three codes
    # do (1.1 ms for a statewide table's 11,000 rows as strings).
    codes_order = ["org"] if "org" in orgs.columns else ["county_code", "lea_code",
                                                          "school_code"]
    # The chosen organisations first (an LEA before its schools), then the comparison rows
    # nearest first (LEA, county, state): a board slide leads with its own organisation.
    rank = at.replace_strict(_LEVEL_ORDER, return_dtype=pl.Int8)
    if not spec.comparison:
        # Sorted on the few columns the order needs, then the whole rows gathered once: a
        # statewide table's 11,000 rows, 3.5 -> 1.9 ms.
        found = (orgs.select(*dict.fromkeys(["org_level", key, "lea_code", "county_code",
                                             "school_code", *codes_order]))
                 .with_row_index("_i").filter(visible).sort(rank, *codes_order)
                 .get_column("_i"))
        if found.len() == 0:
            raise ScopeError("none of the chosen organisations is in your scope")
        return orgs[found]
    rows = orgs.filter(visible)
    if rows.height == 0:
        raise ScopeError("none of the chosen organisations is in your scope")
    both = pl.concat([rows.with_columns(pl.lit(0).alias("_c")),
                      _comparisons(rows, orgs, scope).with_columns(pl.lit(1).alias("_c"))]
                     ).unique(subset=["org_level", "county_code", "lea_code", "school_code"],
                              keep="first")
    return both.with_columns(pl.when(pl.col("_c") == 0).then(rank).otherwise(-rank)
                             .alias("_o")).sort("_c", "_o", *codes_order).drop("_o", "_c")


_LEVEL_ORDER = {"state": 0, "county": 1, "lea": 2, "school": 3}


def left_out(snap: Snapshot, spec: ReportSpec, scope: Scope) -> dict[str, str]:
    """The chosen organisations a report leaves out, each with why (code -> reason).

    A shared link may name organisations outside the account's access, or with no results in
    the chosen years; the report shows the rest, and the page says which were dropped.
    """
    if spec.org_level == "group":
        return {}
    key = {"state": "county_code", "county": "county_code", "lea": "lea_code",
           "school": "school_code"}[spec.org_level]
    orgs = snap.orgs_of(spec.years)
    chosen = orgs.filter(pl.col("org_level") == spec.org_level)
    present = set(chosen.get_column(key).to_list())
    visible = set(scope.visible_orgs(chosen.filter(pl.col(key).is_in(list(spec.orgs))))
                  .get_column(key).to_list())
    if spec.org_level == "state" and scope.allows_state() is False:
        visible = set()
    out = {}
    for code in spec.orgs:
        if code not in present:
            out[code] = f"no results in {', '.join(sorted(set(spec.years)))}"
        elif code not in visible:
            out[code] = "outside your access"
    return out


def _comparisons(rows: pl.DataFrame, orgs: pl.DataFrame, scope: Scope) -> pl.DataFrame:
    """Each row's LEA, county and state rows, where the store has them and scope covers them."""
    leas = rows.filter(pl.col("org_level") == "school").get_column("lea_code").unique().to_list()
    counties = rows.filter(pl.col("org_level") != "state").get_column("county_code").unique(
    ).to_list()
    extra = orgs.filter(((pl.col("org_level") == "lea") & pl.col("lea_code").is_in(leas))
                        | ((pl.col("org_level") == "county")
                           & pl.col("county_code").is_in(counties))
                        | (pl.col("org_level") == "state"))
    visible = scope.visible_orgs(extra)
    return visible if scope.allows_state() else visible.filter(
        pl.col("org_level") != "state")


def row_groups(spec: ReportSpec, scope: Scope) -> list[tuple[str, str]]:
    """(group ID, row label) of the rows each organisation gets."""
    if not scope.all_students:
        base = [(g, GROUP_NAMES[g]) for g in scope.groups]
    else:
        base = [("001", GROUP_NAMES["001"])]
    rows = list(base)
    if spec.breakdown and spec.breakdown != "grade":
        rows += [(g.id, g.name) for g in groups_of(spec.breakdown)]
    rows += [(f"custom:{i}", s.name) for i, s in enumerate(spec.subgroups)]
    return rows


def report_grades(spec: ReportSpec) -> list[str]:
    """The grades each organisation and row group gets: the chosen ones, or every grade and all.

    Examples
    --------
    >>> from queries.spec import ReportSpec
    >>> report_grades(ReportSpec(years=("2024-25",), grades=("03", "13")))
    ['03', '13']
    """
    if spec.breakdown == "grade":
        return [*GRADE_NAMES][:-1] + [ALL_GRADES]
    return list(spec.grades)


def needs_records(spec: ReportSpec, scope: Scope, rows: pl.DataFrame) -> bool:
    """Whether the summary cannot answer the report's standard rows (``data.results.summary``).

    Custom subgroups alone do not count: their rows come from the records either way.
    """
    if (spec.filters or spec.completeness != "all" or spec.cohort
            or not scope.every_student):
        return True
    schools = bool((rows.get_column("org_level") == "school").any())
    grades = report_grades(spec)
    by_group = spec.breakdown not in (None, "grade")
    # School rows are summarised by group for all grades and by grade for all students only.
    return schools and by_group and grades != [ALL_GRADES]


# -- which records count, in Polars and in DuckDB --------------------------------------------

def filters_polars(filters: Iterable[tuple[str, tuple[str, ...]]]) -> pl.Expr:
    """Records in every filter: one of each filter's groups (``ReportSpec.filters``), Polars."""
    expr = pl.lit(True)
    for _, ids in filters:
        one_of = pl.lit(False)
        for gid in ids:
            one_of = one_of | GROUP_BY_ID[gid].polars()
        expr = expr & one_of
    return expr


def subgroup_filter(spec: ReportSpec, scope: Scope) -> pl.Expr:
    """Which records every row of a report counts.

    That is the advanced filters, the scope's student groups and the completeness choice.
    """
    keep = filters_polars(spec.filters)
    if not scope.all_students:
        keep = keep & filters_polars([("scope", scope.groups)])
    if spec.completeness == "complete":
        keep = keep & (pl.col("attemptedness").is_null() | (pl.col("attemptedness") == "Y"))
    elif spec.completeness == "partial":
        keep = keep & (pl.col("attemptedness") == "P")
    return keep


def filters_duckdb(filters: Iterable[tuple[str, tuple[str, ...]]]) -> duckdb.Expression:
    """``filters_polars`` as a DuckDB expression."""
    # Plain AND/OR of the groups' conditions (no constants or COALESCE): DuckDB pushes such
    # filters into the Parquet scan (data.student_groups.conditions_duckdb).
    return all_of([any_of([GROUP_BY_ID[gid].duckdb() for gid in ids]) for _, ids in filters])


def pushdown_filter(spec: ReportSpec, scope: Scope, groups: list[tuple[str, str]]
                    ) -> duckdb.Expression:
    """What DuckDB can drop before Polars sees the records.

    That is records outside the filters, and when only custom subgroups are asked for,
    records in none of them.
    """
    parts = [filters_duckdb([f]) for f in spec.filters]
    if not scope.all_students:
        parts.append(filters_duckdb([("scope", scope.groups)]))
    col = duckdb.ColumnExpression("attemptedness")
    if spec.completeness == "complete":
        parts.append(col.isnull() | (col == duckdb.ConstantExpression("Y")))
    elif spec.completeness == "partial":
        parts.append(col == duckdb.ConstantExpression("P"))  # null: not partial
    custom = custom_only_filters(spec, groups)
    if custom:
        parts.append(any_of([filters_duckdb(f) for f in custom]))
    return all_of(parts)


def custom_only_filters(spec: ReportSpec, groups: list[tuple[str, str]]
                        ) -> list[tuple[tuple[str, tuple[str, ...]], ...]]:
    """The subgroups' filters when only custom subgroups are asked for, else nothing.

    Then a record in none of them counts nowhere, and can be dropped before summing.
    """
    ids = [g for g, _ in groups]
    if not ids or not all(g.startswith("custom:") for g in ids):
        return []
    by_id = {f"custom:{i}": s for i, s in enumerate(spec.subgroups)}
    return [by_id[gid].filters for gid in ids]


def group_batches(spec: ReportSpec, groups: list[tuple[str, str]],
                  of_filters: Callable[[Iterable[tuple[str, tuple[str, ...]]]], E],
                  of_group: Callable[[Group], E]) -> dict[str, list[tuple[str, E]]]:
    """The report's groups as (group ID, condition) batches, one sum per batch.

    A breakdown dimension's groups never overlap, so they share a batch (a CASE names each
    record's group); each custom subgroup is a batch of its own. ``of_filters`` and
    ``of_group`` make the conditions, in DuckDB or in Polars.
    """
    by_id = {f"custom:{i}": s for i, s in enumerate(spec.subgroups)}
    batches: dict[str, list[tuple[str, E]]] = {}
    for gid, _ in groups:
        if gid in by_id:
            batches[gid] = [(gid, of_filters(by_id[gid].filters))]
        else:
            batches.setdefault(GROUP_BY_ID[gid].dimension, []).append(
                (gid, of_group(GROUP_BY_ID[gid])))
    return batches
