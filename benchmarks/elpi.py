"""English learner progress (issue 13): the engine beside a plain DuckDB query, warm.

Two questions a district and the state ask: the ELPI of the largest LEA (the LEA and each of
its schools x every ELPI student group), and statewide per school (every school, LEA, county
and the state x every group), for the last final year against the year before.

The engine is ``queries.elpi_orgs.read_elpi`` (rules, participation, status, change, colour,
what-if). The plain side is what an analyst would write by hand over the records Parquet
files: this year's records joined to last year's by SSID, the ELPI level from Table 3's split
points, who is counted, and the outcome counts per school and LEA x group (``GROUPING SETS``);
it skips the file's ``...Minus1`` fields, participation, status, change and colour, so it
does less. Each runs a few times first, then ``repeats`` times; the figure is the median. The
last line says whether both count the same students as progressing per school (All students).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from benchmarks import median_ms

if TYPE_CHECKING:

    import polars as pl


def _plain_sql(lea_filter: bool) -> str:
    """The ELPI outcome counts per school and LEA x group, as an analyst would write them."""
    from queries.elpi_rules import SPLITS

    splits = ", ".join(f"('{g}', {', '.join(map(str, c))})" for g, c in SPLITS.items())
    rank = "1 + ({s} >= {t}.c1)::INT + ({s} >= {t}.c2)::INT + ({s} >= {t}.c3)::INT " \
           "+ ({s} >= {t}.c4)::INT + ({s} >= {t}.c5)::INT"
    where = "AND reporting_lea_code = ?" if lea_filter else ""
    return f"""
WITH splits(grade, c1, c2, c3, c4, c5) AS (VALUES {splits}),
cur AS (
    SELECT ssid, record_type, grade_assessed, overall_level, reporting_lea_code,
           reporting_school_code, ethnicity, is_economically_disadvantaged,
           is_special_education, ltel_status,
           CASE WHEN include_indicator = 'Y' THEN overall_scale_score END AS score
    FROM read_parquet(?) WHERE is_reported AND NOT coalesce(is_tk, false) {where}
), prior AS (
    SELECT ssid, record_type AS p_test, grade_assessed AS p_grade, overall_level AS p_level,
           CASE WHEN include_indicator = 'Y' THEN overall_scale_score END AS p_score
    FROM read_parquet(?)
    QUALIFY row_number() OVER (PARTITION BY ssid ORDER BY
        (include_indicator = 'Y' AND overall_scale_score IS NOT NULL) DESC, record_type) = 1
), joined AS (
    SELECT c.*, p.p_test, p.p_grade, p.p_level, p.p_score,
           {rank.format(s="c.score", t="s")} AS rank,
           {rank.format(s="p.p_score", t="ps")} AS p_rank
    FROM cur AS c LEFT JOIN prior AS p USING (ssid)
    LEFT JOIN splits AS s ON s.grade = c.grade_assessed
    LEFT JOIN splits AS ps ON ps.grade = p.p_grade
), counted AS (
    SELECT *,
        CASE WHEN record_type = '21' THEN
            CASE WHEN rank > p_rank THEN 'progressed'
                 WHEN rank = 6 AND p_rank = 6 THEN 'maintained_4'
                 WHEN rank = p_rank THEN 'maintained_other' ELSE 'declined' END
        ELSE
            CASE WHEN overall_level > p_level OR (overall_level = 3 AND p_level = 3)
                      OR (score % 100) - (p_score % 100) >= 10 THEN 'progressed'
                 WHEN overall_level = p_level THEN 'maintained_other' ELSE 'declined' END
        END AS outcome
    FROM joined
    WHERE grade_assessed BETWEEN '01' AND '12' AND score IS NOT NULL
      AND p_score IS NOT NULL AND record_type = p_test
      AND (p_grade IS NULL OR p_grade = 'KN' OR grade_assessed >= p_grade)
)
SELECT reporting_lea_code, reporting_school_code, ethnicity, is_economically_disadvantaged,
       is_special_education, ltel_status, grade_assessed,
       grouping(ethnicity, is_economically_disadvantaged, is_special_education, ltel_status,
                grade_assessed) AS grouped,
       count(*) AS n_counted,
       count(*) FILTER (WHERE outcome = 'progressed') AS n_progressed,
       count(*) FILTER (WHERE outcome = 'maintained_4') AS n_maintained_level_4,
       count(*) FILTER (WHERE outcome = 'maintained_other') AS n_maintained_other,
       count(*) FILTER (WHERE outcome = 'declined') AS n_declined
FROM counted
GROUP BY GROUPING SETS (
    (reporting_lea_code, reporting_school_code), (reporting_lea_code),
    (reporting_lea_code, reporting_school_code, ethnicity), (reporting_lea_code, ethnicity),
    (reporting_lea_code, reporting_school_code, is_economically_disadvantaged),
    (reporting_lea_code, is_economically_disadvantaged),
    (reporting_lea_code, reporting_school_code, is_special_education),
    (reporting_lea_code, is_special_education),
    (reporting_lea_code, reporting_school_code, ltel_status), (reporting_lea_code, ltel_status),
    (reporting_lea_code, reporting_school_code, grade_assessed),
    (reporting_lea_code, grade_assessed))
"""


def _agreement(engine: pl.DataFrame, plain: pl.DataFrame) -> str:
    """How many schools' All-students progress counts the two sides agree on."""
    import polars as pl

    mine = engine.filter((pl.col("org_level") == "school") & (pl.col("group_id") == "001")
                         & (pl.col("n_counted") > 0)).select(
        pl.col("school_code"), (pl.col("n_progressed") + pl.col("n_maintained_level_4"))
        .alias("engine"))
    every = 31  # grouping(): all five group columns rolled up, i.e. All students
    theirs = plain.filter(pl.col("reporting_school_code").is_not_null()
                          & (pl.col("grouped") == every)).select(
                                   pl.col("reporting_school_code").alias("school_code"),
                                   (pl.col("n_progressed") + pl.col("n_maintained_level_4"))
                                   .alias("plain"))
    both = mine.join(theirs, on="school_code", how="full", coalesce=True)
    same = both.filter(pl.col("engine").fill_null(0) == pl.col("plain").fill_null(0)).height
    return f"{same:,} of {both.height:,} schools"


def bench_elpi(store: str, repeats: int = 3) -> list[str]:
    """The ELPI of the largest LEA and statewide per school: engine and plain DuckDB."""
    import duckdb
    import polars as pl

    from queries.elpi_orgs import read_elpi
    from queries.elpi_students import prior_school_year
    from queries.scope import Scope
    from queries.snapshot import Snapshot

    snap = Snapshot(store)
    year = snap.years[-2] if len(snap.years) > 2 else snap.years[-1]  # the last final year
    before = prior_school_year(year)
    files = {y: str(p) for y, p in snap.year_files.items()}
    lea = (pl.scan_parquet(files[year]).group_by("reporting_lea_code").len()
           .sort(["len", "reporting_lea_code"], descending=[True, False]).collect().item(0, 0))
    con = duckdb.connect()
    con.sql("SET parquet_metadata_cache = true")
    state = Scope.state()

    def plain(one_lea: bool) -> pl.DataFrame:
        params = [files[year], *([lea] if one_lea else []), files[before]]
        return con.sql(_plain_sql(one_lea), params=params).pl()

    cases = {
        f"largest LEA {lea}": (lambda: read_elpi(snap, year, scope=state, lea=lea,
                                                 suppress=True), lambda: plain(True)),
        "statewide, per school": (lambda: read_elpi(snap, year, scope=state, suppress=True),
                                  lambda: plain(False)),
    }
    lines = [f"English learner progress on {store}: {year} against {before}, warm, median "
             f"of {repeats} (ms)", f"  {'':<32} {'engine':>10} {'duckdb':>10} {'ratio':>7}"]
    agree = ""
    for label, (engine, hand) in cases.items():
        ms_engine, ms_plain = median_ms(engine, repeats, warm=2), median_ms(hand, repeats, warm=2)
        lines.append(f"  {label:<32} {ms_engine:>10,.0f} {ms_plain:>10,.0f} "
                     f"{ms_engine / ms_plain:>6.1f}x")
        agree = _agreement(engine(), hand())
    lines.append(f"  progress counts per school (All students) the same on both sides: {agree}"
                 " (the plain query reads no ...Minus1 field)")
    return lines


if __name__ == "__main__":
    import sys

    print("\n".join(bench_elpi(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 3)))
