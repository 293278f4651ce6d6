"""Reaching parents: which students' SSRs got home, which came back, and who is still waiting.

The students counted are the SSR-eligible ones (``SSREligible`` = Y, ELPAC.md §7) of one school
year and test enrolled in an organisation the scope covers (``read_records(...,
side="enrolled")``), counted under their enrolled LEA and school, where the SSR goes (§7), also
when they tested in another LEA (the SSRs ``queries.ssr_documents`` prints are chosen the same
way). Deliveries and failures come from the catalog
(``data.catalog.ssr_deliveries``).

Every student has exactly one status as of a date (``as_of``, default today):

* ``bounced`` or ``returned``: an *open* failure: one reported on or before ``as_of``, not
  marked resolved by then and with no delivery dated after it (the newest open one names the
  status);
* ``delivered``: a delivery dated on or before ``as_of`` and no open failure;
* ``not_delivered``: the SSR is *released* (``SSRAvailableDate`` on or before ``as_of``) and
  nothing was delivered or came back;
* ``not_released``: the SSR is not released and nothing was recorded. Files before 2023-24
  carry no release date: their SSRs are never released here, as in ``queries.ssr``.

The percent delivered is of the students *due* a report to parents: delivered, bounced or
returned, or not delivered (released, or already sent), so it never passes 100.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Literal

import duckdb
import polars as pl

from data.catalog import ssr_deliveries, ssr_delivery_rows
from data.catalog.accounts import Accounts
from queries.labels import GRADE_NAMES, RECORD_TYPE_OF_TEST
from queries.records import read_records
from queries.scope import NO_SCHOOL, Scope, ScopeError

if TYPE_CHECKING:
    from datetime import datetime

    from data.catalog.ssr_deliveries import ImportResult
    from data.catalog.ssr_delivery_rows import MayUse
    from queries.snapshot import Snapshot

Breakdown = Literal["lea", "school"]
STATUS_NAMES = {"delivered": "Delivered", "bounced": "E-mail bounced",
                "returned": "Mail returned", "not_delivered": "Not yet delivered",
                "not_released": "Not released yet"}
"""Each status in words (the page, the CSV and the CLI say the same)."""
METHOD_NAMES = {"portal": "SIS parent portal", "email": "E-mail", "mail": "Mail",
                "in_person": "In person"}
"""How an SSR got home (``data.catalog.ssr_delivery_rows.METHODS``), in words."""
METHODS: tuple[str, ...] = ssr_delivery_rows.METHODS
UPLOAD_COLUMNS: dict[str, tuple[str, ...]] = {"deliveries": ssr_delivery_rows.DELIVERY_COLUMNS,
                                              "failures": ssr_delivery_rows.FAILURE_COLUMNS}
"""The columns of a deliveries CSV and of a bounces-and-returns CSV (:func:`import_deliveries`,
:func:`import_failures`)."""
UNREACHED = ("bounced", "returned", "not_delivered")
"""The statuses of students whose parents have not been reached."""
COUNT_COLUMNS = ("n_eligible", "n_released", "n_delivered", "n_failed", "n_not_delivered")

_PII_MESSAGE = ("Reaching parents lists students: your access shows aggregate results only. "
                "Ask your LEA administrator for student-level access.")
_COLUMNS = ["ssid", "last_name", "first_name", "grade_assessed", "enrolled_lea_code",
            "enrolled_school_code", "enrolled_district_name", "enrolled_school_name",
            "enrolled_charter_indicator", "is_ssr_eligible", "ssr_available_date",
            "ssr_languages"]


_COVERAGE_COLUMNS = ["ssid", "enrolled_lea_code", "enrolled_school_code",
                     "enrolled_district_name", "enrolled_school_name",
                     "enrolled_charter_indicator", "is_ssr_eligible", "ssr_available_date"]


def _require_pii(scope: Scope) -> None:
    if not scope.pii:
        raise ScopeError(_PII_MESSAGE)


def _enrolled_in_scope(scope: Scope) -> pl.Expr:
    """Records enrolled in an organisation the scope covers (``Scope.allows_school``)."""
    if scope.statewide:
        return pl.lit(True)
    lea = pl.col("enrolled_lea_code")
    return (lea.str.slice(0, 2).is_in(list(scope.counties)) | lea.is_in(list(scope.leas))
            | pl.col("enrolled_school_code").is_in(list(scope.schools)))


def _students(snap: Snapshot, scope: Scope, year: str, record_type: str | None, *,
              lea: str | None = None, school: str | None = None,
              columns: list[str] | None = None) -> pl.DataFrame:
    """The SSR-eligible records of ``year`` in scope, one per student and test."""
    if year not in snap.years:
        raise ValueError(f"no results for {year} in the store")
    if not scope.all_students:
        raise ValueError("SSR delivery is kept per organisation and student, not per "
                         "demographic group; ask for a scope without a student-group limit")
    wanted = columns or _COLUMNS
    # By enrolment: the SSR goes to the enrolled LEA and school (ELPAC.md §7), also for a
    # student tested in another LEA.
    # The LEA or school is chosen inside DuckDB (a statewide year is 1.2 M records); only
    # well-formed codes reach the SQL the filter renders to.
    where = duckdb.ColumnExpression("is_ssr_eligible") == duckdb.ConstantExpression(True)
    for name, value in (("enrolled_lea_code", lea), ("enrolled_school_code", school)):
        if value is None:
            continue
        if not (len(value) == 14 and value.isdigit()):
            raise ValueError(f"not a 14-digit CDS code: {value!r}")
        test = duckdb.ColumnExpression(name) == duckdb.ConstantExpression(value)
        where = where & test
    records = read_records(snap, [year], scope=scope, orgs=snap.orgs_of([year]),
                           record_type=record_type, columns=["record_type", *wanted],
                           side="enrolled", where=where)
    if records.height == 0:
        schema = {c: pl.String for c in ["school_year", "record_type", *wanted]}
        return pl.DataFrame(schema=schema).with_columns(
            pl.col("is_ssr_eligible").cast(pl.Boolean),
            pl.col("ssr_available_date").cast(pl.Date))
    keep = pl.col("is_ssr_eligible").fill_null(False) & _enrolled_in_scope(scope)
    if lea is not None:
        keep = keep & (pl.col("enrolled_lea_code") == lea)
    if school is not None:
        keep = keep & (pl.col("enrolled_school_code") == school)
    return records.filter(keep)


def _with_status(snap: Snapshot, students: pl.DataFrame, year: str, record_type: str,
                 as_of: date) -> pl.DataFrame:
    """``students`` with ``is_released``, ``status`` and their newest delivery and failure."""
    deliveries, failures = ssr_deliveries.read_log(snap.store, year, record_type)
    deliveries = deliveries.filter(pl.col("delivered_on") <= as_of)
    last = (deliveries.sort("delivered_on", "recorded_at").group_by("ssid").agg(
        pl.len().cast(pl.Int64).alias("n_deliveries"),
        pl.col("delivered_on").last().alias("last_delivered_on"),
        pl.col("method").last().alias("last_method")))
    failures = (failures.filter(pl.col("reported_on") <= as_of)
                .join(last.select("ssid", "last_delivered_on"), on="ssid", how="left")
                .with_columns(
                    is_open=pl.col("resolved_at").is_null().or_(pl.col("resolved_at").dt.date()
                                                                > as_of)
                    & (pl.col("last_delivered_on").is_null()
                       | (pl.col("last_delivered_on") <= pl.col("reported_on")))))
    newest = failures.sort("reported_on", "failure_id").group_by("ssid").agg(
        pl.col("is_open").any().alias("has_open_failure"),
        pl.col("kind").filter("is_open").last().alias("open_kind"),
        pl.col("failure_id").filter("is_open").last().alias("open_failure_id"),
        pl.col("kind").last().alias("last_failure_kind"),
        pl.col("reported_on").last().alias("last_failure_on"),
        pl.col("detail").last().alias("last_failure_detail"))
    released = (pl.col("ssr_available_date") <= as_of).fill_null(False)
    out = (students.join(last, on="ssid", how="left").join(newest, on="ssid", how="left")
           .with_columns(released.alias("is_released"),
                         pl.col("n_deliveries").fill_null(0),
                         pl.col("has_open_failure").fill_null(False)))
    status = (pl.when(pl.col("has_open_failure")).then(pl.col("open_kind"))
              .when(pl.col("n_deliveries") > 0).then(pl.lit("delivered"))
              .when(pl.col("is_released")).then(pl.lit("not_delivered"))
              .otherwise(pl.lit("not_released")))
    return out.with_columns(status.alias("status"))


def _counts() -> list[pl.Expr]:
    status = pl.col("status")
    return [pl.len().cast(pl.Int64).alias("n_eligible"),
            pl.col("is_released").sum().cast(pl.Int64).alias("n_released"),
            (status == "delivered").sum().cast(pl.Int64).alias("n_delivered"),
            status.is_in(["bounced", "returned"]).sum().cast(pl.Int64).alias("n_failed"),
            (status == "not_delivered").sum().cast(pl.Int64).alias("n_not_delivered")]


def _percent() -> pl.Expr:
    due = pl.col("n_delivered") + pl.col("n_failed") + pl.col("n_not_delivered")
    return (pl.when(due > 0).then(pl.col("n_delivered") / due * 100)
            .otherwise(None).cast(pl.Float64).alias("pct_delivered"))


def read_coverage(snap: Snapshot, *, scope: Scope, year: str, test: str = "summative",
                  by: Breakdown | None = "school", as_of: date | None = None,
                  lea: str | None = None, school: str | None = None) -> pl.DataFrame:
    """Count SSRs eligible, released, delivered, bounced or returned, and not yet delivered.

    Parameters
    ----------
    snap
        The store at one data version.
    scope
        Who is asking: only the students whose records it covers, enrolled in organisations
        it covers, count (see the module's docstring).
    year, test
        The school year and test (``summative`` or ``alternate``).
    by
        ``school`` (one row per enrolled school), ``lea`` (per enrolled LEA) or ``None``
        (one row of totals).
    as_of
        Count releases, deliveries and failures up to this date (default today).
    lea, school
        Only students enrolled in this LEA or school (14-digit CDS codes).

    Returns
    -------
    pl.DataFrame
        The breakdown's keys (``lea_code``, ``school_code``; ``school_code`` is empty for
        students enrolled in no school) and ``name``, then ``n_eligible`` (students with an
        SSR), ``n_released``, ``n_delivered``, ``n_failed`` (bounced or returned and not
        resolved), ``n_not_delivered`` (released, nothing delivered or failed) and
        ``pct_delivered`` (of the students due a report: delivered + failed + not delivered).
    """
    as_of = as_of or date.today()
    record_type = RECORD_TYPE_OF_TEST[test]
    # Counts need no names or grades: a statewide year read with them peaked at 1.15 GB.
    students = _students(snap, scope, year, record_type, lea=lea, school=school,
                         columns=_COVERAGE_COLUMNS)
    frame = _with_status(snap, students, year, record_type, as_of).with_columns(
        pl.col("enrolled_lea_code").alias("lea_code"),
        pl.col("enrolled_school_code").fill_null(NO_SCHOOL).alias("school_code"))
    if by is None:
        return frame.select(_counts()).with_columns(_percent())
    keys = ["lea_code"] if by == "lea" else ["lea_code", "school_code"]
    charter = pl.col("enrolled_charter_indicator") == "DF"
    own = (pl.when(charter).then(pl.col("enrolled_school_name"))
           .otherwise(pl.col("enrolled_district_name")) if by == "lea"
           else pl.col("enrolled_school_name").fill_null("(no school)"))
    counted = frame.group_by(keys).agg(
        own.drop_nulls().mode().sort().first().alias("own"), *_counts())
    names = snap.orgs_of([year]).filter(pl.col("org_level") == by).select(
        *keys, pl.col("name").alias("org_name"))
    return (counted.join(names, on=keys, how="left")
            .with_columns(pl.coalesce("org_name", "own").alias("name"), _percent())
            .select(*keys, "name", *COUNT_COLUMNS, "pct_delivered").sort(*keys))


def total_coverage(coverage: pl.DataFrame) -> pl.DataFrame:
    """One row summing a ``read_coverage`` breakdown (its percent worked out again).

    Examples
    --------
    >>> rows = pl.DataFrame({"n_eligible": [4, 6], "n_released": [4, 5],
    ...                      "n_delivered": [2, 1], "n_failed": [1, 0],
    ...                      "n_not_delivered": [1, 3]})
    >>> total_coverage(rows).row(0)
    (10, 9, 3, 1, 4, 37.5)
    """
    return coverage.select(pl.col(list(COUNT_COLUMNS)).sum().cast(pl.Int64)).with_columns(
        _percent())


def unreached_students(snap: Snapshot, *, scope: Scope, year: str, test: str = "summative",
                       school: str | None = None, lea: str | None = None,
                       as_of: date | None = None) -> pl.DataFrame:
    """The students whose parents have not been reached, by school, grade and name.

    Not reached: the SSR is released and nothing was delivered, or a bounced e-mail or
    returned letter is not resolved (statuses ``UNREACHED``; see the module's docstring).
    Columns: ``ssid``, ``last_name``, ``first_name``, ``grade``, ``lea_code``,
    ``school_code``, ``school_name``, ``languages`` (the SSR's), ``released_on``, ``status``,
    ``n_deliveries``, ``last_delivered_on``, ``last_method``, ``last_failure_kind``,
    ``last_failure_on``, ``last_failure_detail`` and ``open_failure_id`` (the open bounce or
    return to mark resolved with ``resolve_failure``, when there is one).

    Raises ``ScopeError`` for a scope without personal information.
    """
    _require_pii(scope)
    as_of = as_of or date.today()
    record_type = RECORD_TYPE_OF_TEST[test]
    students = _students(snap, scope, year, record_type, lea=lea, school=school)
    frame = _with_status(snap, students, year, record_type, as_of)
    order = {g: i for i, g in enumerate(GRADE_NAMES)}
    return (frame.filter(pl.col("status").is_in(UNREACHED))
            .sort(pl.col("enrolled_school_code"), pl.col("grade_assessed").replace_strict(
                order, default=99), pl.col("last_name").str.to_lowercase(),
                pl.col("first_name").str.to_lowercase(), "ssid")
            .select("ssid", "last_name", "first_name", pl.col("grade_assessed").alias("grade"),
                    pl.col("enrolled_lea_code").alias("lea_code"),
                    pl.col("enrolled_school_code").fill_null(NO_SCHOOL).alias("school_code"),
                    pl.col("enrolled_school_name").alias("school_name"),
                    pl.col("ssr_languages").fill_null("ENG").alias("languages"),
                    pl.col("ssr_available_date").alias("released_on"), "status",
                    "n_deliveries", "last_delivered_on", "last_method", "last_failure_kind",
                    "last_failure_on", "last_failure_detail", "open_failure_id"))


def may_use(snap: Snapshot, scope: Scope) -> MayUse:
    """Whether the scope's user may record a delivery for a student in a year (``None``: yes).

    Yes for the students ``read_coverage`` counts for the scope (either test). The students
    of a year are read once, on the first question about that year.
    """
    _require_pii(scope)
    if not scope.all_students:
        raise ValueError("SSR delivery is kept per organisation and student, not per "
                         "demographic group; ask for a scope without a student-group limit")
    known: dict[str, set[str]] = {}

    def check(ssid: str, year: str) -> str | None:
        if scope.statewide and scope.ssids is None:
            return None  # every student of the store
        if year not in snap.years:
            return f"the store holds no results for {year}"
        if year not in known:
            known[year] = set(_students(snap, scope, year, None, columns=[
                "ssid", "enrolled_lea_code", "enrolled_school_code", "is_ssr_eligible",
                "ssr_available_date"]).get_column("ssid"))
        if ssid not in known[year]:
            return f"no Student Score Report for this SSID in {year} in your access"
        return None

    return check


def import_deliveries(snap: Snapshot, scope: Scope, text: str, *, file_name: str,
                      uploaded_by: str, now: datetime | None = None) -> ImportResult:
    """``data.catalog.ssr_deliveries.import_deliveries`` with every student in scope."""
    return ssr_deliveries.import_deliveries(snap.store, text, file_name=file_name,
                                          uploaded_by=uploaded_by, now=now,
                                          may_use=may_use(snap, scope))


def import_failures(snap: Snapshot, scope: Scope, text: str, *, file_name: str,
                    uploaded_by: str, now: datetime | None = None) -> ImportResult:
    """``data.catalog.ssr_deliveries.import_failures`` where every student must be in the scope."""
    return ssr_deliveries.import_failures(snap.store, text, file_name=file_name,
                                        uploaded_by=uploaded_by, now=now,
                                        may_use=may_use(snap, scope))


def record_delivery(snap: Snapshot, scope: Scope, *, ssid: str, year: str, method: str,
                    delivered_on: date, recorded_by: str, test: str = "") -> bool:
    """Record one delivery for a student the scope covers (``InputError`` if refused).

    Returns whether it was new (the same delivery twice is kept once).
    """
    return ssr_deliveries.record_delivery(snap.store, ssid=ssid, school_year=year,
                                        method=method, delivered_on=delivered_on,
                                        recorded_by=recorded_by, test=test,
                                        may_use=may_use(snap, scope))


def resolve_failure(snap: Snapshot, scope: Scope, failure_id: int, *, resolved_by: str
                    ) -> None:
    """Mark a bounced or returned SSR resolved, for a student the scope covers.

    An unknown failure is refused the same way as one outside the scope.
    """
    found = ssr_deliveries.failure_of(snap.store, failure_id)
    if found is None or may_use(snap, scope)(*found) is not None:
        raise ScopeError(f"no bounced or returned SSR numbered {failure_id} in your access")
    ssr_deliveries.resolve_failure(snap.store, failure_id, resolved_by=resolved_by)


def upload_history(snap: Snapshot, scope: Scope, *, me: str) -> pl.DataFrame:
    """The uploads this user may see: all statewide, else theirs and their area's accounts'.

    An account is in the area when it is assigned an LEA or school the scope covers.
    """
    history = ssr_deliveries.uploads(snap.store)
    if scope.statewide:
        return history
    school_lea = dict(snap.orgs.filter(pl.col("org_level") == "school")
                      .select("school_code", "lea_code").iter_rows())
    who = {me}
    for email, assignments in Accounts(snap.store).list().select(
            "email", "assignments").iter_rows():
        pairs = [a.split(" ", 1) for a in assignments.split(", ") if " " in a]
        if any((kind == "lea" and scope.allows_lea(code[:2], code))
               or (kind == "school"
                   and scope.allows_school(code[:2], school_lea.get(code, ""), code))
               or (kind == "county" and scope.allows_county(code))
               for kind, code in pairs):
            who.add(email)
    return history.filter(pl.col("uploaded_by").is_in(sorted(who)))
