"""English learner progress per organisation and student group (ELPI.md §3-§4).

One row per school, LEA, county and (for a statewide scope) the state the scope covers, times
the ELPI's student groups (``ELPI_DIMENSIONS``): All students, LTEL and AR-LTEL, race and
ethnicity, economic disadvantage, disability and grade. Each row has the counts (counted,
progressed, maintained level 4, maintained other, declined), the rate, status, change from the
prior year and colour (``queries.elpi_status``), the participation adjustment where it can be
worked out, and the what-if: how many more students progressing would reach the next status.

The counts are sums of per-student outcomes computed by DuckDB (``queries.elpi_rules``'
DuckDB execution, where the records are); ``elpi_counts`` sums any per-student frame, so a test
checks them against the Polars execution's per-student rows.

Access as every query: the records are the scope's (``queries.records``), rows only for
organisations it covers, a teacher's over their students only. ``suppress`` (always, for an
aggregate-only scope) hides the outcome counts and rate of a row with fewer than
``queries.metrics.SUPPRESSION_THRESHOLD`` students counted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from data.domain import GRADES
from data.student_groups import GROUP_BY_ID, groups_of
from queries.elpi_status import (
    LTEL_GROUP,
    MIN_COLOUR,
    MIN_COLOUR_LTEL,
    MIN_STATUS,
    change_level_of,
    colour_of,
    more_to_next_status,
    next_status,
    participation_adjustment,
    rate_of,
    status_of,
)
from queries.elpi_students import elpi_inputs, prior_school_year, with_rules_duckdb
from queries.labels import GRADE_NAMES, GROUP_NAMES
from queries.metrics import SUPPRESSION_THRESHOLD
from queries.scope import ScopeError

if TYPE_CHECKING:
    from queries.scope import Scope
    from queries.snapshot import Snapshot

ELPI_DIMENSIONS: dict[str, str] = {
    "all": "All students", "ltel": "LTEL / AR-LTEL", "ethnicity": "Race and ethnicity",
    "economic": "Economic disadvantage", "disability": "Disability (IEP)", "grade": "Grade"}
"""The ELPI's student groups, by dimension (the issue's "usual student groups")."""
REPORTED_GRADES = GRADES[1:]
"""Grades 1-12: the only ones counted (ELPI.md §3); the participation counts use them too."""
GROUP_ORDER: dict[str, int] = {g: i for i, g in enumerate(
    ["001", *[g.id for dim in list(ELPI_DIMENSIONS)[1:-1] for g in groups_of(dim)],
     *[f"grade:{g}" for g in REPORTED_GRADES]])}
"""Display order of the groups: All students, then each dimension's groups in order."""
OUTCOME_COLUMNS = ("ssid", "test", "grade", "is_tested", "is_counted", "outcome",
                   "prior_elpi_level", "elpi_level", "county_code", "reporting_lea_code",
                   "reporting_school_code", "ethnicity", "is_economically_disadvantaged",
                   "is_special_education", "ltel_status")
"""What the organisation counts read of each student."""
COUNT_COLUMNS = ("n_enrolled", "n_tested", "n_counted", "n_progressed", "n_maintained_level_4",
                 "n_maintained_other", "n_declined", "n_alternate")
ORG_KEYS = ("org_level", "county_code", "lea_code", "school_code")
HIDDEN_WHEN_SMALL = ("n_progressed", "n_maintained_level_4", "n_maintained_other",
                     "n_declined", "n_alternate", "rate", "n_more_to_next_status")


def group_label(group_id: str) -> str:
    """A group's name: ``grade:05`` -> ``Grade 5``, ``250`` -> the LTEL group's name."""
    if group_id.startswith("grade:"):
        return GRADE_NAMES[group_id.removeprefix("grade:")]
    return GROUP_NAMES[group_id]


def read_outcomes(snap: Snapshot, year: str, *, scope: Scope,
                  leas: list[str] | None = None) -> pl.DataFrame:
    """Each record's ELPI outcome (DuckDB execution), without names: ``OUTCOME_COLUMNS``."""
    inputs = elpi_inputs(snap, year, scope=scope, leas=leas)
    if inputs is None:
        return pl.DataFrame()
    return with_rules_duckdb(inputs).select(*OUTCOME_COLUMNS).pl()


def _dimension_ids() -> list[pl.Expr]:
    out = [pl.lit("001").alias("dim:all")]
    for dim in ("ltel", "ethnicity", "economic", "disability"):
        out.append(pl.coalesce([pl.when(g.polars()).then(pl.lit(g.id)) for g in groups_of(dim)])
                   .alias(f"dim:{dim}"))
    out.append(pl.when(pl.col("grade").is_in(REPORTED_GRADES))
               .then(pl.lit("grade:") + pl.col("grade")).alias("dim:grade"))
    return out


def elpi_counts(students: pl.DataFrame) -> pl.DataFrame:
    """Sum per-student outcomes to every organisation level x ELPI group (``COUNT_COLUMNS``).

    ``students`` needs ``OUTCOME_COLUMNS`` (either execution). School rows leave out students
    counted under an LEA but no school (NPS, ELPAC.md §3.3 rule 6), as every report does.
    """
    schema = {**dict.fromkeys(ORG_KEYS, pl.String), "group_id": pl.String,
              **dict.fromkeys(COUNT_COLUMNS, pl.Int64)}
    if students.height == 0:
        return pl.DataFrame(schema=schema)
    graded = pl.col("grade").is_in(REPORTED_GRADES)
    outcome = pl.col("outcome")
    flags = students.with_columns(
        graded.cast(pl.Int64).alias("n_enrolled"),
        (graded & pl.col("is_tested").fill_null(False)).cast(pl.Int64).alias("n_tested"),
        pl.col("is_counted").cast(pl.Int64).alias("n_counted"),
        *[(outcome == o).fill_null(False).cast(pl.Int64).alias(name) for o, name in (
            ("progressed", "n_progressed"), ("maintained_4", "n_maintained_level_4"),
            ("maintained_other", "n_maintained_other"), ("declined", "n_declined"))],
        (pl.col("is_counted") & (pl.col("test") == "23")).cast(pl.Int64).alias("n_alternate"),
        *_dimension_ids())
    base = ["county_code", "reporting_lea_code", "reporting_school_code"]
    sums = [pl.col(c).sum().cast(pl.Int64) for c in COUNT_COLUMNS]
    cells = pl.concat([flags.group_by([*base, f"dim:{dim}"]).agg(sums).drop_nulls(f"dim:{dim}")
                       .rename({f"dim:{dim}": "group_id"}) for dim in ELPI_DIMENSIONS])
    levels = [
        ("state", [pl.lit("00").alias("county_code"), pl.lit("").alias("lea_code"),
                   pl.lit("").alias("school_code")], cells),
        ("county", [pl.col("county_code"), pl.lit("").alias("lea_code"),
                    pl.lit("").alias("school_code")], cells),
        ("lea", [pl.col("county_code"), pl.col("reporting_lea_code").alias("lea_code"),
                 pl.lit("").alias("school_code")], cells),
        ("school", [pl.col("county_code"), pl.col("reporting_lea_code").alias("lea_code"),
                    pl.col("reporting_school_code").alias("school_code")],
         cells.filter(pl.col("reporting_school_code").is_not_null())),
    ]
    return pl.concat([part.group_by([*keys, "group_id"]).agg(sums)
                      .with_columns(pl.lit(level).alias("org_level"))
                      for level, keys, part in levels]).select(list(schema)).cast(schema)


def visible_rows(snap: Snapshot, year: str, scope: Scope, lea: str | None) -> pl.DataFrame:
    """The organisations of ``year`` the scope covers (an LEA and its schools with ``lea``).

    Raises ``ScopeError`` when there is none.
    """
    orgs = snap.orgs_of([year])
    if lea is not None:
        orgs = orgs.filter((pl.col("lea_code") == lea)
                           & pl.col("org_level").is_in(["lea", "school"]))
    rows = scope.visible_orgs(orgs.filter(pl.col("org_level") != "state"))
    if lea is None and scope.allows_state():
        rows = pl.concat([orgs.filter(pl.col("org_level") == "state"), rows])
    if rows.height == 0:
        raise ScopeError(f"none of the organisations with {year} results is in your scope")
    return rows.select(*ORG_KEYS, "name")


def read_elpi(snap: Snapshot, year: str, *, scope: Scope, lea: str | None = None,
              suppress: bool, threshold: int = SUPPRESSION_THRESHOLD) -> pl.DataFrame:
    """The ELPI of every organisation the scope covers x ELPI group, for ``year``.

    Parameters
    ----------
    snap
        The store at one data version.
    year
        The school year (its prior year gives the change).
    scope
        Who asks: their organisations, over their students (a teacher's rosters).
    lea
        Only this LEA and its schools (14-digit CDS code).
    suppress
        Hide the outcome counts and rate of rows with fewer than ``threshold`` students
        counted; an aggregate-only scope always does.
    threshold
        The small-n rule (``queries.metrics.SUPPRESSION_THRESHOLD``).

    Returns
    -------
    pl.DataFrame
        Keys, ``cds_code``, ``name``, ``group_id``, ``student_group``, ``dimension``, the
        counts (``COUNT_COLUMNS``, enrolled and tested in grades 1-12), ``n_adjustment`` and
        ``participation_known``, ``rate``, ``status``, ``prior_n_counted``, ``prior_rate``,
        ``prior_status``, ``change`` (points), ``change_level``, ``color``,
        ``next_status``, ``n_more_to_next_status``, ``data_status``, ``is_suppressed``.
    """
    suppress = suppress or scope.suppressed  # an aggregate-only scope cannot turn it off
    if year not in snap.years:
        raise ValueError(f"no results for {year} in the store")
    rows = visible_rows(snap, year, scope, lea)
    leas = [lea] if lea else None
    before = prior_school_year(year)
    now = elpi_counts(read_outcomes(snap, year, scope=scope, leas=leas))
    then = elpi_counts(read_outcomes(snap, before, scope=scope, leas=leas)
                       if before in snap.years else pl.DataFrame())
    keys = [*ORG_KEYS, "group_id"]
    frame = (rows.join(now, on=list(ORG_KEYS), how="left")
             .with_columns(pl.col("group_id").fill_null("001"))
             .join(then.select(*keys, *[pl.col(c).alias(f"prior_{c}") for c in COUNT_COLUMNS]),
                   on=keys, how="left")
             .with_columns(pl.col(c).fill_null(0) for c in COUNT_COLUMNS))
    status = [snap.org_data_status(year, *k[:3]) for k in frame.select(
        "org_level", "county_code", "lea_code").iter_rows()]
    prior_final = [snap.org_data_status(before, *k[:3]) == "final" if before in snap.years
                   else False for k in frame.select("org_level", "county_code",
                                                    "lea_code").iter_rows()]
    return _publish(frame, year, status, prior_final, suppress=suppress, threshold=threshold)


def _publish(frame: pl.DataFrame, year: str, data_status: list[str], prior_final: list[bool],
             *, suppress: bool, threshold: int) -> pl.DataFrame:
    """Rates, status, change, colour and the what-if from the counts (``queries.elpi_status``)."""
    a = {c: frame.get_column(c).fill_null(0).to_numpy().astype(np.int64)
         for c in (*COUNT_COLUMNS, *[f"prior_{c}" for c in COUNT_COLUMNS])}
    known = np.array([s == "final" for s in data_status])
    # Participation is known once the year's final file has every non-tester (ELPI.md §4).
    adjust = np.where(known, participation_adjustment(a["n_enrolled"], a["n_tested"]), 0)
    prior_adjust = np.where(np.array(prior_final, bool), participation_adjustment(
        a["prior_n_enrolled"], a["prior_n_tested"]), 0)
    progress = a["n_progressed"] + a["n_maintained_level_4"]
    prior_progress = a["prior_n_progressed"] + a["prior_n_maintained_level_4"]
    den, prior_den = a["n_counted"] + adjust, a["prior_n_counted"] + prior_adjust
    status = status_of(progress, den, a["n_counted"])
    prior_status = status_of(prior_progress, prior_den, a["prior_n_counted"])
    both = (a["n_counted"] >= MIN_STATUS) & (a["prior_n_counted"] >= MIN_STATUS)
    change_level = change_level_of(progress, den, prior_progress, prior_den, both)
    groups = frame.get_column("group_id").to_list()
    levels = frame.get_column("org_level").to_list()
    minimum = np.array([MIN_COLOUR_LTEL[lv] if g == LTEL_GROUP else MIN_COLOUR
                        for g, lv in zip(groups, levels, strict=True)])
    rate, prior_rate = rate_of(progress, den), rate_of(prior_progress, prior_den)
    hidden = (a["n_counted"] < threshold) if suppress else np.zeros(len(den), bool)
    prior_hidden = (a["prior_n_counted"] < threshold) if suppress else np.zeros(len(den), bool)
    out = frame.select(
        pl.lit(year).alias("school_year"), *ORG_KEYS,
        pl.when(pl.col("org_level") == "school").then(pl.col("school_code"))
        .when(pl.col("org_level") == "lea").then(pl.col("lea_code"))
        .otherwise(pl.col("county_code") + "000000000000").alias("cds_code"),
        "name", "group_id",
        pl.col("group_id").replace_strict({g: group_label(g) for g in set(groups)},
                                          return_dtype=pl.String).alias("student_group"),
        pl.col("group_id").replace_strict(
            {g: _dimension(g) for g in set(groups)}, return_dtype=pl.String)
        .alias("dimension"),
        "n_enrolled", "n_tested")
    columns = {
        "n_adjustment": pl.Series(adjust), "participation_known": pl.Series(known),
        **{c: pl.Series(a[c]) for c in COUNT_COLUMNS if c not in ("n_enrolled", "n_tested")},
        "rate": pl.Series(rate, nan_to_null=True), "status": pl.Series(status),
        "prior_n_counted": pl.Series(a["prior_n_counted"]),
        "prior_rate": pl.Series(np.where(prior_hidden, np.nan, prior_rate), nan_to_null=True),
        "prior_status": pl.Series(prior_status),
        "change": pl.Series(np.where(both & ~hidden & ~prior_hidden, rate - prior_rate,
                                     np.nan), nan_to_null=True),
        "change_level": pl.Series(change_level),
        "color": pl.Series(colour_of(status, change_level, a["n_counted"], minimum)),
        "next_status": pl.Series(next_status(status)),
        "n_more_to_next_status": pl.Series(more_to_next_status(
            progress, den, a["n_counted"], status)),
        "data_status": pl.Series(data_status, dtype=pl.String),
        "is_suppressed": pl.Series(hidden),
    }
    out = out.with_columns(**columns).with_columns(
        pl.when(pl.col("n_more_to_next_status") >= 0).then(pl.col("n_more_to_next_status"))
        .alias("n_more_to_next_status"),
        *[pl.when(pl.col(c) != "").then(pl.col(c)).alias(c)
          for c in ("change_level", "color", "next_status")])
    out = out.with_columns(pl.when(~pl.col("is_suppressed")).then(pl.col(c)).alias(c)
                           for c in HIDDEN_WHEN_SMALL)
    order = {"state": 0, "county": 1, "lea": 2, "school": 3}
    return out.with_columns(pl.col("org_level").replace_strict(order).alias("_o"),
                            pl.col("group_id").replace_strict(GROUP_ORDER, default=999)
                            .alias("_g")).sort(
        "_o", "county_code", "lea_code", "school_code", "_g").drop("_o", "_g")


def _dimension(group_id: str) -> str:
    if group_id.startswith("grade:"):
        return "grade"
    return GROUP_BY_ID[group_id].dimension


__all__ = ["ELPI_DIMENSIONS", "elpi_counts", "read_elpi", "read_outcomes", "visible_rows"]
