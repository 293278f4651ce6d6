"""Reading student records as the scope allows: one DuckDB statement over the year files.

Every query that needs records (reports, longitudinal cohorts, student lists, extracts, SSRs)
reads them here, so the scope is applied in one place: records are semi-joined on the
(LEA, school) pairs the scope covers (``queries.scope``) and kept to its SSIDs when it lists
some.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import polars as pl

from queries.scope import NO_SCHOOL, Scope

if TYPE_CHECKING:
    from collections.abc import Iterable

    import duckdb

    from queries.snapshot import Snapshot


@dataclass(frozen=True, eq=False)
class RecordQuery:
    """Which records to read and what to return of them (``records_relation``).

    ``orgs`` is the organisation list the scope's (LEA, school) pairs are taken from
    (``Snapshot.orgs_of``). ``leas`` narrows the read to some reporting LEAs (the files are
    sorted by it, so only their row groups are read); ``ssids`` to some students;
    ``name_prefix`` to last or first names starting with it (any case); ``where`` is any
    further DuckDB filter expression. ``select``/``group_by`` replace the column list with an
    aggregation; they and ``where`` are SQL rendered from DuckDB expression objects built in
    ``queries`` from its own constants (group and metric definitions): no text from a user
    reaches them. ``reported_only`` leaves out the records no aggregate counts
    (``is_reported``: TK students from 2024-25). ``side="enrolled"`` applies the scope to the
    record's enrolled LEA and school instead of the ones it is reported under: Student Score
    Reports go to the enrolled LEA (ELPAC.md §7).

    Not compared as a value (``eq=False``): it holds a frame and a DuckDB expression.
    """

    years: Iterable[str]
    scope: Scope
    orgs: pl.DataFrame
    record_type: str | None
    columns: list[str]
    leas: list[str] | None = None
    ssids: list[str] | None = None
    name_prefix: str | None = None
    where: duckdb.Expression | None = None
    select: str | None = None
    group_by: str | None = None
    reported_only: bool = False
    side: Literal["reporting", "enrolled"] = "reporting"


def read_records(snap: Snapshot, years: Iterable[str], *, scope: Scope, orgs: pl.DataFrame,
                 record_type: str | None, columns: Iterable[str],
                 leas: list[str] | None = None, ssids: list[str] | None = None,
                 name_prefix: str | None = None,
                 where: duckdb.Expression | None = None,
                 reported_only: bool = False,
                 side: Literal["reporting", "enrolled"] = "reporting") -> pl.DataFrame:
    """Records in scope (semi-joined on the scope's (LEA, school) pairs), given columns.

    The options are ``RecordQuery``'s; ``school_year`` always comes first.
    """
    cols = list(dict.fromkeys(["school_year", *columns]))
    rel = records_relation(snap, RecordQuery(
        years, scope=scope, orgs=orgs, record_type=record_type, columns=cols, leas=leas,
        ssids=ssids, name_prefix=name_prefix, where=where, reported_only=reported_only,
        side=side))
    if rel is None:
        return pl.DataFrame()
    return rel.pl().select(cols)


def records_relation(snap: Snapshot, query: RecordQuery) -> duckdb.DuckDBPyRelation | None:
    """The records ``query`` asks for, as one DuckDB statement (nothing is read yet).

    ``None`` when the snapshot has none of the query's years. User values (SSIDs, names,
    codes) are bound parameters. One statement, because each derived relation costs DuckDB
    another bind (about 5 ms).
    """
    scope = query.scope
    wanted = [str(snap.year_files[y]) for y in sorted(set(query.years)) if y in snap.year_files]
    if not wanted:
        return None
    # Only the conditions that apply: "? IS NULL OR ..." forms are not folded by DuckDB, so
    # they cost every row and block filter pushdown into the Parquet scan.
    conditions = ["true"]
    values: list[object] = []
    if query.record_type is not None:
        conditions.append("r.record_type = ?")
        values.append(query.record_type)
    if query.ssids is not None:
        conditions.append("list_contains(?, r.ssid)")
        values.append(query.ssids)
    if scope.ssids is not None:
        # The scope's own students (a teacher's groups), whatever else the caller asks.
        conditions.append("list_contains(?, r.ssid)")
        values.append(list(scope.ssids))
    if query.name_prefix is not None:
        conditions.append("(starts_with(lower(r.last_name), ?) "
                          "OR starts_with(lower(r.first_name), ?))")
        values += [query.name_prefix, query.name_prefix]
    if query.reported_only:
        conditions.append("r.is_reported")
    if query.where is not None:
        conditions.append("(" + str(query.where) + ")")
    filters = " WHERE " + " AND ".join(conditions)
    if query.leas is not None:
        # An IN list of bound values (not list_contains): DuckDB then skips the row groups of
        # other LEAs, which the sort by LEA makes almost all of them.
        filters += " AND r.reporting_lea_code IN (" + ", ".join("?" * len(query.leas)) + ")"
        values += query.leas
    source = """
        FROM read_parquet(?, hive_partitioning = true,
                          hive_types = {'school_year': 'VARCHAR'}) AS r
    """
    if query.select is None:
        head, head_values = "SELECT COLUMNS(lambda c: list_contains(?, c))", [query.columns]
    else:
        head, head_values = "SELECT " + query.select, []
    tail = "" if query.group_by is None else " GROUP BY " + query.group_by
    side = query.side
    if side not in ("reporting", "enrolled"):
        raise ValueError(f"side must be reporting or enrolled, not {side!r}")
    if side == "enrolled" and not scope.statewide:
        # The enrolled LEA may have no tested record of its own (no row in ``orgs``): its
        # codes are matched directly rather than semi-joined on the organisation list.
        filters += (" AND (list_contains(?, substr(r.enrolled_lea_code, 1, 2))"
                    " OR list_contains(?, r.enrolled_lea_code)"
                    " OR list_contains(?, r.enrolled_school_code)) IS TRUE")
        values += [list(scope.counties), list(scope.leas), list(scope.schools)]
    if scope.statewide or side == "enrolled":
        return snap.cursor().sql(head + source + filters + tail,
                                 params=[*head_values, wanted, *values])
    keys = scope.record_keys(query.orgs)
    return snap.cursor().sql(
        """
        WITH scope_keys AS (
            SELECT unnest(?::VARCHAR[]) AS lea_code, unnest(?::VARCHAR[]) AS school_code
        )
        """ + head + source + """
        SEMI JOIN scope_keys AS k
          ON r.reporting_lea_code = k.lea_code
         AND coalesce(r.reporting_school_code, ?) = k.school_code
        """ + filters + tail,
        params=[keys.get_column("lea_code").to_list(), keys.get_column("school_code").to_list(),
                *head_values, wanted, NO_SCHOOL, *values])


def records_left_out(snap: Snapshot, *, scope: Scope, year: str, record_type: str,
                     lea: str | None = None, school: str | None = None) -> int:
    """Records in scope that no aggregate counts (``is_reported`` false: TK from 2024-25).

    Totals and the District/School export differ by exactly these records: pages say how
    many (ELPAC.md §1, kindergarten results exclude TK students from 2024-25).
    """
    import duckdb

    where = None
    if school is not None:
        where = duckdb.ColumnExpression("reporting_school_code") == duckdb.ConstantExpression(
            school)
    rel = records_relation(snap, RecordQuery(
        [year], scope=scope, orgs=snap.orgs_of([year]), record_type=record_type, columns=[],
        leas=[lea] if lea else None, where=where,
        select="count(*) FILTER (WHERE NOT r.is_reported) AS n"))
    if rel is None:
        return 0
    counted = rel.pl()
    return int(counted.item(0, 0) or 0) if counted.height else 0
